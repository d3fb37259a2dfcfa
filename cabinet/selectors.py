"""The figures the cabinet shows a client about his money (C3, C5): the next charge, how long
the balance lasts, when a debt would stop the service, and — before he confirms — what a
tariff change or a pause will cost.

Read-only. Every sum comes from billing's own pricing (``subscription_on``, ``monthly_price``)
and proration (``billing.money.prorate``), applied the way billing's services apply them, so
a quoted figure is the one the service then posts. ``today`` is a parameter everywhere (the
pages pass the local date), which keeps the tests on hand-computed dates."""

from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db.models import Q

from billing.models import (
    Account,
    AccountService,
    BillingSettings,
    Pause,
    Subscription,
    Tariff,
)
from billing.money import ZERO, month_start, next_month_start, prorate, to_money
from billing.services import accounts as billing_accounts
from billing.services.pricing import monthly_price, subscription_on
from billing.services.terms import tariff_choices
from connections.models import ClientCard
from ispcrm.workcalendar import WorkCalendar
from tickets.models import Outage, Ticket
from tickets.services.outages import active_outages_for_building

_ONE_DAY = timedelta(days=1)
#: How far ahead "the balance lasts" is worked out; a larger balance says "more than".
FORECAST_MONTHS = 24


def _month_end(day: date) -> date:
    return next_month_start(day) - _ONE_DAY


def _services(account: Account, from_day: date) -> list[AccountService]:
    """The account's services in force on ``from_day`` or later (one query)."""
    return list(account.services.select_related("service")
                .filter(Q(end__isnull=True) | Q(end__gt=from_day)).order_by("start", "pk"))


def _in_force(item, day: date) -> bool:
    """``start`` inclusive, ``end`` exclusive: the rule of subscriptions and services."""
    return item.start <= day and (item.end is None or item.end > day)


def _pause_on(account: Account, day: date) -> Pause | None:
    """The pause (planned or running, not ended early) that covers ``day``."""
    return (account.pauses.filter(resumed_on__isnull=True, start__lte=day, end__gt=day)
            .order_by("-start").first())


# --- The next charge ------------------------------------------------------------------------

@dataclass(frozen=True)
class ChargeLine:
    label: str
    amount: Decimal


@dataclass(frozen=True)
class NextCharge:
    """The monthly charge of the 1st (SP-6: charged in advance)."""

    on: date
    amount: Decimal
    lines: list[ChargeLine] = field(default_factory=list)
    paused: bool = False  # the account is paused on that day: only the pause fee


def next_charge(account: Account, *, today: date) -> NextCharge | None:
    """What the monthly run will charge on the next 1st (``billing.services.charges``): the
    tariff in force that day after its discount, plus each service in force; for an account
    paused that day, the tariff's pause fee for the paused days of that month instead. None
    when nothing is charged monthly (not activated yet, blocked, closed)."""
    if account.status not in (Account.Status.ACTIVE, Account.Status.PAUSED):
        return None
    on = next_month_start(today)
    subscription = subscription_on(account, on)
    if subscription is None:
        return None
    pause = _pause_on(account, on)
    if pause is not None:  # as billing.services.pauses.charge_pause_fee
        fee = prorate(subscription.tariff.pause_fee, on, on, pause.end - _ONE_DAY)
        lines = [ChargeLine(subscription.tariff.name, fee)] if fee else []
        return NextCharge(on=on, amount=fee, lines=lines, paused=True)
    lines = [ChargeLine(subscription.tariff.name, monthly_price(subscription, on))]
    lines += [ChargeLine(item.service.name, to_money(item.service.monthly_fee))
              for item in _services(account, on)
              if _in_force(item, on) and item.service.monthly_fee]
    return NextCharge(on=on, amount=sum((line.amount for line in lines), ZERO), lines=lines)


# --- How long the balance lasts -------------------------------------------------------------

@dataclass(frozen=True)
class BalanceForecast:
    """The service is paid through ``until`` (inclusive): ``days`` from today counting today;
    0 means less than a day. ``more`` when the money lasts beyond the forecast horizon."""

    days: int
    until: date
    more: bool = False


def _month_cost(account: Account, services: list, first: date):
    """A function giving what the days first..last of ``first``'s month cost at the tariff
    and services in force on ``first``: the monthly prices prorated by days, as billing
    charges a part of a month."""
    period = month_start(first)
    subscription = subscription_on(account, first)
    prices = [to_money(item.service.monthly_fee) for item in services if _in_force(item, first)]
    if subscription is not None:
        prices.append(monthly_price(subscription, period))

    def cost(last: date) -> Decimal:
        return sum((prorate(price, period, first, last) for price in prices), ZERO)

    return cost


