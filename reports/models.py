"""What reports store: files built in the background (large Excel lists, the 1C exchange),
the churn plan the director sets per month, and the rollup of the director's summary for
closed months (``RollupMonth``, ``RollupAccount``, ``RollupRow``: reports.rollups). Every
other figure is computed from the ledger, the cards and the tickets when asked."""

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


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


class RollupMonth(models.Model):
    """A month of the director's summary whose figures are stored (reports.rollups): a
    closed month (``complete``), or the current one up to ``until`` (the month so far: its
    money per account, and its grain rows once ``grouped_on`` is set). Readers use it only
    while it is not ``stale``; a late payment or a cancellation dated in the month marks it
    stale and bumps ``version``, so a build that started before that leaves it stale too."""

    month = models.DateField(_("month"), unique=True, help_text=_("First day of the month."))
    complete = models.BooleanField(_("whole month"), default=False)
    until = models.DateTimeField(_("data up to"), null=True, blank=True,
                                 help_text=_("The moment the stored figures end (exclusive)."))
    stale = models.BooleanField(_("stale"), default=True,
                                help_text=_("Not used until built again."))
    version = models.PositiveIntegerField(_("version"), default=0)
    built_at = models.DateTimeField(_("built"), null=True, blank=True)
    build_seconds = models.FloatField(_("build time, s"), null=True, blank=True)
    opening = models.CharField(_("opening balances from"), max_length=10, blank=True)
    grouped_on = models.DateField(
        _("grouped as of"), null=True, blank=True,
        help_text=_("The day whose tariffs, districts and branches the rows are grouped by."))

    class Meta:
        verbose_name = _("summary rollup month")
        verbose_name_plural = _("summary rollup months")
        ordering = ["-month"]
        constraints = [models.CheckConstraint(condition=Q(month__day=1),
                                              name="rollup_month_first_day")]

    def __str__(self) -> str:
        return f"{self.month:%m.%Y}"


class RollupAccount(models.Model):
    """One account's money in a stored month (up to ``RollupMonth.until``), in kopecks: what
    its payments paid (split as the summary defines), what it was charged (``month_charged``:
    the charges for this month's own period, which the split of its later payments needs),
    and its balance at the end (the next month's opening balance). An account with nothing
    in the month and a zero balance has no row."""

    month = models.DateField(_("month"))
    account = models.ForeignKey("billing.Account", models.CASCADE, related_name="+",
                                db_index=False, verbose_name=_("account"))
    collected = models.BigIntegerField(_("collected"), default=0)
    debt = models.BigIntegerField(_("of it debt"), default=0)
    current = models.BigIntegerField(_("of it current"), default=0)
    charged = models.BigIntegerField(_("charged"), default=0)
    recurring = models.BigIntegerField(_("charged without connection fees"), default=0)
    month_charged = models.BigIntegerField(_("charged for the month"), default=0)
    closing = models.BigIntegerField(_("balance at the month's end"), default=0)

    class Meta:
        verbose_name = _("summary rollup of an account")
        verbose_name_plural = _("summary rollups of accounts")
        constraints = [models.UniqueConstraint(fields=["month", "account"],
                                               name="rollup_account_once_per_month")]

    def __str__(self) -> str:
        return f"{self.month:%m.%Y} {self.account_id}"


class RollupRow(models.Model):
    """The summary's figures of a closed month, or of the current month's stored part, at
    its grain — branch, district, connection type, tariff (ids; 0 for none) — as of
    ``RollupMonth.grouped_on``. Money in kopecks;
    ``active``: accounts in service in the month; ``recurring``: charges without connection
    fees (ARPU's numerator)."""

    month = models.DateField(_("month"))
    branch = models.BigIntegerField(_("branch id"))
    district = models.BigIntegerField(_("district id"))
    connection_type = models.CharField(_("connection type"), max_length=12, blank=True)
    tariff = models.BigIntegerField(_("tariff id"))
    new_clients = models.IntegerField(pgettext_lazy("summary figure", "new clients"),
                                      default=0)
    lost_clients = models.IntegerField(_("lost clients"), default=0)
    connected = models.IntegerField(_("connected"), default=0)
    disconnected = models.IntegerField(_("disconnected"), default=0)
    active = models.IntegerField(_("accounts in service"), default=0)
    collected_total = models.BigIntegerField(_("collected"), default=0)
    collected_debt = models.BigIntegerField(_("collected: debt"), default=0)
    collected_current = models.BigIntegerField(_("collected: current"), default=0)
    collected_prepaid = models.BigIntegerField(_("collected: prepaid"), default=0)
    charged = models.BigIntegerField(_("charged"), default=0)
    recurring = models.BigIntegerField(_("charged without connection fees"), default=0)
    # The current month's part only: of ``active``, those closed in the part (they stop
    # counting the month after).
    closed_in_service = models.IntegerField(_("of them closed"), default=0)

    class Meta:
        verbose_name = _("summary rollup row")
        verbose_name_plural = _("summary rollup rows")
        ordering = ["-month", "branch", "district", "connection_type", "tariff"]
        constraints = [models.UniqueConstraint(
            fields=["month", "branch", "district", "connection_type", "tariff"],
            name="rollup_row_once_per_grain")]

    def __str__(self) -> str:
        return f"{self.month:%m.%Y} {self.branch}/{self.district}/{self.connection_type}/" \
               f"{self.tariff}"
