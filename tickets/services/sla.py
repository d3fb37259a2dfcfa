"""The SLA clock (SP-3, Q5): the policy of a ticket, its deadlines in the branch's working
time, and the escalation job.

A deadline is ``created_at`` + the policy's target in working hours + the working time the
ticket spent waiting for the client (``paused_for``): waiting stops the clock, and the
deadlines move when the client answers. ``next_update_due`` runs from the last staff reply
(or the client's answer that ended a wait). A policy or calendar change re-derives the
deadlines of every open ticket (``recompute_open``, wired in tickets.apps)."""

import datetime as dt
import logging
from decimal import Decimal

from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from ispcrm import notifications
from ispcrm.workcalendar import WorkCalendar
from tickets.models import Category, Comment, SlaNotice, SlaPolicy, Ticket

logger = logging.getLogger(__name__)

OPEN = (Ticket.Status.NEW, Ticket.Status.OPEN, Ticket.Status.WAITING)
RUNNING = (Ticket.Status.NEW, Ticket.Status.OPEN)  # open and not waiting: the clock runs
STAFF_UPDATES = (Comment.Kind.REPLY, Comment.Kind.QUESTION)
DUE_FIELDS = ["policy", "first_response_due", "next_update_due", "resolution_due",
              "first_response_breached", "resolution_breached"]


def hours(value) -> dt.timedelta:
    return dt.timedelta(hours=float(value))


class Context:
    """What many deadline computations share: the policies, one calendar per branch, the
    category tree, the clients' fees. Built once per request or job run."""

    def __init__(self, today: dt.date | None = None):
        self.today = today or timezone.localdate()
        self.policies = list(SlaPolicy.objects.filter(active=True).order_by("order", "id"))
        self._calendars: dict[int, WorkCalendar] = {}
        self._fees: dict[int, Decimal] = {}
        self._parents: dict[int, int | None] | None = None

    def calendar(self, ticket: Ticket) -> WorkCalendar:
        if ticket.branch_id not in self._calendars:
            self._calendars[ticket.branch_id] = WorkCalendar(ticket.branch)
        return self._calendars[ticket.branch_id]

    def category_chain(self, category_id: int) -> set[int]:
        if self._parents is None:
            self._parents = dict(Category.objects.values_list("pk", "parent_id"))
        chain, node = set(), category_id
        while node is not None and node not in chain:
            chain.add(node)
            node = self._parents.get(node)
        return chain

    def fee(self, client) -> Decimal:
        """The client's monthly fee now (his account's current tariff), 0 without one."""
        if client.pk not in self._fees:
            self._fees[client.pk] = _current_fee(client, self.today)
        return self._fees[client.pk]


def _current_fee(client, today: dt.date) -> Decimal:
    from billing.models import Account
    from billing.services.pricing import subscription_on

    account = Account.objects.filter(client=client).first()
    subscription = subscription_on(account, today) if account else None
    return subscription.tariff.monthly_fee if subscription else Decimal(0)


def _matches(policy: SlaPolicy, ticket: Ticket, context: Context) -> bool:
    if policy.priority and policy.priority != ticket.priority:
        return False
    if policy.category_id and policy.category_id not in context.category_chain(
            ticket.category_id):
        return False
    client = ticket.client
    if policy.client_id and policy.client_id != ticket.client_id:
        return False
    if policy.segment and (client is None or client.kind != policy.segment):
        return False
    fee = context.fee(client) if client is not None else Decimal(0)
    return policy.min_arpu is None or fee >= policy.min_arpu


def choose_policy(ticket: Ticket, context: Context | None = None) -> SlaPolicy | None:
    """The first active policy (by order) whose set match fields all match the ticket."""
    context = context or Context()
    return next((p for p in context.policies if _matches(p, ticket, context)), None)


def last_update_at(ticket: Ticket) -> dt.datetime:
    """Where the update interval runs from: the last staff reply or client answer."""
    if ticket.pk is None:
        return ticket.created_at
    last = (ticket.comments.filter(internal=False, kind__in=(*STAFF_UPDATES,
                                                               Comment.Kind.CLIENT))
            .order_by("-created_at").values_list("created_at", flat=True).first())
    return max(last, ticket.created_at) if last else ticket.created_at


