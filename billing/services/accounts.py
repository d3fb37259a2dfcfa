"""The account's life: opened at the contract, activated, tariff changes, voluntary pauses,
blocking for debt and closing. Every money effect is a ledger posting with an idempotency
key, so repeating an operation (a retried request, a re-run job) never charges twice.

Proration is by days of the calendar month (billing.money.prorate); the monthly run charges
whole months in advance (billing.services.charges)."""

from datetime import date, timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from billing import events
from billing.models import Account, LedgerEntry, Promotion, Subscription, Tariff
from billing.money import ZERO, month_start, next_month_start, prorate
from connections.models import ClientCard
from ispcrm.errors import RuleViolation

from .ledger import lock_account, post
from .pricing import fee_description, monthly_price, subscription_on

CHARGE = LedgerEntry.Kind.CHARGE


def account_number_for(client_id: int) -> str:
    """Eight digits that people can say on the phone: 10,000,000 + the client card id."""
    return str(10_000_000 + client_id)


def _promotion_for(tariff: Tariff, client: ClientCard, day: date, new_client: bool):
    candidates = (Promotion.objects.filter(valid_from__lte=day)
                  .filter(Q(valid_to__isnull=True) | Q(valid_to__gt=day))
                  .filter(Q(tariff__isnull=True) | Q(tariff=tariff))
                  .filter(Q(districts__isnull=True) | Q(districts=client.building.district_id))
                  .order_by("-discount_percent", "pk").distinct())
    if not new_client:
        candidates = candidates.filter(new_clients_only=False)
    return candidates.first()


def _subscribe(*, account: Account, tariff: Tariff, start: date, actor,
               new_client: bool = False) -> Subscription:
    promotion = _promotion_for(tariff, account.client, start, new_client)
    discount_until = None
    if promotion:
        months = start.replace(day=1)
        for _i in range(promotion.months):
            months = next_month_start(months)
        discount_until = months
    return Subscription.objects.create(
        account=account, tariff=tariff, start=start, promotion=promotion,
        discount_percent=promotion.discount_percent if promotion else 0,
        discount_until=discount_until, created_by=actor)


def _check_tariff(tariff: Tariff, client: ClientCard, day: date) -> None:
    if not tariff.is_open(day):
        raise ValidationError({"tariff": _("The tariff «%(name)s» is not on sale.")
                               % {"name": tariff.name}})
    if not tariff.sold_for(client.connection_type):
        raise ValidationError({"tariff": _("The tariff «%(name)s» is not sold for this "
                                           "connection type.") % {"name": tariff.name}})
    if tariff.segment not in (Tariff.Segment.ANY, client.kind):
        raise ValidationError({"tariff": _("The tariff «%(name)s» is for another kind of "
                                           "client.") % {"name": tariff.name}})


@transaction.atomic
def account_open(*, client: ClientCard, tariff: Tariff, actor, connection_fee=None,
                 today: date | None = None) -> Account:
    """Open the account when the contract is signed: status pending, the tariff chosen, the
    connection fee charged (the tariff's unless another is agreed)."""
    today = today or timezone.localdate()
    if Account.objects.filter(client=client).exists():
        raise RuleViolation(_("The client already has an account."), code="account_exists")
    _check_tariff(tariff, client, today)
    account = Account.objects.create(number=account_number_for(client.pk), client=client)
    _subscribe(account=account, tariff=tariff, start=today, actor=actor, new_client=True)
    fee = tariff.connection_fee if connection_fee is None else connection_fee
    post(account=account, kind=CHARGE, amount=-fee, period=month_start(today),
         charge_kind=LedgerEntry.ChargeKind.CONNECTION, idem_key="conn",
         description=_("Connection fee"), actor=actor)
    client.save(update_fields=["search_text"])  # the account number becomes searchable
    return account