def balance_lasts(account: Account, *, today: date) -> BalanceForecast | None:
    """How many days the money on the account pays for, at the daily cost of the tariff and
    services (a month's price spread over its days). The month already charged is paid for;
    the balance then pays the following days. None when it does not apply: not an active
    account, or already in debt (the page shows the debt instead)."""
    if account.status != Account.Status.ACTIVE or account.balance < 0:
        return None
    if billing_accounts.month_billed(account, month_start(today)):
        first = next_month_start(today)  # this month was charged in advance: paid for
    else:
        first = today
    money = account.balance
    services = _services(account, first)
    for _month in range(FORECAST_MONTHS):
        last = _month_end(first)
        cost = _month_cost(account, services, first)
        if cost(last) <= money:
            money -= cost(last)
            first = last + _ONE_DAY
            continue
        # Not the whole month: the last day whose prorated cost the money still covers.
        until = first - _ONE_DAY
        while until + _ONE_DAY < last and cost(until + _ONE_DAY) <= money:
            until += _ONE_DAY
        return BalanceForecast(days=max((until - today).days + 1, 0), until=until)
    until = first - _ONE_DAY
    return BalanceForecast(days=(until - today).days + 1, until=until, more=True)


# --- A debt and the block -------------------------------------------------------------------

@dataclass(frozen=True)
class DebtState:
    """A debt on the account and what it means for the service.

    ``state``: ``blocked`` (service stopped since ``blocked_on``), ``never_block`` (chased,
    never blocked), ``due`` (the notice is sent: blocked on ``block_on`` unless paid),
    ``expected`` (no notice yet: it comes on ``notice_on`` and the block ``block_on`` after
    the notice term — an estimate), ``pending`` (the connection fee, before activation),
    ``unpaid`` (paused or closed: owed, but there is no service to block)."""

    debt: Decimal
    state: str
    block_on: date | None = None
    notice_on: date | None = None
    blocked_on: date | None = None
    deferred_until: date | None = None
    promised_until: date | None = None


def _notice_term(account: Account, today: date) -> int:
    """Working days from the debt notice to the block: the tariff's, else the settings' (as
    the dunning run counts them)."""
    subscription = subscription_on(account, today)
    if subscription is not None and subscription.tariff.dunning_days:
        return subscription.tariff.dunning_days
    return BillingSettings.current().dunning_days


def debt_state(account: Account, *, today: date) -> DebtState | None:
    """The debt and the block date (billing.services.dunning): a block due on
    ``block_due_on`` waits while a deferral or a promised payment covers the day, so it comes
    the day after the later of them; «never block» clients are not blocked. None without a
    debt."""
    if account.balance >= 0:
        return None
    debt = -account.balance
    grace = {"deferred_until": account.deferred_until
             if account.deferred_until and account.deferred_until >= today else None,
             "promised_until": account.promised_until
             if account.promised_until and account.promised_until >= today else None}
    if account.status == Account.Status.PENDING:
        return DebtState(debt=debt, state="pending")
    if account.status in (Account.Status.PAUSED, Account.Status.CLOSED):
        return DebtState(debt=debt, state="unpaid")  # not in service: nothing to block
    if account.status == Account.Status.BLOCKED:
        return DebtState(debt=debt, state="blocked", blocked_on=account.blocked_on)
    if account.never_block:
        return DebtState(debt=debt, state="never_block", **grace)
    held = [day + _ONE_DAY for day in grace.values() if day is not None]
    if account.block_due_on is not None:
        block_on = max([account.block_due_on, today, *held])
        return DebtState(debt=debt, state="due", block_on=block_on, **grace)
    notice_on = max([today, *held])
    block_on = WorkCalendar(account.client.branch).add_working_days(
        notice_on, _notice_term(account, today))
    return DebtState(debt=debt, state="expected", block_on=block_on, notice_on=notice_on,
                     **grace)


# --- Pauses ---------------------------------------------------------------------------------

def open_pause(account: Account, *, today: date) -> Pause | None:
    """The running or planned pause (not ended): the one a client may see and resume."""
    return (account.pauses.filter(resumed_on__isnull=True, end__gt=today)
            .order_by("start").first())


@dataclass(frozen=True)
class PauseQuote:
    """What a pause from ``start`` until ``end`` (exclusive: service resumes that day) means
    in money: the monthly fee not paid for the paused days comes back (or is not charged),
    the tariff's pause fee is charged for them instead. ``total`` is the change to what the
    client pays: negative — he pays less."""

    start: date
    end: date
    days: int
    pause_fee_monthly: Decimal
    fee_returned: Decimal
    pause_fee: Decimal

    @property
    def total(self) -> Decimal:
        return self.pause_fee - self.fee_returned

    @property
    def saved(self) -> Decimal:
        """How much less he pays for the pause (zero when the pause fee is higher)."""
        return max(-self.total, ZERO)

    @property
    def extra(self) -> Decimal:
        return max(self.total, ZERO)

    @property
    def last_day(self) -> date:
        return self.end - _ONE_DAY


