"""The helpdesk work queues (issue 5 item 10): my tickets, my group's, overdue, waiting for
the client, all. Each row shows the SLA clock; the page costs a fixed number of queries."""

from django.db.models import Q
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from tickets.models import Ticket

from .clocks import Clocks
from .common import page_of, staff_only

OPEN = (Ticket.Status.NEW, Ticket.Status.OPEN, Ticket.Status.WAITING)
VIEWS = {
    "mine": _("My tickets"),
    "group": _("My group's"),
    "overdue": _("Overdue"),
    "waiting": _("Waiting for the client"),
    "all": _("All tickets"),
}


def queue_tickets():
    """The rows with everything a row shows, in one query."""
    return Ticket.objects.select_related(
        "client", "category__parent", "assignee", "group", "branch", "policy")


def filtered(view: str, user, now):
    tickets = queue_tickets()
    if view == "all":
        return tickets.order_by("-created_at")
    tickets = tickets.filter(status__in=OPEN)
    if view == "mine":
        tickets = tickets.filter(assignee=user)
    elif view == "group":
        tickets = tickets.filter(group__in=user.groups.all())
    elif view == "waiting":
        tickets = tickets.filter(status=Ticket.Status.WAITING)
    elif view == "overdue":
        # Past a deadline while the clock runs (a waiting ticket's clock is stopped).
        tickets = tickets.exclude(status=Ticket.Status.WAITING).filter(
            Q(resolution_due__lt=now) | Q(next_update_due__lt=now)
            | Q(first_response_due__lt=now, first_response_at__isnull=True))
    return tickets.order_by("resolution_due", "created_at")


@staff_only
def queue(request):
    view = request.GET.get("view", "mine")
    if view not in VIEWS:
        view = "mine"
    now = timezone.now()
    page = page_of(request, filtered(view, request.user, now))
    clocks = Clocks(now)
    rows = [(ticket, clocks.next(ticket)) for ticket in page.object_list]
    counts = {name: filtered(name, request.user, now).count()
              for name in ("mine", "group", "overdue", "waiting")}
    return render(request, "tickets/queue.html", {
        "view": view, "views": [(name, label, counts.get(name)) for name, label in VIEWS.items()],
        "page": page, "rows": rows, "now": now, "title": VIEWS[view]})
