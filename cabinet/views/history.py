"""History and documents (C6): the whole ledger of the client's account with filters and the
period's totals, and his documents — the contract, monthly invoices and acts, claims — as
PDFs. Read-only pages; every object is looked up through his own card or account, so
another client's id is a 404."""

import datetime as dt

from django.http import Http404
from django.shortcuts import get_object_or_404, render
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from billing.models import Claim, Document
from billing.money import month_start, next_month_start
from billing.services.documents import claim_pdf, document_filename, document_pdf
from cabinet import history_selectors as selectors
from cabinet.access import cabinet_view
from cabinet.forms.history import KIND_GROUPS, HistoryFilterForm
from connections.services import documents_pdf
from ispcrm.pdf import pdf_response


def quick_periods(today: dt.date) -> list[dict]:
    """The period chips: this month, last month, this year (from/to, inclusive)."""
    this_month = month_start(today)
    last_month = month_start(this_month - dt.timedelta(days=1))
    return [
        {"label": _("This month"), "date_from": this_month,
         "date_to": next_month_start(this_month) - dt.timedelta(days=1)},
        {"label": _("Last month"), "date_from": last_month,
         "date_to": this_month - dt.timedelta(days=1)},
        {"label": _("This year"), "date_from": today.replace(month=1, day=1),
         "date_to": today.replace(month=12, day=31)},
    ]


@cabinet_view
def history(request):
    account = request.cabinet.account
    form = HistoryFilterForm(request.GET)
    chosen = form.filters()
    period = {"date_from": chosen["date_from"], "date_to": chosen["date_to"]}
    chips = quick_periods(timezone.localdate())
    for chip in chips:
        chip["active"] = (chip["date_from"], chip["date_to"]) == (period["date_from"],
                                                                  period["date_to"])
    context = {
        "form": form, "kind": chosen["kind"], "period": period, "chips": chips,
        "kinds": [(key, label) for key, (label, _kinds) in KIND_GROUPS.items()],
        "kind_label": KIND_GROUPS[chosen["kind"]][0] if chosen["kind"] else None,
        "custom_period": any(period.values()) and not any(c["active"] for c in chips),
        "page": None, "totals": None,
    }
    if account is not None:
        context["page"] = selectors.ledger_page(account, number=request.GET.get("page"),
                                                kinds=chosen["kinds"], **period)
        context["totals"] = selectors.period_totals(account, **period)
    return render(request, "cabinet/history/history.html", context)


@cabinet_view
def documents(request):
    card, account = request.cabinet.card, request.cabinet.account
    return render(request, "cabinet/history/documents.html", {
        "contract": selectors.contract(card),
        "months": selectors.documents_by_month(account),
        "claims": selectors.claims(account),
    })


@cabinet_view
def document_pdf_view(request, pk: int):
    """An invoice or act of his own account (another client's id: 404)."""
    document = get_object_or_404(Document.objects.select_related("account__client"),
                                 pk=pk, account=request.cabinet.account)
    return pdf_response(document_pdf(document), document_filename(document))


@cabinet_view
def claim_pdf_view(request, pk: int):
    """A claim for a debt on his own account (another client's id: 404)."""
    claim = get_object_or_404(Claim.objects.select_related("account__client"),
                              pk=pk, account=request.cabinet.account)
    return pdf_response(claim_pdf(claim), f"claim-{claim.number}.pdf")


@cabinet_view
def contract_pdf(request):
    """His connection contract: the same PDF the staff print (404 before it is drafted)."""
    card = documents_pdf.load_card(request.cabinet.card.pk)
    try:
        printed = documents_pdf.contract(card)
    except documents_pdf.Missing:
        raise Http404("no contract") from None
    return pdf_response(printed.pdf(), printed.filename)
