"""``manage.py run_dunning [--date 2026-12-04]``: the daily dunning job (SP-7) by hand.

The same service as the Celery job; safe to repeat on the same day. Exits with an error
when some account failed (the others are done), so a cron wrapper notices."""

from datetime import date

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from billing.services.dunning import dunning_run


class Command(BaseCommand):
    help = ("Send debt notices, block accounts whose term has run out and make claims, as on "
            "--date (default: today). Safe to repeat.")

    def add_arguments(self, parser):
        parser.add_argument("--date", help="YYYY-MM-DD (default: today)")

    def handle(self, *args, **options):
        try:
            day = (date.fromisoformat(options["date"]) if options["date"]
                   else timezone.localdate())
        except ValueError as exc:
            raise CommandError(f"--date must be YYYY-MM-DD: {exc}") from exc
        result = dunning_run(today=day)
        self.stdout.write(
            f"{day:%Y-%m-%d}: {result.notices} debt notices ({result.notices_failed} not "
            f"delivered), {result.blocked} blocked, {result.claims} claims, "
            f"{result.promises_expired} promised payments ended, {result.settled} settled.")
        for error in result.errors:
            self.stderr.write(error)
        if result.errors:
            raise CommandError(f"{len(result.errors)} accounts failed; the rest is done.")
