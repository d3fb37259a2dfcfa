"""Places where apps above billing plug in their data, so billing can use it without
importing them (the dependency rule: ispcrm ← connections ← billing ← tickets).

``hours_used``: the service hours logged for accounts in a month (SP-8). The helpdesk sets
it in its ``ready()``; left ``None``, the monthly act carries no hours used and charges no
extra hours. It takes many accounts at once so the monthly run asks one grouped query:
``hours_used(account_ids, period_start, period_end) -> {account_id: hours}``, the period
half-open (its end is the next month's first day) and accounts without hours left out."""

from collections.abc import Callable, Iterable
from datetime import date
from decimal import Decimal

HoursUsed = Callable[[Iterable[int], date, date], dict[int, Decimal]]

hours_used: HoursUsed | None = None
