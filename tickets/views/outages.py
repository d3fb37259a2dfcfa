"""Outages for staff (M5, M6): what is down now and what was, with the buildings, ETA and
the tickets each explains; the NOC head, technical director and support declare, update
and resolve them."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Prefetch
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from connections.models import Building
from ispcrm.errors import RuleViolation
from ispcrm.forms import apply_service_errors
from tickets.forms import OutageForm, OutageResolveForm, OutageUpdateForm
from tickets.models import Outage
from tickets.services import outages as service

from .common import act, describe, may_manage_outages, page_of, staff_only
from .detail import form_data


def _preset(request) -> list[int]:
    value = request.GET.get("building", "")
    return [int(value)] if value.isdigit() else []


def outage_rows(resolved: bool):
    rows = Outage.objects.filter(resolved_at__isnull=not resolved).annotate(
        ticket_count=Count("tickets", distinct=True)).prefetch_related(
        Prefetch("buildings", Building.objects.select_related("street")),
        "districts", "streets", "updates")
    return rows.order_by("-resolved_at" if resolved else "-started_at")


@staff_only
def outage_list(request, form=None):
    resolved = request.GET.get("state") == "resolved"
    manage = may_manage_outages(request.user)
    return render(request, "tickets/outages.html", {
        "resolved": resolved, "page": page_of(request, outage_rows(resolved)),
        "may_manage": manage,
        "form": form or (OutageForm(preset=_preset(request)) if manage else None),
        "update_form": OutageUpdateForm(), "resolve_form": OutageResolveForm(),
    })


@require_POST
@staff_only
def outage_create(request):
    form = OutageForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            outage = service.outage_create(
                actor=request.user, description=data["description"],
                buildings=data["buildings"], districts=data["districts"],
                streets=data["streets"], eta=data["eta"])
        except ValidationError as exc:
            apply_service_errors(form, exc)
        except (RuleViolation, PermissionDenied) as exc:
            messages.error(request, describe(exc))
        else:
            linked = outage.tickets.count()
            messages.success(request, ngettext(
                "Outage declared; %(n)s open ticket linked to it.",
                "Outage declared; %(n)s open tickets linked to it.", linked) % {"n": linked})
            return redirect("tickets:outages")
    return outage_list(request, form=form)


@require_POST
@staff_only
def outage_update(request, pk: int):
    outage = get_object_or_404(Outage, pk=pk)

    def run():
        data = form_data(OutageUpdateForm, request)
        return service.outage_update(outage=outage, actor=request.user, text=data["text"],
                                     eta=data["eta"])
    return act(request, run, _("Outage update recorded."), reverse("tickets:outages"))


@require_POST
@staff_only
def outage_resolve(request, pk: int):
    outage = get_object_or_404(Outage, pk=pk)

    def run():
        data = form_data(OutageResolveForm, request)
        return service.outage_resolve(outage=outage, actor=request.user,
                                      resolution=data["resolution"],
                                      close_tickets=bool(request.POST.get("close_tickets")))
    return act(request, run, _("Outage resolved."), reverse("tickets:outages"))


@require_POST
@staff_only
def outage_notify(request, pk: int):
    """Tell every affected active client at once, by the channel agreed with each."""
    outage = get_object_or_404(Outage, pk=pk)
    if not may_manage_outages(request.user):
        raise PermissionDenied(_("Only the NOC head, the technical director or support "
                                 "manage outages."))

    def run():
        text = request.POST.get("text", "").strip()
        if not text:
            raise ValidationError(_("Write what the clients are told."))
        return service.notify_affected(outage, text)
    return act(request, run, lambda counts: _(
        "Clients told: %(sent)s sent, %(failed)s failed, %(skipped)s without a contact.")
        % counts, reverse("tickets:outages"))


urlpatterns = [
    path("outages/", outage_list, name="outages"),
    path("outages/new/", outage_create, name="outage_create"),
    path("outages/<int:pk>/update/", outage_update, name="outage_update"),
    path("outages/<int:pk>/resolve/", outage_resolve, name="outage_resolve"),
    path("outages/<int:pk>/notify/", outage_notify, name="outage_notify"),
]
