"""Hours of hourly subscription service (SP-8, SP-10): the time logged on a business
client's tickets, counted per month against the hours their tariff includes.

Billing reads the month's hours through ``billing.hooks.hours_used`` (set by ``register``
from ``tickets.apps``): billing cannot import the helpdesk. The utilization page shows the
manager whose included hours go unused, so he can propose development work or a smaller
tariff — unused hours are never refunded."""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Q, Sum
from django.db.models.functions import TruncMonth
from django.utils.translation import gettext_lazy as _

from billing.models import Account, Subscription, Tariff
from billing.money import ZERO, month_start, next_month_start
from connections.models import ClientCard
from tickets.models import TimeEntry

HUNDREDTH = Decimal("0.01")
LOW_PERCENT = Decimal("50")  # below this a month's hours are mostly unused
LOW_MONTHS = 3  # this many low months in a row: the tariff is too big

HINT_DEVELOPMENT = _("propose development work")
HINT_SMALLER = _("propose a smaller tariff")
HINT_BIGGER = _("over: propose a bigger tariff")


def to_hours(minutes) -> Decimal:
    return (Decimal(minutes or 0) / 60).quantize(HUNDREDTH, rounding=ROUND_HALF_UP)


def hours_used_by_account(account_ids: Iterable[int], start: date,
                          end: date) -> dict[int, Decimal]:
    """Hours logged on each account's client's tickets with ``start <= day < end``. One
    grouped query (``billing.hooks.hours_used``)."""
    rows = (TimeEntry.objects.filter(ticket__client__account__in=list(account_ids),
                                     day__gte=start, day__lt=end)
            .values("ticket__client__account").annotate(minutes=Sum("minutes")).order_by())
    return {row["ticket__client__account"]: to_hours(row["minutes"]) for row in rows}


def register() -> None:
    """Let billing's monthly act read the hours (called from ``TicketsConfig.ready``)."""
    from billing import hooks

    hooks.hours_used = hours_used_by_account


# --- Utilization (SP-10) ---------------------------------------------------------------------

def previous_month(period: date) -> date:
    return month_start(date.fromordinal(month_start(period).toordinal() - 1))


@dataclass
class Utilization:
    client: ClientCard
    account: Account
    tariff: Tariff
    included: Decimal
    used: Decimal
    low_months: int  # this month and the ones right before it below LOW_PERCENT

    @property
    def unused(self) -> Decimal:
        return max(self.included - self.used, ZERO)

    @property
    def percent(self) -> Decimal | None:
        if not self.included:
            return None
        return (self.used * 100 / self.included).quantize(Decimal("1"), ROUND_HALF_UP)

    @property
    def hint(self) -> str:
        percent = self.percent
        if percent is None:
            return ""
        if percent > 100:
            return str(HINT_BIGGER)
        if self.low_months >= LOW_MONTHS:
            return str(HINT_SMALLER)
        if percent < LOW_PERCENT:
            return str(HINT_DEVELOPMENT)
        return ""


def _subscriptions(first: date, end: date):
    """Subscriptions overlapping [first, end) of company accounts that had an hourly tariff
    then — all of them, so a month's tariff is chosen as billing chooses it. One query."""
    hourly = (Subscription.objects.filter(tariff__included_hours__isnull=False,
                                          account__client__kind=ClientCard.Kind.COMPANY,
                                          start__lt=end)
              .filter(Q(end__isnull=True) | Q(end__gt=first)).values("account_id"))
    return (Subscription.objects.filter(account_id__in=hourly, start__lt=end)
            .filter(Q(end__isnull=True) | Q(end__gt=first))
            .select_related("tariff", "account__client").order_by("account_id", "start"))


def _tariff_of_month(subscriptions: list[Subscription], period: date) -> Subscription | None:
    """The one in force on the month's first day, else the first started in the month (the
    rule of billing's monthly documents)."""
    chosen = None
    for sub in subscriptions:
        if sub.start >= next_month_start(period) or (sub.end and sub.end <= period):
            continue
        if chosen is None or sub.start <= period:
            chosen = sub
    return chosen


def _low(included, used: Decimal) -> bool:
    return bool(included) and used * 100 < LOW_PERCENT * included


def utilization(period: date) -> list[Utilization]:
    """Business clients on hourly tariffs in ``period``'s month: included and used hours,
    lowest utilization first. Two queries: the subscriptions and the grouped hours of the
    month and the LOW_MONTHS - 1 before it."""
    months = [month_start(period)]
    for _i in range(LOW_MONTHS - 1):
        months.insert(0, previous_month(months[0]))
    end = next_month_start(months[-1])
    by_account: dict[int, list[Subscription]] = {}
    for sub in _subscriptions(months[0], end):
        by_account.setdefault(sub.account_id, []).append(sub)
    hours = (TimeEntry.objects.filter(ticket__client__account__in=list(by_account),
                                      day__gte=months[0], day__lt=end)
             .values("ticket__client__account", month=TruncMonth("day"))
             .annotate(minutes=Sum("minutes")).order_by())
    used = {(row["ticket__client__account"], row["month"]): to_hours(row["minutes"])
            for row in hours}
    rows = []
    for account_id, subs in by_account.items():
        current = _tariff_of_month(subs, months[-1])
        if current is None or current.tariff.included_hours is None:
            continue
        low = 0
        for month in reversed(months):  # the run of low months ending with this one
            sub = _tariff_of_month(subs, month)
            included = sub.tariff.included_hours if sub else None
            if not _low(included, used.get((account_id, month), ZERO)):
                break
            low += 1
        rows.append(Utilization(
            client=current.account.client, account=current.account, tariff=current.tariff,
            included=current.tariff.included_hours,
            used=used.get((account_id, months[-1]), ZERO), low_months=low))
    return sorted(rows, key=lambda row: (row.percent is None, row.percent or 0,
                                         row.client.name))
