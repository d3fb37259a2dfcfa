"""Ticket operations (SP-2…SP-5, SP-9, Q1…Q4): opening and routing, the thread with its
clock pauses, taking and forwarding, resolution, promises, formal tasks, ratings and time.

Each operation locks the ticket's row, checks its rule and raises ValidationError (a field
is wrong), RuleViolation (not now) or PermissionDenied (not you)."""

import datetime as dt

from django.core.exceptions import ObjectDoesNotExist, PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from ispcrm import notifications
from ispcrm.errors import RuleViolation
from tickets import links
from tickets.models import Comment, Rating, ReviewTask, Ticket, TimeEntry

from . import sla
from .routing import category_head, least_loaded, route

STAFF_KINDS = (Comment.Kind.REPLY, Comment.Kind.QUESTION, Comment.Kind.NOTE)
LOW_SCORE = 3  # a rating at or below this is reviewed by the head (SP-9)


# Helpers -----------------------------------------------------------------------------------


def client_card_of(user):
    """The client card whose cabinet login ``user`` is, or None for staff."""
    if user is None:
        return None
    try:
        return user.client_card
    except (ObjectDoesNotExist, AttributeError):
        return None


def _the_client(ticket: Ticket, user, client, message) -> None:
    """Refuse unless the acting party is the ticket's client: a cabinet login (``user``) or,
    for a signed email link (tickets.links), the card itself (``client``)."""
    if user is not None and client is not None:
        raise TypeError("Give the user or the client card, not both.")
    card = client if client is not None else client_card_of(user)
    if card is None or ticket.client_id != card.pk:
        raise PermissionDenied(message)


def _staff_only(user) -> None:
    if user is None or client_card_of(user) is not None or not user.is_active:
        raise PermissionDenied(_("Only staff can do this."))


def _lock(ticket: Ticket) -> None:
    """Hold the ticket's row until the transaction ends (the status itself is guarded by
    ConcurrentTransitionMixin on save)."""
    Ticket.objects.select_for_update().filter(pk=ticket.pk).values_list("pk").first()


def _require_open(ticket: Ticket) -> None:
    if not ticket.is_open:
        raise RuleViolation(_("The ticket is %(status)s: reopen it first.")
                            % {"status": ticket.get_status_display().lower()},
                            code="ticket_not_open")


def _comment(ticket, author, kind, body, *, internal=False, now=None, external_ref=""):
    return Comment.objects.create(ticket=ticket, author=author, kind=kind, body=body,
                                  internal=internal, external_ref=external_ref,
                                  created_at=now or timezone.now())


def notify_client(ticket: Ticket, subject: str, text: str) -> bool:
    """Tell the client through his agreed support channel (SP-2); email or SMS when the
    channel has no address. Returns whether a message went out."""
    client = ticket.client
    if client is None:
        return False
    channel = client.support_channel
    if channel == "messenger" and (client.messenger_id or client.phone):
        target = (notifications.MESSENGER, client.messenger_id or client.phone)
    elif channel == "phone" and client.phone:
        target = (notifications.SMS, client.phone)
    elif client.email:
        target = (notifications.EMAIL, client.email)
    else:
        target = (notifications.SMS, client.phone)
    result = notifications.send(channel=target[0], recipient=target[1] or "",
                                subject=subject, text=text)
    return result.ok


def _pause_end(ticket: Ticket, now: dt.datetime, context: sla.Context) -> None:
    """Stop waiting: the working time waited moves the deadlines."""
    if ticket.paused_since is not None:
        waited = context.calendar(ticket).working_time_between(ticket.paused_since, now)
        ticket.paused_for = (ticket.paused_for or dt.timedelta(0)) + max(waited,
                                                                         dt.timedelta(0))
        ticket.paused_since = None


def _choice(value, choices, field):
    if value not in choices.values:
        raise ValidationError({field: _("Choose one of: %(values)s.")
                               % {"values": ", ".join(choices.values)}})


# Opening -----------------------------------------------------------------------------------