def pause_quote(account: Account, *, start: date, end: date, today: date) -> PauseQuote:
    """The sums billing.services.pauses posts for this pause, month by month:

    - the month it starts was charged in advance; the fee for start..month end comes back;
    - a month begun while paused is not charged; resuming charges from the resume day, so
      of such a month the days before it are not paid;
    - the pause fee is the tariff's, prorated over the paused days of each month.

    Together: the monthly fee of exactly the paused days is saved, and cumulative rounding
    (``prorate``) makes the parts add up to the kopeck."""
    last = end - _ONE_DAY
    returned = fee = ZERO
    pause_fee_monthly = ZERO
    day = start
    while day <= last:
        period = month_start(day)
        month_last = min(last, _month_end(day))
        subscription = subscription_on(account, day)
        if subscription is not None:
            billed = (period > month_start(today)
                      or billing_accounts.month_billed(account, period))
            if day != start or billed:  # only what was (or will be) charged comes back
                returned += prorate(monthly_price(subscription, period), period, day,
                                    month_last)
            fee += prorate(subscription.tariff.pause_fee, period, day, month_last)
            if day == start:
                pause_fee_monthly = to_money(subscription.tariff.pause_fee)
        day = month_last + _ONE_DAY
    return PauseQuote(start=start, end=end, days=(end - start).days,
                      pause_fee_monthly=pause_fee_monthly, fee_returned=returned, pause_fee=fee)


# --- Tariffs --------------------------------------------------------------------------------

def tariffs_offered(card: ClientCard, *, today: date) -> list[Tariff]:
    """The tariffs on sale at his address and connection type
    (``billing.services.terms.tariff_choices``) that ``tariff_change`` would accept for him
    (the same check: on sale, his connection type, his kind of client)."""
    ids = [pk for pk, _label in tariff_choices(card.building, card.connection_type)]
    offered = []
    for tariff in Tariff.objects.filter(pk__in=ids).order_by("monthly_fee", "name"):
        try:
            billing_accounts._check_tariff(tariff, card, today)
        except ValidationError:
            continue
        offered.append(tariff)
    return offered


def scheduled_change(account: Account, *, today: date) -> Subscription | None:
    """A tariff change that has not started yet (a subscription starting after today)."""
    return (Subscription.objects.select_related("tariff")
            .filter(account=account, start__gt=today).order_by("start").first())


@dataclass(frozen=True)
class TariffQuote:
    """A change to ``tariff`` from ``start``: ``monthly`` is its fee for the first whole month
    (after a promotion's discount); ``difference`` is the recalculation of the rest of this month
    posted at once — the new tariff's days minus the old one's, positive: he pays more."""

    tariff: Tariff
    start: date
    from_next_period: bool
    monthly: Decimal
    old_part: Decimal = ZERO
    new_part: Decimal = ZERO
    discount_percent: Decimal = ZERO

    @property
    def difference(self) -> Decimal:
        return self.new_part - self.old_part

    @property
    def to_pay(self) -> Decimal:
        return max(self.difference, ZERO)

    @property
    def to_return(self) -> Decimal:
        return max(-self.difference, ZERO)

    @property
    def recalculated(self) -> bool:
        return bool(self.old_part or self.new_part)


def tariff_change_quote(account: Account, tariff: Tariff, *, from_next_period: bool,
                        today: date) -> TariffQuote:
    """What ``billing.services.accounts.tariff_change`` will post: from tomorrow, the rest of
    a month already charged is recalculated by days (the old tariff's part back, the new
    one's charged); from the 1st, nothing now and the new fee from that month."""
    start = next_month_start(today) if from_next_period else today + _ONE_DAY
    period = month_start(start)
    # The promotion the change will apply (the one tariff_change looks up): its discount
    # runs for ``months`` months from the month of the start.
    promotion = billing_accounts._promotion_for(tariff, account.client, start, False)
    discount = promotion.discount_percent if promotion else ZERO
    new = Subscription(tariff=tariff, start=start, discount_percent=discount)
    first_full = start if start.day == 1 else next_month_start(start)
    full_month_price = monthly_price(
        Subscription(tariff=tariff, start=start,
                     discount_percent=discount if promotion and (
                         first_full == period or promotion.months > 1) else ZERO),
        first_full)
    quote = {"tariff": tariff, "start": start, "from_next_period": from_next_period,
             "monthly": full_month_price, "discount_percent": discount}
    if (account.status == Account.Status.ACTIVE and start.month == today.month
            and billing_accounts.month_billed(account, period)):
        last = _month_end(start)
        current = subscription_on(account, today)
        if current is not None:
            quote["old_part"] = prorate(monthly_price(current, period), period, start, last)
        quote["new_part"] = prorate(monthly_price(new, period), period, start, last)
    return TariffQuote(**quote)


# --- Around the account ---------------------------------------------------------------------

def building_outages(card: ClientCard) -> list[Outage]:
    """Unresolved outages at his building (directly, by street or district) — the same
    selector the staff card uses (tickets.cards)."""
    if not card.building_id:
        return []
    return list(active_outages_for_building(card.building))


def open_requests_count(card: ClientCard) -> int:
    return (Ticket.objects.filter(client=card)
            .exclude(status__in=[Ticket.Status.RESOLVED, Ticket.Status.CLOSED]).count())
