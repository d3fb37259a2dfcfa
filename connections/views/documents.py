"""The connection standard's printable documents (M8): contract, survey route list, expertise
act with the estimate, work order, act of completed works. Each is a PDF made on demand from
the card's data and shown in the browser; 404 until the document exists."""

import datetime as dt

from django.contrib.auth.decorators import login_required, permission_required
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.urls import path

from connections.services import documents_pdf
from ispcrm.models import Branch
from ispcrm.pdf import pdf_response

VIEW_CARDS = "connections.view_clientcard"


def _card_document(build):
    """A view printing ``build(card)`` for the card in the URL."""

    @login_required
    @permission_required(VIEW_CARDS, raise_exception=True)
    def view(request, pk: int):
        card = documents_pdf.load_card(pk)
        if card is None:
            raise Http404
        try:
            printed = build(card)
        except documents_pdf.Missing as missing:
            raise Http404(str(missing)) from None
        return pdf_response(printed.pdf(), printed.filename)

    view.__name__ = f"{build.__name__}_pdf"
    view.__doc__ = build.__doc__
    return view


contract_pdf = _card_document(documents_pdf.contract)
expertise_pdf = _card_document(documents_pdf.expertise)
work_order_pdf = _card_document(documents_pdf.work_order)
works_act_pdf = _card_document(documents_pdf.works_act)


@login_required
@permission_required(VIEW_CARDS, raise_exception=True)
def survey_route(request, branch: int, date: str):
    """The route list of a branch's survey day (linked from the NOC head's plan email)."""
    branch = get_object_or_404(Branch.objects.select_related("city"), pk=branch)
    try:
        day = dt.date.fromisoformat(date)
    except ValueError:
        raise Http404("not a date") from None
    printed = documents_pdf.survey_route(branch, day)
    return pdf_response(printed.pdf(), printed.filename)


urlpatterns = [
    path("clients/<int:pk>/contract.pdf", contract_pdf, name="contract_pdf"),
    path("clients/<int:pk>/expertise.pdf", expertise_pdf, name="expertise_pdf"),
    path("clients/<int:pk>/work-order.pdf", work_order_pdf, name="work_order_pdf"),
    path("clients/<int:pk>/works-act.pdf", works_act_pdf, name="works_act_pdf"),
    path("survey_route/<int:branch>/<date>/", survey_route, name="survey_route"),
]
