"""The rollup of the director's summary (reports.selectors.summary): closed months' figures
stored in tables, so a year is read in one small query instead of splitting a million
payments with window functions (ARCHITECTURE: rollup tables refreshed by Celery).

Three tables (reports.models):

``RollupAccount``
    per account and stored month, in kopecks: what its payments paid (debt / current /
    the rest prepaid, split exactly as the live statement does), what it was charged, and
    its balance at the end. Built once when the month closes by one INSERT … SELECT whose
    opening balances are the month before's closing ones, so a month reads only its own
    ledger entries and payments. It depends on the ledger alone.
``RollupRow``
    the month's figures at the summary's grain (branch, district, connection type, tariff):
    the client counts and accounts in service from the cards and accounts, the money from
    ``RollupAccount`` — grouped by the accounts' attributes of the day it was grouped
    (``RollupMonth.grouped_on``). Beat regroups every month after midnight, so a tariff or
    a card's district changed today shows in closed months the next day (as the day's
    cache of closed months did before).
``RollupMonth``
    one per stored month (``complete``, or the current one ``until`` a moment today):
    readers use a month only while it is not ``stale``.

The current month is stored too, as a part: its money up to ``until`` (a moment at least
``SETTLE`` ago) and its counts up to that day's start, with its grain rows. Beat builds it
again every quarter of an hour, and a charge run queues a build once its charges have
settled, so the summary adds to it only the last twenty minutes or so of events, read for
the few accounts they touch (reports.selectors.summary_sql, ``part``): the dashboard's cost
follows the recent events, not the number of accounts (issue 8: a million accounts).

Correct before fast: a month that is missing or stale is computed live by the summary
(slower, never wrong). A build stores only what is ``SETTLE`` old, so whatever commits after
it was stamped (``paid_at``, ``created_at``) less than ``SETTLE`` before — and is read live
after the stored part — unless it was stamped earlier: a payment dated earlier that arrives
later (a bank statement) changes its month and every month after it (the balances before
their payments); a cancellation changes only its month (the reversing entry is dated now);
a charge run that took longer than ``SETTLE`` stamped its charges at its start. Billing
announces all three (``payment_received``, ``payment_cancelled``, ``charges_posted``); on
commit the handlers mark those months stale, forget the cache and queue
``rollups_refresh``, which builds them again.

Safe to run twice or at once: a build takes a PostgreSQL advisory lock (SQLite serialises
writers anyway) and skips a month another run has just built; rows are replaced whole per
month under unique constraints; a build marks its month fresh only if no mark came since it
started (``RollupMonth.version`` compared and set in one UPDATE), so a late payment committed
while a month was being built leaves it stale for the next run.

``rollups_check`` proves the stored totals against the ledger (``manage.py summary_rollups
--check``)."""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field

from django.db import connection, transaction
from django.db.models import F, Min, Sum
from django.utils import timezone

from billing.models import Account, LedgerEntry, Payment
from billing.money import month_start, next_month_start
from reports.models import RollupAccount, RollupMonth, RollupRow
from reports.selectors.summary import (
    Facts,
    Month,
    _add_rows,
    _as_date,
    _opening_strategy,
    clear_summary_cache,
    months_of,
    run_statement,
)
from reports.selectors.summary_sql import (
    Sql,
    account_month_statement,
    local_bounds,
    positional,
    statement,
)

log = logging.getLogger(__name__)

# pg_advisory_xact_lock key of every rollup write ("rollups" in ASCII).
_LOCK = 0x726F6C6C757073
# Months regrouped per statement (each reads its months' RollupAccount rows once).
REGROUP_MONTHS = 12
# A build stores events stamped at least this long ago: a transaction that stamps a row (a
# payment's paid_at, a ledger entry's created_at) commits well within it, so nothing stamped
# before ``until`` can appear after the build has read the ledger (see above for the rest).
SETTLE = dt.timedelta(minutes=5)
_FIGURES = ("new_clients", "lost_clients", "connected", "disconnected", "active",
            "collected_total", "collected_debt", "collected_current", "collected_prepaid",
            "charged", "recurring")


def _lock() -> None:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_LOCK])


