"""The SQL of the director's summary (reports.selectors.summary): one statement per period
that returns every figure at the grain (month, district, connection type, tariff), written
once for PostgreSQL and SQLite — the few places they differ are in ``Sql``."""

from __future__ import annotations

import datetime as dt
import re
from typing import TYPE_CHECKING

from django.db import connection
from django.utils import timezone

from billing.models import Account, LedgerEntry, Payment, Subscription
from connections.models import Building, ClientCard

if TYPE_CHECKING:
    from .summary import Facts

# PostgreSQL settings for the summary's statement (SET LOCAL: its transaction only).
WORK_MEM = "128MB"
PG_SETTINGS = (f"SELECT set_config('work_mem', '{WORK_MEM}', true), "
               "set_config('enable_nestloop', 'off', true), set_config('jit', 'off', true)")

_ZONE_NAME = re.compile(r"^[A-Za-z0-9_+\-/]+$")


def local_bounds(start: dt.date, end: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """Whole local days start..end as aware instants [from, to)."""
    zone = timezone.get_current_timezone()
    return (dt.datetime.combine(start, dt.time.min, tzinfo=zone),
            dt.datetime.combine(end + dt.timedelta(days=1), dt.time.min, tzinfo=zone))


class Sql:
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


def dims(sql: Sql, branch_id: int | None) -> str:
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


def statement(sql: Sql, facts: Facts, opening: str) -> tuple[str, dict]:
    """The one statement of a period: every figure as rows (figure, month, district,
    connection type, tariff, v1, v2, v3) grouped at the grain.

    - the client counts and the charges (``charged``: v1 all, v2 without connection fees);
    - accounts in service per month as cumulative counts: ``activated`` by the month they
      start counting in (on or before the first month's last day: the first month) and
      ``closed`` by the month before the one they stop counting in (``closed_before``: by
      the period's first day) — _add_rows turns them into per-month counts;
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
        WITH d AS ({dims(sql, facts.branch_id)}),
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


def positional(text: str, named: dict) -> tuple[str, list]:
    """``%(name)s`` placeholders as ``%s`` with the values in order (both backends take
    ``%s``; SQLite has no named "pyformat" parameters)."""
    params = []

    def take(match):
        params.append(named[match.group(1)])
        return "%s"

    return re.sub(r"%\((\w+)\)s", take, text), params
