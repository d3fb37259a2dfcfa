"""Chasing debts (SP-7): notice, block after N working days, claim, and lifting it all when
the client pays.

The daily job (``dunning_queue`` fans it out to the Celery workers in chunks,
``dunning_run`` does it in one process) walks an active account in debt through:

1. **debt notice** — sent once; the block is due N working days later (the tariff's
   ``dunning_days`` or the billing settings'), counted on the production calendar of the
   client's branch. The notice names that day: «оплатите до 04.12.2026».
2. **block** on that day (``account_block``) unless the debt is gone, a deferral or a
   promised payment covers the day, or the client is marked «never block» (such clients get
   the notice, without the threat, and are never blocked).
3. **claim** (претензия) ``claim_after_days`` calendar days after the block, numbered in its
   own series (``ПР-2026-000012``).

A payment that covers the debt lifts it all at once (``on_payment_received``). Staff may
grant a **deferral** or the client a **promised payment** (once a calendar month): both keep
the service on through their last day; a block that was due earlier then comes the day
after it (a client who was blocked is unblocked at once).

Every message is a ``Notice`` row whatever came of it. Email goes to the card's email, and
to the phone by SMS when there is no email or the email failed. In the daily job a message
is sent inside the account's transaction, because what it changes depends on it: a debt
notice that could not be delivered does not start the term (the next run tries again). A
service called by a person (payment, deferral, promised payment) sends after its commit, so
a rolled-back operation tells the client nothing and the account lock is not held while a
gateway answers.

Client-facing texts are Russian whatever the staff's interface language is, as documents
are (billing.documents_text)."""

import logging
from dataclasses import asdict, dataclass, field
from datetime import date, timedelta
from functools import partial
from itertools import batched

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone
from django.utils.translation import gettext as _
from kombu.exceptions import KombuError

from billing import dunning_text as texts
from billing.documents_text import format_date
from billing.models import (
    Account,
    BillingSettings,
    Claim,
    Notice,
    PromisedPayment,
    Subscription,
)
from billing.money import month_start
from ispcrm import notifications
from ispcrm.errors import RuleViolation
from ispcrm.models import Branch
from ispcrm.workcalendar import WorkCalendar

from .accounts import account_block, account_unblock
from .documents import format_number, next_number
from .ledger import lock_account

logger = logging.getLogger(__name__)

ACTIVE = Account.Status.ACTIVE
BLOCKED = Account.Status.BLOCKED
CLAIM_SERIES = "ПР"
MAX_DEFERRAL_DAYS = 30
_ONE_DAY = timedelta(days=1)


# --- Delivery -------------------------------------------------------------------------------

def _routes(account: Account) -> list[tuple[str, str]]:
    client = account.client
    routes = []
    if client.email:
        routes.append((Notice.Channel.EMAIL, client.email))
    if client.phone:
        routes.append((Notice.Channel.SMS, client.phone))
    return routes


def _deliver(account: Account, kind: str, subject: str, text: str, actor=None) -> Notice:
    """Send by email, else (or if that failed) by SMS; a ``Notice`` row per attempt. Returns
    the last one: ``status`` tells whether the client got the message."""
    notice = None
    for channel, recipient in _routes(account):
        result = notifications.send(channel=channel, recipient=recipient, subject=subject,
                                    text=text)
        notice = Notice.objects.create(
            account=account, kind=kind, channel=channel, recipient=recipient,
            subject=subject[:255], text=text, error=result.error[:255], sent_by=actor,
            status=Notice.Status.SENT if result.ok else Notice.Status.FAILED)
        if result.ok:
            return notice
    if notice is None:
        notice = Notice.objects.create(
            account=account, kind=kind, channel=Notice.Channel.SMS, recipient="",
            subject=subject[:255], text=text, status=Notice.Status.FAILED,
            error="no email or phone on the client card", sent_by=actor)
    return notice


def _deliver_later(account_id: int, kind: str, subject: str, text: str, actor) -> None:
    _deliver(Account.objects.select_related("client").get(pk=account_id), kind, subject,
             text, actor)


