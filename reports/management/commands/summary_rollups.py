import datetime as dt
import time

from django.core.management.base import BaseCommand, CommandError

from reports.rollups import rollups_check, rollups_refresh, rollups_regroup


def _month(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(f"{value}-01")
    except ValueError as exc:
        raise CommandError(f"A month is YYYY-MM, not {value!r}.") from exc


class Command(BaseCommand):
    help = ("Build the director's summary rollup (reports.rollups) for closed months: the "
            "missing and stale ones of --from..--to (default: all), or every one with "
            "--rebuild; regroup the stored months; then check the stored totals against "
            "the ledger and fail on any difference. Safe to repeat or to run beside beat.")

    def add_arguments(self, parser):
        parser.add_argument("--from", dest="first", type=_month, help="YYYY-MM")
        parser.add_argument("--to", dest="last", type=_month, help="YYYY-MM")
        parser.add_argument("--rebuild", action="store_true",
                            help="build the months again even if fresh")
        parser.add_argument("--regroup", action="store_true",
                            help="regroup every stored month by today's attributes")
        parser.add_argument("--check", action="store_true",
                            help="only check the stored months against the ledger")

    def handle(self, *args, first=None, last=None, rebuild=False, regroup=False,
               check=False, **options):
        if first and last and first > last:
            raise CommandError("--from is after --to.")
        started = time.perf_counter()
        if not check:
            result = rollups_refresh(
                first=first, last=last, force=rebuild,
                progress=lambda month, seconds: self.stdout.write(
                    f"{month:%Y-%m} built in {seconds:.1f} s"))
            regrouped = rollups_regroup(everything=True) if regroup else result.regrouped
            self.stdout.write(f"{len(result.built)} month(s) built, {regrouped} regrouped "
                              f"in {time.perf_counter() - started:.1f} s.")
            started = time.perf_counter()
        problems = rollups_check(first=first, last=last)
        self.stdout.write(f"Checked in {time.perf_counter() - started:.1f} s.")
        for problem in problems:
            self.stderr.write(problem)
        if problems:
            raise CommandError(f"{len(problems)} difference(s) between the rollup and the "
                               "ledger.")
        self.stdout.write("The stored months agree with the ledger.")