@transaction.atomic
def ticket_open(*, actor, category, channel, subject, description="", client=None,
                priority="normal", branch=None, external_ref="", now=None) -> Ticket:
    """Register a request and route it to its group (Q1); the SLA clock starts now."""
    now = now or timezone.now()
    own_card = client_card_of(actor)
    if own_card is not None:
        if client is not None and client.pk != own_card.pk:
            raise PermissionDenied(_("A client opens tickets for his own contract only."))
        client = own_card
    if not (subject or "").strip():
        raise ValidationError({"subject": _("Say what the request is about.")})
    if category is None or not category.active:
        raise ValidationError({"category": _("Choose an active category.")})
    _choice(channel, Ticket.Channel, "channel")
    _choice(priority, Ticket.Priority, "priority")
    branch = branch or (client.branch if client is not None else None) or getattr(
        actor, "branch", None)
    if branch is None:
        raise ValidationError({"branch": _("Choose the branch that serves the request.")})
    group, assignee = route(category, branch)
    ticket = Ticket(client=client, branch=branch, category=category, channel=channel,
                    subject=subject.strip(), description=description, priority=priority,
                    group=group, assignee=assignee, external_ref=external_ref,
                    created_at=now, created_by=actor if own_card is None else None)
    sla.apply_deadlines(ticket, now)
    ticket.save()
    return ticket


# The thread --------------------------------------------------------------------------------


@transaction.atomic
def comment_add(*, ticket: Ticket, author, body, kind="reply", internal=False,
                external_ref="", now=None) -> Comment:
    """Add to the thread. A staff reply or question is the (first) response and restarts
    the update interval; a question stops the clock until the client answers."""
    now = now or timezone.now()
    if not (body or "").strip():
        raise ValidationError({"body": _("Write something.")})
    card = client_card_of(author)
    if card is not None:
        if ticket.client_id != card.pk:
            raise PermissionDenied(_("This is not your ticket."))
        kind, internal = Comment.Kind.CLIENT, False
    elif kind not in (*STAFF_KINDS, Comment.Kind.CLIENT):
        raise ValidationError({"kind": _("Choose one of: %(values)s.") % {
            "values": ", ".join((*STAFF_KINDS, Comment.Kind.CLIENT))}})
    _lock(ticket)
    if ticket.status == Ticket.Status.CLOSED:
        raise RuleViolation(_("The ticket is closed."), code="ticket_closed")
    internal = internal or kind == Comment.Kind.NOTE
    comment = _comment(ticket, author, kind, body.strip(), internal=internal, now=now,
                       external_ref=external_ref)
    if kind == Comment.Kind.CLIENT:
        _client_answered(ticket, now)
    elif kind in (Comment.Kind.REPLY, Comment.Kind.QUESTION) and not internal:
        _staff_answered(ticket, kind, now)
        if not external_ref:  # a reply that came in from outside is not sent back out
            transaction.on_commit(lambda: _send_reply(ticket, comment))
    return comment


def _send_reply(ticket: Ticket, comment: Comment) -> None:
    """Deliver a staff reply or question to the client by his agreed channel (SP-2, Q4):
    the email's subject carries "[#N]", so his answer threads back into the ticket; a
    messenger message goes back to the chat it came from (``messenger_id``)."""
    subject = f"[#{ticket.pk}] {ticket.subject}"
    if comment.kind == Comment.Kind.QUESTION:
        text = _("We have a question about your request #%(number)s:\n\n%(body)s\n\n"
                 "Just reply to this message.")
    else:
        text = _("Answer to your request #%(number)s:\n\n%(body)s")
    notify_client(ticket, subject, text % {"number": ticket.pk, "body": comment.body})


def _staff_answered(ticket: Ticket, kind: str, now: dt.datetime) -> None:
    _require_open(ticket)
    if ticket.first_response_at is None:
        ticket.first_response_at = now
    if kind == Comment.Kind.QUESTION and ticket.status != Ticket.Status.WAITING:
        ticket.wait_for_client()
        ticket.paused_since = now
    elif ticket.status == Ticket.Status.NEW and not _awaits_confirmation(ticket):
        ticket.start()
    sla.apply_deadlines(ticket, now, update_from=now)
    ticket.save()


