"""Money arithmetic: Decimal only, one rounding rule, remainder-aware proration.

Russian accounting rounds half up (Python's default is half even), to the kopeck."""

import calendar
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

KOPECK = Decimal("0.01")
ZERO = Decimal("0.00")


def to_money(value) -> Decimal:
    return Decimal(value).quantize(KOPECK, rounding=ROUND_HALF_UP)


def days_in_month(day: date) -> int:
    return calendar.monthrange(day.year, day.month)[1]


def month_start(day: date) -> date:
    return day.replace(day=1)


def next_month_start(day: date) -> date:
    return date(day.year + day.month // 12, day.month % 12 + 1, 1)


def prorate(monthly: Decimal, period: date, first_day: date, last_day: date) -> Decimal:
    """The part of ``monthly`` for the days first_day..last_day (inclusive) of ``period``'s
    month. Cumulative rounding: the amount for days a..b is round(F·b/D) − round(F·(a−1)/D),
    so the parts of any split of a month add up to the month's fee to the kopeck."""
    total_days = days_in_month(period)
    first = max(first_day, month_start(period))
    last = min(last_day, period.replace(day=total_days))
    if first > last:
        return ZERO
    monthly = Decimal(monthly)

    def upto(day_number: int) -> Decimal:
        return to_money(monthly * day_number / total_days)

    return upto(last.day) - upto(first.day - 1)
