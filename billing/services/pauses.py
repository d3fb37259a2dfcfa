"""Voluntary pause (C5): service stops for 1–90 days at the client's wish; the unused monthly
fee comes back and the tariff's pause fee is charged instead; service resumes by itself on
the last day or earlier on request."""

from datetime import date, timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from billing.models import Account, LedgerEntry, Pause
from billing.money import month_start, next_month_start, prorate
from ispcrm.errors import RuleViolation

from .accounts import CHARGE, charge_rest_of_month, fee_key, month_billed
from .ledger import lock_account, post
from .pricing import monthly_price, subscription_on

MAX_PAUSE_DAYS = 90

@transaction.atomic
def pause_start(*, account: Account, start: date, end: date, actor,
                today: date | None = None) -> Pause:
    """Pause service from ``start`` (today or later) until ``end`` (exclusive), 1–90 days:
    the unused monthly fee comes back, the tariff's pause fee is charged instead."""
    today = today or timezone.localdate()
    account = lock_account(account.pk)
    if account.status != Account.Status.ACTIVE:
        raise RuleViolation(_("Only an active account can be paused."), code="not_active")
    if start < today:
        raise ValidationError({"start": _("A pause cannot start in the past.")})
    days = (end - start).days
    if not 1 <= days <= MAX_PAUSE_DAYS:
        raise ValidationError({"end": _("A pause lasts from 1 to %(max)s days.")
                               % {"max": MAX_PAUSE_DAYS}})
    if account.pauses.filter(resumed_on__isnull=True, end__gt=today).exists():
        raise RuleViolation(_("A pause is already planned."), code="pause_exists")
    pause = Pause.objects.create(account=account, start=start, end=end, created_by=actor)
    if start == today:
        _enter_pause(account, pause, actor)
    return pause


def _enter_pause(account: Account, pause: Pause, actor) -> None:
    account.status = Account.Status.PAUSED
    account.save(update_fields=["status"])
    period = month_start(pause.start)
    last = next_month_start(pause.start) - timedelta(days=1)
    subscription = subscription_on(account, pause.start)
    if month_billed(account, period) and subscription is not None:
        post(account=account, kind=CHARGE, period=period,
             charge_kind=LedgerEntry.ChargeKind.PRORATION,
             amount=prorate(monthly_price(subscription, period), period, pause.start, last),
             description=_("Pause from %(day)s: the monthly fee for the rest of the month "
                           "returned") % {"day": pause.start.strftime("%d.%m.%Y")},
             idem_key=f"pause:{pause.pk}:refund", actor=actor)
    charge_pause_fee(account, pause, period, actor)


def charge_pause_fee(account: Account, pause: Pause, period: date, actor=None) -> None:
    """The pause fee for the paused days of ``period`` (also used by the monthly run)."""
    subscription = subscription_on(account, max(pause.start, period))
    if subscription is None or not subscription.tariff.pause_fee:
        return
    last_paused = (pause.resumed_on or pause.end) - timedelta(days=1)
    post(account=account, kind=CHARGE, period=period, charge_kind=LedgerEntry.ChargeKind.PAUSE,
         amount=-prorate(subscription.tariff.pause_fee, period, max(pause.start, period),
                         last_paused),
         description=_("Pause fee for %(month)s") % {"month": period.strftime("%m.%Y")},
         idem_key=f"pausefee:{pause.pk}:{period:%Y-%m}", actor=actor)


@transaction.atomic
def pause_resume(*, account: Account, actor, today: date | None = None) -> Account:
    """End the pause today (early, or on its planned day): service and the fee resume for
    the rest of the month; pause fee for days not paused comes back."""
    today = today or timezone.localdate()
    account = lock_account(account.pk)
    pause = account.pauses.filter(resumed_on__isnull=True, start__lte=today).order_by(
        "-start").first()
    if account.status != Account.Status.PAUSED or pause is None:
        raise RuleViolation(_("The account is not paused."), code="not_paused")
    period = month_start(today)
    pause_fee_key = f"pausefee:{pause.pk}:{period:%Y-%m}"
    charged_fee = LedgerEntry.objects.filter(account=account, idem_key=pause_fee_key).first()
    pause.resumed_on = today
    pause.save(update_fields=["resumed_on"])
    if charged_fee is not None and today < pause.end:
        subscription = subscription_on(account, today)
        last_planned = min(pause.end - timedelta(days=1), next_month_start(today) - timedelta(1))
        post(account=account, kind=CHARGE, period=period,
             charge_kind=LedgerEntry.ChargeKind.PRORATION,
             amount=prorate(subscription.tariff.pause_fee, period, today, last_planned),
             description=_("Pause ended early: pause fee for unused days returned"),
             idem_key=f"pause:{pause.pk}:fee-refund", actor=actor)
    account.status = Account.Status.ACTIVE
    account.save(update_fields=["status"])
    # Paused over the 1st: the month was not billed, so this is the month's fee charge.
    # Otherwise only the tariff comes back: additional services (equipment rent, a static
    # IP) run on through a pause and were charged for the whole month already.
    billed = month_billed(account, period)
    charge_rest_of_month(account, today, f"pause:{pause.pk}:resume" if billed
                         else fee_key(period), actor, services=not billed)
    return account


def pauses_due(today: date) -> tuple[int, int]:
    """Start the pauses planned for today and end the ones whose last day has passed (daily
    job). Returns (started, resumed)."""
    started = resumed = 0
    for pause in Pause.objects.filter(start__lte=today, end__gt=today, resumed_on__isnull=True,
                                      account__status=Account.Status.ACTIVE):
        with transaction.atomic():
            account = lock_account(pause.account_id)
            if account.status == Account.Status.ACTIVE:
                _enter_pause(account, pause, None)
                started += 1
    for pause in Pause.objects.filter(end__lte=today, resumed_on__isnull=True,
                                      account__status=Account.Status.PAUSED):
        pause_resume(account=pause.account, actor=None, today=today)
        resumed += 1
    return started, resumed