def first_month() -> dt.date | None:
    """The month of the earliest account, ledger entry or payment (None: no data)."""
    moments = [
        Account.objects.aggregate(first=Min("opened_at"))["first"],
        LedgerEntry.objects.order_by("created_at").values_list("created_at", flat=True).first(),
        Payment.objects.order_by("paid_at").values_list("paid_at", flat=True).first(),
    ]
    moments = [moment for moment in moments if moment is not None]
    return month_start(timezone.localdate(min(moments))) if moments else None


# --- building -------------------------------------------------------------------------------

def part_until(now: dt.datetime | None = None) -> dt.datetime:
    """Where a build of the current month's part now ends: ``SETTLE`` ago, to the minute."""
    moment = (now or timezone.now()) - SETTLE
    return moment.replace(second=0, microsecond=0)


def rollup_build(*, month: dt.date, until: dt.datetime | None = None,
                 force: bool = False) -> bool:
    """Store a month from its first day to the moment ``until`` (exclusive; default the
    next month's first midnight: the whole month, which must be over) — its RollupAccount
    and grain rows — then mark it fresh, unless a late payment marked it meanwhile. Skips a
    month already stored fresh that far unless ``force``. Returns whether it built."""
    start, whole = local_bounds(month, next_month_start(month) - dt.timedelta(days=1))
    until = until or whole
    if month != month_start(month) or not start < until <= whole:
        raise ValueError(f"{month}…{until} is not a month or a part of one")
    if until > part_until():
        raise ValueError(f"{until} is not {SETTLE} old yet")
    complete = until == whole
    # The month's row is committed first, so a mark made while we build finds it.
    state, _created = RollupMonth.objects.get_or_create(month=month)
    started = time.perf_counter()
    with transaction.atomic():
        _lock()
        state = RollupMonth.objects.get(pk=state.pk)
        if not state.stale and state.until == until and not force:
            return False
        before = month_start(month - dt.timedelta(days=1))
        if RollupMonth.objects.filter(month=before, complete=True, stale=False).exists():
            opening = "rollup"
        else:
            # No fresh month before: the shorter side of the ledger (the whole prefix is
            # empty at the first month of the history).
            opening = _opening_strategy(start, until)
        RollupAccount.objects.filter(month=month).delete()
        run_statement(*account_month_statement(Sql(), month, opening, until))
        if complete:
            _regroup([month])
        else:
            _group_part(month, until)
        updated = RollupMonth.objects.filter(pk=state.pk, version=state.version).update(
            stale=False, complete=complete, until=until, built_at=timezone.now(),
            opening=opening, build_seconds=round(time.perf_counter() - started, 3),
            grouped_on=timezone.localdate())
    if not updated:
        log.info("summary rollup %s: a payment of the month arrived meanwhile; left stale",
                 f"{month:%Y-%m}")
    return True


def _group_part(month: dt.date, until: dt.datetime) -> None:
    """Replace the grain rows of the current month's part: its money from the RollupAccount
    rows just stored (up to ``until``), its counts up to the start of ``until``'s day (the
    summary counts whole days after it), its accounts in service as of that day and those
    of them closed since the month began (``closed_in_service``)."""
    day = timezone.localtime(until).date()
    last = day - dt.timedelta(days=1)  # before ``month`` on its first day: no counts
    facts = Facts(start=month, end=last, branch_id=None,
                  months=[Month(month, month, max(month, last))])
    rows = run_statement(*statement(Sql(), facts, "rollup", money="rollup"))
    closed: dict[tuple, int] = defaultdict(int)
    for figure, at, branch, district, kind, tariff, v1, _v2, _v3 in rows:
        if figure == "closed" and _as_date(at) == month:
            closed[(month, branch, district, kind, tariff)] += int(v1)
    _add_rows(facts, rows, with_branch=True)
    RollupRow.objects.filter(month=month).delete()
    RollupRow.objects.bulk_create(
        [_row(key, facts.rows.get(key, {}), closed_in_service=closed.get(key, 0))
         for key in facts.rows.keys() | closed.keys()], batch_size=2000)