def _client_answered(ticket: Ticket, now: dt.datetime) -> None:
    if ticket.status == Ticket.Status.RESOLVED:
        ticket.reopen()  # the client says it is not solved
        ticket.resolved_at = None
    elif ticket.status == Ticket.Status.WAITING:
        _pause_end(ticket, now, sla.Context(timezone.localdate(now)))
        ticket.start()
    else:
        return
    sla.apply_deadlines(ticket, now, update_from=now)
    ticket.save()


# Taking and forwarding ---------------------------------------------------------------------


def _awaits_confirmation(ticket: Ticket) -> bool:
    return bool(ticket.formal_task) and ticket.formal_confirmed_at is None


@transaction.atomic
def ticket_take(*, ticket: Ticket, actor) -> Ticket:
    """Take the ticket into work (SP-5: not before the client confirmed the formal task)."""
    _staff_only(actor)
    _lock(ticket)
    _require_open(ticket)
    if _awaits_confirmation(ticket):
        raise RuleViolation(_("The client has not confirmed the formal task yet: work "
                              "starts after his confirmation."), code="formal_task_unconfirmed")
    ticket.assignee = actor
    if ticket.status == Ticket.Status.NEW:
        ticket.start()
    ticket.save()
    return ticket


@transaction.atomic
def ticket_forward(*, ticket: Ticket, actor, group=None, assignee=None, branch=None,
                   note="") -> Ticket:
    """Hand the ticket to another group, person or branch (R7). The SLA clock keeps
    running; the thread records who held it and who has it now."""
    _staff_only(actor)
    if group is None and assignee is None and branch is None:
        raise ValidationError({"group": _("Choose a group, a person or a branch.")})
    _lock(ticket)
    _require_open(ticket)
    holder = ticket.assignee or ticket.group
    if branch is not None:
        ticket.branch = branch
    if group is not None:
        ticket.group = group
        if assignee is None:
            assignee = least_loaded(group, ticket.branch)
    if assignee is not None:
        if not assignee.is_active:
            raise ValidationError({"assignee": _("This employee is not active.")})
        ticket.assignee = assignee
    ticket.save()
    body = _("Forwarded by %(actor)s from %(holder)s to %(target)s.") % {
        "actor": actor, "holder": holder or "—",
        "target": ticket.assignee or ticket.group or ticket.branch}
    if note:
        body = f"{body}\n{note}"
    _comment(ticket, actor, Comment.Kind.FORWARD, body, internal=True)
    return ticket


# Resolution --------------------------------------------------------------------------------


@transaction.atomic
def ticket_resolve(*, ticket: Ticket, actor, note="") -> Ticket:
    """Done: the resolution deadline is met (or breached) and the client is asked to rate."""
    _staff_only(actor)
    _lock(ticket)
    now = timezone.now()
    if ticket.status not in (Ticket.Status.NEW, Ticket.Status.OPEN, Ticket.Status.WAITING):
        raise RuleViolation(_("Only an open ticket can be resolved."), code="ticket_not_open")
    _pause_end(ticket, now, sla.Context(timezone.localdate(now)))
    ticket.resolve()
    ticket.resolved_at = now
    if ticket.first_response_at is None:
        ticket.first_response_at = now  # resolving answers the client too
    if ticket.assignee_id is None:
        ticket.assignee = actor
    sla.apply_deadlines(ticket, now)
    ticket.save()
    if note:
        _comment(ticket, actor, Comment.Kind.REPLY, note, now=now)
    transaction.on_commit(lambda: _ask_rating(ticket))
    return ticket


def _ask_rating(ticket: Ticket) -> None:
    subject = _("Ticket #%(number)s is resolved") % {"number": ticket.pk}
    text = _("Your request #%(number)s «%(subject)s» is resolved. Please rate our work from "
             "1 to 5 in your personal cabinet.") % {"number": ticket.pk,
                                                     "subject": ticket.subject}
    if ticket.client_id is not None:  # and by a link that needs no sign-in (tickets.links)
        link = links.link_url(ticket, links.RATE)
        text = "\n\n".join((text, _("Or rate it by this link, no sign-in needed: %(link)s")
                             % {"link": link}))
    notify_client(ticket, subject, text)


