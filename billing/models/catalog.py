"""What is sold: tariffs, additional services and promotions. All of it is configuration
(D5): a new tariff or promotion goes live from the admin or the tariff pages, no code."""

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from connections.models import ConnectionType, District
from ispcrm.audit import AuditedHistory

MONEY = {"max_digits": 14, "decimal_places": 2}


class TariffQuerySet(models.QuerySet):
    def open_on(self, day):
        """Tariffs that may be sold on ``day``."""
        return self.filter(valid_from__lte=day).filter(
            models.Q(valid_to__isnull=True) | models.Q(valid_to__gt=day))


class Tariff(models.Model):
    class Segment(models.TextChoices):
        ANY = "any", _("Anyone")
        PERSON = "person", _("Persons")
        COMPANY = "company", _("Companies")

    name = models.CharField(_("name"), max_length=100, unique=True)
    description = models.TextField(_("description"), blank=True)
    segment = models.CharField(_("sold to"), max_length=10, choices=Segment.choices,
                               default=Segment.ANY)
    connection_types = models.JSONField(
        _("connection types"), default=list, blank=True,
        help_text=_("Empty: sold for every connection type."))
    monthly_fee = models.DecimalField(_("monthly fee"), **MONEY,
                                      validators=[MinValueValidator(0)])
    connection_fee = models.DecimalField(_("connection fee"), **MONEY, default=0,
                                         validators=[MinValueValidator(0)])
    pause_fee = models.DecimalField(
        _("monthly fee while paused"), **MONEY, default=0, validators=[MinValueValidator(0)],
        help_text=_("Charged per day of a voluntary pause, as a share of a month."))
    speed_mbps = models.PositiveIntegerField(_("speed, Mbit/s"))
    included_hours = models.DecimalField(
        _("service hours included per month"), max_digits=6, decimal_places=2, null=True,
        blank=True, help_text=_("For hourly subscription service of business clients."))
    hour_price = models.DecimalField(_("price of an extra hour"), **MONEY, null=True,
                                     blank=True)
    dunning_days = models.PositiveSmallIntegerField(
        _("working days from debt notice to block"), null=True, blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(60)],
        help_text=_("Empty: the default of the billing settings."))
    outage_compensation_hours = models.PositiveSmallIntegerField(
        _("outage compensated after, hours"), null=True, blank=True,
        validators=[MaxValueValidator(720)],
        help_text=_("The contract's promise: an outage longer than this credits the days it "
                    "lasted. Empty: the general rule (OUTAGE_COMPENSATION_HOURS)."))
    valid_from = models.DateField(_("sold from"), default=timezone.localdate)
    valid_to = models.DateField(_("sold until"), null=True, blank=True,
                                help_text=_("Set to close the tariff for new sales."))
    history = HistoricalRecords(bases=[AuditedHistory])

    objects = TariffQuerySet.as_manager()

    class Meta:
        verbose_name = _("tariff")
        verbose_name_plural = _("tariffs")
        ordering = ["monthly_fee", "name"]
        constraints = [
            models.CheckConstraint(condition=models.Q(valid_to__isnull=True)
                                   | models.Q(valid_to__gt=models.F("valid_from")),
                                   name="tariff_valid_to_after_valid_from",
                                   violation_error_message=_("A tariff closes after it opens.")),
        ]

    def __str__(self) -> str:
        return self.name

    def is_open(self, day=None) -> bool:
        day = day or timezone.localdate()
        return self.valid_from <= day and (self.valid_to is None or self.valid_to > day)

    def sold_for(self, connection_type: str) -> bool:
        return not self.connection_types or connection_type in self.connection_types

    @staticmethod
    def connection_type_choices():
        return ConnectionType.choices


class Service(models.Model):
    """An additional service billed monthly beside the tariff: static IP, equipment rent."""

    code = models.SlugField(_("code"), unique=True)
    name = models.CharField(_("name"), max_length=100)
    monthly_fee = models.DecimalField(_("monthly fee"), **MONEY,
                                      validators=[MinValueValidator(0)])
    active = models.BooleanField(_("on sale"), default=True)
    history = HistoricalRecords(bases=[AuditedHistory])

    class Meta:
        verbose_name = _("additional service")
        verbose_name_plural = _("additional services")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Promotion(models.Model):
    """A discount or free months for subscriptions started while it runs."""

    name = models.CharField(_("name"), max_length=100)
    tariff = models.ForeignKey(Tariff, models.PROTECT, null=True, blank=True,
                               related_name="promotions", verbose_name=_("tariff"),
                               help_text=_("Empty: every tariff."))
    discount_percent = models.DecimalField(
        _("discount, %"), max_digits=5, decimal_places=2, default=0,
        validators=[MinValueValidator(0), MaxValueValidator(100)])
    months = models.PositiveSmallIntegerField(
        _("for months"), default=1, validators=[MinValueValidator(1)],
        help_text=_("How many months from the start the discount lasts (100% = free months)."))
    new_clients_only = models.BooleanField(_("new clients only"), default=True)
    districts = models.ManyToManyField(District, blank=True, verbose_name=_("districts"),
                                       help_text=_("Empty: everywhere."))
    valid_from = models.DateField(_("runs from"))
    valid_to = models.DateField(_("runs until"), null=True, blank=True)
    history = HistoricalRecords(bases=[AuditedHistory], m2m_fields=[districts])

    class Meta:
        verbose_name = _("promotion")
        verbose_name_plural = _("promotions")
        ordering = ["-valid_from"]

    def __str__(self) -> str:
        return self.name
