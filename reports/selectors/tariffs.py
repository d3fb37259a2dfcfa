"""Tariff effectiveness (D9): per tariff, month by month and over the period — subscribers,
revenue, ARPU, churn, how long subscriptions last, and what promotions change.

The report works in whole local calendar months: the months the period touches, up to the
current one (no future months). The unit is a **subscription** — an account on a tariff from
``start`` until ``end`` (billing.models.Subscription) — counted from the day it is served,
``max(start, account.activated_on)``; an account never activated, or a subscription that
ended before its account was activated, is not a subscriber.

``at_start`` / ``at_end``
    subscriptions in force at the start of the month (served before its first day and not
    ended before it) and at its end (served on its last day). A month's end is the next
    month's start.
``joined``
    subscriptions first served in the month (new clients and clients moving in from another
    tariff).
``terminated``
    subscriptions that ended in the month because the account was closed (the client left:
    the subscription's end is the account's ``closed_on``).
``switched``
    subscriptions that ended in the month with the account going on — the client moved to
    another tariff. ``at_start + joined − terminated − switched = at_end``.
``churn``
    ``terminated ÷ at_start × 100`` for a month; over several months
    ``Σ terminated ÷ Σ at_start × 100`` (the average monthly churn weighted by subscribers).
    Moving to another tariff is not churn.
``revenue``
    charges (ledger entries of kind ``charge``, all charge kinds, recalculations and returns
    included) whose ``period`` — the month the charge is for — is in the report's months,
    as a positive amount. **Attribution rule:** a charge belongs to the subscription of its
    account in force on the charge's day — the local day it was posted when that day is in
    the charge's month, else the first day of the charge's month (charges posted ahead of
    or after their month). When no subscription is in force that day (the final settlement
    posted on the day the account closed), the latest one started by then; charges before
    the account's first subscription belong to the first. So the monthly fee goes to the
    tariff of the 1st, the first prorated month to the tariff at activation, the
    recalculation of a mid-month tariff change (posted the day before the new tariff
    starts) to the old tariff. Charges of an account without any subscription are shown as
    "No tariff", so the revenue of all tariffs adds up to the ledger's charges.
``arpu``
    recurring revenue (``revenue`` without connection fees) ÷ subscriber-months, where a
    month counts each subscription in service on at least one of its days. ``None`` without
    subscribers.
``lifetime``
    of subscriptions that ended in the period (any reason: leaving or moving to another
    tariff), days from being served to the end; the average in days and in months of
    30.44 days. Subscriptions still running are censored — their life so far (up to the
    period's end or today) is shown beside it as a lower bound, never mixed into the
    average.
promotions
    the same figures for subscriptions started with a promotion (``Subscription.promotion``)
    and without one, per tariff: ``subscriptions`` counts those in force at any time in
    the period.

Five SQL statements whatever the size of the base: subscriptions × months, charges by
subscription, lifetimes, and the names of the tariffs and promotions.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import ROUND_HALF_UP, Decimal

from django.db import connection
from django.db.models import Min
from django.utils import timezone
from django.utils.translation import gettext as _

from billing.models import Account, LedgerEntry, Promotion, Subscription, Tariff
from billing.money import next_month_start
from connections.models import ClientCard

from .sqlkit import CENT, Sql, as_date, money, month_keys, percent, rows_cte

# At most ten years of months on one page.
MAX_MONTHS = 120
DAYS_PER_MONTH = Decimal("30.4375")  # 365.25 / 12

COUNTS = ("at_start", "at_end", "served", "joined", "terminated", "switched")
LIFE = ("subscriptions", "ended", "ended_days", "running", "running_days")


def first_subscription_day() -> dt.date | None:
    """Where "the whole life" of the tariffs begins: the earliest subscription."""
    return Subscription.objects.aggregate(first=Min("start"))["first"]


def _served(sql: Sql, branch_id: int | None) -> tuple[str, list]:
    """Every subscription that was served, with the day it was first served."""
    sub, account = sql.table(Subscription), sql.table(Account)
    card_join = branch_where = ""
    params: list = []
    if branch_id:
        card_join = f"JOIN {sql.table(ClientCard)} c ON c.id = a.client_id"
        branch_where = "AND c.branch_id = %s"
        params.append(branch_id)
    text = f"""
        SELECT sub.id, sub.tariff_id, sub.promotion_id,
               {sql.greatest(f"sub.{sql.name('start')}", "a.activated_on")} AS served_from,
               sub.{sql.name('end')} AS ended, a.closed_on
        FROM {sub} sub JOIN {account} a ON a.id = sub.account_id {card_join}
        WHERE a.activated_on IS NOT NULL {branch_where}"""
    return text, params


def _counts(sql: Sql, keys: list[dt.date], branch_id) -> dict[tuple, dict]:
    served, served_params = _served(sql, branch_id)
    months, month_params = rows_cte(
        sql, [(key, next_month_start(key) - dt.timedelta(days=1)) for key in keys],
        [("month", "date"), ("m_last", "date")])
    text = f"""
        WITH s AS ({served}), m AS ({months})
        SELECT m.month, s.tariff_id, s.promotion_id,
          SUM(CASE WHEN s.served_from < m.month THEN 1 ELSE 0 END),
          SUM(CASE WHEN s.ended IS NULL OR s.ended > m.m_last THEN 1 ELSE 0 END),
          SUM(CASE WHEN s.ended IS NULL OR s.ended > m.month THEN 1 ELSE 0 END),
          SUM(CASE WHEN s.served_from >= m.month THEN 1 ELSE 0 END),
          SUM(CASE WHEN s.ended <= m.m_last AND s.ended = s.closed_on THEN 1 ELSE 0 END),
          SUM(CASE WHEN s.ended <= m.m_last AND (s.closed_on IS NULL OR s.ended <> s.closed_on)
                   THEN 1 ELSE 0 END)
        FROM s JOIN m ON s.served_from <= m.m_last AND (s.ended IS NULL OR s.ended >= m.month)
        WHERE s.ended IS NULL OR s.ended > s.served_from
        GROUP BY m.month, s.tariff_id, s.promotion_id"""
    out = {}
    with connection.cursor() as cursor:
        cursor.execute(text, [*served_params, *month_params])
        for month, tariff, promotion, *values in cursor.fetchall():
            out[(as_date(month), tariff, promotion)] = dict(
                zip(COUNTS, (int(v or 0) for v in values), strict=True))
    return out


def _revenue(sql: Sql, keys: list[dt.date], branch_id) -> dict[tuple, tuple[int, int]]:
    """(month, tariff, promotion) → (charges, charges without connection fees) in kopecks."""
    sub, ledger, account = sql.table(Subscription), sql.table(LedgerEntry), sql.table(Account)
    start = sql.name("start")
    branch_join = branch_where = ""
    if branch_id:
        branch_join = (f"JOIN {account} a ON a.id = e.account_id "
                       f"JOIN {sql.table(ClientCard)} c ON c.id = a.client_id")
        branch_where = "AND c.branch_id = %s"
    day = sql.local_date("e.created_at")
    kop = sql.kop("e.amount")
    text = f"""
        WITH s AS (
            SELECT account_id, tariff_id, promotion_id, {start} AS starts,
                   LEAD({start}) OVER (PARTITION BY account_id ORDER BY {start}, id) AS next_start,
                   ROW_NUMBER() OVER (PARTITION BY account_id ORDER BY {start}, id) AS rn
            FROM {sub}
        ), e AS (
            SELECT e.account_id, e.period, e.charge_kind, {kop} AS kop,
                   CASE WHEN {sql.month_of_date(day)} = e.period THEN {day} ELSE e.period END
                       AS day
            FROM {ledger} e {branch_join}
            WHERE e.kind = %s AND e.period >= {sql.date_param()}
                  AND e.period <= {sql.date_param()} {branch_where}
        )
        SELECT e.period, s.tariff_id, s.promotion_id, SUM(-e.kop),
               SUM(CASE WHEN e.charge_kind = %s THEN 0 ELSE -e.kop END)
        FROM e LEFT JOIN s ON s.account_id = e.account_id
             AND (s.starts <= e.day OR s.rn = 1)
             AND (s.next_start IS NULL OR e.day < s.next_start)
        GROUP BY e.period, s.tariff_id, s.promotion_id"""
    params = [LedgerEntry.Kind.CHARGE.value, sql.day(keys[0]), sql.day(keys[-1])]
    if branch_id:
        params.append(branch_id)
    params.append(LedgerEntry.ChargeKind.CONNECTION.value)
    out = {}
    with connection.cursor() as cursor:
        cursor.execute(text, params)
        for month, tariff, promotion, total, recurring in cursor.fetchall():
            out[(as_date(month), tariff, promotion)] = (int(total or 0), int(recurring or 0))
    return out


def _lifetimes(sql: Sql, first: dt.date, as_of: dt.date, branch_id) -> dict[tuple, dict]:
    """(tariff, promotion) → subscriptions in the period, ended ones and their days, running
    ones and their days so far."""
    served, served_params = _served(sql, branch_id)
    d = sql.date_param()
    ended_in = f"s.ended IS NOT NULL AND s.ended >= {d} AND s.ended <= {d}"
    running = f"s.served_from <= {d} AND (s.ended IS NULL OR s.ended > {d})"
    text = f"""
        WITH s AS ({served})
        SELECT s.tariff_id, s.promotion_id,
          SUM(CASE WHEN s.served_from <= {d} AND (s.ended IS NULL OR s.ended > {d})
                   THEN 1 ELSE 0 END),
          SUM(CASE WHEN {ended_in} THEN 1 ELSE 0 END),
          SUM(CASE WHEN {ended_in} THEN {sql.days_between('s.ended', 's.served_from')}
                   ELSE 0 END),
          SUM(CASE WHEN {running} THEN 1 ELSE 0 END),
          SUM(CASE WHEN {running} THEN {sql.days_between(d, 's.served_from')} ELSE 0 END)
        FROM s
        WHERE s.ended IS NULL OR s.ended > s.served_from
        GROUP BY s.tariff_id, s.promotion_id"""
    day, first_day = sql.day(as_of), sql.day(first)
    following = sql.day(as_of + dt.timedelta(days=1))
    params = [*served_params, day, first_day, first_day, day, first_day, day,
              day, day, day, day, following]
    out = {}
    with connection.cursor() as cursor:
        cursor.execute(text, params)
        for tariff, promotion, *values in cursor.fetchall():
            out[(tariff, promotion)] = dict(zip(LIFE, (int(v or 0) for v in values),
                                                strict=True))
    return out


# --- rolling the grain up -------------------------------------------------------------------

def _figures(counts: dict, kop: int, recurring: int) -> dict:
    """Money in roubles, churn and ARPU from summed counts and kopecks."""
    revenue, regular = money(kop), money(recurring)
    return {
        **{name: counts.get(name, 0) for name in COUNTS},
        "revenue": revenue, "recurring": regular,
        "arpu": ((regular / counts["served"]).quantize(CENT, ROUND_HALF_UP)
                 if counts.get("served") else None),
        "churn": percent(counts.get("terminated", 0), counts.get("at_start", 0)),
        "start_sum": counts.get("at_start", 0),  # the churn rate's denominator
    }


def _life(values: dict) -> dict:
    ended, running = values.get("ended", 0), values.get("running", 0)

    def average(days: int, count: int) -> Decimal | None:
        return (Decimal(days) / count).quantize(Decimal("0.1"), ROUND_HALF_UP) if count else None

    ended_days = average(values.get("ended_days", 0), ended)
    running_days = average(values.get("running_days", 0), running)
    return {
        "subscriptions": values.get("subscriptions", 0),
        "ended": ended, "lifetime_days": ended_days,
        "lifetime_months": (ended_days / DAYS_PER_MONTH).quantize(Decimal("0.1"), ROUND_HALF_UP)
        if ended_days is not None else None,
        "running": running, "running_days": running_days,
        "running_months": (running_days / DAYS_PER_MONTH).quantize(Decimal("0.1"),
                                                                   ROUND_HALF_UP)
        if running_days is not None else None,
    }


class _Sum:
    """Counts, kopecks and life figures added up over grain rows."""

    def __init__(self):
        self.counts: dict[str, int] = defaultdict(int)
        self.kop = self.recurring = 0
        self.life: dict[str, int] = defaultdict(int)
        self.months: dict[dt.date, _Sum] = {}

    def add_counts(self, values: dict, month: dt.date | None = None) -> None:
        for name, value in values.items():
            self.counts[name] += value
        if month is not None:
            self.month(month).add_counts(values)

    def add_money(self, kop: int, recurring: int, month: dt.date | None = None) -> None:
        self.kop += kop
        self.recurring += recurring
        if month is not None:
            self.month(month).add_money(kop, recurring)

    def add_life(self, values: dict) -> None:
        for name, value in values.items():
            self.life[name] += value

    def month(self, key: dt.date) -> _Sum:
        if key not in self.months:
            self.months[key] = _Sum()
        return self.months[key]

    def figures(self, keys: list[dt.date] | None = None) -> dict:
        """The figures; over the months ``keys``, "at the start" is the first month's start
        and "at the end" the last month's end (the churn rate uses the sums of all
        months' starts)."""
        out = _figures(self.counts, self.kop, self.recurring)
        if keys:
            first, last = self.months.get(keys[0]), self.months.get(keys[-1])
            out["at_start"] = first.counts.get("at_start", 0) if first else 0
            out["at_end"] = last.counts.get("at_end", 0) if last else 0
        return {**out, **_life(self.life)}


