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
from reports.models import RollupAccount, RollupMonth, RollupRow

if TYPE_CHECKING:
    from .summary import Facts

# PostgreSQL settings for the summary's statements (SET LOCAL: their transaction only).
WORK_MEM = "128MB"


def pg_settings(*, large: bool) -> str:
    """``large``: a statement over all accounts, every join one of large sets (no nested
    loops); else one over the few accounts touched since the stored part (index lookups)."""
    return (f"SELECT set_config('work_mem', '{WORK_MEM}', true), "
            f"set_config('enable_nestloop', '{'off' if large else 'on'}', true), "
            "set_config('jit', 'off', true)")


# After a statement run inside a caller's transaction: its settings must not outlive it.
PG_RESET = "RESET work_mem; RESET enable_nestloop; RESET jit"

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


def dims(sql: Sql, branch_id: int | None, *, only: str | None = None) -> str:
    """Every account (of the branch) with the attributes it is grouped by and the moments
    counted; the tariff is the latest subscription started by %(today)s. ``only``: a CTE of
    ``account_id``s to restrict it to (a few accounts: the tariff is then looked up per
    account by index instead of ranking every subscription)."""
    t, q = sql.t, sql.q
    where = ["c.branch_id = %(branch)s"] if branch_id else []
    if only:
        where.append(f"a.id IN (SELECT account_id FROM {only})")
        tariff = (f"(SELECT s.tariff_id FROM {t['subscription']} s WHERE s.account_id = a.id "
                  f"AND s.{q('start')} <= {sql.date('today')} "
                  f"ORDER BY s.{q('start')} DESC, s.id DESC LIMIT 1)")
        latest = ""
    else:
        tariff = "t.tariff_id"
        latest = f"""
        LEFT JOIN (
            SELECT s.account_id, s.tariff_id FROM (
                SELECT account_id, tariff_id, ROW_NUMBER() OVER (
                    PARTITION BY account_id ORDER BY {q('start')} DESC, id DESC) AS rn
                FROM {t['subscription']} WHERE {q('start')} <= {sql.date('today')}
            ) s WHERE s.rn = 1
        ) t ON t.account_id = a.id"""
    return f"""
        SELECT a.id AS account_id, a.opened_at, a.activated_on, a.closed_on,
               c.activated_at, c.terminated_at, c.connection_type, b.district_id,
               {tariff} AS tariff_id, c.branch_id
        FROM {t['account']} a
        JOIN {t['card']} c ON c.id = a.client_id
        JOIN {t['building']} b ON b.id = c.building_id{latest}
        {"WHERE " + " AND ".join(where) if where else ""}"""


def touched(sql: Sql) -> str:
    """The accounts the figures since the stored part can change: those with events read
    (``ev``) and those opened, activated, terminated or closed since it (indexed columns)."""
    t = sql.t
    return (f"SELECT account_id FROM ev UNION "
            f"SELECT id FROM {t['account']} WHERE opened_at >= %(count_since)s "
            f"OR activated_on >= {sql.date('count_from')} "
            f"OR closed_on >= {sql.date('count_from')} UNION "
            f"SELECT a.id FROM {t['account']} a JOIN {t['card']} c ON c.id = a.client_id "
            f"WHERE c.activated_at >= %(count_since)s OR c.terminated_at >= %(count_since)s")


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