def _row(key: tuple, values: dict, **extra) -> RollupRow:
    month, branch, district, kind, tariff = key
    return RollupRow(month=month, branch=branch or 0, district=district or 0,
                     connection_type=kind or "", tariff=tariff or 0,
                     **{name: values.get(name, 0) for name in _FIGURES}, **extra)


def _regroup(months: list[dt.date]) -> int:
    """Replace the grain rows of whole closed ``months`` (consecutive) from their
    RollupAccount rows and today's attributes of the accounts. Returns the rows written."""
    first, last = months[0], months[-1]
    period = months_of(first, next_month_start(last) - dt.timedelta(days=1))
    facts = Facts(start=period[0].first, end=period[-1].last, branch_id=None, months=period)
    _add_rows(facts, run_statement(*statement(Sql(), facts, "rollup", money="rollup")),
              with_branch=True)
    RollupRow.objects.filter(month__gte=first, month__lte=last).delete()
    rows = [_row(key, values) for key, values in facts.rows.items()]
    RollupRow.objects.bulk_create(rows, batch_size=2000)
    RollupMonth.objects.filter(month__gte=first, month__lte=last).update(
        grouped_on=timezone.localdate())
    return len(rows)


def rollups_regroup(*, everything: bool = False) -> int:
    """Regroup the fresh months not yet grouped today (``everything``: all fresh months) —
    the accounts' tariffs, districts and branches move between groups. A statement per run
    of up to REGROUP_MONTHS consecutive months. Returns the months regrouped."""
    months = RollupMonth.objects.filter(complete=True, stale=False).order_by("month")
    if not everything:
        months = months.exclude(grouped_on=timezone.localdate())
    runs: list[list[dt.date]] = []
    for month in months.values_list("month", flat=True):
        if runs and len(runs[-1]) < REGROUP_MONTHS and month == next_month_start(runs[-1][-1]):
            runs[-1].append(month)
        else:
            runs.append([month])
    for run in runs:
        with transaction.atomic():
            _lock()
            _regroup(run)
    return sum(len(run) for run in runs)


@dataclass
class RefreshResult:
    built: list[dt.date] = field(default_factory=list)
    regrouped: int = 0
    seconds: float = 0.0


def rollups_refresh(*, first: dt.date | None = None, last: dt.date | None = None,
                    missing: bool = True, force: bool = False,
                    progress: Callable[[dt.date, float], None] | None = None
                    ) -> RefreshResult:
    """Build the months first..last (default: from the first data to the current month),
    oldest first so each opens from the one before: a closed month when it is stale, or
    missing unless ``missing=False`` (the run after a late payment); ``force``: every one.
    The current month's part is built again up to ``part_until()`` whenever it exists or
    ``missing``. Then regroup the closed months not grouped today. Idempotent.
    ``progress(month, seconds)`` is called after each month built."""
    started = time.perf_counter()
    result = RefreshResult()
    settled = part_until()
    current = month_start(timezone.localtime(settled).date())
    last = min(last or current, current)
    first = first or first_month()
    closed_built = False
    if first is not None and first <= last:
        state = {month: (complete, stale) for month, complete, stale in RollupMonth.objects
                 .filter(month__gte=first, month__lte=last)
                 .values_list("month", "complete", "stale")}
        for month in months_of(first, last):
            month = month.key
            start, whole = local_bounds(month, next_month_start(month) - dt.timedelta(days=1))
            if whole <= settled:
                complete, stale = state.get(month, (False, None))
                wanted = force or stale or (not complete and (stale is not None or missing))
                until = None
            else:
                # The month so far (nothing to store in its first minutes).
                wanted = start < settled and (month in state or missing or force)
                until = settled
            tick = time.perf_counter()
            if wanted and rollup_build(month=month, until=until, force=force):
                result.built.append(month)
                closed_built = closed_built or until is None
                if progress:
                    progress(month, time.perf_counter() - tick)
    result.regrouped = rollups_regroup()
    if closed_built:
        clear_summary_cache()  # the cache holds closed months only
        _analyze()
    result.seconds = time.perf_counter() - started
    return result


def _analyze() -> None:
    """Fresh planner statistics for the rollup tables (PostgreSQL): with none, it guesses
    the stored month's rows a hundredfold wrong and sorts where it should hash."""
    if connection.vendor != "postgresql":
        return
    tables = ", ".join(connection.ops.quote_name(model._meta.db_table)
                       for model in (RollupMonth, RollupAccount, RollupRow))
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {tables}")


