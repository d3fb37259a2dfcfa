"""``manage.py run_dunning [--date 2026-12-04] [--queue]``: the daily dunning job (SP-7) by
hand.

Runs here, step after step, and prints the counts; ``--queue`` fans it out to the Celery
workers as beat's job does (the counts are then in the workers' log, a line per chunk). Safe
to repeat on the same day. Exits with an error when some account failed (the others are
done), so a cron wrapper notices."""

from datetime import date

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from billing.services.dunning import DunningResult, dunning_queue, dunning_run


class Command(BaseCommand):
    help = ("Send debt notices, block accounts whose term has run out and make claims, as on "
            "--date (default: today). Safe to repeat.")

    def add_arguments(self, parser):
        parser.add_argument("--date", help="YYYY-MM-DD (default: today)")
        parser.add_argument("--queue", action="store_true",
                            help="queue the work in chunks for the Celery workers")

    def handle(self, *args, **options):
        try:
            day = (date.fromisoformat(options["date"]) if options["date"]
                   else timezone.localdate())
        except ValueError as exc:
            raise CommandError(f"--date must be YYYY-MM-DD: {exc}") from exc
        if options["queue"]:
            result = self._queue(day)
        else:
            result = dunning_run(today=day)
            self.stdout.write(f"{day:%Y-%m-%d}: {result.summary()}.")
        for error in result.errors:
            self.stderr.write(error)
        if result.errors:
            raise CommandError(f"{len(result.errors)} accounts failed; the rest is done.")

    def _queue(self, day: date) -> DunningResult:
        queued = dunning_queue(today=day)
        due = ", ".join(f"{step} {count}" for step, count in queued.due.items())
        self.stdout.write(f"{day:%Y-%m-%d}: accounts due: {due}; {queued.queued} chunks queued "
                          f"(their counts go to the workers' log), {queued.inline} done here.")
        if queued.done_here is None:
            return DunningResult(today=day)
        self.stdout.write(f"Done here: {queued.done_here.summary()}.")
        return queued.done_here
