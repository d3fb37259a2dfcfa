"""The SQL of the director's summary (reports.selectors.summary): one statement per period
that returns every figure at the grain (month, branch, district, connection type, tariff),
and the one that stores a closed month's money per account (reports.rollups), written once
for PostgreSQL and SQLite — the few places they differ are in ``Sql``."""

from __future__ import annotations

import datetime as dt
import re
from typing import TYPE_CHECKING

from django.db import connection
from django.utils import timezone

from billing.models import Account, LedgerEntry, Payment, Subscription
from connections.models import Building, ClientCard
from reports.models import RollupAccount, RollupMonth

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
            "rollup_month": q(RollupMonth._meta.db_table),
            "rollup_account": q(RollupAccount._meta.db_table),
        }
        self.false = "false" if self.pg else "0"
        self.true = "true" if self.pg else "1"
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
               c.activated_at, c.terminated_at, c.connection_type, b.district_id, t.tariff_id,
               c.branch_id
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


def _events(sql: Sql, where_ledger: str, where_payment: str, *, columns: bool,
            branch: bool) -> str:
    """The account's balance moves: ledger entries other than payments (by ``created_at``)
    and payments (by ``paid_at``; each has exactly one ledger entry of its amount, which is
    left out). With ``columns`` every column the running sums need, else account and
    amount."""
    t = sql.t
    kop_e, kop_p = sql.kop("e.amount"), sql.kop("p.amount")
    branch_e = " AND e.account_id IN (SELECT account_id FROM d)" if branch else ""
    branch_p = " AND p.account_id IN (SELECT account_id FROM d)" if branch else ""
    if columns:
        ledger_cols = (f"e.account_id, e.created_at AS ev_at, 0 AS src, e.id AS id, "
                       f"{kop_e} AS amount, "
                       f"CASE WHEN e.kind = %(charge)s THEN {kop_e} ELSE 0 END AS charge, "
                       f"CASE WHEN e.kind = %(charge)s AND e.charge_kind <> %(connection_fee)s "
                       f"THEN {kop_e} ELSE 0 END AS recurring, "
                       f"CASE WHEN e.kind = %(charge)s THEN e.period "
                       f"ELSE {sql.month_of('e.created_at')} END AS bucket, "
                       f"0 AS counted")
        payment_cols = (f"p.account_id, p.paid_at, 1, p.id, {kop_p}, 0, 0, "
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


def _opening(sql: Sql, opening: str, *, branch: bool, scan: str) -> str:
    """Each account's balance at ``scan`` (the first day of the period's first month):

    - "prefix": the sum of the events before it;
    - "suffix": the stored balance less everything since — the period's events (``ev``,
      already read) and those after the period (none for a period up to today);
    - "rollup": the closing balance of the month before (RollupAccount), which must be
      fresh;
    - "rollup+prefix", "rollup+suffix": the rollup's when its month is fresh, else the
      other — decided inside the statement (the unused side is never run), so choosing
      costs no query."""
    t = sql.t
    if opening.startswith("rollup"):
        fresh = (f"EXISTS (SELECT 1 FROM {t['rollup_month']} m "
                 f"WHERE m.{sql.q('month')} = %(before)s AND m.complete = {sql.true} "
                 f"AND m.stale = {sql.false})")
        stored = (f"SELECT r.account_id, r.closing AS balance FROM {t['rollup_account']} r "
                  f"WHERE r.{sql.q('month')} = %(before)s")
        if opening == "rollup":
            return stored
        fallback = _opening(sql, opening.removeprefix("rollup+"), branch=branch, scan=scan)
        return (f"{stored} AND {fresh} UNION ALL "
                f"SELECT * FROM ({fallback}) fallback WHERE NOT {fresh}")
    if opening == "prefix":
        return ("SELECT account_id, SUM(amount) AS balance FROM ("
                + _events(sql, f"e.created_at < {scan}", f"p.paid_at < {scan}",
                          columns=False, branch=branch)
                + ") y GROUP BY account_id")
    join_d = "JOIN d ON d.account_id = a.id " if branch else ""
    return (f"SELECT a.id AS account_id, {sql.kop('a.balance')} - COALESCE(y.total, 0) "
            f"- COALESCE(z.total, 0) AS balance FROM {t['account']} a "
            f"{join_d}"
            f"LEFT JOIN (SELECT account_id, SUM(amount) AS total FROM ev "
            f"GROUP BY account_id) y ON y.account_id = a.id "
            f"LEFT JOIN (SELECT account_id, SUM(amount) AS total FROM ("
            + _events(sql, "e.created_at >= %(until)s", "p.paid_at >= %(until)s",
                      columns=False, branch=branch)
            + ") w GROUP BY account_id) z ON z.account_id = a.id")


def _split(sql: Sql, opening: str, *, branch: bool, so_far: bool = False) -> str:
    """The CTEs ``ev``, ``opening``, ``run``, ``owed`` and ``split``: each payment of the
    period with its debt part and what of the month's charges was still open before it.

    The running balance is a window over the account's events from ``scan``, started from
    the opening balance; the month's charges are a second window per account and month
    (charges by their ``period``, payments by the month of ``paid_at``) — charges for a
    month are posted in it or later, so those before ``scan`` never count.

    ``so_far``: the period starts on the first day of a month whose first part is stored
    (RollupMonth not ``complete``, fresh, ending within the period: the month so far,
    ``part``): then ``scan`` is where it ends, the opening balances are its closing ones,
    and its charges for the month start the month's window. Without it (none stored, or
    stale) the statement reads the whole month — decided inside the statement."""
    t, q = sql.t, sql.q
    window = "ORDER BY ev_at, src, id ROWS UNBOUNDED PRECEDING"
    if so_far:
        scan = "COALESCE((SELECT at FROM part), %(scan)s)"
        has_part = "EXISTS (SELECT 1 FROM part)"
        part = (f"part AS (SELECT m.until AS at FROM {t['rollup_month']} m "
                f"WHERE m.{q('month')} = {sql.date('first_month')} "
                f"AND m.complete = {sql.false} AND m.stale = {sql.false} "
                f"AND m.until <= %(until)s), "
                f"part_accounts AS (SELECT r.account_id, r.closing, r.month_charged "
                f"FROM {t['rollup_account']} r WHERE r.{q('month')} = "
                f"{sql.date('first_month')} AND {has_part}),")
        opening_sql = (f"SELECT account_id, closing AS balance FROM part_accounts UNION ALL "
                       f"SELECT * FROM ({_opening(sql, opening, branch=branch, scan=scan)}) o "
                       f"WHERE NOT {has_part}")
        seed = (f"LEFT JOIN part_accounts sd "
                f"ON sd.account_id = r.account_id AND r.bucket = {sql.date('first_month')}")
        month_charged = sql.greatest("0", "COALESCE(sd.month_charged, 0) - r.month_charged")
        # Today's events only: on a charge run's day tens of thousands of charges and a few
        # payments, so the windows run over the paying accounts alone.
        only_paying = ("WHERE account_id IN "
                       "(SELECT account_id FROM ev WHERE src = 1 AND counted = 1)")
    else:
        scan, part, seed, only_paying = "%(scan)s", "", "", ""
        opening_sql = _opening(sql, opening, branch=branch, scan=scan)
        month_charged = sql.greatest("0", "-r.month_charged")
    return f"""
        {part}
        ev AS ({_events(sql, f"e.created_at >= {scan} AND e.created_at < %(until)s",
                        f"p.paid_at >= {scan} AND p.paid_at < %(until)s",
                        columns=True, branch=branch)}),
        opening AS ({opening_sql}),
        run AS (
            SELECT account_id, amount, bucket, src, counted,
                   SUM(amount) OVER (PARTITION BY account_id {window}) - amount AS bal_before,
                   SUM(charge) OVER (PARTITION BY account_id, bucket {window}) AS month_charged
            FROM ev {only_paying}
        ),
        owed AS (
            SELECT r.account_id, r.bucket AS month, r.amount,
                   {sql.greatest("0", "-(r.bal_before + COALESCE(o.balance, 0))")} AS owed,
                   {month_charged} AS month_charged
            FROM run r
            LEFT JOIN opening o ON o.account_id = r.account_id
            {seed}
            WHERE r.src = 1 AND r.counted = 1
        ),
        split AS (
            SELECT account_id, month, amount,
                   {sql.least("amount", "owed - " + sql.least("owed", "month_charged"))} AS debt,
                   {sql.least("owed", "month_charged")} AS current_open
            FROM owed
        )"""


def statement(sql: Sql, facts: Facts, opening: str, *, money: str = "live",
              so_far: bool = False) -> tuple[str, dict]:
    """The one statement of a period: every figure as rows (figure, month, branch, district,
    connection type, tariff, v1, v2, v3) grouped at the grain.

    - the client counts and the charges (``charged``: v1 all, v2 without connection fees);
    - accounts in service per month as cumulative counts: ``activated`` by the month they
      start counting in (on or before the first month's last day: the first month) and
      ``closed`` by the month before the one they stop counting in (``closed_before``: by
      the period's first day) — _add_rows turns them into per-month counts;
    - ``collected``: each payment of the period (v1) with its debt (v2) and current (v3)
      parts (``_split``), the opening balances read as ``opening`` says (``_opening``).

    ``so_far``: the first month's stored part is used if there is one (``_split``): its
    charges and payments' parts are stored RollupAccount rows, grouped here.
    ``money="rollup"``: the charges and the payments' parts are the stored RollupAccount
    rows of the period's months instead (whole closed months: regrouping the rollup).

    Every CTE is computed once and joined by hash (no filter whose size PostgreSQL cannot
    estimate: a DISTINCT over another CTE once made it plan nested loops that recomputed
    the opening balances per payment)."""
    t, q = sql.t, sql.q
    grain = "COALESCE(d.branch_id, 0), d.district_id, d.connection_type, d.tariff_id"
    group = "GROUP BY 2, 3, 4, 5, 6"
    month = q("month")

    def stored(where: str) -> tuple[str, str]:
        """The CTE grouping stored RollupAccount rows (one pass) and its two figures."""
        cte = f""",
        stored AS (
            SELECT r.{month} AS month, COALESCE(d.branch_id, 0) AS branch_id, d.district_id,
                   d.connection_type, d.tariff_id, SUM(r.charged) AS charged,
                   SUM(r.recurring) AS recurring, SUM(r.collected) AS collected,
                   SUM(r.debt) AS debt, SUM(r.{q('current')}) AS cur
            FROM {t['rollup_account']} r JOIN d ON d.account_id = r.account_id
            WHERE {where}
            GROUP BY 1, 2, 3, 4, 5
        )"""
        rows = """
        SELECT 'charged', s.month, s.branch_id, s.district_id, s.connection_type, s.tariff_id,
               s.charged, s.recurring, 0
        FROM stored s WHERE s.charged <> 0 OR s.recurring <> 0
        UNION ALL
        SELECT 'collected', s.month, s.branch_id, s.district_id, s.connection_type,
               s.tariff_id, s.collected, s.debt, s.cur
        FROM stored s WHERE s.collected <> 0"""
        return cte, rows

    if money == "live":
        ctes = "," + _split(sql, opening, branch=bool(facts.branch_id), so_far=so_far)
        # The charges are among the events read (ledger entries by created_at).
        money_sql = f"""
        SELECT 'charged', {sql.month_of('ev.ev_at')}, {grain}, -SUM(ev.charge),
               -SUM(ev.recurring), 0
        FROM ev JOIN d ON d.account_id = ev.account_id
        WHERE ev.src = 0 AND ev.charge <> 0 AND ev.ev_at >= %(since)s
        {group}
        UNION ALL
        SELECT 'collected', s.month, {grain}, SUM(s.amount), SUM(s.debt),
               SUM({sql.least("s.amount - s.debt", "s.current_open")})
        FROM split s JOIN d ON d.account_id = s.account_id
        {group}"""
        if so_far:
            cte, rows = stored(
                f"r.{month} = {sql.date('first_month')} AND EXISTS (SELECT 1 FROM part)")
            ctes += cte
            money_sql += " UNION ALL" + rows
    else:
        ctes, money_sql = stored(f"r.{month} >= {sql.date('first_month')} "
                                 f"AND r.{month} <= {sql.date('last_first')}")
    text = f"""
        WITH d AS ({dims(sql, facts.branch_id)}){ctes}
        SELECT 'new_clients' AS figure, {sql.month_of('d.opened_at')} AS month, {grain},
               COUNT(*) AS v1, 0 AS v2, 0 AS v3
        FROM d WHERE d.opened_at >= %(since)s AND d.opened_at < %(until)s
        {group}
        UNION ALL
        SELECT 'connected', {sql.month_of('d.activated_at')}, {grain}, COUNT(*), 0, 0
        FROM d WHERE d.activated_at >= %(since)s AND d.activated_at < %(until)s
        {group}
        UNION ALL
        SELECT 'disconnected', {sql.month_of('d.terminated_at')}, {grain}, COUNT(*), 0, 0
        FROM d WHERE d.terminated_at >= %(since)s AND d.terminated_at < %(until)s
        {group}
        UNION ALL
        SELECT 'lost_clients', {sql.month_of_date('d.closed_on')}, {grain}, COUNT(*), 0, 0
        FROM d WHERE d.closed_on >= {sql.date('start')} AND d.closed_on <= {sql.date('end')}
        {group}
        UNION ALL
        SELECT 'activated', CASE WHEN d.activated_on <= {sql.date('first_last')}
                                 THEN {sql.date('first_month')}
                                 ELSE {sql.month_of_date('d.activated_on')} END,
               {grain}, COUNT(*), 0, 0
        FROM d WHERE d.activated_on <= {sql.date('end')}
        {group}
        UNION ALL
        SELECT 'closed_before', {sql.date('first_month')}, {grain}, COUNT(*), 0, 0
        FROM d WHERE d.activated_on IS NOT NULL AND d.closed_on <= {sql.date('start')}
        {group}
        UNION ALL
        SELECT 'closed', {sql.month_before('d.closed_on')}, {grain}, COUNT(*), 0, 0
        FROM d WHERE d.activated_on IS NOT NULL AND d.closed_on > {sql.date('start')}
             AND d.closed_on <= {sql.date('last_first')}
        {group}
        UNION ALL{money_sql}"""
    return text, _params(sql, facts.start, facts.end, facts.branch_id,
                         facts.months[0].key, facts.months[0].last, facts.months[-1].first)


def _params(sql: Sql, start: dt.date, end: dt.date, branch_id: int | None,
            first_month: dt.date, first_last: dt.date, last_first: dt.date) -> dict:
    since, until = local_bounds(start, end)
    before = (first_month - dt.timedelta(days=1)).replace(day=1)
    return {
        "today": sql.day(timezone.localdate()), "branch": branch_id,
        "since": sql.at(since), "until": sql.at(until),
        "scan": sql.at(local_bounds(first_month, first_month)[0]),
        "before": sql.day(before),
        "start": sql.day(start), "end": sql.day(end),
        "first_month": sql.day(first_month), "first_last": sql.day(first_last),
        "last_first": sql.day(last_first),
        "charge": LedgerEntry.Kind.CHARGE.value, "payment": LedgerEntry.Kind.PAYMENT.value,
        "completed": Payment.Status.COMPLETED.value,
        "connection_fee": LedgerEntry.ChargeKind.CONNECTION.value,
    }


def account_month_statement(sql: Sql, month: dt.date, opening: str,
                            through: dt.date) -> tuple[str, dict]:
    """The INSERT of a month's RollupAccount rows from its first day to ``through``
    (exclusive: the next month's first day for a whole month): per account the payments'
    split (as in ``statement``), the charges and the closing balance (opening + the
    month's events). Accounts with nothing in the month and a zero balance get no row."""
    t, q = sql.t, sql.q
    text = f"""
        WITH {_split(sql, opening, branch=False)},
        paid AS (
            SELECT account_id, SUM(amount) AS collected, SUM(debt) AS debt,
                   SUM({sql.least("amount - debt", "current_open")}) AS cur
            FROM split GROUP BY account_id
        ),
        moved AS (
            SELECT account_id, SUM(amount) AS total, -SUM(charge) AS charged,
                   -SUM(recurring) AS recurring,
                   -SUM(CASE WHEN bucket = {sql.date('first_month')} THEN charge ELSE 0 END)
                       AS month_charged
            FROM ev GROUP BY account_id
        ),
        k AS (
            SELECT account_id FROM moved
            UNION SELECT account_id FROM opening WHERE balance <> 0
        )
        INSERT INTO {t['rollup_account']}
            ({q('month')}, account_id, collected, debt, {q('current')}, charged, recurring,
             month_charged, closing)
        SELECT {sql.date('first_month')}, k.account_id, COALESCE(p.collected, 0),
               COALESCE(p.debt, 0), COALESCE(p.cur, 0), COALESCE(m.charged, 0),
               COALESCE(m.recurring, 0), COALESCE(m.month_charged, 0),
               COALESCE(o.balance, 0) + COALESCE(m.total, 0)
        FROM k
        LEFT JOIN moved m ON m.account_id = k.account_id
        LEFT JOIN paid p ON p.account_id = k.account_id
        LEFT JOIN opening o ON o.account_id = k.account_id
        WHERE COALESCE(o.balance, 0) + COALESCE(m.total, 0) <> 0
           OR COALESCE(p.collected, 0) <> 0 OR COALESCE(m.charged, 0) <> 0
           OR COALESCE(m.recurring, 0) <> 0 OR COALESCE(m.month_charged, 0) <> 0"""
    last = through - dt.timedelta(days=1)
    return text, _params(sql, month, last, None, month, last, month)


def positional(text: str, named: dict) -> tuple[str, list]:
    """``%(name)s`` placeholders as ``%s`` with the values in order (both backends take
    ``%s``; SQLite has no named "pyformat" parameters)."""
    params = []

    def take(match):
        params.append(named[match.group(1)])
        return "%s"

    return re.sub(r"%\((\w+)\)s", take, text), params