def _deliver_on_commit(account: Account, kind: str, subject: str, text: str, actor) -> None:
    # robust: a failure after the commit is logged; the caller's operation has happened.
    transaction.on_commit(partial(_deliver_later, account.pk, kind, subject, text, actor),
                          robust=True)


# --- Shared state changes -------------------------------------------------------------------

def _save(account: Account, fields: list[str], actor=None) -> None:
    if actor is not None:
        account._history_user = actor  # simple-history: who, outside a request too
    account.save(update_fields=fields)


def _settle(account: Account, *, actor, today: date) -> tuple[Account, bool, bool]:
    """The debt is covered: unblock, drop the running term and any promise, mark open claims
    settled. ``account`` is the caller's copy read under the account's lock, and is brought
    up to date here. Returns it, whether it unblocked and whether anything changed at all (a
    parallel run may have done it already)."""
    unblocked = account.status == BLOCKED
    if unblocked:
        account = account_unblock(account=account, actor=actor, today=today, locked=True)
    fields = [name for name in ("debt_notice_on", "block_due_on", "promised_until")
              if getattr(account, name) is not None]
    for name in fields:
        setattr(account, name, None)
    if fields:
        _save(account, fields, actor)
    claims = Claim.objects.filter(account=account, paid_on__isnull=True).update(paid_on=today)
    return account, unblocked, bool(unblocked or fields or claims)


def _running(account: Account) -> bool:
    """Anything of the dunning on the account that a payment may end."""
    return account.status == BLOCKED or any(
        getattr(account, name) is not None
        for name in ("debt_notice_on", "block_due_on", "promised_until"))


def on_payment_received(sender, payment, account: Account, **kwargs) -> None:
    """A payment that covers the debt ends the dunning at once: a blocked account is
    unblocked (and told so), a running notice term is dropped and open claims are marked
    settled (C3: the balance is right immediately)."""
    if account.balance < 0:
        return
    if account.balance - payment.amount >= 0 and not _running(account):
        return  # not in debt before it and nothing running: nothing to lift, no query
    today = timezone.localdate()
    _, unblocked, _ = _settle(account, actor=payment.taken_by, today=today)
    if unblocked:
        _deliver_on_commit(account, Notice.Kind.UNBLOCKED, *texts.unblocked_text(account),
                           actor=payment.taken_by)


def _hold_until(account: Account, last_day: date, *, notice_on: date) -> None:
    """Keep the service on through ``last_day``: the running term (or the block just lifted)
    now ends the day after it, unless it ended later anyway."""
    account.debt_notice_on = notice_on
    day_after = last_day + _ONE_DAY
    account.block_due_on = max(account.block_due_on or day_after, day_after)


def _check_debtor(account: Account) -> None:
    if account.status not in (ACTIVE, BLOCKED):
        raise RuleViolation(_("Only an active or blocked account can be given time to pay."),
                            code="not_active")
    if account.balance >= 0:
        raise RuleViolation(_("The account has no debt."), code="no_debt")


# --- Staff and cabinet operations -----------------------------------------------------------

@transaction.atomic
def never_block_set(*, account: Account, value: bool, reason: str, actor,
                    today: date | None = None) -> Account:
    """Mark a trusted client (school, hospital) «never block», or take the mark off. Their
    debt is still chased with notices and claims. Marking a blocked account unblocks it;
    taking the mark off restarts a running term, so the next notice warns of the block."""
    today = today or timezone.localdate()
    reason = reason.strip()
    if value and not reason:
        raise ValidationError({"reason": _("Say why this client is never blocked.")})
    account = lock_account(account.pk)
    new_reason = reason[:255] if value else ""  # the history keeps why it was set
    if account.never_block == value and account.never_block_reason == new_reason:
        return account
    account.never_block, account.never_block_reason = value, new_reason
    fields = ["never_block", "never_block_reason"]
    if not value and account.status == ACTIVE and account.debt_notice_on is not None:
        account.debt_notice_on = account.block_due_on = None
        fields += ["debt_notice_on", "block_due_on"]
    _save(account, fields, actor)
    if value and account.status == BLOCKED:
        notice_on, due = account.debt_notice_on, account.block_due_on
        account = account_unblock(account=account, actor=actor, today=today, locked=True)
        # The client has had the notice: keep its date so no second one is sent.
        account.debt_notice_on, account.block_due_on = notice_on, due
        _save(account, ["debt_notice_on", "block_due_on"], actor)
        _deliver_on_commit(account, Notice.Kind.UNBLOCKED, *texts.unblocked_text(account), actor)
    return account


