"""``manage.py issue_documents [--period 2026-11]``: the month's invoices and acts, by hand.

The same service as the monthly Celery job; safe to repeat (existing documents are skipped)."""

from datetime import date

from django.core.management.base import BaseCommand, CommandError

from billing.services.documents import monthly_documents_issue
from billing.tasks import previous_month


def _month(value: str) -> date:
    try:
        return date.fromisoformat(f"{value}-01")
    except ValueError:
        raise CommandError(f"--period must be a month as YYYY-MM, not {value!r}") from None


class Command(BaseCommand):
    help = "Issue the invoices and acts of a month (default: the previous month)."

    def add_arguments(self, parser):
        parser.add_argument("--period", type=str, default=None,
                            help="The month, YYYY-MM (default: the previous month).")

    def handle(self, *args, period: str | None = None, **options):
        month = _month(period) if period else previous_month()
        created = monthly_documents_issue(period=month)
        self.stdout.write(f"{month:%Y-%m}: {created} documents issued.")
