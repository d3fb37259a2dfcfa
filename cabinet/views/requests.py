"""The client's requests (C4, SP-5, SP-9, Q4): open one with a category in plain words,
follow its status and what we promised, write in its thread, confirm the formal task, rate
the result.

The client sees his side only: the thread without internal notes and forwarding remarks,
the status in plain words, and our promise — when we will answer, when it will be solved —
never the SLA policy, the breach flags or who escalated what. Every ticket is looked up
through his card, so another client's ticket is a 404 on every URL here."""

import datetime as dt
from dataclasses import dataclass

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import Case, IntegerField, Value, When
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext_lazy
from django.views.decorators.http import require_POST

from cabinet.access import cabinet_view
from cabinet.forms.requests import RatingForm, ReplyForm, RequestForm
from ispcrm.errors import RuleViolation
from ispcrm.forms import apply_service_errors
from tickets.models import Comment, Ticket
from tickets.services import outages
from tickets.services import tickets as desk
from tickets.views.common import describe, report

PAGE_SIZE = 20
OPEN = (Ticket.Status.NEW, Ticket.Status.OPEN, Ticket.Status.WAITING)
RATEABLE = (Ticket.Status.RESOLVED, Ticket.Status.CLOSED)
# What the client reads for each status, and its badge colour (the words carry the meaning);
# a context of their own: the staff's labels of the same words are plurals of queue filters.
STATUS_WORDS = {
    Ticket.Status.NEW: (pgettext_lazy("client request", "Registered"), "primary"),
    Ticket.Status.OPEN: (pgettext_lazy("client request", "We are working on it"), "warning"),
    Ticket.Status.WAITING: (pgettext_lazy("client request", "Waiting for your answer"), "info"),
    Ticket.Status.RESOLVED: (pgettext_lazy("client request", "Resolved"), "success"),
    Ticket.Status.CLOSED: (pgettext_lazy("client request", "Closed"), "secondary"),
}
AWAITING_CONFIRMATION = (pgettext_lazy("client request", "Waiting for your confirmation"),
                         "info")


@dataclass(frozen=True)
class Outlook:
    """A request as its client sees it: the status in words and what we promised."""

    status: str
    colour: str
    answer_by: dt.datetime | None = None  # no answer yet: the first response is due
    answer_late: bool = False
    solve_by: dt.datetime | None = None  # a date promised by staff, else the SLA's
    solve_late: bool = False
    waiting: bool = False  # our question to him: the clock waits for his answer
    awaits_confirmation: bool = False
    awaits_rating: bool = False


def outlook(ticket: Ticket, now: dt.datetime | None = None) -> Outlook:
    now = now or timezone.now()
    awaits_confirmation = (ticket.is_open and bool(ticket.formal_task)
                           and ticket.formal_confirmed_at is None)
    words, colour = (AWAITING_CONFIRMATION if awaits_confirmation
                     else STATUS_WORDS[ticket.status])
    if not ticket.is_open:
        rated = _has_rating(ticket)
        return Outlook(str(words), colour, awaits_rating=not rated
                       and ticket.status in RATEABLE)
    if ticket.status == Ticket.Status.WAITING:
        return Outlook(str(words), colour, waiting=True,
                       awaits_confirmation=awaits_confirmation)
    answer_by = ticket.first_response_due if ticket.first_response_at is None else None
    solve_by = ticket.promised_at or ticket.resolution_due
    return Outlook(str(words), colour, answer_by=answer_by,
                   answer_late=bool(answer_by and answer_by < now), solve_by=solve_by,
                   solve_late=bool(solve_by and solve_by < now),
                   awaits_confirmation=awaits_confirmation)


def _has_rating(ticket: Ticket) -> bool:
    # A missing reverse one-to-one raises a DoesNotExist that is also an AttributeError.
    return getattr(ticket, "rating", None) is not None


def when(moment: dt.datetime) -> str:
    return formats.date_format(timezone.localtime(moment), "SHORT_DATETIME_FORMAT")


