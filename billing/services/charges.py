"""The monthly charge run (SP-6: prepaid, charged at the start of each month).

Set-based: per batch of accounts, one INSERT … SELECT writes the month's charges and one
UPDATE … FROM moves the balances by exactly the rows inserted, in one transaction. A charge's
idempotency key ("fee:2026-11", "svc:3:2026-11") is unique per account in the database, and
the INSERT skips existing keys (ON CONFLICT DO NOTHING), so the run may be repeated, run on
two workers at once (the second waits on the first's keys, then skips them) or killed
half-way and run again: every account is charged once per month.

Prices are computed in Python for each distinct (tariff, discount) — a handful — and joined
in as a VALUES list, so the money arithmetic is exact Decimal on every database."""

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from django.db import connection, transaction
from django.db.models import Max, Min, Q
from django.utils import timezone, translation

from billing import events
from billing.models import Account, Pause, Service, Subscription
from billing.money import month_start, to_money

from .ledger import lock_account
from .pauses import charge_pause_fee
from .pricing import fee_description, month_name

BATCH = 5000


@dataclass
class RunResult:
    period: date
    fees: int = 0
    services: int = 0
    pause_fees: int = 0
    batches: int = 0
    errors: list[str] = field(default_factory=list)

    @property
    def total(self) -> int:
        return self.fees + self.services + self.pause_fees


def _price_rows(period: date) -> list[tuple]:
    """(tariff id, discount %, discount-until or None, amount, description) for every
    combination in force on the period's first day."""
    combos = (Subscription.objects.filter(start__lte=period)
              .filter(Q(end__isnull=True) | Q(end__gt=period))
              .values_list("tariff_id", "tariff__name", "tariff__monthly_fee", "discount_percent")
              .order_by().distinct())  # no ordering: it would make every row distinct
    rows = []
    for tariff_id, name, fee, discount in combos:
        full = to_money(fee)
        rows.append((tariff_id, to_money(discount), False, -full, fee_description(name, period)))
        if discount:
            discounted = to_money(fee * (100 - discount) / 100)
            rows.append((tariff_id, to_money(discount), True, -discounted,
                         fee_description(name, period)))
    return [row for row in rows if row[3] != 0]


def _values_table(rows: list[tuple], alias: str, columns: list[str], casts: list[str]
                 ) -> tuple[str, list]:
    """A VALUES list usable in FROM/JOIN as ``alias`` with named columns, and its params."""
    postgres = connection.vendor == "postgresql"
    cell = [f"CAST(%s AS {cast})" if postgres else "%s" for cast in casts]
    values = "VALUES " + ", ".join("(" + ", ".join(cell) + ")" for _row in rows)
    params = [_adapt(value) for row in rows for value in row]
    if postgres:
        return f"({values}) AS {alias}({', '.join(columns)})", params
    # SQLite names VALUES columns column1, column2…: select them under our names.
    named = ", ".join(f"column{i + 1} AS {name}" for i, name in enumerate(columns))
    return f"(SELECT {named} FROM ({values})) AS {alias}", params


def _adapt(value):
    """Raw SQL gets no field adaptation: give SQLite what Django would store."""
    if connection.vendor != "sqlite":
        return value
    if isinstance(value, datetime):
        return connection.ops.adapt_datetimefield_value(value)
    if isinstance(value, date):
        return connection.ops.adapt_datefield_value(value)
    if isinstance(value, Decimal):
        return str(value)
    return value


def _insert_and_apply(insert_sql: str, params: list) -> tuple[int, int]:
    """Run the INSERT … RETURNING account_id, amount, charge_kind and add the amounts to the
    balances, in the caller's transaction. Returns (fees, service fees) inserted."""
    params = [_adapt(value) for value in params]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # One statement: the inserted rows feed the balance update without leaving the
            # server, one update per account however many rows it got.
            cursor.execute(
                f"WITH ins AS ({insert_sql}), "
                "totals AS (SELECT account_id, SUM(amount) AS amount, "
                "COUNT(*) FILTER (WHERE charge_kind = 'monthly_fee') AS fees, "
                "COUNT(*) FILTER (WHERE charge_kind = 'service_fee') AS services "
                "FROM ins GROUP BY account_id) "
                "UPDATE billing_account SET balance = billing_account.balance + totals.amount "
                "FROM totals WHERE billing_account.id = totals.account_id "
                "RETURNING totals.fees, totals.services", params)
            rows = cursor.fetchall()
            return sum(f for f, _s in rows), sum(s for _f, s in rows)
        # SQLite has no data-modifying WITH: bring the rows back and update from a VALUES list.
        cursor.execute(insert_sql, params)
        inserted = cursor.fetchall()
        totals: dict[int, Decimal] = {}
        for account_id, amount, _kind in inserted:
            totals[account_id] = totals.get(account_id, Decimal(0)) + to_money(amount)
        if totals:
            values, value_params = _values_table(list(totals.items()), "v",
                                                 ["account_id", "amount"], ["bigint", "numeric"])
            cursor.execute(
                "UPDATE billing_account SET balance = billing_account.balance + v.amount "
                f"FROM {values} WHERE billing_account.id = v.account_id", value_params)
    fees = sum(1 for _a, _m, kind in inserted if kind == "monthly_fee")
    return fees, len(inserted) - fees