def _split(sql: Sql, opening: str, *, branch: bool, part: bool = False) -> str:
    """The CTEs ``ev``, ``opening``, ``run``, ``owed`` and ``split``: each payment of the
    period with its debt part and what of the month's charges was still open before it.

    The running balance is a window over the account's events from ``scan``, started from
    the opening balance; the month's charges are a second window per account and month
    (charges by their ``period``, payments by the month of ``paid_at``) — charges for a
    month are posted in it or later, so those before ``scan`` never count.

    ``part``: the period starts on the first day of a month whose first part is stored up
    to ``%(part_until)s`` (reports.rollups): ``scan`` is that moment, the opening balances
    are the part's closing ones (no ``opening`` CTE) and its charges for the month start the
    month's window;
    the windows run over the paying accounts alone (on a charge run's day the events are
    many charges and a few payments)."""
    q = sql.q
    window = "ORDER BY ev_at, src, id ROWS UNBOUNDED PRECEDING"
    if part:
        # The part's rows are joined straight from the table, one index probe per payment
        # (as a CTE they were joined by a nested loop over both: the planner cannot tell
        # how few the payments are).
        def stored(alias: str) -> str:
            return (f"LEFT JOIN {sql.t['rollup_account']} {alias} "
                    f"ON {alias}.{q('month')} = {sql.date('first_month')} "
                    f"AND {alias}.account_id = r.account_id")

        scan, opening_sql, balance = "%(part_until)s", "", "o.closing"
        joins = f"{stored('o')} {stored('sd')} AND r.bucket = {sql.date('first_month')}"
        month_charged = sql.greatest("0", "COALESCE(sd.month_charged, 0) - r.month_charged")
        only_paying = ("WHERE account_id IN "
                       "(SELECT account_id FROM ev WHERE src = 1 AND counted = 1)")
    else:
        scan, only_paying, balance = "%(scan)s", "", "o.balance"
        opening_sql = _opening(sql, opening, branch=branch, scan=scan)
        joins = "LEFT JOIN opening o ON o.account_id = r.account_id"
        month_charged = sql.greatest("0", "-r.month_charged")
    return f"""
        ev AS ({_events(sql, f"e.created_at >= {scan} AND e.created_at < %(until)s",
                        f"p.paid_at >= {scan} AND p.paid_at < %(until)s",
                        columns=True, branch=branch)}),
        {f"opening AS ({opening_sql})," if opening_sql else ""}
        run AS (
            SELECT account_id, amount, bucket, src, counted,
                   SUM(amount) OVER (PARTITION BY account_id {window}) - amount AS bal_before,
                   SUM(charge) OVER (PARTITION BY account_id, bucket {window}) AS month_charged
            FROM ev {only_paying}
        ),
        owed AS (
            SELECT r.account_id, r.bucket AS month, r.amount,
                   {sql.greatest("0", f"-(r.bal_before + COALESCE({balance}, 0))")} AS owed,
                   {month_charged} AS month_charged
            FROM run r
            {joins}
            WHERE r.src = 1 AND r.counted = 1
        ),
        split AS (
            SELECT account_id, month, amount,
                   {sql.least("amount", "owed - " + sql.least("owed", "month_charged"))} AS debt,
                   {sql.least("owed", "month_charged")} AS current_open
            FROM owed
        )"""


