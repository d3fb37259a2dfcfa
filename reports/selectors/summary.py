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
import datetime as dt
import re
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from django.core.cache import cache
from django.db import connection
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

    def date(self) -> str:
        """A date parameter usable in SELECT lists and comparisons."""
        return "CAST(%s AS DATE)" if self.pg else "%s"

    def at(self, value: dt.datetime):
        return connection.ops.adapt_datetimefield_value(value)

    def day(self, value: dt.date):
        return value if self.pg else value.isoformat()


def _dims(sql: _Sql, branch_id: int | None, today: dt.date) -> tuple[str, list]:
    """Every account with the attributes it is grouped by and the moments counted."""
    t, q = sql.t, sql.q
    where = "WHERE c.branch_id = %s" if branch_id else ""
    text = f"""
        SELECT a.id AS account_id, a.opened_at, a.activated_on, a.closed_on,
               c.activated_at, c.terminated_at, c.connection_type, b.district_id, t.tariff_id
        FROM {t['account']} a
        JOIN {t['card']} c ON c.id = a.client_id
        JOIN {t['building']} b ON b.id = c.building_id
        LEFT JOIN (
            SELECT s.account_id, s.tariff_id FROM (
                SELECT account_id, tariff_id, ROW_NUMBER() OVER (
                    PARTITION BY account_id ORDER BY {q('start')} DESC, id DESC) AS rn
                FROM {t['subscription']} WHERE {q('start')} <= {sql.date()}
            ) s WHERE s.rn = 1
        ) t ON t.account_id = a.id
        {where}"""
    return text, [sql.day(today)] + ([branch_id] if branch_id else [])


_GRAIN = "month, district_id, connection_type, tariff_id"


def _counts_and_charges(sql: _Sql, facts: Facts, since, until) -> None:
    """One statement: the four client counts, the charges and the accounts in service per
    month, each grouped at the grain."""
    dims, dims_params = _dims(sql, facts.branch_id, timezone.localdate())
    d = "d.district_id, d.connection_type, d.tariff_id"
    months = " UNION ALL ".join(
        f"SELECT {sql.date()} AS month, {sql.date()} AS m_first, {sql.date()} AS m_last"
        for _m in facts.months)
    month_params = [sql.day(v) for m in facts.months for v in (m.key, m.first, m.last)]
    kop = sql.kop("e.amount")
    text = f"""
        WITH d AS ({dims}), m AS ({months})
        SELECT figure, {_GRAIN}, SUM(value), SUM(value2) FROM (
            SELECT 'new_clients' AS figure, {sql.month_of('d.opened_at')} AS month, {d},
                   1 AS value, 0 AS value2
            FROM d WHERE d.opened_at >= %s AND d.opened_at < %s
            UNION ALL
            SELECT 'connected', {sql.month_of('d.activated_at')}, {d}, 1, 0
            FROM d WHERE d.activated_at >= %s AND d.activated_at < %s
            UNION ALL
            SELECT 'disconnected', {sql.month_of('d.terminated_at')}, {d}, 1, 0
            FROM d WHERE d.terminated_at >= %s AND d.terminated_at < %s
            UNION ALL
            SELECT 'lost_clients', {sql.month_of_date('d.closed_on')}, {d}, 1, 0
            FROM d WHERE d.closed_on >= {sql.date()} AND d.closed_on <= {sql.date()}
            UNION ALL
            SELECT 'charged', {sql.month_of('e.created_at')}, {d}, -{kop},
                   CASE WHEN e.charge_kind = %s THEN 0 ELSE -{kop} END
            FROM {sql.t['ledger']} e JOIN d ON d.account_id = e.account_id
            WHERE e.kind = %s AND e.created_at >= %s AND e.created_at < %s
            UNION ALL
            SELECT 'active', m.month, {d}, 1, 0
            FROM d JOIN m ON d.activated_on <= m.m_last
                 AND (d.closed_on IS NULL OR d.closed_on > m.m_first)
            WHERE d.activated_on IS NOT NULL
        ) x
        GROUP BY figure, {_GRAIN}"""
    since_at, until_at = sql.at(since), sql.at(until)
    params = [*dims_params, *month_params,
              since_at, until_at, since_at, until_at, since_at, until_at,
              sql.day(facts.start), sql.day(facts.end),
              LedgerEntry.ChargeKind.CONNECTION.value, LedgerEntry.Kind.CHARGE.value,
              since_at, until_at]
    with connection.cursor() as cursor:
        cursor.execute(text, params)
        for figure, month, district, kind, tariff, value, value2 in cursor.fetchall():
            key = (_as_date(month), district, kind, tariff)
            if figure == "charged":
                facts.add(key, "charged", value)
                facts.add(key, "recurring", value2)
            else:
                facts.add(key, figure, value)


