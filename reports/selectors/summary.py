"""The director's summary (D8; API.md ``GET /api/v1/reports/summary/``): how the company did
in a period — clients won and lost, service switched on and off, money collected (split by
what it paid), money charged and ARPU — per month, district, city, tariff or connection type.

What each figure counts, for a period of whole local days ``start..end`` (settings.TIME_ZONE)
and, optionally, one branch (the client card's branch):

``new_clients``
    contracts signed in the period: accounts opened (an account opens when the contract is
    signed, API.md). A card still in the commercial stage is a lead, not a client.
``lost_clients``
    contracts ended in the period: accounts closed — clients who left after being in
    service (terminated) and clients who signed and cancelled before activation.
``connected``
    clients activated in the period (the card's ``activated_at``).
``disconnected``
    clients whose service ended in the period (the card's ``terminated_at``: terminated
    after being active). So ``connected − disconnected`` is the change of the base in
    service and ``new − lost`` the change of the contract base; a client blocked for debt
    is neither lost nor disconnected (he is still a client and comes back when he pays).
``collected_total`` = ``collected_debt`` + ``collected_current`` + ``collected_prepaid``
    completed payments whose ``paid_at`` is in the period (cancelled ones are not money).
    Each payment is split by what it paid, first-in first-out: take the account's balance
    just before the payment — every ledger entry posted before it (by ``created_at``) and
    every payment paid before it (by ``paid_at``); a charge at the same instant counts as
    before. What the account owed then is the negative part of that balance. Credits pay the
    oldest charges first, so what is still owed is the newest charges: of the owed amount,
    the part up to the charges *for the payment's month* (``period`` = the month of
    ``paid_at``) posted so far is the month's, the rest is earlier months'. The payment pays
    earlier months first (``debt``), then the month (``current``); the rest stays on the
    balance (``prepaid``). E.g. owing 400 for October and charged 600 for November, a payment
    of 1,500 on 10 November is 400 debt, 600 current and 500 prepaid.
``charged``
    charges posted in the period (ledger entries of kind ``charge`` by ``created_at``,
    recalculations and returns included), as a positive amount.
``arpu``
    average monthly revenue per account: the period's charges except connection fees,
    divided by account-months — for each month of the period, the accounts in service at any
    time in it (activated on or before its last day in the period, not closed by its first),
    weighted by the share of the month inside the period, and summed. For whole months this
    is charged ÷ accounts in service, averaged over the months. ``None`` when no account was
    in service.

Grouping: by month — the month of each event (opening, closing, activation, termination,
payment, charge; account-months by their month); by district, city and connection type — the
client's; by tariff — the account's current tariff (the latest subscription started by
today: the one an account closed on). Figures are computed at the grain (month, branch,
district, connection type, tariff) by one SQL statement per period (a ``UNION ALL`` of
grouped counts, charges, cumulative activations and closings, and the windowed split of the
payments) and rolled up in Python from those few hundred rows — never a loop over accounts
or payments.

Where a period's figures come from, fastest first:

1. the cache (a day) of whole closed months (see "the cache of closed months" below);
2. the rollup of whole closed months (reports.rollups: tables built by Celery when a month
   closes, rebuilt when a late payment or a cancellation touches it, regrouped nightly) —
   one small query, and only months marked fresh;
3. for a period from the current month's first day, the rollup's stored part of it (up
   to ``SETTLE`` ago, refreshed every quarter of an hour) and one statement over what happened
   since, for the accounts it touched (``_live``, summary_sql ``part``);
4. the live statement, for the rest: parts of months, the open month without a fresh part,
   and any closed month the rollup lacks (correct, just slower: it reads every account).
   Its opening balances come from the rollup's closing balances of the month before when
   that month is fresh.
"""

from __future__ import annotations

import calendar
import contextlib
import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.core.cache import cache
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from billing.models import LedgerEntry, Tariff
from billing.money import month_start, next_month_start
from connections.models import ConnectionType, District

from .summary_sql import PG_RESET, Sql, local_bounds, pg_settings, positional, statement

GROUPINGS = ("month", "district", "tariff", "connection_type")
# The dashboard rolls up by these too; the API offers GROUPINGS.
ROLLUPS = (*GROUPINGS, "city", "total")

COUNTS = ("new_clients", "lost_clients", "connected", "disconnected")
MONEY = ("collected_total", "collected_debt", "collected_current", "collected_prepaid",
         "charged")
