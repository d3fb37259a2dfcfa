"""Send the due SLA warnings and escalations by hand (what the 10-minute job does)."""

import datetime as dt

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from django.utils.translation import gettext as _

from tickets.services.sla import run_escalations


class Command(BaseCommand):
    help = _("Send the SLA warnings and escalations that are due (as the 10-minute job does).")

    def add_arguments(self, parser):
        parser.add_argument("--now", help=_("Run as if it were this moment, ISO 8601 "
                                            "(default: now)."))

    def handle(self, *args, now=None, **options):
        moment = None
        if now:
            try:
                moment = dt.datetime.fromisoformat(now)
            except ValueError:
                raise CommandError(_("Enter the moment as ISO 8601, e.g. "
                                     "2026-11-23T10:00+03:00.")) from None
            if timezone.is_naive(moment):
                moment = timezone.make_aware(moment)
        counts = run_escalations(moment)
        self.stdout.write(_("Warnings: %(warnings)s, escalations: %(breaches)s, branches "
                            "outside working hours: %(skipped)s.") % {
            "warnings": counts["warnings"], "breaches": counts["breaches"],
            "skipped": counts["branches_skipped"]})
