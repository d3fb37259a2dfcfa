"""Retention calls (R2, R3, R5): the daily list of clients showing signs of leaving, each
assigned to a manager by grade, and the recorded outcome of each call.

Who is on the list (R5), over the accounts still served (active or blocked for debt):
- debt growing: the balance is negative and lower than it was 30 days ago (the ledger's sum
  up to then);
- payments stopped: the account paid before, but not in the last RETENTION_NO_PAYMENT_DAYS
  days (setting, default 45), and its balance no longer covers a month's fee;
- repeated tickets: 3 or more tickets in 30 days;
- low rating: a ticket rated 3 or lower in 30 days;
- usage dropped: the account's traffic (billing.Usage, imported from the collector) over the
  last RETENTION_USAGE_RECENT_DAYS days (default 14, up to yesterday; a day without data
  counts as none) averages below RETENTION_USAGE_DROP_PERCENT (default 30) percent of its
  daily average over the 56 days before — an average over the days that have data, at least
  28 of them, and at least RETENTION_USAGE_MIN_MB (default 100) MB a day. A new client, or
  one without data (no collector), is never flagged; nor is anyone while no usage at all was
  imported for the recent days (the collector is down, not every client gone).
A client called in the last RETENTION_COOLDOWN_DAYS days (default 7) is left alone.

Who calls (R3): the grade is read from the user's position — "lead"/"ведущ" is a lead
manager, "senior"/"старш" a senior one, anything else a manager. Business clients (companies)
go to the lead managers of the client's branch, or its senior ones when it has no lead, or
any of its managers; persons go to the branch's managers of the plain grade, or any of its
managers. The list is handed out in order of monthly fee, highest first, each to the least
loaded manager of the pool (fewest open calls). A branch without managers falls back to all
managers; without any manager at all the call stays unassigned for the head of sales."""

