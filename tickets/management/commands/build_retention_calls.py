"""Build the retention call list by hand (what the morning job does)."""

import datetime as dt

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from tickets.services.retention import build_call_list


class Command(BaseCommand):
    help = _("Put the pre-churn clients on the day's retention call list (as the morning "
             "job does); a second run adds nothing.")

    def add_arguments(self, parser):
        parser.add_argument("--day", help=_("The day of the list, YYYY-MM-DD (default: "
                                            "today)."))

    def handle(self, *args, day=None, **options):
        try:
            when = dt.date.fromisoformat(day) if day else None
        except ValueError:
            raise CommandError(_("Enter the day as YYYY-MM-DD.")) from None
        counts = build_call_list(when)
        self.stdout.write(_("Clients listed: %(listed)s, earlier calls not made: "
                            "%(skipped)s.") % counts)
