"""A ticket from a phone call (SP-2): the caller is found by phone number as the operator
types, the category picked from the tree; routing names the assignee at once."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.translation import gettext as _

from connections import selectors
from connections.models import ClientCard
from ispcrm.errors import RuleViolation
from ispcrm.forms import apply_service_errors
from tickets.forms import NewTicketForm
from tickets.services import outages
from tickets.services import tickets as desk

from .common import describe, staff_only


@staff_only
def caller_search(request):
    """Callers matching the typed phone, name or address (htmx)."""
    query = request.GET.get("caller", "")
    return render(request, "tickets/partials/callers.html", {
        "query": query, "results": selectors.client_search(query, limit=8) if query else []})


def _client(pk) -> ClientCard | None:
    return ClientCard.objects.select_related("building__street").filter(pk=pk).first() \
        if pk else None


@staff_only
def new_ticket(request):
    initial = {"client": request.GET.get("client")} if request.GET.get("client", "").isdigit() \
        else {}
    form = NewTicketForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            ticket = desk.ticket_open(actor=request.user, client=_client(data["client"]),
                                      category=data["category"], channel=data["channel"],
                                      subject=data["subject"],
                                      description=data["description"],
                                      priority=data["priority"])
        except ValidationError as exc:
            apply_service_errors(form, exc)
        except (RuleViolation, PermissionDenied) as exc:
            messages.error(request, describe(exc))
        else:
            outages.link_to_active_outage(ticket)  # a call from a building that is down
            messages.success(request, _opened(ticket))
            return redirect("tickets:detail", pk=ticket.pk)
    client = _client(form["client"].value() if str(form["client"].value() or "").isdigit()
                     else None)
    return render(request, "tickets/new.html", {"form": form, "client": client})


def _opened(ticket) -> str:
    if ticket.assignee_id:
        return _("Ticket #%(n)s opened and assigned to %(who)s.") % {
            "n": ticket.pk, "who": ticket.assignee}
    return _("Ticket #%(n)s opened for the group %(group)s.") % {
        "n": ticket.pk, "group": ticket.group or "—"}


urlpatterns = [
    path("new/", new_ticket, name="new"),
    path("new/callers/", caller_search, name="callers"),
]
