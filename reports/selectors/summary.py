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
today: the one an account closed on). Figures are computed at the grain (month, district,
connection type, tariff) by two SQL statements (one ``UNION ALL`` of grouped counts and
charges, one windowed statement for the payments) and rolled up in Python from those few
hundred rows — never a loop over accounts or payments.
"""

from __future__ import annotations

import calendar
import contextlib
import datetime as dt
import re
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.core.cache import cache
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from billing.models import Account, LedgerEntry, Payment, Subscription, Tariff
from billing.money import month_start, next_month_start
from connections.models import Building, ClientCard, ConnectionType, District

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
# PostgreSQL settings for the summary's statement (SET LOCAL: its transaction only).
WORK_MEM = "128MB"
PG_SETTINGS = (f"SELECT set_config('work_mem', '{WORK_MEM}', true), "
               "set_config('enable_nestloop', 'off', true), set_config('jit', 'off', true)")

_ZONE_NAME = re.compile(r"^[A-Za-z0-9_+\-/]+$")
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


def local_bounds(start: dt.date, end: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """Whole local days start..end as aware instants [from, to)."""
    zone = timezone.get_current_timezone()
    return (dt.datetime.combine(start, dt.time.min, tzinfo=zone),
            dt.datetime.combine(end + dt.timedelta(days=1), dt.time.min, tzinfo=zone))


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
        row = self.rows.get(key)
        if row is None:
            row = self.rows[key] = defaultdict(int)
        row[figure] += int(value or 0)

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


# --- SQL -----------------------------------------------------------------------------------

class _Sql:
    """The few places PostgreSQL and SQLite differ, and the names of the tables."""

    def __init__(self):
        self.pg = connection.vendor == "postgresql"
        if not self.pg and connection.vendor != "sqlite":
            raise NotImplementedError("The summary supports PostgreSQL and SQLite.")
        zone = timezone.get_current_timezone_name()
        if not _ZONE_NAME.match(zone):
            raise ValueError(f"Unexpected time zone name {zone!r}")
        self.zone = zone
        q = connection.ops.quote_name
        self.t = {
            "account": q(Account._meta.db_table), "card": q(ClientCard._meta.db_table),
            "building": q(Building._meta.db_table), "ledger": q(LedgerEntry._meta.db_table),
            "payment": q(Payment._meta.db_table), "subscription": q(Subscription._meta.db_table),
        }
        self.q = q

    def greatest(self, a: str, b: str) -> str:
        return f"GREATEST({a}, {b})" if self.pg else f"MAX({a}, {b})"

    def least(self, a: str, b: str) -> str:
        return f"LEAST({a}, {b})" if self.pg else f"MIN({a}, {b})"

    @staticmethod
    def kop(column: str) -> str:
        """Money as whole kopecks: exact integer sums on SQLite too (it stores decimals as
        floating point)."""
        return f"CAST(ROUND({column} * 100) AS BIGINT)"

    def month_of(self, column: str) -> str:
        """The local calendar month of a timestamp, as its first day (a date on PostgreSQL,
        'YYYY-MM-DD' on SQLite — how each stores a DateField, so it compares with one)."""
        if self.pg:
            return f"CAST(DATE_TRUNC('month', {column} AT TIME ZONE '{self.zone}') AS DATE)"
        # Django's own SQLite function for TruncMonth (stored values are UTC).
        return (f"SUBSTR(django_datetime_trunc('month', {column}, '{self.zone}', "
                f"'{connection.timezone_name}'), 1, 10)")

    def month_of_date(self, column: str) -> str:
        if self.pg:
            return f"CAST(DATE_TRUNC('month', {column}) AS DATE)"
        return f"(SUBSTR({column}, 1, 8) || '01')"

    def month_before(self, column: str) -> str:
        """The month of the day before a date."""
        if self.pg:
            return f"CAST(DATE_TRUNC('month', {column} - 1) AS DATE)"
        return f"(SUBSTR(DATE({column}, '-1 day'), 1, 8) || '01')"

    def date(self, name: str) -> str:
        """A named date parameter usable in SELECT lists and comparisons."""
        return f"CAST(%({name})s AS DATE)" if self.pg else f"%({name})s"

    def at(self, value: dt.datetime):
        return connection.ops.adapt_datetimefield_value(value)

    def day(self, value: dt.date):
        return value if self.pg else value.isoformat()


def _dims(sql: _Sql, branch_id: int | None) -> str:
    """Every account (of the branch) with the attributes it is grouped by and the moments
    counted; the tariff is the latest subscription started by %(today)s."""
    t, q = sql.t, sql.q
    where = "WHERE c.branch_id = %(branch)s" if branch_id else ""
    return f"""
        SELECT a.id AS account_id, a.opened_at, a.activated_on, a.closed_on,
               c.activated_at, c.terminated_at, c.connection_type, b.district_id, t.tariff_id
        FROM {t['account']} a
        JOIN {t['card']} c ON c.id = a.client_id
        JOIN {t['building']} b ON b.id = c.building_id
        LEFT JOIN (
            SELECT s.account_id, s.tariff_id FROM (
                SELECT account_id, tariff_id, ROW_NUMBER() OVER (
                    PARTITION BY account_id ORDER BY {q('start')} DESC, id DESC) AS rn
                FROM {t['subscription']} WHERE {q('start')} <= {sql.date('today')}
            ) s WHERE s.rn = 1
        ) t ON t.account_id = a.id
        {where}"""


def _statement(sql: _Sql, facts: Facts, opening: str) -> tuple[str, dict]:
    """The one statement of a period: every figure as rows (figure, month, district,
    connection type, tariff, v1, v2, v3) grouped at the grain.

    - the client counts and the charges (``charged``: v1 all, v2 without connection fees);
    - accounts in service per month as cumulative counts: ``activated`` by the month they
      start counting in (on or before the first month's last day: the first month) and
      ``closed`` by the month before the one they stop counting in (``closed_before``: by
      the period's first day) — facts_from_rows turns them into per-month counts;
    - ``collected``: each payment of the period (v1) with its debt (v2) and current (v3)
      parts. The running balance is a window over the account's events from the first day
      of the period's first month (``scan``) — ledger entries other than payments by
      ``created_at``, payments by ``paid_at`` (each payment has exactly one ledger entry of
      its amount) — started from the balance at ``scan``: the sum of the events before it
      ("prefix") or the stored balance minus the events since ("suffix"), whichever reads
      less ledger; both are exact. The month's charges are a second window per account and
      month (charges by their ``period``, payments by the month of ``paid_at``).

    Every CTE is computed once and joined by hash (no filter whose size PostgreSQL cannot
    estimate: a DISTINCT over another CTE once made it plan nested loops that recomputed
    the opening balances per payment)."""
    t = sql.t
    kop_e, kop_p = sql.kop("e.amount"), sql.kop("p.amount")
    branch_e = " AND e.account_id IN (SELECT account_id FROM d)" if facts.branch_id else ""
    branch_p = " AND p.account_id IN (SELECT account_id FROM d)" if facts.branch_id else ""

    def events(where_ledger: str, where_payment: str, columns: bool) -> str:
        if columns:
            ledger_cols = (f"e.account_id, e.created_at AS ev_at, 0 AS src, e.id AS id, "
                           f"{kop_e} AS amount, "
                           f"CASE WHEN e.kind = %(charge)s THEN {kop_e} ELSE 0 END AS charge, "
                           f"CASE WHEN e.kind = %(charge)s THEN e.period "
                           f"ELSE {sql.month_of('e.created_at')} END AS bucket, "
                           f"0 AS counted")
            payment_cols = (f"p.account_id, p.paid_at, 1, p.id, {kop_p}, 0, "
                            f"{sql.month_of('p.paid_at')}, "
                            f"CASE WHEN p.status = %(completed)s AND p.paid_at >= %(since)s "
                            f"THEN 1 ELSE 0 END")
        else:
            ledger_cols, payment_cols = f"e.account_id, {kop_e} AS amount", \
                f"p.account_id, {kop_p}"
        return (f"SELECT {ledger_cols} FROM {t['ledger']} e "
                f"WHERE e.kind <> %(payment)s AND {where_ledger}{branch_e} "
                f"UNION ALL "
                f"SELECT {payment_cols} FROM {t['payment']} p "
                f"WHERE {where_payment}{branch_p}")

    if opening == "prefix":
        opening_sql = (
            "SELECT account_id, SUM(amount) AS balance FROM ("
            + events("e.created_at < %(scan)s", "p.paid_at < %(scan)s", columns=False)
            + ") y GROUP BY account_id")
    else:
        # The stored balance less everything since ``scan``: the period's events (``ev``,
        # already read) and those after the period (none for a period up to today).
        opening_sql = (
            f"SELECT a.id AS account_id, {sql.kop('a.balance')} - COALESCE(y.total, 0) "
            f"- COALESCE(z.total, 0) AS balance FROM {t['account']} a "
            f"JOIN d ON d.account_id = a.id "
            f"LEFT JOIN (SELECT account_id, SUM(amount) AS total FROM ev "
            f"GROUP BY account_id) y ON y.account_id = a.id "
            f"LEFT JOIN (SELECT account_id, SUM(amount) AS total FROM ("
            + events("e.created_at >= %(until)s", "p.paid_at >= %(until)s", columns=False)
            + ") w GROUP BY account_id) z ON z.account_id = a.id")
    window = "ORDER BY ev_at, src, id ROWS UNBOUNDED PRECEDING"
    grain = "d.district_id, d.connection_type, d.tariff_id"
    text = f"""
        WITH d AS ({_dims(sql, facts.branch_id)}),
        ev AS ({events("e.created_at >= %(scan)s AND e.created_at < %(until)s",
                       "p.paid_at >= %(scan)s AND p.paid_at < %(until)s", columns=True)}),
        opening AS ({opening_sql}),
        run AS (
            SELECT account_id, amount, bucket, src, counted,
                   SUM(amount) OVER (PARTITION BY account_id {window}) - amount AS bal_before,
                   SUM(charge) OVER (PARTITION BY account_id, bucket {window}) AS month_charged
            FROM ev
        ),
        owed AS (
            SELECT r.account_id, r.bucket AS month, r.amount,
                   {sql.greatest("0", "-(r.bal_before + COALESCE(o.balance, 0))")} AS owed,
                   {sql.greatest("0", "-r.month_charged")} AS month_charged
            FROM run r
            LEFT JOIN opening o ON o.account_id = r.account_id
            WHERE r.src = 1 AND r.counted = 1
        ),
        split AS (
            SELECT account_id, month, amount,
                   {sql.least("amount", "owed - " + sql.least("owed", "month_charged"))} AS debt,
                   {sql.least("owed", "month_charged")} AS current_open
            FROM owed
        )
        SELECT 'new_clients' AS figure, {sql.month_of('d.opened_at')} AS month, {grain},
               COUNT(*) AS v1, 0 AS v2, 0 AS v3
        FROM d WHERE d.opened_at >= %(since)s AND d.opened_at < %(until)s
        GROUP BY 2, 3, 4, 5
        UNION ALL
        SELECT 'connected', {sql.month_of('d.activated_at')}, {grain}, COUNT(*), 0, 0
        FROM d WHERE d.activated_at >= %(since)s AND d.activated_at < %(until)s
        GROUP BY 2, 3, 4, 5
        UNION ALL
        SELECT 'disconnected', {sql.month_of('d.terminated_at')}, {grain}, COUNT(*), 0, 0
        FROM d WHERE d.terminated_at >= %(since)s AND d.terminated_at < %(until)s
        GROUP BY 2, 3, 4, 5
        UNION ALL
        SELECT 'lost_clients', {sql.month_of_date('d.closed_on')}, {grain}, COUNT(*), 0, 0
        FROM d WHERE d.closed_on >= {sql.date('start')} AND d.closed_on <= {sql.date('end')}
        GROUP BY 2, 3, 4, 5
        UNION ALL
        SELECT 'charged', {sql.month_of('e.created_at')}, {grain}, -SUM({kop_e}),
               -SUM(CASE WHEN e.charge_kind = %(connection_fee)s THEN 0 ELSE {kop_e} END), 0
        FROM {t['ledger']} e JOIN d ON d.account_id = e.account_id
        WHERE e.kind = %(charge)s AND e.created_at >= %(since)s AND e.created_at < %(until)s
        GROUP BY 2, 3, 4, 5
        UNION ALL
        SELECT 'activated', CASE WHEN d.activated_on <= {sql.date('first_last')}
                                 THEN {sql.date('first_month')}
                                 ELSE {sql.month_of_date('d.activated_on')} END,
               {grain}, COUNT(*), 0, 0
        FROM d WHERE d.activated_on <= {sql.date('end')}
        GROUP BY 2, 3, 4, 5
        UNION ALL
        SELECT 'closed_before', {sql.date('first_month')}, {grain}, COUNT(*), 0, 0
        FROM d WHERE d.activated_on IS NOT NULL AND d.closed_on <= {sql.date('start')}
        GROUP BY 2, 3, 4, 5
        UNION ALL
        SELECT 'closed', {sql.month_before('d.closed_on')}, {grain}, COUNT(*), 0, 0
        FROM d WHERE d.activated_on IS NOT NULL AND d.closed_on > {sql.date('start')}
             AND d.closed_on <= {sql.date('last_first')}
        GROUP BY 2, 3, 4, 5
        UNION ALL
        SELECT 'collected', s.month, {grain}, SUM(s.amount), SUM(s.debt),
               SUM({sql.least("s.amount - s.debt", "s.current_open")})
        FROM split s JOIN d ON d.account_id = s.account_id
        GROUP BY 2, 3, 4, 5"""
    since, until = local_bounds(facts.start, facts.end)
    first, last = facts.months[0], facts.months[-1]
    named = {
        "today": sql.day(timezone.localdate()), "branch": facts.branch_id,
        "since": sql.at(since), "until": sql.at(until),
        "scan": sql.at(local_bounds(first.key, first.key)[0]),
        "start": sql.day(facts.start), "end": sql.day(facts.end),
        "first_month": sql.day(first.key), "first_last": sql.day(first.last),
        "last_first": sql.day(last.first),
        "charge": LedgerEntry.Kind.CHARGE.value, "payment": LedgerEntry.Kind.PAYMENT.value,
        "completed": Payment.Status.COMPLETED.value,
        "connection_fee": LedgerEntry.ChargeKind.CONNECTION.value,
    }
    return text, named


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


def _positional(text: str, named: dict) -> tuple[str, list]:
    """``%(name)s`` placeholders as ``%s`` with the values in order (both backends take
    ``%s``; SQLite has no named "pyformat" parameters)."""
    params = []

    def take(match):
        params.append(named[match.group(1)])
        return "%s"

    return re.sub(r"%\((\w+)\)s", take, text), params


def _as_date(value) -> dt.date | None:
    if value is None or type(value) is dt.date:
        return value
    if isinstance(value, dt.datetime):
        return value.date()
    return dt.date.fromisoformat(str(value)[:10])


def _add_rows(facts: Facts, rows) -> None:
    """The statement's rows into the facts; the cumulative activations and closings into
    accounts in service per month."""
    month_keys = [m.key for m in facts.months]
    starts: dict = defaultdict(lambda: defaultdict(int))  # grain → month → +n
    for figure, month, district, kind, tariff, v1, v2, v3 in rows:
        month, grain = _as_date(month), (district, kind, tariff)
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
    """The figures of start..end computed now: one SQL statement."""
    facts = Facts(start=start, end=end, branch_id=branch_id, months=months_of(start, end))
    sql = _Sql()
    scan = local_bounds(facts.months[0].key, facts.start)[0]
    until = local_bounds(start, end)[1]
    text, named = _statement(sql, facts, opening or _opening_strategy(scan, until))
    text, params = _positional(text, named)
    in_transaction = transaction.atomic() if sql.pg else contextlib.nullcontext()
    with in_transaction, connection.cursor() as cursor:
        if sql.pg:
            # For this transaction only (SET LOCAL): the windows sort the period's events (a
            # year: a million rows and more) in memory rather than in temporary files; every
            # join here is of large sets, and the planner, unable to estimate the filters on
            # window results, would otherwise pick nested loops that re-aggregate the
            # opening balances per payment (minutes instead of seconds); JIT compiling this
            # many expressions costs more than it saves.
            cursor.execute(PG_SETTINGS)
        cursor.execute(text, params)
        _add_rows(facts, cursor.fetchall())
    return facts


# --- the cache of closed months ------------------------------------------------------------
# A month that ended before today has figures that no longer change — the ledger is append
# -only and events are stamped when they happen — except for a payment entered later with
# an earlier ``paid_at`` (a bank statement), a payment cancelled later, or a tariff change
# (the grouping). So its grain rows are kept in the cache for REPORTS_SUMMARY_CACHE_SECONDS
# (default 15 minutes; 0: off) and such late changes show within that time. The key names
# the branch, the month and today (the "current tariff" is today's). The current month,
# future months and parts of months are always computed.

def _cache_seconds() -> int:
    return int(getattr(settings, "REPORTS_SUMMARY_CACHE_SECONDS", 900))


def _cache_key(branch_id, month: dt.date, today: dt.date) -> str:
    generation = cache.get(_GENERATION, 0)
    return (f"reports:summary:{generation}:{branch_id or 'all'}:{month:%Y-%m}:"
            f"{today:%Y-%m-%d}")


_GENERATION = "reports:summary:generation"


def clear_summary_cache() -> None:
    """Forget every cached month (the benchmark's cold runs; after a data fix)."""
    try:
        cache.incr(_GENERATION)
    except ValueError:
        cache.set(_GENERATION, 1, None)


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
    months come from the cache when there; the rest is one SQL statement per run of
    consecutive months. ``opening`` forces how the opening balances are read
    ("prefix"/"suffix", for tests; it bypasses the cache)."""
    if start > end:
        raise ValueError("start after end")
    branch_id = getattr(branch, "pk", branch)
    facts = Facts(start=start, end=end, branch_id=branch_id, months=months_of(start, end))
    today = timezone.localdate()
    seconds = 0 if opening else _cache_seconds()
    cacheable = (lambda m: _whole_closed(m, today)) if seconds else (lambda m: False)
    keys = {m.key: _cache_key(branch_id, m.key, today) for m in facts.months if cacheable(m)}
    hits = cache.get_many(list(keys.values())) if keys else {}
    for closed, run in _runs(facts.months, cacheable):
        if not closed:
            part = _live(max(start, run[0].first), min(end, run[-1].last), branch_id, opening)
            facts.rows.update(part.rows)
            continue
        for month in run:
            for key, values in hits.get(keys[month.key], {}).items():
                facts.rows[key] = dict(values)
        for missing, months in _runs(run, lambda m: keys[m.key] not in hits):
            if not missing:
                continue
            part = _live(months[0].first, months[-1].last, branch_id)
            by_month: dict = {m.key: {} for m in months}
            for key, values in part.rows.items():
                by_month[key[0]][key] = dict(values)
                facts.rows[key] = dict(values)
            cache.set_many({keys[month]: rows for month, rows in by_month.items()}, seconds)
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
