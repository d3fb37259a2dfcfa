"""Years of billing history for the benchmarks (issue 7's dashboard, issue 8's million
accounts), written set-based into the real ledger tables.

    DATABASE_URL=postgres://… .venv/bin/python -m bench.history [--years 3]

Run it on a database filled by ``seed_demo`` (PostgreSQL only). For every month of the last
``--years`` years before the current one it charges each account in service its monthly fee
(the activation month prorated by days, as ``account_activate`` does) with the monthly run's
key ``fee:YYYY-MM`` at 00:15 on the 1st, and for every month up to yesterday it writes the
clients' payments, each with its ledger entry (``pay:<id>``), as ``payment_accept`` does. How
each account pays follows from its id: most pay the fee every month, some pay three months
ahead every third month, some pay two months every second month (late), some pay half
(their debt grows), a few pay nothing after the connection; blocked accounts stopped paying
two months ago; closed accounts are charged and pay until they closed.
One payment in 500 was cancelled the next day with a reversing correction, as
``payment_cancel`` does. The current month's charges are the seed's own (its charge run).

Each month is one transaction of ``INSERT … SELECT`` statements (no rows in Python): the
unique keys (``fee:…``, ``pay:…``, each channel's external id) make a second run add
nothing. At the end the stored balances are set to the sum of each account's entries (so
``manage.py check_balances`` agrees) and the tables are analysed. Prints what it added and
how long it took."""

import argparse
import datetime as dt
import os
import time

# The month's payment of an account, by its id: ``h = id % 100`` picks the habit.
#   0–69 pay the fee every month; 70–79 three fees every third month; 80–89 two fees every
#   second month; 90–96 half the fee (in debt); 97–99 nothing. ``k`` numbers the months.
PAYMENTS = """
    WITH due AS (
        SELECT a.id AS account_id, a.status, a.activated_on, a.closed_on,
               ROUND(t.monthly_fee * (100 - s.discount_percent) / 100, 2) AS fee,
               a.id %% 100 AS h
        FROM billing_account a
        JOIN billing_subscription s ON s.account_id = a.id AND s.start < %(next)s
             AND (s."end" IS NULL OR s."end" > %(month)s)
        JOIN billing_tariff t ON t.id = s.tariff_id
        WHERE a.activated_on < %(month)s
          AND a.status IN ('active', 'blocked', 'closed')
          AND (a.closed_on IS NULL OR a.closed_on > %(month)s)
          AND (a.status <> 'blocked' OR %(month)s < %(blocked_from)s)
    ),
    amounts AS (
        SELECT account_id, closed_on, CASE
                 WHEN h < 70 THEN fee
                 WHEN h < 80 THEN CASE WHEN %(k)s %% 3 = account_id %% 3 THEN 3 * fee END
                 WHEN h < 90 THEN CASE WHEN %(k)s %% 2 = account_id %% 2 THEN 2 * fee END
                 WHEN h < 97 THEN ROUND(fee / 2, 2)
               END AS amount,
               -- a day of the month 1…27 and a time of day 09:00…18:59, Moscow time
               CAST(%(month)s AS timestamp)
                 + make_interval(days => CAST((account_id * 7 + %(k)s) %% 27 AS int),
                                 hours => CAST(9 + account_id %% 10 AS int),
                                 mins => CAST(account_id %% 60 AS int)) AS local_at
        FROM due
    ),
    paid AS (
        INSERT INTO billing_payment (account_id, amount, channel, external_id, paid_at,
                                     status, payer, comment, created_at, cancelled_at,
                                     cancel_reason)
        SELECT account_id, amount,
               (ARRAY['cash', 'card', 'terminal', 'bank', 'cabinet'])[1 + account_id %% 5],
               'hist-' || account_id || '-' || %(stamp)s,
               local_at AT TIME ZONE %(zone)s,
               CASE WHEN (account_id * 31 + %(k)s) %% 500 = 0
                         AND local_at + INTERVAL '1 day' < %(now_local)s
                    THEN 'cancelled' ELSE 'completed' END,
               '', '', local_at AT TIME ZONE %(zone)s,
               CASE WHEN (account_id * 31 + %(k)s) %% 500 = 0
                         AND local_at + INTERVAL '1 day' < %(now_local)s
                    THEN (local_at + INTERVAL '1 day') AT TIME ZONE %(zone)s END,
               CASE WHEN (account_id * 31 + %(k)s) %% 500 = 0
                         AND local_at + INTERVAL '1 day' < %(now_local)s
                    THEN 'history: cancelled' ELSE '' END
        FROM amounts
        WHERE amount > 0 AND local_at < %(now_local)s
          AND (closed_on IS NULL OR local_at < CAST(closed_on AS timestamp))
        ORDER BY account_id
        ON CONFLICT (channel, external_id) DO NOTHING
        RETURNING id, account_id, amount, paid_at, status, cancelled_at
    ),
    entries AS (
        INSERT INTO billing_ledgerentry (account_id, kind, amount, created_at, description,
                                         period, charge_kind, idem_key, payment_id)
        SELECT account_id, 'payment', amount, paid_at, 'Платёж', CAST(NULL AS date), '',
               'pay:' || id, id
        FROM paid
        UNION ALL
        SELECT account_id, 'correction', -amount, cancelled_at,
               'Платёж отменён: history', NULL, '', 'pay:' || id || ':cancel', id
        FROM paid WHERE status = 'cancelled'
        RETURNING 1
    )
    SELECT (SELECT COUNT(*) FROM paid), (SELECT COUNT(*) FROM entries)"""

