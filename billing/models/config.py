"""Billing rules an admin sets without code (D5): one row, edited in the admin."""

from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from ispcrm.audit import AuditedHistory
from ispcrm.validators import validate_inn, validate_kpp

from .catalog import MONEY


def _digits(count: int) -> RegexValidator:
    return RegexValidator(rf"^\d{{{count}}}$",
                          format_lazy(_("Exactly {count} digits."), count=count), code="digits")


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
        _("referral bonus, percent of payments"), max_digits=5, decimal_places=2, default=10,
        validators=[MinValueValidator(0), MaxValueValidator(100)])
    referral_months = models.PositiveSmallIntegerField(
        _("months the percentage is paid"), default=6, validators=[MinValueValidator(1)])
    # Our company's requisites, printed on invoices and acts (SP-8). The defaults are demo
    # values (check digits valid); a real installation fills in its own in the admin.
    company_name = models.CharField(_("company name"), max_length=255,
                                    default="ООО «Городская сеть»")
    company_inn = models.CharField(_("INN"), max_length=12, default="7708123450",
                                   validators=[validate_inn])
    company_kpp = models.CharField(_("KPP"), max_length=9, blank=True, default="770801001",
                                   validators=[validate_kpp])
    company_ogrn = models.CharField(_("OGRN"), max_length=15, blank=True,
                                    default="1027700123450",
                                    validators=[RegexValidator(
                                        r"^(\d{13}|\d{15})$",
                                        _("An OGRN has 13 digits (15 for a sole trader)."))])
    company_address = models.CharField(
        _("legal address"), max_length=255,
        default="101000, г. Москва, ул. Мясницкая, д. 10, офис 5")
    bank_name = models.CharField(_("bank"), max_length=255, default="ПАО Сбербанк, г. Москва")
    bank_bik = models.CharField(_("BIK"), max_length=9, default="044525225",
                                validators=[_digits(9)])
    bank_account = models.CharField(_("settlement account"), max_length=20,
                                    default="40702810200000012345", validators=[_digits(20)])
    bank_corr_account = models.CharField(_("correspondent account"), max_length=20,
                                         default="30101810400000000225",
                                         validators=[_digits(20)])
    director_name = models.CharField(_("director (signs documents)"), max_length=100,
                                     default="Иванов И. И.")
    accountant_name = models.CharField(_("chief accountant"), max_length=100,
                                       default="Петрова А. С.")
    vat_note = models.CharField(
        _("VAT line"), max_length=100, default="Без НДС (УСН)",
        help_text=_("Printed under the total, e.g. «Без НДС (УСН)» or «В том числе НДС 5%»."))
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