FIGURES = (*COUNTS, *MONEY, "arpu")
# Stored in kopecks at the grain: the money figures and the ARPU numerator.
_KOPECKS = (*MONEY, "recurring")

# A longer period is refused by the API (it would be thousands of month rows).
MAX_DAYS = 3700
CENT = Decimal("0.01")


@dataclass(frozen=True)
class Month:
    """One calendar month touched by the period: ``first``..``last`` are its days inside the
    period; ``weight`` the share of the month they are."""

    key: dt.date
    first: dt.date
    last: dt.date

    @property
    def weight(self) -> Decimal:
        days = calendar.monthrange(self.key.year, self.key.month)[1]
        return Decimal((self.last - self.first).days + 1) / Decimal(days)


def months_of(start: dt.date, end: dt.date) -> list[Month]:
    months, key = [], month_start(start)
    while key <= end:
        following = next_month_start(key)
        months.append(Month(key, max(key, start), min(following - dt.timedelta(days=1), end)))
        key = following
    return months


@dataclass
class Facts:
    """The figures of a period at the grain (month, district id, connection type, tariff
    id): counts as ints, money in kopecks, ``active`` as accounts in service that month."""

    start: dt.date
    end: dt.date
    branch_id: int | None
    months: list[Month]
    rows: dict[tuple, dict[str, int]] = field(default_factory=dict)
    _districts: dict | None = None
    _tariffs: dict | None = None

    def add(self, key: tuple, figure: str, value) -> None:
        """Add to a figure at the grain; zeros add nothing (not even the row), so the
        live statement and the stored rollup give the same rows."""
        value = int(value or 0)
        if not value:
            return
        row = self.rows.get(key)
        if row is None:
            row = self.rows[key] = defaultdict(int)
        row[figure] += value

    def districts(self) -> dict[int, dict]:
        """{district id: {"name", "city_id", "city"}} of the districts in the rows."""
        if self._districts is None:
            ids = {key[1] for key in self.rows}
            self._districts = {
                row["pk"]: {"name": row["name"], "city_id": row["city_id"],
                            "city": row["city__name"]}
                for row in District.objects.filter(pk__in=ids).values(
                    "pk", "name", "city_id", "city__name")}
        return self._districts

    def tariffs(self) -> dict[int, str]:
        if self._tariffs is None:
            ids = {key[3] for key in self.rows if key[3] is not None}
            self._tariffs = dict(Tariff.objects.filter(pk__in=ids).values_list("pk", "name"))
        return self._tariffs


def _opening_strategy(scan: dt.datetime, until: dt.datetime) -> str:
    """Read the shorter side of the ledger: what was posted before ``scan`` ("prefix"), or
    after the period ("suffix": the stored balance less the period's events, already read,
    and less those after it — nothing for a period up to today). The ledger's first moment
    is cached for a while (it hardly ever changes, and either way is exact)."""
    first = cache.get_or_set("reports:summary:first_entry", _first_entry, 600)
    if first is None or scan - first < timezone.now() - until:
        return "prefix"
    return "suffix"


def _first_entry() -> dt.datetime | None:
    return (LedgerEntry.objects.order_by("created_at")
            .values_list("created_at", flat=True).first())


def _as_date(value) -> dt.date | None:
    if value is None or type(value) is dt.date:
        return value
    if isinstance(value, dt.datetime):
        return value.date()
    return dt.date.fromisoformat(str(value)[:10])


def _add_rows(facts: Facts, rows, *, with_branch: bool = False) -> None:
    """The statement's rows into the facts; the cumulative activations and closings into
    accounts in service per month. The keys are (month, district, type, tariff), or with
    the branch after the month (``with_branch``: for the rollup's rows)."""
    month_keys = [m.key for m in facts.months]
    starts: dict = defaultdict(lambda: defaultdict(int))  # grain → month → +n
    for figure, month, branch, district, kind, tariff, v1, v2, v3 in rows:
        month = _as_date(month)
        grain = (branch, district, kind, tariff) if with_branch else (district, kind, tariff)
        v1, v2, v3 = int(v1 or 0), int(v2 or 0), int(v3 or 0)
        if figure == "activated":
            starts[grain][month] += v1
        elif figure == "closed_before":
            starts[grain][month] -= v1
        elif figure == "closed":  # stops counting the month after
            starts[grain][next_month_start(month)] -= v1
        elif figure == "charged":
            facts.add((month, *grain), "charged", v1)
            facts.add((month, *grain), "recurring", v2)
        elif figure == "collected":
            key = (month, *grain)
            facts.add(key, "collected_total", v1)
            facts.add(key, "collected_debt", v2)
            facts.add(key, "collected_current", v3)
            facts.add(key, "collected_prepaid", v1 - v2 - v3)
        else:
            facts.add((month, *grain), figure, v1)
    for grain, changes in starts.items():
        running = 0
        for month in month_keys:
            running += changes.get(month, 0)
            if running:
                facts.add((month, *grain), "active", running)


