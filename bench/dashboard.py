"""Time of the director's dashboard and the summary API (issue 7's benchmark) on whatever data
the configured database has.

    DATABASE_URL=postgres://… .venv/bin/python -m bench.dashboard [--repeat 7]
        [--start 2026-01-01 --end 2026-12-31] [--branch ID] [--live] [--explain]

Runs in-process through Django's test client (no network), signed in as a director (the
demo's, or any user of that role, or a superuser), and prints for a year (this calendar year
unless --start/--end are given) the median and slowest time and the number of SQL queries
of: the figures alone (the period and the one before, reports.views.dashboard.dashboard_data),
the whole dashboard page, its Excel download and the summary API for each grouping — each
with the cache emptied before every run (cold: as after a restart or a flush; closed months
come from the rollup tables, reports.rollups, the rest is computed) — and the figures again
with the closed months cached. ``--live`` adds the figures with the rollup unused (every
stored month marked stale inside a transaction that is rolled back): what a database without
the rollup costs. "CPU ms" is the median CPU time of this process and of its PostgreSQL
backend (when the server is on this machine): what a run needs of an idle machine, whatever
else is running. ``--explain`` prints PostgreSQL's plan of the statements of one cold run.
Nothing here writes to the database (but the rolled-back marks) unless ``--payments N``
takes N cash payments first, as a busy hour would bring beyond the current month's stored
part; build the rollup first with ``manage.py summary_rollups``. Figures go to
docs/BENCHMARKS.md."""

import argparse
import datetime as dt
import os
import statistics
import time


def _backend_cpu() -> tuple[int, float] | None:
    """The PostgreSQL backend serving this process and the CPU seconds it has used, when
    the server runs on this machine (/proc); else None."""
    from django.db import connection

    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    seconds = _cpu_of(pid)
    return None if seconds is None else (pid, seconds)


