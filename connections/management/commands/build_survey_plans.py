"""Build the survey day plans by hand (what the morning beat job does)."""

import datetime as dt

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from connections.tasks import build_survey_plans, notify_overdue_surveys


class Command(BaseCommand):
    help = _("Build the route lists of the next survey day and send them to the NOC heads "
             "(as the morning job does on working days).")

    def add_arguments(self, parser):
        parser.add_argument("--date", help=_("Run as if today were this day, YYYY-MM-DD "
                                             "(default: today)."))
        parser.add_argument("--overdue", action="store_true",
                            help=_("Also tell lead managers about overdue surveys."))

    def handle(self, *args, date=None, overdue=False, **options):
        if date:
            try:
                dt.date.fromisoformat(date)
            except ValueError:
                raise CommandError(_("Enter the date as YYYY-MM-DD.")) from None
        built = build_survey_plans(date)
        self.stdout.write(_("Survey plans built: %(count)s.") % {"count": built})
        if overdue:
            told = notify_overdue_surveys(date)
            self.stdout.write(_("Overdue surveys reported: %(count)s.") % {"count": told})
