"""The helpdesk on the client card and the building page (M5, M6): the client's tickets with
their SLA state, an outage at his building with its ETA; on the building page the outage on
top and each client's open tickets (billing adds the account column). Registered in
tickets.apps.TicketsConfig.ready() through connections.cards and connections.buildings."""

from django.db.models import Count
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext as _

from tickets.models import Ticket
from tickets.services.outages import active_outages_for_building
from tickets.views.clocks import Clocks
from tickets.views.common import is_helpdesk
from tickets.views.queues import OPEN, queue_tickets

CLOSED_ON_CARD = 5


def tickets_section(request, card) -> dict | None:
    """The card's "Tickets" section."""
    if not is_helpdesk(request.user):
        return None
    clocks = Clocks()
    tickets = queue_tickets().filter(client=card)
    open_rows = [(ticket, clocks.next(ticket))
                 for ticket in tickets.filter(status__in=OPEN).order_by("-created_at")]
    closed_rows = [(ticket, clocks.next(ticket)) for ticket in
                   tickets.exclude(status__in=OPEN).order_by("-created_at")[:CLOSED_ON_CARD]]
    return {
        "template": "tickets/partials/card_section.html",
        "ticket_rows": open_rows, "closed_rows": closed_rows,
        "new_ticket_url": reverse("tickets:new") + f"?client={card.pk}",
        "outages": list(active_outages_for_building(card.building)) if card.building_id else [],
    }


def outage_section(request, building, clients) -> dict | None:
    """An outage in progress at the building, on top of its page."""
    if not is_helpdesk(request.user):
        return None
    outages = list(active_outages_for_building(building))
    return {"template": "tickets/partials/building_outage.html", "outages": outages,
            "declare_url": reverse("tickets:outages") + f"?building={building.pk}"}


def open_tickets_column(request, building, clients) -> dict | None:
    if not is_helpdesk(request.user):
        return None
    counts = dict(Ticket.objects.filter(client__building=building, status__in=OPEN)
                  .values_list("client").annotate(n=Count("pk")).values_list("client", "n"))
    return {"label": _("Open tickets"), "values": {
        pk: format_html('<span class="badge text-bg-warning text-dark">{}</span>', n)
        for pk, n in counts.items()}}


def register() -> None:
    """Put the helpdesk on the client card and the building page (idempotent)."""
    from connections import buildings, cards

    cards.register(tickets_section)
    buildings.register(outage_section)
    buildings.register_column(open_tickets_column)