# --- marking --------------------------------------------------------------------------------

def rollups_mark_stale(*, first: dt.date, last: dt.date | None = None) -> int:
    """Mark the stored months first..last (last: the latest) stale; readers compute them
    live until they are built again. Returns how many were marked."""
    months = RollupMonth.objects.filter(month__gte=month_start(first))
    if last is not None:
        months = months.filter(month__lte=month_start(last))
    return months.update(stale=True, version=F("version") + 1)


def _late(stamped: dt.datetime) -> dt.date | None:
    """The month of a row stamped ``SETTLE`` or more before now (its commit): a build may
    have stored that month without it."""
    if timezone.now() - stamped < SETTLE:
        return None
    return month_start(timezone.localdate(stamped))


def on_payment_received(sender, payment, **kwargs) -> None:
    """A payment dated earlier (a bank statement, a back-dated cash payment): its month and
    every later one change (the balance before their payments). On commit: a rolled-back
    import marks nothing."""
    transaction.on_commit(lambda: _stale_after(payment.paid_at, last=None), robust=True)


def on_payment_cancelled(sender, payment, **kwargs) -> None:
    """A payment dated earlier cancelled: only its month changes (the reversing entry is
    dated now, so later balances are as they were)."""
    transaction.on_commit(lambda: _stale_after(payment.paid_at, last=True), robust=True)


def on_charges_posted(sender, at: dt.datetime, **kwargs) -> None:
    """A charge run's charges are stamped with its start: one that took longer than
    ``SETTLE`` may have committed charges a build had already passed (its month only: a
    charge moves the balances after it, but those are built after it too — the month is
    the current one). Either way the current month's part is built again once they have
    settled, so the dashboard reads them stored rather than live."""
    from reports.tasks import refresh_month_so_far

    def after() -> None:
        _stale_after(at, last=True, queue=False)
        refresh_month_so_far.apply_async(countdown=SETTLE.total_seconds() + 60)

    transaction.on_commit(after, robust=True)


def _stale_after(stamped: dt.datetime, *, last: bool | None, queue: bool = True) -> None:
    month = _late(stamped)
    if month is not None:
        _stale(first=month, last=month if last else None, queue=queue)


def _stale(*, first: dt.date, last: dt.date | None, queue: bool = True) -> None:
    """Mark, forget the cache (in this order: a reader between the two computes the month
    live), then queue the rebuild (last: a broker that is down only delays it to beat's
    run; the months are stale, not wrong, meanwhile)."""
    from reports.tasks import refresh_summary_rollups

    marked = rollups_mark_stale(first=first, last=last)
    clear_summary_cache()
    if marked and queue:
        refresh_summary_rollups.delay()


# --- checking -------------------------------------------------------------------------------

