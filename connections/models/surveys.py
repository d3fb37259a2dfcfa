"""Technical expertise (CS-2): survey requests on fixed weekdays, results and estimates."""

from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from ispcrm.models import Branch

from .clients import ClientCard

CENT = Decimal("0.01")


class Survey(models.Model):
    """A request in the technical department work log. Placed on a survey day with room;
    an urgent one first waits for the technical director's approval."""

    class Status(models.TextChoices):
        AWAITING_APPROVAL = "awaiting_approval", _("Awaiting approval")
        SCHEDULED = "scheduled", _("Scheduled")
        DONE = "done", _("Done")
        CANCELLED = "cancelled", _("Cancelled")

    card = models.ForeignKey(ClientCard, models.CASCADE, related_name="surveys",
                             verbose_name=_("client"))
    branch = models.ForeignKey(Branch, models.PROTECT, related_name="+",
                               verbose_name=_("branch"))
    status = models.CharField(_("status"), max_length=20, choices=Status.choices,
                              default=Status.SCHEDULED)
    urgent = models.BooleanField(_("urgent"), default=False)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, null=True,
                                     related_name="+", verbose_name=_("requested by"))
    requested_at = models.DateTimeField(_("requested"), default=timezone.now)
    approved_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, null=True,
                                    blank=True, related_name="+", verbose_name=_("approved by"))
    approved_at = models.DateTimeField(_("approved"), null=True, blank=True)
    date = models.DateField(_("survey day"), null=True, blank=True)
    due_date = models.DateField(_("guaranteed by"),
                                help_text=_("The guaranteed term in working days from the "
                                            "request."))
    # Access arrangements (CS-1): what the crew needs to get in.
    access_premises = models.BooleanField(_("premises access agreed"), default=False)
    access_technical_floor = models.BooleanField(_("technical floor access agreed"),
                                                 default=False)
    access_roof = models.BooleanField(_("roof access agreed"), default=False)
    access_notes = models.TextField(_("access notes"), blank=True,
                                    help_text=_("Whom to call, keys, entrance code."))
    # The result (CS-2), entered by the NOC head.
    possible = models.BooleanField(_("technically possible"), null=True, blank=True)
    nonstandard = models.BooleanField(_("non-standard installation"), default=False)
    notes = models.TextField(_("result notes"), blank=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, null=True,
                                    blank=True, related_name="+", verbose_name=_("recorded by"))
    recorded_at = models.DateTimeField(_("recorded"), null=True, blank=True)
    overdue_notified_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("survey")
        verbose_name_plural = _("surveys")
        ordering = ["date", "requested_at"]
        indexes = [models.Index(fields=["branch", "date", "status"]),
                   models.Index(fields=["status", "due_date"])]

    def __str__(self) -> str:
        return f"{self.card} — {self.date or _('awaiting approval')}"

    @property
    def estimate_total(self) -> Decimal:
        return sum((line.total for line in self.estimate.all()), Decimal("0.00"))

    def is_overdue(self, today=None) -> bool:
        today = today or timezone.localdate()
        return self.status in (self.Status.SCHEDULED, self.Status.AWAITING_APPROVAL) \
            and self.due_date < today


class EstimateLine(models.Model):
    """One line of the connection estimate (смета): equipment or works."""

    class Kind(models.TextChoices):
        EQUIPMENT = "equipment", _("Equipment")
        WORKS = "works", _("Works")

    survey = models.ForeignKey(Survey, models.CASCADE, related_name="estimate",
                               verbose_name=_("survey"))
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices,
                            default=Kind.EQUIPMENT)
    item = models.CharField(_("item"), max_length=200)
    unit = models.CharField(_("unit"), max_length=20, blank=True, default="шт.")
    quantity = models.DecimalField(_("quantity"), max_digits=10, decimal_places=2,
                                   validators=[MinValueValidator(Decimal("0.01"))])
    unit_price = models.DecimalField(_("unit price"), max_digits=14, decimal_places=2,
                                     validators=[MinValueValidator(Decimal("0"))])

    class Meta:
        verbose_name = _("estimate line")
        verbose_name_plural = _("estimate lines")
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(condition=models.Q(quantity__gt=0),
                                   name="estimateline_quantity_positive"),
            models.CheckConstraint(condition=models.Q(unit_price__gte=0),
                                   name="estimateline_price_not_negative"),
        ]

    def __str__(self) -> str:
        return self.item

    @property
    def total(self) -> Decimal:
        return (self.quantity * self.unit_price).quantize(CENT, rounding=ROUND_HALF_UP)


class SurveyDayPlan(models.Model):
    """A survey day's route list, built the working day before and sent to the NOC head.
    Unique per branch and day, so the beat job can run any number of times."""

    branch = models.ForeignKey(Branch, models.CASCADE, related_name="+",
                               verbose_name=_("branch"))
    date = models.DateField(_("survey day"))
    built_at = models.DateTimeField(_("built"), default=timezone.now)
    surveys = models.PositiveIntegerField(_("surveys"), default=0)

    class Meta:
        verbose_name = _("survey day plan")
        verbose_name_plural = _("survey day plans")
        ordering = ["-date"]
        constraints = [models.UniqueConstraint(fields=["branch", "date"],
                                               name="surveydayplan_once_per_day")]

    def __str__(self) -> str:
        return f"{self.branch} {self.date:%d.%m.%Y}"
