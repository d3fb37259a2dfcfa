"""The contract (CS-3): numbered per branch series, terms fixed when drafted, non-standard
terms approved by both commercial heads, disputes go to the lawyer."""

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from ispcrm.models import Branch

from .clients import ClientCard


class Contract(models.Model):
    card = models.OneToOneField(ClientCard, models.CASCADE, related_name="contract",
                                verbose_name=_("client"))
    number = models.CharField(_("number"), max_length=32, unique=True)
    branch = models.ForeignKey(Branch, models.PROTECT, related_name="+",
                               verbose_name=_("branch"))
    nonstandard = models.BooleanField(_("non-standard terms"), default=False)
    tariff_name = models.CharField(_("tariff"), max_length=100, blank=True)
    monthly_fee = models.DecimalField(_("monthly fee"), max_digits=14, decimal_places=2,
                                      null=True, blank=True)
    connection_fee = models.DecimalField(_("connection fee"), max_digits=14, decimal_places=2)
    # The rest of the commercial terms as agreed (services, payment order), for the document.
    terms = models.JSONField(_("terms"), default=dict, blank=True, encoder=DjangoJSONEncoder)
    drafted_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, null=True,
                                   related_name="+", verbose_name=_("drafted by"))
    drafted_at = models.DateTimeField(_("drafted"), default=timezone.now)
    sales_approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True, related_name="+",
        verbose_name=_("approved by the head of sales"))
    sales_approved_at = models.DateTimeField(null=True, blank=True)
    director_approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True, related_name="+",
        verbose_name=_("approved by the commercial director"))
    director_approved_at = models.DateTimeField(null=True, blank=True)
    disputed = models.BooleanField(_("clause disputed"), default=False)
    dispute = models.TextField(_("disputed clause"), blank=True)
    lawyer_resolution = models.TextField(_("lawyer's resolution"), blank=True)
    lawyer = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True,
                               related_name="+", verbose_name=_("lawyer"))
    resolved_at = models.DateTimeField(null=True, blank=True)
    signed_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, null=True,
                                  blank=True, related_name="+", verbose_name=_("signed by"))
    signed_at = models.DateTimeField(_("signed"), null=True, blank=True)

    class Meta:
        verbose_name = _("contract")
        verbose_name_plural = _("contracts")
        ordering = ["-drafted_at"]
        indexes = [models.Index(fields=["disputed", "resolved_at"])]

    def __str__(self) -> str:
        return self.number

    @property
    def approved(self) -> bool:
        return bool(self.sales_approved_at and self.director_approved_at)


class ContractCounter(models.Model):
    """The last number used in a branch's series for a year (locked while numbering)."""

    branch = models.ForeignKey(Branch, models.CASCADE, related_name="+")
    year = models.PositiveSmallIntegerField()
    last = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["branch", "year"],
                                               name="contractcounter_branch_year")]

    def __str__(self) -> str:
        return f"{self.branch_id}/{self.year}: {self.last}"