@transaction.atomic
def deferral_grant(*, account: Account, until: date, reason: str, actor,
                   today: date | None = None) -> Account:
    """Defer the payment until ``until`` (inclusive, at most 30 days ahead): no notice and no
    block through that day. A running term then ends the day after it (a blocked account is
    unblocked now); with no notice sent yet, the usual notice and term start after it."""
    today = today or timezone.localdate()
    reason = reason.strip()
    errors = {}
    if not reason:
        errors["reason"] = _("Say why the payment is deferred.")
    if until <= today:
        errors["until"] = _("A deferral ends in the future.")
    elif until > today + timedelta(days=MAX_DEFERRAL_DAYS):
        errors["until"] = _("A deferral lasts at most %(days)s days.") % {
            "days": MAX_DEFERRAL_DAYS}
    if errors:
        raise ValidationError(errors)
    account = lock_account(account.pk)
    _check_debtor(account)
    was_blocked, notice_on = account.status == BLOCKED, account.debt_notice_on
    if was_blocked:
        account = account_unblock(account=account, actor=actor, today=today, locked=True)
    account.deferred_until, account.deferral_reason = until, reason[:255]
    if was_blocked or notice_on is not None:
        _hold_until(account, until, notice_on=notice_on or today)
    _save(account, ["deferred_until", "deferral_reason", "debt_notice_on", "block_due_on"],
          actor)
    text = texts.grace_text(account, f"Оплата по лицевому счёту {account.number} отсрочена до "
                                f"{format_date(until)} включительно.", until)
    _deliver_on_commit(account, Notice.Kind.DEFERRAL, "Отсрочка платежа", text, actor)
    return account


@transaction.atomic
def promised_payment_grant(*, account: Account, actor, today: date | None = None) -> Account:
    """A promised payment: ``promised_payment_days`` days of service on credit (through
    ``promised_until`` inclusive), once a calendar month, only with a debt. A blocked
    account is unblocked at once; unless paid, it is blocked the day after the promise
    ends (or when its running term ends, if later)."""
    today = today or timezone.localdate()
    account = lock_account(account.pk)
    _check_debtor(account)
    if account.promised_until is not None and account.promised_until >= today:
        raise RuleViolation(_("A promised payment is already running."),
                            code="promised_payment_running")
    used = RuleViolation(_("A promised payment was already used this month."),
                         code="promised_payment_used")
    month = month_start(today)
    if PromisedPayment.objects.filter(account=account, month=month).exists():
        raise used
    until = today + timedelta(days=BillingSettings.current().promised_payment_days)
    try:
        with transaction.atomic():  # savepoint: the unique (account, month) is the last word
            PromisedPayment.objects.create(account=account, granted_on=today, until=until,
                                           granted_by=actor, month=month)
    except IntegrityError:
        raise used from None
    was_blocked, notice_on = account.status == BLOCKED, account.debt_notice_on
    if was_blocked:
        account = account_unblock(account=account, actor=actor, today=today, locked=True)
    account.promised_until = until
    # The promise message below warns of the block, so it counts as the notice if none was.
    _hold_until(account, until, notice_on=notice_on or today)
    _save(account, ["promised_until", "debt_notice_on", "block_due_on"], actor)
    text = texts.grace_text(account, f"Обещанный платёж подключён: доступ по лицевому счёту "
                                f"{account.number} сохранится до {format_date(until)} "
                                "включительно.", until)
    _deliver_on_commit(account, Notice.Kind.PROMISED, "Обещанный платёж", text, actor)
    return account


