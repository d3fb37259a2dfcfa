"""A 100,000-row Excel export: time and memory (D14 target: ≤ 60 s, ≤ 300 MB).

    .venv/bin/python -m bench.excel_export                      # synthetic rows, no database
    .venv/bin/python -m bench.excel_export --rows 100000 --columns 8
    DATABASE_URL=postgres://… .venv/bin/python -m bench.excel_export --kind payments

Synthetic mode streams generated rows shaped like the payments list (a datetime, texts, a money
amount…) through ``reports.excel.write_xlsx``. ``--kind`` exports a real list from the
database instead (seed it with seed_demo), through the same builder the background job uses,
with no filters (for payments: the whole table, not this month's — ``--all``).

Two passes: the first is timed and reports the process's peak RSS (what the worker's memory
limit sees); the second runs under ``tracemalloc`` for the peak of Python allocations (it is
several times slower, so it is not timed). Constant memory shows as the same peak at 10,000
and at 100,000 rows. Prints the figures for docs/BENCHMARKS.md."""

import argparse
import datetime as dt
import os
import resource
import tempfile
import time
import tracemalloc
from decimal import Decimal


def synthetic(rows: int, columns: int):
    from reports.excel import Column, Sheet

    kinds = ["datetime", "text", "text", "money", "text", "text", "text", "text", "int",
             "date", "bool", "percent"]
    cols = [Column(f"Column {i + 1}", kinds[i % len(kinds)]) for i in range(columns)]
    start = dt.datetime(2026, 1, 1, 9, 0, tzinfo=dt.UTC)

    def make(i: int):
        values = {
            "datetime": start + dt.timedelta(minutes=i), "text": f"Клиент {i} ООО «Ромашка»",
            "money": Decimal(i % 100_000) / 100, "int": i, "date": dt.date(2026, 1, 1 + i % 28),
            "bool": i % 2 == 0, "percent": Decimal("12.5"),
        }
        return tuple(values[c.kind] for c in cols)

    return [Sheet("Bench", cols, (make(i) for i in range(rows)))]


def database(kind: str, everything: bool):
    from reports.exports import EXPORTS

    spec = EXPORTS[kind]
    params = {"date_from": "2000-01-01"} if (kind == "payments" and everything) else {}
    if kind == "tickets":
        from django.contrib.auth import get_user_model

        params = {"view": "all", "user": get_user_model().objects.order_by("pk").first().pk}
    _, sheets, total = spec.build(params)
    print(f"{kind}: {total} rows in the database")
    return sheets


def run(make_sheets, trace: bool) -> tuple[int, float, float, int, int]:
    """(rows, wall seconds, CPU seconds of this process, tracemalloc peak, file size)."""
    from reports.excel import write_xlsx

    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "bench.xlsx")
        if trace:
            tracemalloc.start()
        started, cpu = time.perf_counter(), time.process_time()
        rows = write_xlsx(make_sheets(), path)
        elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
        peak = tracemalloc.get_traced_memory()[1] if trace else 0
        if trace:
            tracemalloc.stop()
        size = os.path.getsize(path)
    return rows, elapsed, cpu, peak, size


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--columns", type=int, default=8)
    parser.add_argument("--kind", choices=["clients", "accounts", "payments", "tickets"])
    parser.add_argument("--all", action="store_true", help="payments: every date")
    parser.add_argument("--no-trace", action="store_true", help="skip the tracemalloc pass")
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ispcrm.settings.base")
    import django

    django.setup()
    from django.db import connection

    def make_sheets():
        if args.kind:
            return database(args.kind, args.all)
        return synthetic(args.rows, args.columns)

    source = f"{args.kind} from {connection.vendor}" if args.kind else \
        f"synthetic, {args.columns} columns"
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    rows, elapsed, cpu, _, size = run(make_sheets, trace=False)
    rss_peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    # CPU time too: on a busy machine the wall time says more about the neighbours.
    print(f"{rows} rows ({source}): {elapsed:.1f} s wall, {cpu:.1f} s CPU, "
          f"{rows / elapsed:,.0f} rows/s, file {size / 1e6:.1f} MB")
    print(f"peak RSS {rss_peak / 1024:.0f} MB (at start {rss_before / 1024:.0f} MB)")
    if not args.no_trace:
        _, _, _, peak, _ = run(make_sheets, trace=True)
        print(f"tracemalloc peak of Python allocations while writing: {peak / 1e6:.1f} MB")


if __name__ == "__main__":
    main()