def _live(start: dt.date, end: dt.date, branch_id: int | None,
          opening: str | None = None) -> Facts:
    """The figures of start..end computed now. From a month's first day whose first part is
    stored (the current month: reports.rollups), the part's rows and one statement over
    what happened since; else one statement over the period, whose opening balances are
    the rollup's of the month before when it is fresh (unless ``opening`` forces a way),
    else the shorter side of the ledger."""
    facts = Facts(start=start, end=end, branch_id=branch_id, months=months_of(start, end))
    until = local_bounds(start, end)[1]
    if opening is None:
        part = _stored_part(facts.months[0].key, until) if start == facts.months[0].key else None
        if part is not None:
            rows = run_statement(*statement(Sql(), facts, "", part=part), large=False)
            # No "part" row: it was rebuilt or marked stale meanwhile; compute in full.
            if any(row[0] == "part" for row in rows):
                _add_rows(facts, [row for row in rows if row[0] != "part"])
                return facts
        scan = local_bounds(facts.months[0].key, facts.start)[0]
        opening = "rollup+" + _opening_strategy(scan, until)
    _add_rows(facts, run_statement(*statement(Sql(), facts, opening)))
    return facts


def _stored_part(month: dt.date, until: dt.datetime) -> dt.datetime | None:
    """Where the stored first part of ``month`` ends, if one is fresh, grouped and inside
    the period (reports.rollups)."""
    from reports.models import RollupMonth

    return (RollupMonth.objects.filter(month=month, complete=False, stale=False,
                                       grouped_on__isnull=False, until__lte=until)
            .values_list("until", flat=True).first())


def run_statement(text: str, named: dict, *, large: bool = True) -> list[tuple]:
    """Run one of the summary's statements (with PostgreSQL's settings for it) and return
    its rows."""
    sql = Sql()
    text, params = positional(text, named)
    inside = connection.in_atomic_block
    in_transaction = transaction.atomic() if sql.pg else contextlib.nullcontext()
    with in_transaction, connection.cursor() as cursor:
        if sql.pg:
            # For this transaction only (SET LOCAL): the windows sort the period's events (a
            # year: a million rows and more) in memory rather than in temporary files; every
            # join of a ``large`` statement is of large sets, and the planner, unable to
            # estimate the filters on window results, would otherwise pick nested loops that
            # re-aggregate the opening balances per payment (minutes instead of seconds);
            # JIT compiling this many expressions costs more than it saves.
            cursor.execute(pg_settings(large=large))
        cursor.execute(text, params)
        rows = cursor.fetchall() if cursor.description else []
        if sql.pg and inside:
            cursor.execute(PG_RESET)
        return rows


def _stored(branch_id: int | None, months: list[dt.date]) -> dict[dt.date, dict]:
    """The rollup's grain rows of those of ``months`` that are fresh: {month: {key:
    figures}} (a fresh month without rows is there, empty). One query."""
    from reports.models import RollupMonth, RollupRow

    if not months:
        return {}
    q = connection.ops.quote_name
    names = (*COUNTS, "active", *_KOPECKS)
    branch = f"AND r.branch = {int(branch_id)}" if branch_id else ""
    sql = Sql()
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT m.{q('month')}, r.district, r.connection_type, r.tariff, "
            f"{', '.join(f'r.{name}' for name in names)} "
            f"FROM {q(RollupMonth._meta.db_table)} m "
            f"LEFT JOIN {q(RollupRow._meta.db_table)} r ON r.{q('month')} = m.{q('month')} "
            f"{branch} "
            f"WHERE m.complete = {sql.true} AND m.stale = {sql.false} AND m.{q('month')} IN "
            f"({', '.join(['%s'] * len(months))})",
            [sql.day(month) for month in months])
        rows = cursor.fetchall()
    found: dict[dt.date, Facts] = {}
    for month, district, kind, tariff, *values in rows:
        month = _as_date(month)
        facts = found.setdefault(month, Facts(start=month, end=month, branch_id=branch_id,
                                              months=[]))
        if district is None:  # the month has no rows
            continue
        key = (month, district or None, kind, tariff or None)
        for name, value in zip(names, values, strict=True):
            facts.add(key, name, value)
    return {month: facts.rows for month, facts in found.items()}