# --- The daily job --------------------------------------------------------------------------
#
# Each step finds its accounts with one query, then does each account in its own transaction:
# lock the row, read the step's condition again under the lock, do the work (a message and a
# state change), commit. The per-account work is a loop on purpose: each account needs its
# own message, sent inside its transaction. A debt notice is 4 statements (the locked account
# with its card, the Notice, the account, its history row); what a chunk of accounts shares
# (the settings, a calendar per branch, the tariffs' terms) is read once.
#
# Fanned out (``dunning_queue``, the Celery job) all steps' accounts are found first, and
# their chunks run on several workers in any order, each possibly more than once (beat
# firing twice, a chunk redelivered after its worker died, a run by hand beside it). Why
# that is safe:
# - The same step twice on one account: the second waits for the first's lock, then reads
#   the condition again and the account drops out. PostgreSQL re-reads a locked row's
#   condition only when that row was changed, and every step that acts changes the account
#   row (notice, block, promise; settle when it unblocks or ends a term) except two: a
#   claim, so that step reads the open claims afresh under the lock, and a settle that only
#   marks claims paid, which is idempotent (nothing left to mark: not counted). An
#   undelivered notice changes nothing, so a second copy tries again: one more attempt.
# - Two steps on one account: their conditions exclude each other on what they change
#   (settle wants no debt, the others a debt; notice wants no notice, block one; block an
#   active account, claim a blocked one), but for the promise step, whose change (forgetting
#   an expired promise) no condition reads: an expired promise covers nothing already.
# - The order of the steps: none makes another due the same day (a term is at least one
#   working day, a claim comes at least a day after the block), with one exception: a
#   settle that unblocks charges the rest of the month, which may leave a new debt. The
#   inline run (step after step) sends its notice the same day; the fanned-out one the
#   next morning, since its accounts were found before, as after a payment that unblocks.
# - A payment, deferral or promise between the query and the lock is seen under the lock.

STEPS = ("settle", "promise", "notice", "block", "claim")  # the inline run's order
DEFAULT_CHUNK_SIZE = 500
# A chunk that waited longer in the queue (the workers were down) is dropped: the next
# morning's run finds its accounts again, instead of messaging at night with a stale date.
CHUNK_EXPIRES = timedelta(hours=12)


def chunk_size() -> int:
    """Accounts per chunk (setting ``DUNNING_CHUNK_SIZE``): a chunk of notices takes seconds,
    so several workers share a day's work and a redelivered chunk redoes little."""
    return max(1, int(getattr(settings, "DUNNING_CHUNK_SIZE", DEFAULT_CHUNK_SIZE)))


@dataclass
class DunningResult:
    today: date
    settled: int = 0  # debts covered other than by a payment (a correction): lifted
    promises_expired: int = 0
    notices: int = 0
    notices_failed: int = 0  # not delivered: the term did not start, tried again next run
    blocked: int = 0
    claims: int = 0
    errors: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {**asdict(self), "today": self.today.isoformat()}

    def add(self, other: "DunningResult") -> None:
        for name in _COUNTS:
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.errors += other.errors

    def summary(self) -> str:
        return (f"{self.notices} debt notices ({self.notices_failed} not delivered), "
                f"{self.blocked} blocked, {self.claims} claims, {self.promises_expired} "
                f"promised payments ended, {self.settled} settled")


_COUNTS = ("settled", "promises_expired", "notices", "notices_failed", "blocked", "claims")


def _not_covered(today: date) -> Q:
    """No deferral and no promised payment keeps the service on today."""
    return ((Q(deferred_until__isnull=True) | Q(deferred_until__lt=today))
            & (Q(promised_until__isnull=True) | Q(promised_until__lt=today)))


def _open_claim() -> Exists:
    return Exists(Claim.objects.filter(account=OuterRef("pk"), paid_on__isnull=True))