def tariff_report(start: dt.date, end: dt.date, branch=None, *,
                  today: dt.date | None = None) -> dict:
    """Every tariff with activity in the months of start..end (up to today's month).

    Returns {"months": [first days], "first", "last", "as_of", "tariffs": [per tariff
    {"id", "name", "monthly_fee", "valid_from", "valid_to", "total": figures over the period,
    "months": [figures per month, every month of the period], "promotions": [rows]}],
    "total": figures of all tariffs, "no_tariff": revenue not attributed}. Money in
    roubles (Decimal), churn in percent (12.5), ARPU per subscriber-month."""
    today = today or timezone.localdate()
    branch_id = getattr(branch, "pk", branch)
    keys = month_keys(start, min(end, today))[-MAX_MONTHS:]
    if not keys:
        return {"months": [], "first": start, "last": end, "as_of": min(end, today),
                "tariffs": [], "total": _Sum().figures(), "no_tariff": None}
    first = keys[0]
    last_day = next_month_start(keys[-1]) - dt.timedelta(days=1)
    as_of = min(last_day, today)
    sql = Sql.current()
    counts = _counts(sql, keys, branch_id)
    revenue = _revenue(sql, keys, branch_id)
    lives = _lifetimes(sql, first, as_of, branch_id)

    per_tariff: dict = defaultdict(_Sum)
    per_offer: dict = defaultdict(_Sum)  # (tariff, promotion or None)
    overall = _Sum()
    for (month, tariff, promotion), values in counts.items():
        per_tariff[tariff].add_counts(values, month)
        per_offer[(tariff, promotion)].add_counts(values)
        overall.add_counts(values, month)
    no_tariff = None
    for (month, tariff, promotion), (kop, recurring) in revenue.items():
        if tariff is None:
            no_tariff = (no_tariff or Decimal(0)) + money(kop)
            overall.add_money(kop, recurring, month)
            continue
        per_tariff[tariff].add_money(kop, recurring, month)
        per_offer[(tariff, promotion)].add_money(kop, recurring)
        overall.add_money(kop, recurring, month)
    for (tariff, promotion), values in lives.items():
        if not any(values.values()):
            continue
        per_tariff[tariff].add_life(values)
        per_offer[(tariff, promotion)].add_life(values)
        overall.add_life(values)

    tariffs = {t.pk: t for t in Tariff.objects.filter(pk__in=list(per_tariff))}
    promotion_ids = {promotion for (_t, promotion) in per_offer if promotion is not None}
    promotions = dict(Promotion.objects.filter(pk__in=promotion_ids).values_list("pk", "name"))

    rows = []
    for tariff_id, sums in per_tariff.items():
        tariff = tariffs.get(tariff_id)
        if tariff is None:
            continue
        months = [{"month": key, **sums.month(key).figures()} for key in keys]
        offers = {promotion: s for (t, promotion), s in per_offer.items() if t == tariff_id}
        rows.append({
            "id": tariff_id, "name": tariff.name, "monthly_fee": tariff.monthly_fee,
            "valid_from": tariff.valid_from, "valid_to": tariff.valid_to,
            "total": sums.figures(keys), "months": months,
            "promotions": _promotion_rows(offers, promotions),
        })
    rows.sort(key=lambda row: (-row["total"]["at_end"], -row["total"]["revenue"], row["name"]))
    return {"months": keys, "first": first, "last": last_day, "as_of": as_of,
            "tariffs": rows, "total": overall.figures(keys), "no_tariff": no_tariff}


def _promotion_rows(offers: dict, names: dict) -> list[dict]:
    """Without a promotion, with any promotion, then each promotion."""
    without, with_any = offers.get(None), _Sum()
    each = []
    for promotion, sums in offers.items():
        if promotion is None:
            continue
        with_any.add_counts(sums.counts)
        with_any.add_money(sums.kop, sums.recurring)
        with_any.add_life(sums.life)
        each.append({"key": promotion, "label": names.get(promotion, str(promotion)),
                     "level": 1, **sums.figures()})
    if not each:
        return []
    each.sort(key=lambda row: str(row["label"]))
    rows = [{"key": "without", "label": _("Without a promotion"), "level": 0,
             **(without.figures() if without else _Sum().figures())},
            {"key": "with", "label": _("With a promotion"), "level": 0, **with_any.figures()}]
    return rows + each
