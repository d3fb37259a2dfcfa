"""Billing rules an admin sets without code (D5): one row, edited in the admin."""

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from ispcrm.audit import AuditedHistory

from .catalog import MONEY


class BillingSettings(models.Model):
    class ReferralMode(models.TextChoices):
        OFF = "off", _("No referral bonus")
        FIXED = "fixed", _("A fixed sum when the referred client is activated")
        PERCENT = "percent", _("A share of the referred client's payments")

    dunning_days = models.PositiveSmallIntegerField(
        _("working days from debt notice to block"), default=5,
        validators=[MinValueValidator(1), MaxValueValidator(60)])
    claim_after_days = models.PositiveSmallIntegerField(
        _("days from block to claim"), default=10, validators=[MinValueValidator(1)])
    promised_payment_days = models.PositiveSmallIntegerField(
        _("days of service on a promised payment"), default=3,
        validators=[MinValueValidator(1), MaxValueValidator(10)])
    referral_mode = models.CharField(_("referral bonus"), max_length=10,
                                     choices=ReferralMode.choices, default=ReferralMode.FIXED)
    referral_fixed_amount = models.DecimalField(_("fixed referral bonus"), **MONEY, default=500)
    referral_percent = models.DecimalField(
        _("referral bonus, % of payments"), max_digits=5, decimal_places=2, default=10,
        validators=[MinValueValidator(0), MaxValueValidator(100)])
    referral_months = models.PositiveSmallIntegerField(
        _("months the percentage is paid"), default=6, validators=[MinValueValidator(1)])
    history = HistoricalRecords(bases=[AuditedHistory])

    class Meta:
        verbose_name = _("billing settings")
        verbose_name_plural = _("billing settings")

    def __str__(self) -> str:
        return str(_("Billing settings"))

    @classmethod
    def current(cls) -> "BillingSettings":
        settings, _created = cls.objects.get_or_create(pk=1)
        return settings