def apply_deadlines(ticket: Ticket, now: dt.datetime | None = None, *,
                    context: Context | None = None, update_from: dt.datetime | None = None,
                    ) -> Ticket:
    """Choose the policy and set the due fields and breach flags (not saved). A met deadline
    is breached when met late; an unmet one when it passed while the clock ran."""
    now = now or timezone.now()
    context = context or Context(timezone.localdate(now))
    policy = choose_policy(ticket, context)
    ticket.policy = policy
    if policy is None:
        ticket.first_response_due = ticket.next_update_due = ticket.resolution_due = None
        ticket.first_response_breached = ticket.resolution_breached = False
        return ticket
    calendar = context.calendar(ticket)
    waited = ticket.paused_for or dt.timedelta(0)
    ticket.first_response_due = calendar.add_working_time(
        ticket.created_at, hours(policy.first_response_hours) + waited)
    ticket.resolution_due = calendar.add_working_time(
        ticket.created_at, hours(policy.resolution_hours) + waited)
    ticket.next_update_due = None
    if policy.update_hours and ticket.is_open:
        base = update_from or last_update_at(ticket)
        ticket.next_update_due = calendar.add_working_time(base, hours(policy.update_hours))
    running = ticket.status in RUNNING
    ticket.first_response_breached = _late(ticket.first_response_at,
                                           ticket.first_response_due, now, running)
    ticket.resolution_breached = _late(ticket.resolved_at, ticket.resolution_due, now,
                                       running)
    return ticket


def _late(met_at, due, now, running: bool) -> bool:
    if met_at is not None:
        return met_at > due
    return running and now > due


def recompute_open(tickets=None, now: dt.datetime | None = None) -> int:
    """Re-derive the deadlines of open tickets (all by default) after a policy or calendar
    change; one calendar per branch, one UPDATE batch. Returns how many were saved."""
    now = now or timezone.now()
    context = Context(timezone.localdate(now))
    queryset = Ticket.objects.filter(status__in=OPEN) if tickets is None else tickets
    if not hasattr(queryset, "select_related"):
        queryset = Ticket.objects.filter(pk__in=[t.pk for t in queryset])
    rows = list(queryset.select_related("branch", "client"))
    updates = _last_updates([t.pk for t in rows])
    for ticket in rows:
        apply_deadlines(ticket, now, context=context,
                        update_from=max(updates.get(ticket.pk, ticket.created_at),
                                        ticket.created_at))
    Ticket.objects.bulk_update(rows, DUE_FIELDS, batch_size=500)
    return len(rows)


def _last_updates(ids: list[int]) -> dict[int, dt.datetime]:
    """The last staff reply or client answer of each ticket, in one query per batch."""
    from django.db.models import Max

    found: dict[int, dt.datetime] = {}
    for start in range(0, len(ids), 900):
        found.update(Comment.objects.filter(
            ticket_id__in=ids[start:start + 900], internal=False,
            kind__in=(*STAFF_UPDATES, Comment.Kind.CLIENT))
            .values("ticket_id").annotate(last=Max("created_at")).values_list("ticket_id",
                                                                              "last"))
    return found


# Escalations -------------------------------------------------------------------------------

# kind → (due field, target field, "met" condition or None, breach flag)
_WATCHED = {
    SlaNotice.Kind.FIRST_RESPONSE_WARNING: ("first_response_due", "first_response_hours",
                                            Q(first_response_at__isnull=True), None),
    SlaNotice.Kind.RESOLUTION_WARNING: ("resolution_due", "resolution_hours", Q(), None),
    SlaNotice.Kind.FIRST_RESPONSE_BREACH: ("first_response_due", None,
                                           Q(first_response_at__isnull=True),
                                           "first_response_breached"),
    SlaNotice.Kind.RESOLUTION_BREACH: ("resolution_due", None, Q(), "resolution_breached"),
    SlaNotice.Kind.UPDATE_BREACH: ("next_update_due", None, Q(), None),
}
WARNINGS = (SlaNotice.Kind.FIRST_RESPONSE_WARNING, SlaNotice.Kind.RESOLUTION_WARNING)


def in_working_hours(calendar: WorkCalendar, now: dt.datetime) -> bool:
    opening = calendar.working_hours_on(now.astimezone(calendar.tz).date())
    return opening is not None and opening[0] <= now < opening[1]