@transaction.atomic
def ticket_reopen(*, ticket: Ticket, actor) -> Ticket:
    """Not solved after all: back in work on the original clock."""
    card = client_card_of(actor)
    if card is not None and ticket.client_id != card.pk:
        raise PermissionDenied(_("This is not your ticket."))
    _lock(ticket)
    if ticket.status != Ticket.Status.RESOLVED:
        raise RuleViolation(_("Only a resolved ticket can be reopened."),
                            code="ticket_not_resolved")
    ticket.reopen()
    ticket.resolved_at = None
    sla.apply_deadlines(ticket, timezone.now())
    ticket.save()
    return ticket


@transaction.atomic
def ticket_close(*, ticket: Ticket, actor=None) -> Ticket:
    _lock(ticket)
    if ticket.status != Ticket.Status.RESOLVED:
        raise RuleViolation(_("Only a resolved ticket can be closed."),
                            code="ticket_not_resolved")
    ticket.close()
    ticket.closed_at = timezone.now()
    ticket.save()
    return ticket


# Promises and formal tasks -----------------------------------------------------------------


@transaction.atomic
def promise(*, ticket: Ticket, actor, promised_at: dt.datetime, note="") -> Comment:
    """More time is needed (SP-4): record the new date and tell the client."""
    _staff_only(actor)
    if promised_at is None or promised_at <= timezone.now():
        raise ValidationError({"promised_at": _("Promise a moment in the future.")})
    _lock(ticket)
    _require_open(ticket)
    ticket.promised_at = promised_at
    ticket.save()
    when = timezone.localtime(promised_at).strftime("%d.%m.%Y %H:%M")
    body = _("New date promised to the client: %(when)s.") % {"when": when}
    if note:
        body = f"{body}\n{note}"
    comment = _comment(ticket, actor, Comment.Kind.PROMISE, body)
    subject = _("Ticket #%(number)s: new date") % {"number": ticket.pk}
    text = _("We need more time for your request #%(number)s «%(subject)s». We will "
             "finish by %(when)s.") % {"number": ticket.pk, "subject": ticket.subject,
                                       "when": when}
    if note:
        text = f"{text}\n{note}"
    transaction.on_commit(lambda: notify_client(ticket, subject, text))
    return comment


@transaction.atomic
def formal_task_set(*, ticket: Ticket, actor, text) -> Ticket:
    """Write the formal task the client must confirm before work starts (SP-5)."""
    _staff_only(actor)
    if not (text or "").strip():
        raise ValidationError({"text": _("Write the task.")})
    _lock(ticket)
    _require_open(ticket)
    ticket.formal_task, ticket.formal_confirmed_at = text.strip(), None
    ticket.save()
    subject = _("Ticket #%(number)s: please confirm the task") % {"number": ticket.pk}
    message = _("Please confirm the task for your request #%(number)s in your personal "
                "cabinet:\n%(task)s") % {"number": ticket.pk, "task": ticket.formal_task}
    if ticket.client_id is not None:  # and by a link that needs no sign-in (tickets.links)
        link = links.link_url(ticket, links.CONFIRM)
        message = "\n\n".join((message, _("Or confirm it by this link, no sign-in needed: "
                                          "%(link)s") % {"link": link}))
    transaction.on_commit(lambda: notify_client(ticket, subject, message))
    return ticket


@transaction.atomic
def formal_task_confirm(*, ticket: Ticket, user=None, client=None) -> Ticket:
    """The client agrees to the formal task; from now on the ticket can be taken. The client
    acts through his cabinet login (``user``) or an email link (``client``, his card)."""
    _the_client(ticket, user, client, _("Only the ticket's client confirms its task."))
    _lock(ticket)
    # Re-read under the lock: a second click (or the link and the cabinet at once) must find
    # the first confirmation, and the task confirmed is the one stored now.
    ticket.refresh_from_db(fields=["formal_task", "formal_confirmed_at"])
    if not ticket.formal_task:
        raise RuleViolation(_("There is no task to confirm."), code="no_formal_task")
    if ticket.formal_confirmed_at is not None:
        raise RuleViolation(_("The task is already confirmed."), code="already_confirmed")
    ticket.formal_confirmed_at = timezone.now()
    ticket.save()
    return ticket