def charge_rest_of_month(account: Account, day: date, key: str, actor, *,
                         services: bool = True) -> None:
    """Charge the tariff (and services) for day..end of its month, once per ``key``."""
    period = month_start(day)
    subscription = subscription_on(account, day)
    if subscription is None:
        raise RuleViolation(_("The account has no tariff on %(day)s.")
                            % {"day": day.strftime("%d.%m.%Y")}, code="no_tariff")
    last = next_month_start(day) - timedelta(days=1)
    post(account=account, kind=CHARGE, period=period, charge_kind=LedgerEntry.ChargeKind.MONTHLY,
         amount=-prorate(monthly_price(subscription, period), period, day, last),
         description=fee_description(subscription.tariff.name, period), idem_key=key,
         actor=actor)
    if not services:
        return
    for item in account.services.select_related("service").filter(start__lte=day).filter(
            Q(end__isnull=True) | Q(end__gt=day)):
        post(account=account, kind=CHARGE, period=period, service=item.service,
             charge_kind=LedgerEntry.ChargeKind.SERVICE,
             amount=-prorate(item.service.monthly_fee, period, day, last),
             description=item.service.name, idem_key=f"{key}:svc:{item.service_id}",
             actor=actor)


def fee_key(period: date) -> str:
    """The key of the month's tariff charge; the monthly run uses the same one."""
    return f"fee:{period:%Y-%m}"


def month_billed(account: Account, period: date) -> bool:
    return LedgerEntry.objects.filter(account=account, idem_key=fee_key(period)).exists()


@transaction.atomic
def account_activate(*, account: Account, actor, on: date | None = None) -> Account:
    """Take the client into service: monthly charges start, the first month prorated."""
    on = on or timezone.localdate()
    account = lock_account(account.pk)
    if account.status == Account.Status.ACTIVE:
        return account
    if account.status != Account.Status.PENDING:
        raise RuleViolation(_("Only a pending account can be activated."), code="not_pending")
    Subscription.objects.filter(account=account, start__gt=on, end__isnull=True).update(start=on)
    account.status = Account.Status.ACTIVE
    account.activated_on = on
    account.save(update_fields=["status", "activated_on"])
    charge_rest_of_month(account, on, fee_key(month_start(on)), actor)
    events.account_activated.send(sender=Account, account=account)
    return account


@transaction.atomic
def tariff_change(*, account: Account, tariff: Tariff, actor, from_next_period: bool = False,
                  today: date | None = None) -> Subscription:
    """Move to another tariff from tomorrow (the rest of the month recalculated by days) or
    from the first day of next month. Replaces any change already scheduled."""
    today = today or timezone.localdate()
    account = lock_account(account.pk)
    if account.status == Account.Status.CLOSED:
        raise RuleViolation(_("The account is closed."), code="account_closed")
    _check_tariff(tariff, account.client, today)
    start = next_month_start(today) if from_next_period else today + timedelta(days=1)
    _drop_scheduled(account, actor, today)
    current = subscription_on(account, today)
    if current is not None and current.tariff_id == tariff.pk:
        Subscription.objects.filter(pk=current.pk).update(end=None)
        raise RuleViolation(_("The account is already on this tariff."), code="same_tariff")
    if current is not None:
        current.end = start
        current.save(update_fields=["end"])
    new = _subscribe(account=account, tariff=tariff, start=start, actor=actor)
    period = month_start(start)
    if (account.status == Account.Status.ACTIVE and start.month == today.month
            and month_billed(account, period)):
        last = next_month_start(start) - timedelta(days=1)
        old_part = prorate(monthly_price(current, period), period, start, last) if current else ZERO
        new_part = prorate(monthly_price(new, period), period, start, last)
        post(account=account, kind=CHARGE, period=period,
             charge_kind=LedgerEntry.ChargeKind.PRORATION, amount=old_part - new_part,
             description=_("Tariff changed to «%(new)s» from %(day)s: the rest of the month "
                           "recalculated") % {"new": tariff.name,
                                              "day": start.strftime("%d.%m.%Y")},
             idem_key=f"chg:{new.pk}", actor=actor)
    return new