def _cpu_of(pid: int) -> float | None:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _timed(call, repeat: int):
    """Median and slowest wall time, the median CPU time (this process and its PostgreSQL
    backend: what an idle machine would need; None when the backend is not local) and the
    queries of one run."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    timings, cpus, queries = [], [], 0
    for _ in range(repeat):
        backend = _backend_cpu()
        with CaptureQueriesContext(connection) as captured:
            cpu = time.process_time()
            start = time.perf_counter()
            call()
            timings.append((time.perf_counter() - start) * 1000)
            cpu = time.process_time() - cpu
        queries = len(captured)
        after = _cpu_of(backend[0]) if backend else None
        cpus.append(None if after is None else (cpu + after - backend[1]) * 1000)
    cpu = statistics.median(cpus) if None not in cpus else None
    return statistics.median(timings), max(timings), cpu, queries


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--start", type=dt.date.fromisoformat)
    parser.add_argument("--end", type=dt.date.fromisoformat)
    parser.add_argument("--branch", type=int)
    parser.add_argument("--live", action="store_true")
    parser.add_argument("--explain", action="store_true")
    parser.add_argument("--payments", type=int, default=0,
                        help="first take this many cash payments now (the last hour's "
                             "traffic the dashboard reads beyond the stored part)")
    args = parser.parse_args()

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ispcrm.settings.base")
    import django

    django.setup()
    from django.conf import settings
    from django.core.cache import cache
    from django.db import connection, transaction
    from django.test import Client
    from django.utils import timezone
    from rest_framework.authtoken.models import Token

    from billing.models import Account, LedgerEntry, Payment
    from ispcrm import roles
    from ispcrm.models import User
    from reports.models import RollupMonth
    from reports.views.dashboard import custom_period, dashboard_data

    settings.ALLOWED_HOSTS = ["*"]
    today = timezone.localdate()
    start = args.start or dt.date(today.year, 1, 1)
    end = args.end or dt.date(today.year, 12, 31)
    user = (User.objects.filter(groups__name=roles.DIRECTOR, is_active=True).first()
            or User.objects.filter(is_superuser=True, is_active=True).first())
    if user is None:
        raise SystemExit("No director or superuser to sign in as: run seed_demo first.")
    page = Client()
    page.force_login(user)
    token, _ = Token.objects.get_or_create(user=user)
    api = Client(HTTP_AUTHORIZATION=f"Token {token.key}")

    if args.payments:
        _take_payments(args.payments)
        connection.queries_log.clear()  # the queries counted below are the dashboard's
    part = RollupMonth.objects.filter(complete=False, stale=False).order_by("-month").first()
    if part is not None:
        print(f"{part.month:%Y-%m} stored up to {timezone.localtime(part.until):%d.%m %H:%M}; "
              f"since then {LedgerEntry.objects.filter(created_at__gte=part.until).count()} "
              f"ledger entries, {Payment.objects.filter(paid_at__gte=part.until).count()} "
              "payments")
    print(f"{Account.objects.count()} accounts, {LedgerEntry.objects.count()} ledger entries, "
          f"{Payment.objects.count()} payments, "
          f"{RollupMonth.objects.filter(stale=False).count()} months in the rollup; database "
          f"{settings.DATABASES['default']['ENGINE'].rsplit('.', 1)[-1]}; "
          f"period {start} … {end}{f', branch {args.branch}' if args.branch else ''}; "
          f"{args.repeat} runs each")
    period = custom_period(start, end)
    query = {"period": "custom", "date_from": start.isoformat(), "date_to": end.isoformat()}
    if args.branch:
        query["branch"] = args.branch

    def get(client, path, params):
        def call():
            response = client.get(path, params)
            assert response.status_code == 200, (path, response.status_code)
            if response.streaming:
                b"".join(response.streaming_content)
        return call

    def cold(call):
        def run():
            cache.clear()
            call()
        return run

    def without_rollup(call):
        def run():
            with transaction.atomic():
                RollupMonth.objects.update(stale=True)
                call()
                transaction.set_rollback(True)
        return run

    def figures():
        dashboard_data(period, args.branch)

    cases = [
        ("figures, both periods, cold", cold(figures)),
        ("figures, both periods, closed months cached", figures),
        ("/reports/ (the page), cold", cold(get(page, "/reports/", query))),
        ("/reports/?format=xlsx, cold",
         cold(get(page, "/reports/", {**query, "format": "xlsx"}))),
    ]
    for group_by in ("month", "district", "tariff", "connection_type"):
        params = {"from": start.isoformat(), "to": end.isoformat(), "group_by": group_by}
        if args.branch:
            params["branch"] = args.branch
        cases.append((f"/api/v1/reports/summary/ {group_by}, cold",
                      cold(get(api, "/api/v1/reports/summary/", params))))
    if args.live:  # tens of seconds a run: three runs at most
        cases.append(("figures, both periods, cold, rollup unused",
                      cold(without_rollup(figures)), min(args.repeat, 3)))
    print(f"{'what':50} {'median ms':>10} {'max ms':>8} {'CPU ms':>8} {'queries':>8}")
    for name, call, *repeat in cases:
        median, slowest, cpu, queries = _timed(call, repeat[0] if repeat else args.repeat)
        cpu = "–" if cpu is None else f"{cpu:.0f}"
        print(f"{name:50} {median:10.1f} {slowest:8.1f} {cpu:>8} {queries:8d}")

    if args.explain and connection.vendor == "postgresql":
        _explain(start, end, args.branch)


def _take_payments(count: int) -> None:
    """``count`` cash payments of 100–1,500 roubles now, to random active accounts, through
    the cashier's service (as a busy hour would bring)."""
    import random
    import uuid
    from decimal import Decimal

    from billing.models import Account
    from billing.services.payments import payment_accept  # the real path, locks included

    numbers = list(Account.objects.filter(status=Account.Status.ACTIVE)
                   .values_list("number", flat=True)[:200_000])
    started = time.perf_counter()
    for number in random.sample(numbers, min(count, len(numbers))):
        payment_accept(account=number, amount=Decimal(random.randint(100, 1500)),
                       channel="cash", external_id=f"bench-{uuid.uuid4().hex}")
    print(f"{count} payments taken in {time.perf_counter() - started:.1f} s")


def _explain(start, end, branch) -> None:
    """EXPLAIN ANALYZE of the summary's queries, captured from one cold run."""
    from django.core.cache import cache
    from django.db import connection, transaction
    from django.test.utils import CaptureQueriesContext

    from reports.selectors.summary import summary_facts
    from reports.selectors.summary_sql import pg_settings

    cache.clear()
    with CaptureQueriesContext(connection) as captured:
        summary_facts(start, end, branch)
    for query in captured.captured_queries:
        if "WITH d AS" not in query["sql"] and "rollup" not in query["sql"]:
            continue
        with transaction.atomic(), connection.cursor() as cursor:
            # The part's statement (WITH part AS …) reads few accounts: index lookups.
            cursor.execute(pg_settings(large="WITH part AS" not in query["sql"]))
            cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + query["sql"])
            print("\n".join(row[0] for row in cursor.fetchall()))
            print("-" * 100)


if __name__ == "__main__":
    main()