# --- the cache of closed months ------------------------------------------------------------
# A month that ended before today has figures that no longer change — the ledger is append
# -only and events are stamped when they happen — except for a payment of that month entered
# or cancelled later (a bank statement, an accountant's cancellation: reports.rollups marks
# the month's rollup stale and forgets the cache then) or a tariff change (the grouping,
# shown the next day). So its grain rows are kept in the cache for
# REPORTS_SUMMARY_CACHE_SECONDS (default a day; 0: off), warmed by beat after midnight. The
# key names the branch, the month and today (the "current tariff" is today's). The current
# month, future months and parts of months are always computed.

def _cache_seconds() -> int:
    return int(getattr(settings, "REPORTS_SUMMARY_CACHE_SECONDS", 86400))


def _cache_key(branch_id, month: dt.date, today: dt.date) -> str:
    generation = cache.get(_GENERATION, 0)
    return (f"reports:summary:{generation}:{branch_id or 'all'}:{month:%Y-%m}:"
            f"{today:%Y-%m-%d}")


_GENERATION = "reports:summary:generation"


def clear_summary_cache() -> None:
    """Forget every cached month (the benchmark's cold runs; after a data fix; a late
    payment)."""
    try:
        cache.incr(_GENERATION)
    except ValueError:
        cache.set(_GENERATION, 1, None)


def warm_summary_cache(months: int = 25) -> int:
    """Compute and cache the last ``months`` closed months for all branches and for each
    branch (from the rollup where built, else one statement each), so the first dashboard
    of the day is fast: run it nightly after midnight (the keys are per day). Returns how
    many branch views were warmed."""
    from ispcrm.models import Branch

    today = timezone.localdate()
    last = month_start(today) - dt.timedelta(days=1)
    first = month_start(last)
    for _month in range(months - 1):
        first = month_start(first - dt.timedelta(days=1))
    branches = [None, *Branch.objects.order_by("pk").values_list("pk", flat=True)]
    for branch_id in branches:
        summary_facts(first, last, branch_id)
    return len(branches)


def _whole_closed(month: Month, today: dt.date) -> bool:
    last_day = next_month_start(month.key) - dt.timedelta(days=1)
    return month.first == month.key and month.last == last_day and last_day < today


def _runs(months: list[Month], flag) -> list[tuple[bool, list[Month]]]:
    """Consecutive months with the same ``flag(month)``."""
    runs: list[tuple[bool, list[Month]]] = []
    for month in months:
        value = flag(month)
        if runs and runs[-1][0] == value:
            runs[-1][1].append(month)
        else:
            runs.append((value, [month]))
    return runs


# --- the selectors -------------------------------------------------------------------------

def summary_facts(start: dt.date, end: dt.date, branch=None, *,
                  opening: str | None = None) -> Facts:
    """The period's figures at the grain. ``branch``: a Branch or its id. Closed whole
    months come from the cache, else from the rollup where it is fresh; the rest is one SQL
    statement per run of consecutive months. ``opening`` forces how the live statement
    reads the opening balances ("prefix"/"suffix", for tests; it bypasses the cache and the
    rollup: everything is computed live)."""
    if start > end:
        raise ValueError("start after end")
    branch_id = getattr(branch, "pk", branch)
    facts = Facts(start=start, end=end, branch_id=branch_id, months=months_of(start, end))
    today = timezone.localdate()
    closed = [] if opening else [m.key for m in facts.months if _whole_closed(m, today)]
    seconds = _cache_seconds()
    keys = {month: _cache_key(branch_id, month, today) for month in closed} if seconds else {}
    hits = cache.get_many(list(keys.values())) if keys else {}
    done = {month: hits[key] for month, key in keys.items() if key in hits}
    computed = _stored(branch_id, [month for month in closed if month not in done])
    for is_done, run in _runs(facts.months, lambda m: m.key in done or m.key in computed):
        if is_done:
            continue
        part = _live(max(start, run[0].first), min(end, run[-1].last), branch_id, opening)
        for month in run:
            if month.key in closed:
                computed[month.key] = {}
        for key, values in part.rows.items():
            if key[0] in computed:
                computed[key[0]][key] = values
            else:
                facts.rows[key] = values
    for rows in (*done.values(), *computed.values()):
        for key, values in rows.items():
            facts.rows[key] = dict(values)
    if keys and computed:
        cache.set_many({keys[month]: {key: dict(values) for key, values in rows.items()}
                        for month, rows in computed.items()}, seconds)
    return facts