def _drop_scheduled(account: Account, actor, today: date) -> int:
    """Delete a change that has not started yet, reversing the recalculation of the month
    it already posted (a change from tomorrow charges or credits the difference at once).
    Returns how many were dropped."""
    scheduled = list(Subscription.objects.filter(account=account, start__gt=today)
                     .select_related("tariff"))
    for subscription in scheduled:
        posted = LedgerEntry.objects.filter(account=account,
                                            idem_key=f"chg:{subscription.pk}").first()
        if posted is not None:
            post(account=account, kind=CHARGE, period=posted.period,
                 charge_kind=LedgerEntry.ChargeKind.PRORATION, amount=-posted.amount,
                 description=_("Change to «%(name)s» cancelled: the recalculation reversed")
                 % {"name": subscription.tariff.name},
                 idem_key=f"chg:{subscription.pk}:undo", actor=actor)
        subscription.delete()
    return len(scheduled)


@transaction.atomic
def tariff_change_cancel(*, account: Account, actor, today: date | None = None) -> None:
    """Cancel a change that has not started yet; the current tariff goes on."""
    today = today or timezone.localdate()
    account = lock_account(account.pk)
    if not _drop_scheduled(account, actor, today):
        raise RuleViolation(_("No tariff change is scheduled."), code="nothing_scheduled")
    current = subscription_on(account, today)
    if current is not None:
        current.end = None
        current.save(update_fields=["end"])


# --- blocking for debt (SP-7) -------------------------------------------------------------
@transaction.atomic
def account_block(*, account: Account, actor=None, today: date | None = None,
                  locked: bool = False) -> Account:
    """Suspend service for debt. The month already charged is not returned. ``locked``: the
    account is the caller's copy read under its row lock (the dunning job), not read again."""
    today = today or timezone.localdate()
    if not locked:
        account = lock_account(account.pk)
    if account.status == Account.Status.BLOCKED:
        return account
    if account.status != Account.Status.ACTIVE:
        raise RuleViolation(_("Only an active account can be blocked."), code="not_active")
    if account.never_block:
        raise RuleViolation(_("The client is marked «never block»."), code="never_block")
    account.status = Account.Status.BLOCKED
    account.blocked_on = today
    account.save(update_fields=["status", "blocked_on"])
    return account


@transaction.atomic
def account_unblock(*, account: Account, actor=None, today: date | None = None,
                    locked: bool = False) -> Account:
    """Restore service; a month not billed while blocked is charged from today.
    ``locked`` as for ``account_block``."""
    today = today or timezone.localdate()
    if not locked:
        account = lock_account(account.pk)
    if account.status != Account.Status.BLOCKED:
        return account
    account.status = Account.Status.ACTIVE
    account.blocked_on = None
    account.debt_notice_on = None
    account.block_due_on = None
    account.save(update_fields=["status", "blocked_on", "debt_notice_on", "block_due_on"])
    period = month_start(today)
    if not month_billed(account, period):
        charge_rest_of_month(account, today, fee_key(period), actor)
    return account


