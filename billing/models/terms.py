"""Preliminary commercial terms (CS-1): what the lead manager agrees before the survey —
tariff, additional services and their volume, the payment order. The contract is drafted
from them; the account is opened with them."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from connections.models import ClientCard
from ispcrm.audit import AuditedHistory

from .catalog import Service, Tariff


class Terms(models.Model):
    class PaymentOrder(models.TextChoices):
        MONTHLY = "monthly", _("Monthly in advance")
        QUARTERLY = "quarterly", _("Quarterly in advance")
        YEARLY = "yearly", _("Yearly in advance")
        DEFERRED = "deferred", _("Agreed deferral (SP-6)")

    client = models.OneToOneField(ClientCard, models.CASCADE, related_name="terms",
                                  verbose_name=_("client"))
    tariff = models.ForeignKey(Tariff, models.PROTECT, null=True, blank=True,
                               related_name="+", verbose_name=_("tariff"))
    services = models.ManyToManyField(Service, blank=True, related_name="+",
                                      verbose_name=_("additional services"))
    volume = models.CharField(_("volume of services"), max_length=255, blank=True,
                              help_text=_("E.g. 12 workplaces, 2 static IP addresses."))
    payment_order = models.CharField(_("payment order"), max_length=10,
                                     choices=PaymentOrder.choices, default=PaymentOrder.MONTHLY)
    notes = models.TextField(_("other terms"), blank=True)
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, null=True,
                                   blank=True, related_name="+", verbose_name=_("agreed by"))
    history = HistoricalRecords(bases=[AuditedHistory])

    class Meta:
        verbose_name = _("commercial terms")
        verbose_name_plural = _("commercial terms")

    def __str__(self) -> str:
        return str(self.client)