import datetime as dt
from collections import defaultdict
from decimal import Decimal

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import (
    BigIntegerField,
    Count,
    DecimalField,
    Exists,
    ExpressionWrapper,
    F,
    Max,
    Min,
    OuterRef,
    Q,
    Subquery,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.formats import number_format
from django.utils.translation import gettext as _

from billing.models import Account, LedgerEntry, Payment, Subscription, Usage
from ispcrm import roles
from ispcrm.errors import RuleViolation
from tickets.models import CallScript, Rating, RetentionCall, Situation, Ticket

Reason = RetentionCall.Reason
WINDOW_DAYS = 30
REPEATED_TICKETS = 3
LOW_SCORE = 3
SERVED = (Account.Status.ACTIVE, Account.Status.BLOCKED)
# Heads of sales see and work every call; a manager his own.
HEAD_ROLES = (roles.HEAD_OF_SALES, roles.COMMERCIAL_DIRECTOR, roles.DIRECTOR)
RETENTION_ROLES = (roles.MANAGER, *HEAD_ROLES)
LEAD, SENIOR, PLAIN = 2, 1, 0
DEBT_REASONS = {Reason.DEBT_GROWING, Reason.PAYMENTS_STOPPED}
USAGE_BASE_DAYS = 56  # the period before the recent one the traffic is compared with
USAGE_BASE_MIN_DAYS = 28  # days with data it needs: a newer client is not judged
MB = 1_000_000  # traffic in decimal units, as providers count it
GB = 1_000_000_000


def no_payment_days() -> int:
    return getattr(settings, "RETENTION_NO_PAYMENT_DAYS", 45)


def cooldown_days() -> int:
    return getattr(settings, "RETENTION_COOLDOWN_DAYS", 7)


def usage_recent_days() -> int:
    return max(1, getattr(settings, "RETENTION_USAGE_RECENT_DAYS", 14))


def usage_drop_percent() -> int:
    return getattr(settings, "RETENTION_USAGE_DROP_PERCENT", 30)


def usage_min_mb() -> int:
    return getattr(settings, "RETENTION_USAGE_MIN_MB", 100)


def may_work(user) -> bool:
    return user.is_authenticated and (user.is_superuser or user.has_role(*RETENTION_ROLES))


def sees_all(user) -> bool:
    return user.is_superuser or user.has_role(*HEAD_ROLES)


def start_of(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


# --- Signals: each returns {client id: reason text} -------------------------------------------


def served_accounts():
    return Account.objects.filter(status__in=SERVED)


def debt_growing(day: dt.date) -> dict[int, str]:
    then = LedgerEntry.objects.filter(
        account=OuterRef("pk"), created_at__lt=start_of(day - dt.timedelta(days=WINDOW_DAYS)),
    ).order_by().values("account").annotate(total=Sum("amount")).values("total")
    rows = served_accounts().annotate(balance_then=Coalesce(
        Subquery(then), Value(Decimal(0)), output_field=DecimalField())).filter(
        balance__lt=0).filter(balance__lt=F("balance_then")).values_list(
        "client_id", "balance", "balance_then")
    return {client: _("debt %(debt)s, a month ago %(then)s") % {
        "debt": -balance, "then": -then if then < 0 else 0} for client, balance, then in rows}


def payments_stopped(day: dt.date) -> dict[int, str]:
    since = start_of(day - dt.timedelta(days=no_payment_days()))
    paid = Payment.objects.filter(account=OuterRef("pk"), status=Payment.Status.COMPLETED)
    # A client who prepaid for months is not leaving: only when the balance no longer
    # covers a month's fee.
    rows = served_accounts().annotate(fee=current_fee(day)).filter(
        Exists(paid.filter(paid_at__lt=since)), ~Exists(paid.filter(paid_at__gte=since)),
        balance__lt=F("fee"),
    ).annotate(last=Max("payments__paid_at", filter=Q(
        payments__status=Payment.Status.COMPLETED))).values_list("client_id", "last")
    return {client: _("no payment since %(day)s") % {
        "day": timezone.localtime(last).strftime("%d.%m.%Y")} for client, last in rows}


def current_fee(day: dt.date):
    """The monthly fee of the account's tariff on ``day`` (0 without one)."""
    fee = Subscription.objects.filter(account=OuterRef("pk"), start__lte=day).filter(
        Q(end__isnull=True) | Q(end__gt=day)).order_by("-start").values("tariff__monthly_fee")[:1]
    return Coalesce(Subquery(fee), Value(Decimal(0)), output_field=DecimalField())


def served_clients():
    return served_accounts().values("client_id")


def repeated_tickets(day: dt.date) -> dict[int, str]:
    since = start_of(day - dt.timedelta(days=WINDOW_DAYS))
    rows = Ticket.objects.filter(client__in=served_clients(), created_at__gte=since,
                                 created_at__lt=start_of(day + dt.timedelta(days=1))).values(
        "client").annotate(n=Count("pk")).filter(n__gte=REPEATED_TICKETS).values_list(
        "client", "n")
    return {client: _("%(n)s tickets in 30 days") % {"n": n} for client, n in rows}


def low_ratings(day: dt.date) -> dict[int, str]:
    since = start_of(day - dt.timedelta(days=WINDOW_DAYS))
    rows = Rating.objects.filter(ticket__client__in=served_clients(), score__lte=LOW_SCORE,
                                 created_at__gte=since).values("ticket__client").annotate(
        worst=Min("score")).values_list("ticket__client", "worst")
    return {client: _("rated %(score)s of 5") % {"score": worst} for client, worst in rows}


def usage_dropped(day: dt.date) -> dict[int, str]:
    recent_days = usage_recent_days()
    recent_from = day - dt.timedelta(days=recent_days)  # up to yesterday: today is not in yet
    base_from = recent_from - dt.timedelta(days=USAGE_BASE_DAYS)
    recent = Q(day__gte=recent_from)
    base = Q(day__lt=recent_from)
    traffic = F("bytes_in") + F("bytes_out")
    big = BigIntegerField()
    # One query: both periods' sums per account, compared without division — recent / R days
    # < P % of base / base days  ⇔  recent · 100 · base days < base · P · R.
    rows = Usage.objects.filter(
        account__status__in=SERVED, day__gte=base_from, day__lt=day,
    ).filter(
        # The collector reported something lately: a silent collector is not a silent client.
        Exists(Usage.objects.filter(day__gte=recent_from, day__lt=day)),
    ).order_by().values("account__client_id").annotate(
        recent=Coalesce(Sum(traffic, filter=recent), Value(0), output_field=big),
        base=Coalesce(Sum(traffic, filter=base), Value(0), output_field=big),
        base_days=Count("pk", filter=base),
    ).annotate(
        recent_scaled=ExpressionWrapper(F("recent") * 100 * F("base_days"), output_field=big),
        base_scaled=ExpressionWrapper(F("base") * usage_drop_percent() * recent_days,
                                      output_field=big),
        base_floor=ExpressionWrapper(F("base_days") * usage_min_mb() * MB, output_field=big),
    ).filter(
        base_days__gte=USAGE_BASE_MIN_DAYS, base__gte=F("base_floor"),
        recent_scaled__lt=F("base_scaled"),
    ).values_list("account__client_id", "recent", "base", "base_days")
    return {client: _("traffic %(recent)s a day over %(days)s days, before %(before)s a day")
            % {"recent": volume(recent / recent_days), "days": recent_days,
               "before": volume(base / base_days)}
            for client, recent, base, base_days in rows}


def volume(per_day: float) -> str:
    """Bytes as GB (one decimal) from 1 GB, else as whole MB."""
    if per_day >= GB:
        return _("%(n)s GB") % {"n": number_format(per_day / GB, decimal_pos=1)}
    return _("%(n)s MB") % {"n": number_format(per_day / MB, decimal_pos=0)}


SIGNALS = ((Reason.DEBT_GROWING, debt_growing), (Reason.PAYMENTS_STOPPED, payments_stopped),
           (Reason.REPEATED_TICKETS, repeated_tickets), (Reason.LOW_RATING, low_ratings),
           (Reason.USAGE_DROPPED, usage_dropped))


def pre_churn(day: dt.date) -> dict[int, list[tuple[str, str]]]:
    """{client id: [(reason code, what shows it)…]} of every client with a signal."""
    found: dict[int, list[tuple[str, str]]] = defaultdict(list)
    for code, signal in SIGNALS:
        for client, text in signal(day).items():
            found[client].append((code, text))
    return found


# --- Assignment by grade (R3) --------------------------------------------------------------


def grade(user) -> int:
    position = (user.position or "").lower()
    if "lead" in position or "ведущ" in position:
        return LEAD
    if "senior" in position or "старш" in position:
        return SENIOR
    return PLAIN


class Assigner:
    """Hands calls to the least loaded manager of the pool the client's grade calls for."""

    def __init__(self):
        users = get_user_model().objects.filter(is_active=True, groups__name=roles.MANAGER) \
            .annotate(load=Count("retention_calls", filter=Q(
                retention_calls__status=RetentionCall.Status.OPEN), distinct=True))
        self.load = {}
        self.by_branch = defaultdict(list)
        self.everyone = []
        for user in users:
            self.load[user.pk] = user.load
            self.by_branch[user.branch_id].append(user)
            self.everyone.append(user)

    def pool(self, branch_id, company: bool) -> list:
        staff = self.by_branch.get(branch_id) or self.everyone
        wanted = (LEAD, SENIOR) if company else (PLAIN,)
        for level in wanted:
            chosen = [user for user in staff if grade(user) == level]
            if chosen:
                return chosen
        return staff

    def pick(self, branch_id, company: bool):
        pool = self.pool(branch_id, company)
        if not pool:
            return None
        user = min(pool, key=lambda u: (self.load[u.pk], u.pk))
        self.load[user.pk] += 1
        return user


def client_rows(client_ids, day: dt.date):
    """(client id, kind, branch id, monthly fee) of the listed clients, business clients and
    the highest fee first."""
    rows = Account.objects.filter(client_id__in=client_ids).annotate(
        fee=current_fee(day)).values_list(
        "client_id", "client__kind", "client__branch_id", "fee")
    return sorted(rows, key=lambda r: (r[1] != "company", -r[3], r[0]))


def default_scripts() -> dict[str, CallScript]:
    scripts = {}
    for script in CallScript.objects.filter(active=True).order_by("-order", "-pk"):
        scripts[script.situation] = script  # the first by order wins
    return scripts


# --- The daily job -------------------------------------------------------------------------


@transaction.atomic
def build_call_list(day: dt.date | None = None) -> dict:
    """Put today's pre-churn clients on the call list. Idempotent: a client has one call a day
    (unique), so a second run adds nothing. Yesterday's calls not made are marked skipped —
    a client still showing signals is listed again today."""
    day = day or timezone.localdate()
    skipped = RetentionCall.objects.filter(status=RetentionCall.Status.OPEN,
                                           due__lt=day).update(status=RetentionCall.Status.SKIPPED)
    found = pre_churn(day)
    rested = RetentionCall.objects.filter(
        Q(due=day) | Q(status=RetentionCall.Status.DONE,
                       due__gt=day - dt.timedelta(days=cooldown_days())),
        client__in=list(found)).values_list("client", flat=True)
    for client in set(rested):
        found.pop(client, None)
    assigner, scripts = Assigner(), default_scripts()
    calls = []
    for client, kind, branch, _fee in client_rows(list(found), day):
        reasons = found[client]
        codes = [code for code, _text in reasons]
        situation = Situation.DEBT if DEBT_REASONS.intersection(codes) else Situation.COMPLAINT
        calls.append(RetentionCall(
            client_id=client, due=day, reasons=codes,
            reason_text="; ".join(text for _code, text in reasons)[:500],
            manager=assigner.pick(branch, kind == "company"), script=scripts.get(situation)))
    RetentionCall.objects.bulk_create(calls, ignore_conflicts=True)
    return {"listed": len(calls), "skipped": skipped}


# --- Recording a call ----------------------------------------------------------------------


def clean_answers(script: CallScript | None, answers) -> dict[str, bool]:
    """Every checklist item of the script, ticked or not; other keys are dropped."""
    if script is None:
        return {}
    given = {str(key): bool(value) for key, value in (answers or {}).items()}
    return {str(pk): given.get(str(pk), False)
            for pk in script.checklist.values_list("pk", flat=True)}


def record_call(call: RetentionCall, actor, outcome: str, notes: str = "", answers=None,
                script: CallScript | None = None, now: dt.datetime | None = None):
    """The manager's record of the call: its outcome, notes and the checklist as ticked."""
    if not (sees_all(actor) or (actor.has_role(roles.MANAGER) and call.manager_id == actor.pk)):
        raise PermissionDenied(_("This call is assigned to another manager."))
    if call.status == RetentionCall.Status.DONE:
        raise RuleViolation(_("This call has already been recorded."))
    if outcome not in RetentionCall.Outcome.values or not outcome:
        raise ValidationError({"outcome": _("Choose the outcome of the call.")})
    leaving = outcome in (RetentionCall.Outcome.LEAVING_CONTROLLABLE,
                          RetentionCall.Outcome.LEAVING_UNCONTROLLABLE)
    if leaving and not notes.strip():
        raise ValidationError({"notes": _("Write why the client is leaving.")})
    script = script or call.script
    call.script = script
    call.outcome, call.notes = outcome, notes.strip()
    call.answers = clean_answers(script, answers)
    call.status = RetentionCall.Status.DONE
    call.called_at, call.called_by = now or timezone.now(), actor
    call.save(update_fields=["script", "outcome", "notes", "answers", "status", "called_at",
                             "called_by"])
    return call