# --- closing ------------------------------------------------------------------------------
@transaction.atomic
def account_close(*, account: Account, actor, on: date | None = None) -> Account:
    """Stop service from ``on``: the month's fee for the days from ``on`` comes back, nothing
    is charged after; a credit left on the balance is booked as a refund to pay out, a debt
    stays for collection."""
    on = on or timezone.localdate()
    account = lock_account(account.pk)
    if account.status == Account.Status.CLOSED:
        return account
    period = month_start(on)
    last = next_month_start(on) - timedelta(days=1)
    charged = {e.idem_key: e for e in LedgerEntry.objects.filter(
        account=account, kind=CHARGE, period=period,
        charge_kind__in=[LedgerEntry.ChargeKind.MONTHLY, LedgerEntry.ChargeKind.SERVICE])}
    subscription = subscription_on(account, on)
    if fee_key(period) in charged and subscription is not None:
        post(account=account, kind=CHARGE, period=period, charge_kind=LedgerEntry.ChargeKind.FINAL,
             amount=prorate(monthly_price(subscription, period), period, on, last),
             description=_("Contract ended %(day)s: the monthly fee for the rest of the month "
                           "returned") % {"day": on.strftime("%d.%m.%Y")},
             idem_key="final:fee", actor=actor)
    for entry in charged.values():
        if entry.service_id:
            service = entry.service
            post(account=account, kind=CHARGE, period=period,
                 charge_kind=LedgerEntry.ChargeKind.FINAL,
                 amount=prorate(service.monthly_fee, period, on, last),
                 description=_("Contract ended: %(service)s for the rest of the month "
                               "returned") % {"service": service.name},
                 idem_key=f"final:svc:{service.pk}", actor=actor)
    Subscription.objects.filter(account=account, start__gte=on).delete()
    Subscription.objects.filter(account=account, end__isnull=True).update(end=on)
    Subscription.objects.filter(account=account, end__gt=on).update(end=on)
    account.services.filter(Q(end__isnull=True) | Q(end__gt=on)).update(end=on)
    if account.balance > 0:
        post(account=account, kind=LedgerEntry.Kind.REFUND, amount=-account.balance,
             description=_("Remaining balance to be paid back to the client"),
             idem_key="final:refund", actor=actor)
    account.status = Account.Status.CLOSED
    account.closed_on = on
    account.save(update_fields=["status", "closed_on"])
    return account


# --- additional services ------------------------------------------------------------------
@transaction.atomic
def service_add(*, account: Account, service, actor, today: date | None = None):
    """Add a service from today; the rest of the month is charged now (same key as the
    monthly run, so the month is never charged twice)."""
    from billing.models import AccountService

    today = today or timezone.localdate()
    account = lock_account(account.pk)
    if account.status == Account.Status.CLOSED:
        raise RuleViolation(_("The account is closed."), code="account_closed")
    if not service.active:
        raise ValidationError({"service": _("This service is not on sale.")})
    if account.services.filter(service=service).filter(
            Q(end__isnull=True) | Q(end__gt=today)).exists():
        raise RuleViolation(_("The account already has this service."), code="service_exists")
    item = AccountService.objects.create(account=account, service=service, start=today)
    if account.status == Account.Status.ACTIVE:
        period = month_start(today)
        post(account=account, kind=CHARGE, period=period, service=service,
             charge_kind=LedgerEntry.ChargeKind.SERVICE,
             amount=-prorate(service.monthly_fee, period, today,
                             next_month_start(today) - timedelta(days=1)),
             description=_("%(service)s from %(day)s") % {
                 "service": service.name, "day": today.strftime("%d.%m.%Y")},
             idem_key=f"svc:{service.pk}:{period:%Y-%m}", actor=actor)
    return item


@transaction.atomic
def service_remove(*, account: Account, item, actor, today: date | None = None) -> None:
    """Stop a service from today; what was charged for the rest of the month comes back."""
    today = today or timezone.localdate()
    account = lock_account(account.pk)
    item = account.services.select_for_update().get(pk=item.pk)
    if item.end is not None and item.end <= today:
        return  # already stopped
    period = month_start(today)
    charged = LedgerEntry.objects.filter(
        account=account, period=period, service=item.service,
        charge_kind=LedgerEntry.ChargeKind.SERVICE).exists()
    if item.start >= today:
        item.delete()  # not started yet: nothing was used
    else:
        item.end = today
        item.save(update_fields=["end"])
    if charged:
        post(account=account, kind=CHARGE, period=period, service=item.service,
             charge_kind=LedgerEntry.ChargeKind.PRORATION,
             amount=prorate(item.service.monthly_fee, period, today,
                            next_month_start(today) - timedelta(days=1)),
             description=_("%(service)s stopped %(day)s: the rest of the month returned")
             % {"service": item.service.name, "day": today.strftime("%d.%m.%Y")},
             idem_key=f"svcend:{item.pk}:{period:%Y-%m}", actor=actor)