def statement(sql: Sql, facts: Facts, opening: str, *, money: str = "live",
              part: dt.datetime | None = None) -> tuple[str, dict]:
    """The one statement of a period: every figure as rows (figure, month, branch, district,
    connection type, tariff, v1, v2, v3) grouped at the grain.

    - the client counts and the charges (``charged``: v1 all, v2 without connection fees);
    - accounts in service per month as cumulative counts: ``activated`` by the month they
      start counting in (on or before the first month's last day: the first month) and
      ``closed`` by the month before the one they stop counting in (``closed_before``: by
      the period's first day) — _add_rows turns them into per-month counts;
    - ``collected``: each payment of the period (v1) with its debt (v2) and current (v3)
      parts (``_split``), the opening balances read as ``opening`` says (``_opening``).

    ``money="rollup"``: the charges and the payments' parts are the stored RollupAccount
    rows of the period's months instead (whole closed months: regrouping the rollup).

    ``part``: the period starts on the first day of a month whose first part is stored up
    to this moment (RollupMonth ``until``, with its grain rows: reports.rollups). Then the
    statement returns the part's stored rows as they are, and adds only what happened since:
    money from ``part`` on, the counts from that day's start (the part counts whole days:
    ``count_from``), all read for the accounts touched since (``touched``) — so its cost
    follows the day's events, not the number of accounts. A ``part`` row says the part was
    still there, unchanged, when the statement read it (one snapshot); without it the
    caller computes the period in full.

    Every CTE is computed once and joined by hash (no filter whose size PostgreSQL cannot
    estimate: a DISTINCT over another CTE once made it plan nested loops that recomputed
    the opening balances per payment)."""
    t, q = sql.t, sql.q
    grain = "COALESCE(d.branch_id, 0), d.district_id, d.connection_type, d.tariff_id"
    group = "GROUP BY 2, 3, 4, 5, 6"
    month = q("month")
    first_month = sql.date("first_month")
    if money == "live":
        ctes = _split(sql, opening, branch=bool(facts.branch_id) and part is None,
                      part=part is not None)
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
    else:
        ctes = f"""
        stored AS (
            SELECT r.{month} AS month, COALESCE(d.branch_id, 0) AS branch_id, d.district_id,
                   d.connection_type, d.tariff_id, SUM(r.charged) AS charged,
                   SUM(r.recurring) AS recurring, SUM(r.collected) AS collected,
                   SUM(r.debt) AS debt, SUM(r.{q('current')}) AS cur
            FROM {t['rollup_account']} r JOIN d ON d.account_id = r.account_id
            WHERE r.{month} >= {first_month} AND r.{month} <= {sql.date('last_first')}
            GROUP BY 1, 2, 3, 4, 5
        )"""
        money_sql = """
        SELECT 'charged', s.month, s.branch_id, s.district_id, s.connection_type, s.tariff_id,
               s.charged, s.recurring, 0
        FROM stored s WHERE s.charged <> 0 OR s.recurring <> 0
        UNION ALL
        SELECT 'collected', s.month, s.branch_id, s.district_id, s.connection_type,
               s.tariff_id, s.collected, s.debt, s.cur
        FROM stored s WHERE s.collected <> 0"""
    if part is None:
        ctes = f"WITH d AS ({dims(sql, facts.branch_id)}), {ctes}"
        since, first_day = "%(since)s", sql.date("start")
        activated_from = ""
        closed_from = f"d.closed_on > {first_day}"
        # (``end`` is before ``start`` only for a stored part built on a month's first day.)
        closed_before = f"""
        UNION ALL
        SELECT 'closed_before', {first_month}, {grain}, COUNT(*), 0, 0
        FROM d WHERE d.activated_on IS NOT NULL AND d.closed_on <= {first_day}
             AND d.closed_on <= {sql.date('end')}
        {group}"""
    else:
        ctes = (f"WITH part AS (SELECT 1 AS found FROM {t['rollup_month']} m "
                f"WHERE m.{month} = {first_month} AND m.complete = {sql.false} "
                f"AND m.stale = {sql.false} AND m.until = %(part_until)s "
                f"AND m.grouped_on IS NOT NULL), {ctes}, "
                f"touched AS ({touched(sql)}), "
                f"d AS ({dims(sql, facts.branch_id, only='touched')})")
        since, first_day = "%(count_since)s", sql.date("count_from")
        activated_from = f"AND d.activated_on >= {first_day}"
        closed_from = f"d.closed_on >= {first_day}"
        closed_before = ""  # in the part's accounts in service
        money_sql += " UNION ALL " + _part_rows(sql, facts.branch_id)
    text = f"""
        {ctes}
        SELECT 'new_clients' AS figure, {sql.month_of('d.opened_at')} AS month, {grain},
               COUNT(*) AS v1, 0 AS v2, 0 AS v3
        FROM d WHERE d.opened_at >= {since} AND d.opened_at < %(until)s
        {group}
        UNION ALL
        SELECT 'connected', {sql.month_of('d.activated_at')}, {grain}, COUNT(*), 0, 0
        FROM d WHERE d.activated_at >= {since} AND d.activated_at < %(until)s
        {group}
        UNION ALL
        SELECT 'disconnected', {sql.month_of('d.terminated_at')}, {grain}, COUNT(*), 0, 0
        FROM d WHERE d.terminated_at >= {since} AND d.terminated_at < %(until)s
        {group}
        UNION ALL
        SELECT 'lost_clients', {sql.month_of_date('d.closed_on')}, {grain}, COUNT(*), 0, 0
        FROM d WHERE d.closed_on >= {first_day} AND d.closed_on <= {sql.date('end')}
        {group}
        UNION ALL
        SELECT 'activated', CASE WHEN d.activated_on <= {sql.date('first_last')}
                                 THEN {first_month}
                                 ELSE {sql.month_of_date('d.activated_on')} END,
               {grain}, COUNT(*), 0, 0
        FROM d WHERE d.activated_on <= {sql.date('end')} {activated_from}
        {group}{closed_before}
        UNION ALL
        SELECT 'closed', {sql.month_before('d.closed_on')}, {grain}, COUNT(*), 0, 0
        FROM d WHERE d.activated_on IS NOT NULL AND {closed_from}
             AND d.closed_on <= {sql.date('end')}
        {group}
        UNION ALL{money_sql}"""
    params = _params(sql, facts.start, facts.end, facts.branch_id,
                     facts.months[0].key, facts.months[0].last, facts.months[-1].first)
    if part is not None:
        day = timezone.localtime(part).date()
        params.update(part_until=sql.at(part), count_from=sql.day(day),
                      count_since=sql.at(local_bounds(day, day)[0]))
    return text, params


