from datetime import date

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from billing.services.charges import charge_run
from billing.services.pauses import pauses_due


class Command(BaseCommand):
    help = ("Charge the month of --date (default today) to every account in service, and "
            "start/resume the voluntary pauses due that day. Safe to repeat: each account is "
            "charged once per month.")

    def add_arguments(self, parser):
        parser.add_argument("--date", help="YYYY-MM-DD (default: today)")
        parser.add_argument("--batch-size", type=int, default=5000)

    def handle(self, *args, **options):
        try:
            day = date.fromisoformat(options["date"]) if options["date"] else \
                timezone.localdate()
        except ValueError as exc:
            raise CommandError(f"--date must be YYYY-MM-DD: {exc}") from exc
        started, resumed = pauses_due(day)
        result = charge_run(day=day, batch_size=options["batch_size"])
        self.stdout.write(
            f"{result.period:%Y-%m}: {result.fees} monthly fees, {result.services} service "
            f"fees, {result.pause_fees} pause fees in {result.batches} batches; "
            f"pauses started {started}, resumed {resumed}.")
