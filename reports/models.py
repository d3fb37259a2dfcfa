"""What reports store: files built in the background (large Excel lists, the 1C exchange)
and the churn plan the director sets per month. The figures themselves are never stored —
they are computed from the ledger, the cards and the tickets when asked."""

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class ExportJob(models.Model):
    """A file built by a Celery task (D14: 100,000-row Excel in constant memory; D12: the
    1C exchange). The page polls ``progress``; the download link works until ``expires_at``.
    The monthly 1C export made by beat is ``automatic`` and exists once per kind and month."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Running")
        DONE = "done", _("Ready")
        FAILED = "failed", _("Failed")

    public_id = models.UUIDField(_("public id"), default=uuid.uuid4, unique=True, editable=False)
    kind = models.CharField(_("kind"), max_length=40)
    params = models.JSONField(_("parameters"), default=dict, blank=True)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.SET_NULL, null=True,
                                     blank=True, related_name="+", verbose_name=_("requested by"))
    automatic = models.BooleanField(_("made automatically"), default=False)
    period = models.DateField(_("month"), null=True, blank=True,
                              help_text=_("First day of the month a monthly export covers."))
    status = models.CharField(_("status"), max_length=10, choices=Status.choices,
                              default=Status.QUEUED)
    progress_done = models.PositiveIntegerField(_("rows done"), default=0)
    progress_total = models.PositiveIntegerField(_("rows in all"), null=True, blank=True)
    file = models.FileField(_("file"), upload_to="exports/%Y/%m/", blank=True)
    file_name = models.CharField(_("file name"), max_length=200, blank=True)
    error = models.TextField(_("error"), blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    started_at = models.DateTimeField(_("started"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    expires_at = models.DateTimeField(_("link expires"), null=True, blank=True)

    class Meta:
        verbose_name = _("export")
        verbose_name_plural = _("exports")
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["requested_by", "-created_at"]),
                   models.Index(fields=["status", "expires_at"])]
        constraints = [
            models.UniqueConstraint(fields=["kind", "period"], condition=Q(automatic=True),
                                    name="export_automatic_once_per_month"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.created_at:%d.%m.%Y %H:%M}" if self.created_at else self.kind

    @property
    def percent(self) -> int:
        if self.status == self.Status.DONE:
            return 100
        if not self.progress_total:
            return 0
        return min(99, self.progress_done * 100 // self.progress_total)


class ChurnPlan(models.Model):
    """The director's planned churn for a month (R1): the churn report compares the actual
    percentage with it."""

    class Segment(models.TextChoices):
        ALL = "all", _("All clients")
        PERSON = "person", _("Individuals")
        COMPANY = "company", _("Businesses")

    month = models.DateField(_("month"), help_text=_("First day of the month."))
    segment = models.CharField(_("segment"), max_length=10, choices=Segment.choices,
                               default=Segment.ALL)
    percent = models.DecimalField(_("planned churn, %"), max_digits=5, decimal_places=2)

    class Meta:
        verbose_name = _("churn plan")
        verbose_name_plural = _("churn plans")
        ordering = ["-month", "segment"]
        constraints = [models.UniqueConstraint(fields=["month", "segment"],
                                               name="churn_plan_once_per_month"),
                       models.CheckConstraint(condition=Q(month__day=1),
                                              name="churn_plan_month_first_day")]

    def __str__(self) -> str:
        return f"{self.month:%m.%Y} {self.get_segment_display()}: {self.percent}%"