def rollups_check(*, first: dt.date | None = None, last: dt.date | None = None) -> list[str]:
    """Compare the fresh stored months first..last with the ledger and the accounts; returns
    what differs (empty: all agree). Per month: the grain rows' money equals the accounts'
    rows; charged (and without connection fees) equals the charges posted in the month;
    collected equals the completed payments paid in it; debt + current + prepaid equals
    collected; the accounts' closing balances add up to the ledger's balance at the month's
    end; new and lost clients equal the accounts opened and closed in it. Then the latest
    month's closing balance of every account equals its ledger's. The current month's
    stored part: its charges, payments and every closing balance."""
    sql = Sql()
    q = connection.ops.quote_name
    t = sql.t
    stored = RollupMonth.objects.filter(stale=False).order_by("month")
    if first is not None:
        stored = stored.filter(month__gte=first)
    if last is not None:
        stored = stored.filter(month__lte=last)
    months = list(stored.filter(complete=True).values_list("month", flat=True))
    problems = [problem for part in stored.filter(complete=False)
                for problem in _check_part(sql, part)]
    if not months:
        return problems
    since = local_bounds(months[0], months[0])[0]
    until = local_bounds(months[-1], next_month_start(months[-1]) - dt.timedelta(days=1))[1]

    def by_month(text: str, params: list) -> dict:
        out: dict = {}
        with connection.cursor() as cursor:
            cursor.execute(text, params)
            for month, *values in cursor.fetchall():
                out[_month(month)] = [int(v or 0) for v in values]
        return out

    month_col = q("month")
    in_months = (f"{month_col} >= {sql.date('a')} AND {month_col} <= {sql.date('b')}")
    bounds = {"a": sql.day(months[0]), "b": sql.day(months[-1])}
    grain = by_month(*positional(
        f"SELECT {month_col}, SUM(charged), SUM(recurring), SUM(collected_total), "
        f"SUM(collected_debt), SUM(collected_current), SUM(collected_prepaid), "
        f"SUM(new_clients), SUM(lost_clients) FROM {q(RollupRow._meta.db_table)} "
        f"WHERE {in_months} GROUP BY {month_col}", bounds))
    accounts = by_month(*positional(
        f"SELECT {month_col}, SUM(charged), SUM(recurring), SUM(collected), SUM(debt), "
        f"SUM({q('current')}), SUM(closing) FROM {t['rollup_account']} "
        f"WHERE {in_months} GROUP BY {month_col}", bounds))
    kop = sql.kop("amount")
    charges = by_month(
        f"SELECT {sql.month_of('created_at')}, -SUM({kop}), "
        f"-SUM(CASE WHEN charge_kind = %s THEN 0 ELSE {kop} END) FROM {t['ledger']} "
        f"WHERE kind = %s AND created_at >= %s AND created_at < %s GROUP BY 1",
        [LedgerEntry.ChargeKind.CONNECTION.value, LedgerEntry.Kind.CHARGE.value,
         sql.at(since), sql.at(until)])
    payments = by_month(
        f"SELECT {sql.month_of('paid_at')}, SUM({kop}) FROM {t['payment']} "
        f"WHERE status = %s AND paid_at >= %s AND paid_at < %s GROUP BY 1",
        [Payment.Status.COMPLETED.value, sql.at(since), sql.at(until)])
    # The balance moves of every month up to the last (ledger entries other than payments
    # by created_at, payments by paid_at — the summary's order), summed up month by month.
    moves = by_month(
        f"SELECT month, SUM(amount) FROM ("
        f"SELECT {sql.month_of('created_at')} AS month, {kop} AS amount FROM {t['ledger']} "
        f"WHERE kind <> %s AND created_at < %s UNION ALL "
        f"SELECT {sql.month_of('paid_at')}, {kop} FROM {t['payment']} WHERE paid_at < %s"
        f") x GROUP BY month",
        [LedgerEntry.Kind.PAYMENT.value, sql.at(until), sql.at(until)])
    opened = by_month(
        f"SELECT {sql.month_of('opened_at')}, COUNT(*) FROM {t['account']} "
        f"WHERE opened_at >= %s AND opened_at < %s GROUP BY 1", [sql.at(since), sql.at(until)])
    closed = by_month(
        f"SELECT {sql.month_of_date('closed_on')}, COUNT(*) FROM {t['account']} "
        f"WHERE closed_on >= %s AND closed_on <= %s GROUP BY 1",
        [sql.day(months[0]), sql.day(next_month_start(months[-1]) - dt.timedelta(days=1))])
    balance = sum(amount for month, (amount,) in moves.items() if month < months[0])
    for month in months_of(months[0], next_month_start(months[-1]) - dt.timedelta(days=1)):
        month = month.key
        balance += moves.get(month, [0])[0]
        if month not in months:
            continue
        g = grain.get(month, [0] * 8)
        a = accounts.get(month, [0] * 6)
        c = charges.get(month, [0, 0])
        checks = [
            ("charged: grain rows vs accounts", g[0], a[0]),
            ("recurring: grain rows vs accounts", g[1], a[1]),
            ("collected: grain rows vs accounts", g[2], a[2]),
            ("debt: grain rows vs accounts", g[3], a[3]),
            ("current: grain rows vs accounts", g[4], a[4]),
            ("charged vs the ledger's charges", g[0], c[0]),
            ("recurring vs the ledger's charges", g[1], c[1]),
            ("collected vs completed payments", g[2], payments.get(month, [0])[0]),
            ("debt + current + prepaid vs collected", g[3] + g[4] + g[5], g[2]),
            ("closing balances vs the ledger", a[5], balance),
            ("new clients vs accounts opened", g[6], opened.get(month, [0])[0]),
            ("lost clients vs accounts closed", g[7], closed.get(month, [0])[0]),
        ]
        problems += [f"{month:%Y-%m}: {name}: {mine} ≠ {theirs}"
                     for name, mine, theirs in checks if mine != theirs]
    problems += _check_accounts(sql, months[-1], until)
    return problems