def run_escalations(now: dt.datetime | None = None) -> dict:
    """Warn assignees at ``warn_percent`` of a target and escalate passed deadlines to the
    category head, each once per (ticket, kind, deadline) — the unique SlaNotice makes two
    workers running at once safe. Branches outside working hours wait for the next run."""
    now = now or timezone.now()
    counts = {"warnings": 0, "breaches": 0, "branches_skipped": 0}
    running = Ticket.objects.filter(status__in=RUNNING, policy__isnull=False)
    pairs = running.values_list("branch_id", "policy_id").distinct().order_by()
    by_branch: dict[int, list[int]] = {}
    for branch_id, policy_id in pairs:
        by_branch.setdefault(branch_id, []).append(policy_id)
    policies = SlaPolicy.objects.in_bulk({p for ids in by_branch.values() for p in ids})
    heads = _HeadFinder()
    from ispcrm.models import Branch

    for branch in Branch.objects.filter(pk__in=by_branch):
        calendar = WorkCalendar(branch)
        if not in_working_hours(calendar, now):
            counts["branches_skipped"] += 1
            continue
        for policy_id in by_branch[branch.pk]:
            scope = running.filter(branch=branch, policy_id=policy_id)
            for kind, (due_field, target, met, flag) in _WATCHED.items():
                window = Q(**{f"{due_field}__lte": now})
                if target is not None:  # a warning: still ahead, less than the rest left
                    policy = policies[policy_id]
                    left = hours(getattr(policy, target)) * (100 - policy.warn_percent) / 100
                    window = Q(**{f"{due_field}__gt": now,
                                  f"{due_field}__lte": calendar.add_working_time(now, left)})
                sent = _notify(scope.filter(met, window), kind, due_field, flag, heads, now)
                counts["warnings" if kind in WARNINGS else "breaches"] += sent
    return counts


def _notify(candidates, kind, due_field, flag, heads, now) -> int:
    already = SlaNotice.objects.filter(ticket=OuterRef("pk"), kind=kind,
                                       due=OuterRef(due_field))
    sent = 0
    for ticket in candidates.filter(~Exists(already)).select_related("category", "assignee"):
        due = getattr(ticket, due_field)
        if kind in WARNINGS:
            recipient = ticket.assignee or heads.head(ticket.category)
        else:
            recipient = heads.head(ticket.category) or ticket.assignee
        with transaction.atomic():
            _notice, created = SlaNotice.objects.get_or_create(
                ticket=ticket, kind=kind, due=due,
                defaults={"recipient": recipient, "sent_at": now})
            if not created:
                continue  # another worker got there first
            if flag:
                Ticket.objects.filter(pk=ticket.pk).update(**{flag: True})
        _send(recipient, ticket, kind, due)
        sent += 1
    return sent


class _HeadFinder:
    """Category heads from one read of the tree."""

    def __init__(self):
        self._rows = {pk: (parent, head) for pk, parent, head in
                      Category.objects.values_list("pk", "parent_id", "head")}
        self._users: dict[int, object] = {}

    def head(self, category):
        node, seen = category.pk, set()
        while node is not None and node not in seen:
            seen.add(node)
            parent, head = self._rows.get(node, (None, None))
            if head:
                return self._user(head)
            node = parent
        return None

    def _user(self, pk):
        if pk not in self._users:
            from django.contrib.auth import get_user_model

            self._users[pk] = get_user_model().objects.filter(pk=pk).first()
        return self._users[pk]


def _send(recipient, ticket: Ticket, kind: str, due: dt.datetime) -> None:
    if recipient is None or not recipient.email:
        logger.warning("SLA notice %s for ticket %s has no one to go to", kind, ticket.pk)
        return
    subject = _("Ticket #%(number)s: %(what)s") % {
        "number": ticket.pk, "what": SlaNotice.Kind(kind).label}
    text = _("%(subject)s\nDeadline: %(due)s\nTicket: %(title)s") % {
        "subject": subject, "due": timezone.localtime(due).strftime("%d.%m.%Y %H:%M"),
        "title": ticket.subject}
    notifications.send(channel=notifications.EMAIL, recipient=recipient.email,
                       subject=subject, text=text)


def deadlines_changed(sender, instance=None, raw=False, **kwargs) -> None:
    """post_save/post_delete of SlaPolicy or CalendarDay (tickets.apps): a changed policy
    or calendar moves the deadlines of the open tickets it can touch."""
    if raw:  # loading fixtures: nothing to re-derive yet
        return
    tickets = Ticket.objects.filter(status__in=OPEN)
    branch_id = getattr(instance, "branch_id", None)
    if sender is not SlaPolicy and branch_id is not None:
        tickets = tickets.filter(branch_id=branch_id)  # a branch's own calendar row
    recompute_open(tickets)