def _collected(sql: _Sql, facts: Facts, since, until, opening: str | None = None) -> None:
    """One statement: every payment of the period split into debt, current and prepaid by
    the balance just before it (see the module's docstring), summed at the grain.

    The running balance is a window over the account's events from the first day of the
    period's first month (``scan``) — ledger entries other than payments by ``created_at``,
    payments by ``paid_at`` (each payment has exactly one ledger entry of its amount) —
    started from the balance at ``scan``. That opening balance is the sum of the events
    before ``scan`` ("prefix") or the stored balance minus the events since ("suffix"),
    whichever reads fewer years of ledger; both are exact."""
    t = sql.t
    dims, dims_params = _dims(sql, facts.branch_id, timezone.localdate())
    scan = local_bounds(month_start(facts.start), facts.start)[0]
    opening = opening or _opening_strategy(scan)
    kop_e, kop_p = sql.kop("e.amount"), sql.kop("p.amount")
    in_accounts = "account_id IN (SELECT account_id FROM accounts)"

    def events(where_ledger: str, where_payment: str, columns: bool) -> str:
        if columns:
            ledger_cols = (f"e.account_id, e.created_at AS ev_at, 0 AS src, e.id AS id, "
                           f"{kop_e} AS amount, "
                           f"CASE WHEN e.kind = %(charge)s THEN {kop_e} ELSE 0 END AS charge, "
                           f"CASE WHEN e.kind = %(charge)s THEN e.period "
                           f"ELSE {sql.month_of('e.created_at')} END AS bucket")
            payment_cols = (f"p.account_id, p.paid_at, 1, p.id, {kop_p}, 0, "
                            f"{sql.month_of('p.paid_at')}")
        else:
            ledger_cols, payment_cols = f"e.account_id, {kop_e} AS amount", \
                f"p.account_id, {kop_p}"
        return (f"SELECT {ledger_cols} FROM {t['ledger']} e "
                f"WHERE e.kind <> %(payment)s AND e.{in_accounts} AND {where_ledger} "
                f"UNION ALL "
                f"SELECT {payment_cols} FROM {t['payment']} p "
                f"WHERE p.{in_accounts} AND {where_payment}")

    if opening == "prefix":
        opening_sql = (
            "SELECT account_id, SUM(amount) AS balance FROM ("
            + events("e.created_at < %(scan)s", "p.paid_at < %(scan)s", columns=False)
            + ") y GROUP BY account_id")
    else:
        opening_sql = (
            f"SELECT a.id AS account_id, {sql.kop('a.balance')} - COALESCE(y.total, 0) "
            f"AS balance FROM {t['account']} a "
            f"JOIN accounts ON accounts.account_id = a.id "
            f"LEFT JOIN (SELECT account_id, SUM(amount) AS total FROM ("
            + events("e.created_at >= %(scan)s", "p.paid_at >= %(scan)s", columns=False)
            + ") z GROUP BY account_id) y ON y.account_id = a.id")
    window = "ORDER BY ev_at, src, id ROWS UNBOUNDED PRECEDING"
    text = f"""
        WITH d AS ({dims}),
        pay AS (
            SELECT p.id, p.account_id FROM {t['payment']} p
            JOIN d ON d.account_id = p.account_id
            WHERE p.status = %(completed)s AND p.paid_at >= %(since)s AND p.paid_at < %(until)s
        ),
        accounts AS (SELECT DISTINCT account_id FROM pay),
        ev AS ({events("e.created_at >= %(scan)s AND e.created_at < %(until)s",
                       "p.paid_at >= %(scan)s AND p.paid_at < %(until)s", columns=True)}),
        opening AS ({opening_sql}),
        run AS (
            SELECT account_id, src, id, amount, bucket,
                   SUM(amount) OVER (PARTITION BY account_id {window}) - amount AS bal_before,
                   SUM(charge) OVER (PARTITION BY account_id, bucket {window}) AS month_charged
            FROM ev
        ),
        owed AS (
            SELECT r.account_id, r.bucket AS month, r.amount,
                   {sql.greatest("0", "-(r.bal_before + COALESCE(o.balance, 0))")} AS owed,
                   {sql.greatest("0", "-r.month_charged")} AS month_charged
            FROM run r
            JOIN pay ON pay.id = r.id
            LEFT JOIN opening o ON o.account_id = r.account_id
            WHERE r.src = 1
        ),
        split AS (
            SELECT account_id, month, amount,
                   {sql.least("amount", "owed - " + sql.least("owed", "month_charged"))} AS debt,
                   {sql.least("owed", "month_charged")} AS current_open
            FROM owed
        )
        SELECT s.month, d.district_id, d.connection_type, d.tariff_id, SUM(s.amount),
               SUM(s.debt), SUM({sql.least("s.amount - s.debt", "s.current_open")})
        FROM split s JOIN d ON d.account_id = s.account_id
        GROUP BY s.month, d.district_id, d.connection_type, d.tariff_id"""
    named = {"charge": LedgerEntry.Kind.CHARGE.value, "payment": LedgerEntry.Kind.PAYMENT.value,
             "completed": Payment.Status.COMPLETED.value, "since": sql.at(since),
             "until": sql.at(until), "scan": sql.at(scan)}
    text, params = _positional(text, named, dims_params)
    with connection.cursor() as cursor:
        cursor.execute(text, params)
        for month, district, kind, tariff, total, debt, current in cursor.fetchall():
            key = (_as_date(month), district, kind, tariff)
            total, debt, current = int(total or 0), int(debt or 0), int(current or 0)
            facts.add(key, "collected_total", total)
            facts.add(key, "collected_debt", debt)
            facts.add(key, "collected_current", current)
            facts.add(key, "collected_prepaid", total - debt - current)