def _check_part(sql: Sql, part: RollupMonth) -> list[str]:
    """The current month's stored part: its charges and completed payments against the
    ledger's up to ``until``, and every account's closing balance."""
    t = sql.t
    kop = sql.kop("amount")
    since, until = sql.at(local_bounds(part.month, part.month)[0]), sql.at(part.until)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT (SELECT -SUM({kop}) FROM {t['ledger']} WHERE kind = %s "
            f"AND created_at >= %s AND created_at < %s), "
            f"(SELECT SUM({kop}) FROM {t['payment']} WHERE status = %s "
            f"AND paid_at >= %s AND paid_at < %s)",
            [LedgerEntry.Kind.CHARGE.value, since, until, Payment.Status.COMPLETED.value,
             since, until])
        ledger = [int(v or 0) for v in cursor.fetchone()]
    stored = RollupAccount.objects.filter(month=part.month).aggregate(
        charged=Sum("charged"), collected=Sum("collected"))
    mine = [int(stored["charged"] or 0), int(stored["collected"] or 0)]
    grain = RollupRow.objects.filter(month=part.month).aggregate(
        charged=Sum("charged"), collected=Sum("collected_total"))
    rows = [int(grain["charged"] or 0), int(grain["collected"] or 0)]
    label = f"{part.month:%Y-%m} so far"
    problems = [f"{label}: {name}: {a} ≠ {b}" for name, a, b in (
        ("charged vs the ledger's charges", mine[0], ledger[0]),
        ("collected vs completed payments", mine[1], ledger[1]),
        ("charged: grain rows vs accounts", rows[0], mine[0]),
        ("collected: grain rows vs accounts", rows[1], mine[1])) if a != b]
    return problems + _check_accounts(sql, part.month, part.until, label)


def _check_accounts(sql: Sql, month: dt.date, until: dt.datetime,
                    label: str | None = None) -> list[str]:
    """Every account's stored closing balance of ``month`` against its ledger at ``until``
    (at most 20 named)."""
    t, q = sql.t, connection.ops.quote_name
    label = label or f"{month:%Y-%m}"
    until = sql.at(until)
    kop = sql.kop("amount")
    text = (
        f"SELECT COALESCE(l.account_id, r.account_id), COALESCE(l.balance, 0), "
        f"COALESCE(r.closing, 0) FROM ("
        f"SELECT account_id, SUM(amount) AS balance FROM ("
        f"SELECT account_id, {kop} AS amount FROM {t['ledger']} "
        f"WHERE kind <> %s AND created_at < %s UNION ALL "
        f"SELECT account_id, {kop} FROM {t['payment']} WHERE paid_at < %s) x "
        f"GROUP BY account_id) l "
        f"FULL OUTER JOIN (SELECT account_id, closing FROM {t['rollup_account']} "
        f"WHERE {q('month')} = %s) r ON r.account_id = l.account_id "
        f"WHERE COALESCE(l.balance, 0) <> COALESCE(r.closing, 0)")
    with connection.cursor() as cursor:
        cursor.execute(text, [LedgerEntry.Kind.PAYMENT.value, until, until, sql.day(month)])
        rows = cursor.fetchall()
    return [f"{label}: account id {account}: closing {closing} ≠ ledger {ledger}"
            for account, ledger, closing in rows[:20]] + (
        [f"{label}: {len(rows) - 20} more accounts differ"] if len(rows) > 20 else [])


def _month(value) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date().replace(day=1)
    if isinstance(value, dt.date):
        return value.replace(day=1)
    return dt.date.fromisoformat(str(value)[:10]).replace(day=1)