def _money(kopecks: int) -> Decimal:
    return (Decimal(kopecks) / 100).quantize(CENT)


def figures(values: dict[str, int], account_months: Decimal) -> dict:
    """Counts as ints, money as Decimals (roubles), ARPU from the recurring charges."""
    out = {name: int(values.get(name, 0)) for name in COUNTS}
    out.update({name: _money(values.get(name, 0)) for name in MONEY})
    out["arpu"] = (
        (_money(values.get("recurring", 0)) / account_months).quantize(CENT, ROUND_HALF_UP)
        if account_months > 0 else None)
    return out


def _group_of(facts: Facts, by: str, key: tuple):
    month, district, kind, tariff = key
    if by == "month":
        return month
    if by == "district":
        return district
    if by == "city":
        return facts.districts().get(district, {}).get("city_id")
    if by == "tariff":
        return tariff
    if by == "connection_type":
        return kind
    return None  # total


def rollup(facts: Facts, by: str) -> list[dict]:
    """The figures per group (``by`` one of ROLLUPS), each a dict with ``key``, ``label``
    and the FIGURES; months in order with empty ones included, other groups by label."""
    if by not in ROLLUPS:
        raise ValueError(f"Unknown grouping {by!r}")
    weights = {m.key: m.weight for m in facts.months}
    sums: dict = defaultdict(lambda: defaultdict(int))
    account_months: dict = defaultdict(Decimal)
    if by == "month":
        for m in facts.months:
            _ = sums[m.key]  # every month of the period, even an empty one
    for key, values in facts.rows.items():
        group = _group_of(facts, by, key)
        target = sums[group]
        for name, value in values.items():
            if name != "active":
                target[name] += value
        if values.get("active"):
            account_months[group] += values["active"] * weights.get(key[0], Decimal(1))
    groups = [{"key": group, **_label(facts, by, group),
               **figures(values, account_months[group])} for group, values in sums.items()]
    if by == "month":
        groups.sort(key=lambda g: g["key"])
    else:
        groups.sort(key=lambda g: (g["key"] is None, str(g.get("city", "")), str(g["label"])))
    return groups


def total(facts: Facts) -> dict:
    groups = rollup(facts, "total")
    if groups:
        return groups[0]
    return {"key": None, **_label(facts, "total", None), **figures({}, Decimal(0))}


def _label(facts: Facts, by: str, group) -> dict:
    if by == "month":
        return {"label": group.strftime("%m.%Y")}
    if by == "district":
        district = facts.districts().get(group)
        if district is None:
            return {"label": _("No district"), "city": ""}
        return {"label": district["name"], "city": district["city"]}
    if by == "city":
        for district in facts.districts().values():
            if district["city_id"] == group:
                return {"label": district["city"]}
        return {"label": _("No city")}
    if by == "tariff":
        return {"label": facts.tariffs().get(group, _("No tariff"))}
    if by == "connection_type":
        try:
            return {"label": str(ConnectionType(group).label)}
        except ValueError:
            return {"label": str(group)}
    return {"label": _("Total")}


def api_key(by: str, group):
    """The group's ``key`` in the API: "2026-11" for a month, the code of a connection type,
    the id of a district or tariff (null: none)."""
    if by == "month":
        return group.strftime("%Y-%m")
    return group


def summary(start: dt.date, end: dt.date, branch=None, group_by: str = "month") -> dict:
    """What the API returns, with Decimals: {"from", "to", "group_by", "groups", "total"}."""
    if group_by not in GROUPINGS:
        raise ValueError(f"Unknown grouping {group_by!r}")
    facts = summary_facts(start, end, branch)
    groups = rollup(facts, group_by)
    for group in groups:
        group["key"] = api_key(group_by, group["key"])
    return {"from": start, "to": end, "group_by": group_by, "groups": groups,
            "total": total(facts)}
