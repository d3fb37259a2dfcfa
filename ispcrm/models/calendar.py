"""The Russian production calendar as data we keep ourselves.

Only exceptions to the plain rule (Monday–Friday work, Saturday–Sunday rest) are stored:
holidays and transferred days off, working Saturdays, shortened pre-holiday days. A row
with a branch overrides the nationwide row (branch empty) for that branch, e.g. a regional
holiday. The functions that use it live in ispcrm.workcalendar."""

from django.db import models
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from ispcrm.audit import AuditedHistory

from .org import Branch


class CalendarDay(models.Model):
    class Kind(models.TextChoices):
        HOLIDAY = "holiday", _("non-working day")
        WORKING = "working", _("working day")
        SHORTENED = "shortened", _("shortened pre-holiday day")

    date = models.DateField(_("date"))
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    branch = models.ForeignKey(
        Branch, models.CASCADE, null=True, blank=True, related_name="calendar_days",
        verbose_name=_("branch"), help_text=_("Empty: the nationwide calendar."),
    )
    note = models.CharField(_("note"), max_length=200, blank=True)
    history = HistoricalRecords(bases=[AuditedHistory])

    class Meta:
        verbose_name = _("calendar day")
        verbose_name_plural = _("production calendar")
        ordering = ["date"]
        constraints = [
            models.UniqueConstraint(
                fields=["date"], condition=models.Q(branch__isnull=True),
                name="calendarday_one_nationwide_row_per_date",
            ),
            models.UniqueConstraint(
                fields=["date", "branch"], name="calendarday_one_row_per_branch_and_date"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.date:%d.%m.%Y} {self.get_kind_display()}"