# Rating and time ---------------------------------------------------------------------------


@transaction.atomic
def rate(*, ticket: Ticket, user=None, client=None, score, comment="") -> Rating:
    """The client rates a resolved ticket, once (SP-9); a low score opens a review by the
    category head. The rated ticket is closed. The client acts through his cabinet login
    (``user``) or an email link (``client``, his card)."""
    _the_client(ticket, user, client, _("Only the ticket's client can rate it."))
    try:
        score = int(score)
    except (TypeError, ValueError):
        score = 0
    if not 1 <= score <= 5:
        raise ValidationError({"score": _("Rate from 1 to 5.")})
    _lock(ticket)
    if ticket.status not in (Ticket.Status.RESOLVED, Ticket.Status.CLOSED):
        raise RuleViolation(_("A ticket is rated after it is resolved."),
                            code="ticket_not_resolved")
    if Rating.objects.filter(ticket=ticket).exists():
        raise RuleViolation(_("This ticket is already rated."), code="already_rated")
    try:
        with transaction.atomic():
            rating = Rating.objects.create(ticket=ticket, score=score, comment=comment,
                                           assignee_id=ticket.assignee_id)
    except IntegrityError:
        raise RuleViolation(_("This ticket is already rated."), code="already_rated") from None
    if score <= LOW_SCORE:
        _open_review(ticket, rating)
    if ticket.status == Ticket.Status.RESOLVED:
        ticket.close()
        ticket.closed_at = timezone.now()
        ticket.save()
    return rating


def _open_review(ticket: Ticket, rating: Rating) -> ReviewTask:
    head = category_head(ticket.category)
    review = ReviewTask.objects.create(rating=rating, head=head)
    if head is not None and head.email:
        subject = _("Low rating %(score)s for ticket #%(number)s") % {
            "score": rating.score, "number": ticket.pk}
        text = _("%(subject)s\n«%(title)s»\nComment: %(comment)s") % {
            "subject": subject, "title": ticket.subject, "comment": rating.comment or "—"}
        transaction.on_commit(lambda: notifications.send(
            channel=notifications.EMAIL, recipient=head.email, subject=subject, text=text))
    return review


def time_log(*, ticket: Ticket, user, minutes, day=None, note="") -> TimeEntry:
    """Record time spent on the ticket (SP-8, SP-10)."""
    _staff_only(user)
    try:
        minutes = int(minutes)
    except (TypeError, ValueError):
        minutes = 0
    if not 1 <= minutes <= 24 * 60:
        raise ValidationError({"minutes": _("From 1 minute to 24 hours.")})
    return TimeEntry.objects.create(ticket=ticket, user=user, minutes=minutes,
                                    day=day or timezone.localdate(), note=note[:255])


# The client's history (M2) -----------------------------------------------------------------


def ticket_events(card, user=None) -> list:
    """Each ticket of the client: opened and, when done, resolved (connections.selectors
    .history_sources, registered in tickets.apps)."""
    from ispcrm.audit import ChangeEvent

    if user is not None and not user.has_perm("tickets.view_ticket"):
        return []
    events = []
    for ticket in Ticket.objects.filter(client=card).select_related("created_by", "assignee"):
        title = {"number": ticket.pk, "subject": ticket.subject}
        events.append(ChangeEvent(
            at=ticket.created_at, kind="ticket_opened",
            actor=str(ticket.created_by) if ticket.created_by_id else None,
            summary=_("Ticket #%(number)s opened: %(subject)s") % title))
        if ticket.resolved_at:
            events.append(ChangeEvent(
                at=ticket.resolved_at, kind="ticket_resolved",
                actor=str(ticket.assignee) if ticket.assignee_id else None,
                summary=_("Ticket #%(number)s resolved: %(subject)s") % title))
    return events
