"""The monthly charge run against a hand-written single INSERT … SELECT of the same rows.

    DATABASE_URL=postgres://… .venv/bin/python -m bench.charges [--period 2027-01]

Uses the accounts already in the database (seed them with seed_demo). First the hand-written
statement inserts next month's fee rows inside a transaction that is rolled back (the floor:
one statement, no balance updates, no batching); then the real run charges the same month and
is timed; then it runs again and must add nothing. Prints the figures for docs/BENCHMARKS.md."""

import argparse
import os
import time
from datetime import date


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--period", help="YYYY-MM to charge (default: next month)")
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ispcrm.settings.base")
    import django

    django.setup()
    from django.db import connection, transaction
    from django.utils import timezone

    from billing.models import Account, LedgerEntry
    from billing.money import next_month_start
    from billing.services.charges import charge_run
    from billing.services.ledger import balance_mismatches

    period = (date.fromisoformat(args.period + "-01") if args.period
              else next_month_start(timezone.localdate()))
    active = Account.objects.filter(status="active").count()
    print(f"{active} active accounts; period {period:%Y-%m}; database {connection.vendor}")

    # The same rows the run writes: each active account's fee and its services' fees.
    hand_written = """
        INSERT INTO billing_ledgerentry (account_id, kind, amount, created_at, description,
            period, charge_kind, idem_key, service_id)
        SELECT a.id, 'charge', -t.monthly_fee, now(), 'fee', %s, 'monthly_fee', 'bench', NULL
        FROM billing_account a
        JOIN billing_subscription s ON s.account_id = a.id AND s.start <= %s
             AND (s."end" IS NULL OR s."end" > %s)
        JOIN billing_tariff t ON t.id = s.tariff_id
        WHERE a.status = 'active'
        UNION ALL
        SELECT a.id, 'charge', -v.monthly_fee, now(), 'svc', %s, 'service_fee',
               'bench:' || CAST(v.id AS varchar(20)), v.id
        FROM billing_account a
        JOIN billing_accountservice x ON x.account_id = a.id AND x.start <= %s
             AND (x."end" IS NULL OR x."end" > %s)
        JOIN billing_service v ON v.id = x.service_id
        WHERE a.status = 'active'"""
    started = time.perf_counter()
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(hand_written, [period] * 6)
            rows = cursor.rowcount
        transaction.set_rollback(True)
    floor = time.perf_counter() - started
    print(f"hand-written INSERT … SELECT: {rows} rows in {floor:.2f} s (rolled back)")

    started = time.perf_counter()
    result = charge_run(day=period)
    run = time.perf_counter() - started
    print(f"charge_run: {result.fees} fees + {result.services} services + "
          f"{result.pause_fees} pause fees in {result.batches} batches, {run:.2f} s "
          f"(ratio {run / floor:.2f}×)")

    started = time.perf_counter()
    again = charge_run(day=period)
    print(f"re-run: {again.total} rows added in {time.perf_counter() - started:.2f} s")
    fees = LedgerEntry.objects.filter(period=period, charge_kind="monthly_fee").count()
    print(f"fee rows for {period:%Y-%m}: {fees}; balance mismatches: "
          f"{balance_mismatches().count()}")


if __name__ == "__main__":
    main()