def _opening_strategy(scan: dt.datetime) -> str:
    """Read the shorter side of the ledger: before ``scan`` or since it. The ledger's first
    moment is cached for a while (it hardly ever changes, and either side is exact)."""
    first = cache.get_or_set("reports:summary:first_entry", _first_entry, 600)
    if first is None or scan - first < timezone.now() - scan:
        return "prefix"
    return "suffix"


def _first_entry() -> dt.datetime | None:
    return (LedgerEntry.objects.order_by("created_at")
            .values_list("created_at", flat=True).first())


_NAMED = re.compile(r"%\((\w+)\)s")


def _positional(text: str, named: dict, leading: list) -> tuple[str, list]:
    """Turn ``%(name)s`` placeholders into ``%s`` with the values in order; the first
    ``%s`` placeholders (the dims' own) take ``leading``. Both backends take ``%s``."""
    out, params, position = [], [], 0
    plain = iter(leading)
    for match in re.finditer(r"%\((\w+)\)s|%s", text):
        out.append(text[position:match.start()])
        out.append("%s")
        params.append(named[match.group(1)] if match.group(1) else next(plain))
        position = match.end()
    out.append(text[position:])
    return "".join(out), params


def _as_date(value) -> dt.date | None:
    if value is None or type(value) is dt.date:
        return value
    if isinstance(value, dt.datetime):
        return value.date()
    return dt.date.fromisoformat(str(value)[:10])


# --- the selectors -------------------------------------------------------------------------

def summary_facts(start: dt.date, end: dt.date, branch=None, *,
                  opening: str | None = None) -> Facts:
    """The period's figures at the grain; two SQL statements. ``branch``: a Branch or its id.
    ``opening`` forces how the opening balances are read ("prefix"/"suffix", for tests)."""
    if start > end:
        raise ValueError("start after end")
    facts = Facts(start=start, end=end, branch_id=getattr(branch, "pk", branch),
                  months=months_of(start, end))
    since, until = local_bounds(start, end)
    sql = _Sql()
    _counts_and_charges(sql, facts, since, until)
    _collected(sql, facts, since, until, opening=opening)
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