_FEE_SELECT = """
        SELECT a.id AS account_id, p.amount, p.description, 'monthly_fee' AS charge_kind,
               %s AS idem_key, CAST(NULL AS bigint) AS service_id
        FROM billing_account a
        JOIN billing_subscription s ON s.account_id = a.id AND s.start <= %s
             AND (s."end" IS NULL OR s."end" > %s)
        JOIN {prices}
             ON p.tariff_id = s.tariff_id AND p.discount = s.discount_percent
             AND p.discounted = (s.discount_percent > 0
                                 AND (s.discount_until IS NULL OR s.discount_until > %s))
        WHERE a.status = 'active' AND a.id BETWEEN %s AND %s
              AND s.account_id BETWEEN %s AND %s"""

_SERVICE_SELECT = """
        SELECT a.id AS account_id, p.amount, p.description, 'service_fee' AS charge_kind,
               'svc:' || CAST(x.service_id AS varchar(20)) || %s AS idem_key,
               x.service_id AS service_id
        FROM billing_account a
        JOIN billing_accountservice x ON x.account_id = a.id AND x.start <= %s
             AND (x."end" IS NULL OR x."end" > %s)
        JOIN {prices} ON p.service_id = x.service_id
        WHERE a.status = 'active' AND a.id BETWEEN %s AND %s
              AND x.account_id BETWEEN %s AND %s"""


def _charges_sql(selects: list[str]) -> str:
    """One INSERT of the month's fees and service fees of a batch of accounts. The batch's id
    range is repeated on the subscriptions and services: PostgreSQL does not carry a range
    across a join, and without it every batch read the whole subscription table (the run
    grew with the square of the accounts: 36 s at a million instead of about 20)."""
    return f"""
        INSERT INTO billing_ledgerentry
            (account_id, kind, amount, created_at, description, period, charge_kind,
             idem_key, service_id, payment_id, created_by_id)
        SELECT c.account_id, 'charge', c.amount, %s, c.description, %s, c.charge_kind,
               c.idem_key, c.service_id, NULL, NULL
        FROM ({" UNION ALL ".join(selects)}) c
        ORDER BY c.account_id, c.idem_key
        ON CONFLICT (account_id, idem_key) WHERE NOT (idem_key = '') DO NOTHING
        RETURNING account_id, amount, charge_kind"""


def charge_run(*, day: date, batch_size: int = BATCH, fail_after_batches: int | None = None
               ) -> RunResult:
    """Charge the month of ``day`` to every account in service on that day.
    ``fail_after_batches`` exists for the crash test: it raises after that many batches."""
    period = month_start(day)
    result = RunResult(period=period)
    now = timezone.now()
    with translation.override(translation.get_language() or "ru"):
        fee_rows = _price_rows(period)
        service_rows = [(pk, -to_money(fee), f"{name}, {month_name(period)}")
                        for pk, name, fee in Service.objects.values_list("pk", "name",
                                                                         "monthly_fee")
                        if fee]
    fee_table, fee_params = _values_table(
        fee_rows, "p", ["tariff_id", "discount", "discounted", "amount", "description"],
        ["bigint", "numeric", "boolean", "numeric", "varchar(255)"])
    service_table, service_params = _values_table(
        service_rows, "p", ["service_id", "amount", "description"],
        ["bigint", "numeric", "varchar(255)"])

    bounds = Account.objects.filter(status=Account.Status.ACTIVE).aggregate(
        low=Min("pk"), high=Max("pk"))
    key_suffix = f":{period:%Y-%m}"
    selects = []
    if fee_rows:
        selects.append(_FEE_SELECT.format(prices=fee_table))
    if service_rows:
        selects.append(_SERVICE_SELECT.format(prices=service_table))
    try:
        if bounds["low"] is not None and selects:
            low = bounds["low"]
            while low <= bounds["high"]:
                high = low + batch_size - 1
                # One transaction per batch: a crash loses at most this batch, which the
                # next run charges (its keys were never committed).
                params = [now, period]
                if fee_rows:
                    params += [f"fee{key_suffix}", period, period, *fee_params, period,
                               low, high, low, high]
                if service_rows:
                    params += [key_suffix, period, period, *service_params, low, high,
                               low, high]
                with transaction.atomic():
                    fees, services = _insert_and_apply(_charges_sql(selects), params)
                result.fees += fees
                result.services += services
                result.batches += 1
                if fail_after_batches is not None and result.batches >= fail_after_batches:
                    raise RuntimeError("charge run stopped on purpose (test)")
                low = high + 1
        result.pause_fees = _pause_fees(period, day)
    finally:
        if result.batches:
            # Stamped ``now``: reports store the current month's figures up to a moment,
            # and a long run may commit charges behind it (reports.rollups).
            events.charges_posted.send(sender=charge_run, at=now)
    return result


def _pause_fees(period: date, day: date) -> int:
    """Pause fees of accounts paused on ``day``. Few accounts are paused at a time, so this
    part goes through the ordinary posting service."""
    count = 0
    for pause in Pause.objects.filter(account__status=Account.Status.PAUSED, start__lte=day,
                                      end__gt=day, resumed_on__isnull=True):
        with transaction.atomic():
            account = lock_account(pause.account_id)
            before = account.balance
            charge_pause_fee(account, pause, period)
            count += account.balance != before
    return count