# The stored part's grain rows (RollupRow) as the statement's rows: its counts as they are,
# its accounts in service as the month's ``activated`` and those of them closed in it as
# ``closed`` (they stop counting the month after), its money as ``charged``/``collected``.
_PART_FIGURES = (
    ("new_clients", "new_clients", "0", "0"), ("lost_clients", "lost_clients", "0", "0"),
    ("connected", "connected", "0", "0"), ("disconnected", "disconnected", "0", "0"),
    ("activated", "active", "0", "0"), ("closed", "closed_in_service", "0", "0"),
    ("charged", "charged", "recurring", "0"),
    ("collected", "collected_total", "collected_debt", "collected_current"),
)


def _part_rows(sql: Sql, branch_id: int | None) -> str:
    q = sql.q
    table = q(RollupRow._meta.db_table)
    where = f"r.{q('month')} = {sql.date('first_month')} AND EXISTS (SELECT 1 FROM part)"
    if branch_id:
        where += " AND r.branch = %(branch)s"
    return " UNION ALL ".join(
        f"SELECT '{figure}', r.{q('month')}, r.branch, NULLIF(r.district, 0), "
        f"r.connection_type, NULLIF(r.tariff, 0), r.{v1}, {_column(v2)}, {_column(v3)} "
        f"FROM {table} r WHERE {where}"
        for figure, v1, v2, v3 in _PART_FIGURES
    ) + " UNION ALL SELECT 'part', NULL, 0, NULL, NULL, NULL, 0, 0, 0 FROM part"


def _column(name: str) -> str:
    return name if name == "0" else f"r.{name}"


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
                            until: dt.datetime) -> tuple[str, dict]:
    """The INSERT of a month's RollupAccount rows from its first day to the moment ``until``
    (exclusive: the next month's first midnight for a whole month): per account the
    payments' split (as in ``statement``), the charges and the closing balance (opening +
    the month's events). Accounts with nothing in the month and a zero balance get no
    row."""
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
    params = _params(sql, month, month, None, month, month, month)
    params["until"] = sql.at(until)  # the dates are unused: no counts here
    return text, params


def positional(text: str, named: dict) -> tuple[str, list]:
    """``%(name)s`` placeholders as ``%s`` with the values in order (both backends take
    ``%s``; SQLite has no named "pyformat" parameters)."""
    params = []

    def take(match):
        params.append(named[match.group(1)])
        return "%s"

    return re.sub(r"%\((\w+)\)s", take, text), params