class _Run:
    """One day's steps over some accounts, with what they read once: the settings, a
    calendar per branch, the terms of a chunk's tariffs."""

    def __init__(self, today: date) -> None:
        self.today = today
        self.config = BillingSettings.current()
        self.result = DunningResult(today=today)
        self._calendars: dict[int, WorkCalendar] = {}
        self._tariff_days: dict[int, int | None] = {}  # account id → its tariff's term
        self._work = {"settle": self.settle, "promise": self.expire_promise,
                      "notice": self.notify, "block": self.block, "claim": self.claim}

    def condition(self, step: str) -> Q:
        """The accounts the step is for; read to find them and again under each lock."""
        today = self.today
        match step:
            case "settle":
                return Q(balance__gte=0) & (
                    Q(status=BLOCKED) | Q(debt_notice_on__isnull=False)
                    | Q(block_due_on__isnull=False) | Q(promised_until__isnull=False)
                    | _open_claim())
            case "promise":
                return Q(promised_until__lt=today)
            case "notice":
                return (Q(status=ACTIVE, balance__lt=0, debt_notice_on__isnull=True)
                        & _not_covered(today))
            case "block":
                return (Q(status=ACTIVE, balance__lt=0, never_block=False,
                          debt_notice_on__isnull=False, block_due_on__lte=today)
                        & _not_covered(today))
            case "claim":
                # At least a day after the block (see above), whatever the settings say.
                after = timedelta(days=max(1, self.config.claim_after_days))
                return (Q(status=BLOCKED, balance__lt=0, blocked_on__lte=today - after)
                        & ~_open_claim())
        raise ValueError(f"unknown dunning step {step!r}")

    def due(self, step: str) -> list[int]:
        return list(Account.objects.filter(self.condition(step)).order_by("pk")
                    .values_list("pk", flat=True))

    def each(self, step: str, ids) -> None:
        """Do the step for each account in its own transaction; one failing account is
        logged and counted, the others go on. Taken ``chunk_size()`` at a time, so what is
        read for a chunk at once stays small in an inline run over all accounts too."""
        work = self._work[step]
        # The account row alone is locked (the card is read along for the message).
        locked = (Account.objects.select_for_update(of=("self",)).select_related("client")
                  .filter(self.condition(step)))
        for part in batched(ids, chunk_size()):
            if step == "notice":
                self._read_terms(part)
            for pk in part:
                try:
                    with transaction.atomic():
                        account = locked.filter(pk=pk).first()  # None: no longer due
                        if account is not None:
                            work(account)
                except Exception as exc:  # one account must not stop the run
                    logger.exception("Dunning %s failed for account id %s", step, pk)
                    self.result.errors.append(f"{step} {pk}: {type(exc).__name__}: {exc}")

    def calendar(self, branch_id: int) -> WorkCalendar:
        if branch_id not in self._calendars:  # one (two queries) per branch and run
            self._calendars[branch_id] = WorkCalendar(Branch.objects.get(pk=branch_id))
        return self._calendars[branch_id]

    def _read_terms(self, ids) -> None:
        """The tariff's term of each account of a chunk, in one query: the subscription in
        force today, the latest start winning (as ``pricing.subscription_on``)."""
        today = self.today
        self._tariff_days = dict(
            Subscription.objects.filter(account_id__in=ids, start__lte=today)
            .filter(Q(end__isnull=True) | Q(end__gt=today))
            .order_by("account_id", "start").values_list("account_id", "tariff__dunning_days"))

    def term_days(self, account: Account) -> int:
        # At least one working day, whatever the settings say (see above).
        return max(1, self._tariff_days.get(account.pk) or self.config.dunning_days)

    # The steps, in the order the inline run takes them -----------------------------------

    def settle(self, account: Account) -> None:
        account, unblocked, changed = _settle(account, actor=None, today=self.today)
        if unblocked:
            _deliver(account, Notice.Kind.UNBLOCKED, *texts.unblocked_text(account))
        if changed:
            self.result.settled += 1

    def expire_promise(self, account: Account) -> None:
        account.promised_until = None  # the block, if due, comes in the block step
        _save(account, ["promised_until"])
        self.result.promises_expired += 1

    def notify(self, account: Account) -> None:
        calendar = self.calendar(account.client.branch_id)
        due = calendar.add_working_days(self.today, self.term_days(account))
        notice = _deliver(account, Notice.Kind.DEBT, *texts.debt_text(account, due))
        if notice.status != Notice.Status.SENT:
            self.result.notices_failed += 1
            return
        account.debt_notice_on, account.block_due_on = self.today, due
        _save(account, ["debt_notice_on", "block_due_on"])
        self.result.notices += 1

    def block(self, account: Account) -> None:
        account = account_block(account=account, today=self.today, locked=True)
        _deliver(account, Notice.Kind.BLOCKED, *texts.blocked_text(account))
        self.result.blocked += 1

    def claim(self, account: Account) -> None:
        # A fresh read under the lock: a parallel run may have just made the claim without
        # changing the account row, so the locked query's own check could not see it.
        if account.claims.filter(paid_on__isnull=True).exists():
            return
        series = f"{CLAIM_SERIES}-{self.today.year}"
        claim = Claim.objects.create(account=account, created_on=self.today,
                                     debt=-account.balance,
                                     number=format_number(series, next_number(series)))
        _deliver(account, Notice.Kind.CLAIM, *texts.claim_text(account, claim))
        self.result.claims += 1