# The month's fee of every account in service on its first day, and the prorated rest of
# the month of those activated in it (one key per month, as the charge run and activation).
CHARGES = """
    INSERT INTO billing_ledgerentry (account_id, kind, amount, created_at, description,
                                     period, charge_kind, idem_key)
    SELECT account_id, 'charge', -amount, created_at, description, %(month)s, 'monthly_fee',
           'fee:' || %(key)s
    FROM (
        SELECT a.id AS account_id, t.name || ', ' || %(label)s AS description,
               CASE WHEN a.activated_on < %(month)s
                    THEN ROUND(t.monthly_fee * (100 - s.discount_percent) / 100, 2)
                    -- the days activated_on…month end: round(F·D/D) − round(F·(d−1)/D)
                    ELSE ROUND(t.monthly_fee * (100 - s.discount_percent) / 100, 2)
                         - ROUND(t.monthly_fee * (100 - s.discount_percent) / 100
                                 * (EXTRACT(DAY FROM a.activated_on) - 1) / %(days)s, 2)
               END AS amount,
               CASE WHEN a.activated_on < %(month)s
                    THEN (CAST(%(month)s AS timestamp) + INTERVAL '15 minutes')
                         AT TIME ZONE %(zone)s
                    ELSE (CAST(a.activated_on AS timestamp) + INTERVAL '12 hours')
                         AT TIME ZONE %(zone)s
               END AS created_at
        FROM billing_account a
        JOIN billing_subscription s ON s.account_id = a.id AND s.start < %(next)s
             AND (s."end" IS NULL OR s."end" > %(month)s)
        JOIN billing_tariff t ON t.id = s.tariff_id
        WHERE a.activated_on < %(next)s
          AND a.status IN ('active', 'blocked', 'closed')
          AND (a.closed_on IS NULL OR a.closed_on > %(month)s)
    ) c
    WHERE amount > 0
    ORDER BY account_id
    ON CONFLICT (account_id, idem_key) WHERE NOT (idem_key = '') DO NOTHING"""

BALANCES = """
    UPDATE billing_account a SET balance = s.total
    FROM (SELECT account_id, SUM(amount) AS total FROM billing_ledgerentry
          GROUP BY account_id) s
    WHERE a.id = s.account_id AND a.balance <> s.total"""


def _months(first: dt.date, last: dt.date) -> list[dt.date]:
    months, month = [], first
    while month <= last:
        months.append(month)
        month = (month + dt.timedelta(days=32)).replace(day=1)
    return months


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--years", type=int, default=3)
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ispcrm.settings.base")
    import django

    django.setup()
    from django.db import connection, transaction
    from django.utils import timezone

    if connection.vendor != "postgresql":
        raise SystemExit("bench.history writes with PostgreSQL's INSERT … SELECT … RETURNING.")
    now = timezone.localtime()
    current = now.date().replace(day=1)
    first = current.replace(year=current.year - args.years)
    # Blocked accounts stopped paying two months ago (and were charged all along).
    blocked_from = _months(first, current)[-3]
    started = time.perf_counter()
    charges = payments = entries = 0
    for k, month in enumerate(_months(first, current)):
        following = (month + dt.timedelta(days=32)).replace(day=1)
        params = {
            "month": month, "next": following, "k": k, "key": f"{month:%Y-%m}",
            "stamp": f"{month:%Y%m}", "label": f"{month:%m.%Y}",
            "days": (following - month).days, "zone": timezone.get_current_timezone_name(),
            "now_local": now.replace(tzinfo=None),
        }
        tick = time.perf_counter()
        with transaction.atomic(), connection.cursor() as cursor:
            added = 0
            if month < current:
                cursor.execute(CHARGES, params)
                added = cursor.rowcount
            cursor.execute(PAYMENTS, {**params, "blocked_from": blocked_from})
            paid, posted = cursor.fetchone()
        charges, payments, entries = charges + added, payments + paid, entries + posted
        print(f"{month:%Y-%m}: {added} charges, {paid} payments "
              f"({time.perf_counter() - tick:.1f} s)", flush=True)
    tick = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(BALANCES)
        fixed = cursor.rowcount
    print(f"balances: {fixed} accounts set to the sum of their entries "
          f"({time.perf_counter() - tick:.1f} s)")
    tick = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE billing_account, billing_ledgerentry, billing_payment, "
                       "billing_subscription")
    print(f"ANALYZE ({time.perf_counter() - tick:.1f} s)")
    print(f"added {charges} charges, {payments} payments, {entries} payment entries in "
          f"{time.perf_counter() - started:.1f} s")


if __name__ == "__main__":
    main()
