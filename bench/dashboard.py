"""Time of the director's dashboard and the summary API (issue 7's benchmark) on whatever data
the configured database has.

    DATABASE_URL=postgres://… .venv/bin/python -m bench.dashboard [--repeat 7]
        [--start 2026-01-01 --end 2026-12-31] [--branch ID] [--explain]

Runs in-process through Django's test client (no network), signed in as a director (the
demo's, or any user of that role, or a superuser), and prints for a year (this calendar year
unless --start/--end are given) the median and slowest time and the number of SQL queries
of: the figures alone (the period and the one before, reports.views.dashboard.dashboard_data)
with nothing cached and with the closed months cached (reports.selectors.summary keeps
finished months for REPORTS_SUMMARY_CACHE_SECONDS), the whole dashboard page, its Excel
download, and the summary API for each grouping (these with the cache as it comes).
``--explain`` prints PostgreSQL's plan of the summary statement. Nothing here writes to the
database; figures go to docs/BENCHMARKS.md."""

import argparse
import datetime as dt
import os
import statistics
import time


def _timed(call, repeat: int):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    timings, queries = [], 0
    for _ in range(repeat):
        with CaptureQueriesContext(connection) as captured:
            start = time.perf_counter()
            call()
            timings.append((time.perf_counter() - start) * 1000)
        queries = len(captured)
    return statistics.median(timings), max(timings), queries


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--start", type=dt.date.fromisoformat)
    parser.add_argument("--end", type=dt.date.fromisoformat)
    parser.add_argument("--branch", type=int)
    parser.add_argument("--explain", action="store_true")
    args = parser.parse_args()

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ispcrm.settings.base")
    import django

    django.setup()
    from django.conf import settings
    from django.db import connection
    from django.test import Client
    from django.utils import timezone
    from rest_framework.authtoken.models import Token

    from billing.models import Account, LedgerEntry, Payment
    from ispcrm import roles
    from ispcrm.models import User
    from reports.selectors.summary import clear_summary_cache
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

    print(f"{Account.objects.count()} accounts, {LedgerEntry.objects.count()} ledger entries, "
          f"{Payment.objects.count()} payments; database "
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
            clear_summary_cache()
            call()
        return run

    cases = [
        ("figures, both periods, nothing cached (cold)",
         cold(lambda: dashboard_data(period, args.branch))),
        ("figures, both periods, closed months cached",
         lambda: dashboard_data(period, args.branch)),
        ("/reports/ (the page)", get(page, "/reports/", query)),
        ("/reports/?format=xlsx", get(page, "/reports/", {**query, "format": "xlsx"})),
    ]
    for group_by in ("month", "district", "tariff", "connection_type"):
        params = {"from": start.isoformat(), "to": end.isoformat(), "group_by": group_by}
        if args.branch:
            params["branch"] = args.branch
        cases.append((f"/api/v1/reports/summary/ group_by={group_by}",
                      get(api, "/api/v1/reports/summary/", params)))
    print(f"{'what':50} {'median ms':>10} {'max ms':>8} {'queries':>8}")
    for name, call in cases:
        median, slowest, queries = _timed(call, args.repeat)
        print(f"{name:50} {median:10.1f} {slowest:8.1f} {queries:8d}")

    if args.explain and connection.vendor == "postgresql":
        _explain(start, end, args.branch)


def _explain(start, end, branch) -> None:
    """EXPLAIN ANALYZE of the summary's statements, captured from one cold run."""
    from django.db import connection, transaction
    from django.test.utils import CaptureQueriesContext

    from reports.selectors.summary import clear_summary_cache, summary_facts
    from reports.selectors.summary_sql import PG_SETTINGS

    clear_summary_cache()
    with CaptureQueriesContext(connection) as captured:
        summary_facts(start, end, branch)
    for query in captured.captured_queries:
        if "WITH d AS" not in query["sql"]:
            continue
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(PG_SETTINGS)
            cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + query["sql"])
            print("\n".join(row[0] for row in cursor.fetchall()))
            print("-" * 100)


if __name__ == "__main__":
    main()