def dunning_run(*, today: date) -> DunningResult:
    """The daily job here and now, one step after the other (``manage.py run_dunning``; the
    Celery job fans it out, ``dunning_queue``). Idempotent: a second run on the same day
    finds nothing new to do (except retrying a debt notice that could not be delivered)."""
    run = _Run(today)
    for step in STEPS:
        run.each(step, run.due(step))
    return run.result


def dunning_chunk(*, today: date, step: str, ids: list[int]) -> DunningResult:
    """One step for some accounts: a chunk task's work. Safe to repeat and to run beside
    any other chunk (see above). Logs its counts: the day's figures are these lines."""
    run = _Run(today)
    run.each(step, ids)
    result = run.result
    log = logger.warning if result.errors else logger.info
    log("Dunning %s, %s, %d accounts (ids %s–%s): %s; %d failed", today, step, len(ids),
        min(ids, default="-"), max(ids, default="-"), result.summary(), len(result.errors))
    return result


@dataclass
class DunningQueued:
    today: date
    due: dict[str, int]  # accounts found per step
    queued: int = 0  # chunks sent to the workers
    inline: int = 0  # chunks done here, the broker being unreachable
    done_here: DunningResult | None = None  # their counts

    def as_dict(self) -> dict:
        return {"today": self.today.isoformat(), "due": self.due, "queued": self.queued,
                "inline": self.inline,
                "done_here": self.done_here.as_dict() if self.done_here else None}


def dunning_queue(*, today: date) -> DunningQueued:
    """The daily job fanned out (beat at 09:30 Moscow time, so nobody is notified at night):
    each step's accounts found with one query, then queued in chunks for the workers. If the
    broker cannot take a chunk, it and the rest are done here: a day's dunning is never left
    undone."""
    from billing.tasks import run_dunning_chunk

    due = dunning_due(today=today)
    outcome = DunningQueued(today=today, due={step: len(ids) for step, ids in due.items()})
    for step, ids in due.items():
        for part in batched(ids, chunk_size()):
            part = list(part)
            if outcome.done_here is None:
                try:
                    run_dunning_chunk.apply_async(
                        (today.isoformat(), step, part),
                        expires=int(CHUNK_EXPIRES.total_seconds()))
                    outcome.queued += 1
                    continue
                except (KombuError, OSError):
                    # Not tried again for the next chunks: a broker that hangs costs seconds
                    # a publish (settings: CELERY_TASK_PUBLISH_RETRY_POLICY).
                    logger.exception("Dunning %s: the task broker is unreachable; the rest "
                                     "of the day's dunning is done here", today)
                    outcome.done_here = DunningResult(today=today)
            outcome.done_here.add(dunning_chunk(today=today, step=step, ids=part))
            outcome.inline += 1
    logger.info("Dunning %s: accounts due %s; %d chunks queued, %d done here", today,
                outcome.due, outcome.queued, outcome.inline)
    return outcome


def dunning_due(*, today: date) -> dict[str, list[int]]:
    """Each step's accounts today (ids), one query a step."""
    run = _Run(today)
    return {step: run.due(step) for step in STEPS}
