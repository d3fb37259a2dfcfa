"""The pages behind the email links (SP-5, SP-9): a client confirms the formal task or rates
the resolved ticket from the message he got, without signing in. The signed token is the
only credential (tickets.links); a bad, stale or other-purpose one shows a page that says so
and does nothing. Post/Redirect/Get, the result as a message, as in the cabinet."""

from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from tickets import links
from tickets.models import Rating, Ticket
from tickets.services import tickets as desk

from .common import report

SCORES = range(1, 6)


def _bad_link(request, reason: str):
    return render(request, "tickets/links/invalid.html", {"reason": reason}, status=400)


@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def link_confirm(request, token: str):
    try:
        link = links.read_token(token, links.CONFIRM)
    except links.BadLink as bad:
        return _bad_link(request, bad.reason)
    ticket = link.ticket
    changed = bool(ticket.formal_task) and link.task_changed()
    if request.method == "POST":
        if changed:
            messages.error(request, _("The task was changed after this link was sent: "
                                      "confirm the new one from the latest message."))
        else:
            report(request, lambda: desk.formal_task_confirm(ticket=ticket, client=ticket.client),
                 _("Thank you: the task is confirmed, we start the work."))
        return redirect(request.path)
    return render(request, "tickets/links/confirm.html", {
        "ticket": ticket, "changed": changed,
        "awaiting": bool(ticket.formal_task) and ticket.formal_confirmed_at is None
        and not changed and ticket.is_open})


@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def link_rate(request, token: str):
    try:
        link = links.read_token(token, links.RATE)
    except links.BadLink as bad:
        return _bad_link(request, bad.reason)
    ticket = link.ticket
    if request.method == "POST":
        report(request, lambda: desk.rate(ticket=ticket, client=ticket.client,
                                        score=request.POST.get("score"),
                                        comment=request.POST.get("comment", "").strip()),
             _("Thank you for the rating."))
        return redirect(request.path)
    rating = Rating.objects.filter(ticket=ticket).first()
    return render(request, "tickets/links/rate.html", {
        "ticket": ticket, "rating": rating, "scores": SCORES,
        "can_rate": rating is None and ticket.status in (Ticket.Status.RESOLVED,
                                                         Ticket.Status.CLOSED)})


urlpatterns = [
    path("link/confirm/<str:token>/", link_confirm, name="link_confirm"),
    path("link/rate/<str:token>/", link_rate, name="link_rate"),
]