def _tickets(request):
    """The signed-in client's tickets, and nobody else's."""
    return Ticket.objects.filter(client=request.cabinet.card).select_related("rating")


def _ticket(request, pk: int) -> Ticket:
    return get_object_or_404(_tickets(request).select_related("category"), pk=pk)


@cabinet_view
def request_list(request):
    tickets = _tickets(request).annotate(
        done=Case(When(status__in=OPEN, then=Value(0)), default=Value(1),
                  output_field=IntegerField())).order_by("done", "-created_at", "-pk")
    page = Paginator(tickets, PAGE_SIZE).get_page(request.GET.get("page"))
    now = timezone.now()
    return render(request, "cabinet/requests/list.html", {
        "page": page, "rows": [(ticket, outlook(ticket, now)) for ticket in page.object_list]})


@cabinet_view
def request_new(request):
    form = RequestForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            with transaction.atomic():
                ticket = desk.ticket_open(actor=request.user, channel=Ticket.Channel.CABINET,
                                          client=request.cabinet.card,
                                          category=data["category"], subject=data["subject"],
                                          description=data["description"].strip())
                outages.link_to_active_outage(ticket)  # his building may be down already
        except ValidationError as exc:
            apply_service_errors(form, exc)
        except (RuleViolation, PermissionDenied) as exc:
            messages.error(request, describe(exc))
        else:
            messages.success(request, _registered(ticket))
            return redirect("cabinet:request_detail", pk=ticket.pk)
    return render(request, "cabinet/requests/new.html", {"form": form})


def _registered(ticket: Ticket) -> str:
    if ticket.first_response_due:
        return _("Your request #%(number)s is registered; we will answer by %(when)s") % {
            "number": ticket.pk, "when": when(ticket.first_response_due)}
    return _("Your request #%(number)s is registered; we will answer as soon as we can.") % {
        "number": ticket.pk}


@cabinet_view
def request_detail(request, pk: int):
    ticket = _ticket(request, pk)
    # Never what is internal: notes, forwarding remarks (the service marks them internal).
    thread = (ticket.comments.filter(internal=False)
              .exclude(kind__in=(Comment.Kind.NOTE, Comment.Kind.FORWARD))
              .select_related("author"))
    view = outlook(ticket)
    rating = getattr(ticket, "rating", None)
    return render(request, "cabinet/requests/detail.html", {
        "ticket": ticket, "outlook": view, "thread": thread, "rating": rating,
        "reply_form": ReplyForm(), "scores": range(1, 6),
        "can_reply": ticket.status != Ticket.Status.CLOSED})


@require_POST
@cabinet_view
def request_reply(request, pk: int):
    ticket = _ticket(request, pk)
    form = ReplyForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Write your message first."))
    else:
        status = ticket.status
        done = {
            Ticket.Status.WAITING: _("Thank you for the answer: we continue with your request."),
            Ticket.Status.RESOLVED: _("Your message is sent and the request is open again."),
        }.get(status, _("Your message is sent."))
        report(request, lambda: desk.comment_add(ticket=ticket, author=request.user,
                                               body=form.cleaned_data["body"]), done)
    return redirect("cabinet:request_detail", pk=ticket.pk)


@require_POST
@cabinet_view
def request_confirm(request, pk: int):
    ticket = _ticket(request, pk)
    report(request, lambda: desk.formal_task_confirm(ticket=ticket, user=request.user),
         _("Thank you: the task is confirmed, we start the work."))
    return redirect("cabinet:request_detail", pk=ticket.pk)


@require_POST
@cabinet_view
def request_rate(request, pk: int):
    ticket = _ticket(request, pk)
    form = RatingForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose a rating from 1 to 5."))
    else:
        report(request, lambda: desk.rate(ticket=ticket, user=request.user,
                                        score=form.cleaned_data["score"],
                                        comment=form.cleaned_data["comment"].strip()),
             _("Thank you for the rating."))
    return redirect("cabinet:request_detail", pk=ticket.pk)
