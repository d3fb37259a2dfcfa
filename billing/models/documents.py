"""Monthly invoices and acts of services rendered (SP-8, M8), and the counters that number
every document series. A document is a snapshot: its lines are stored, so it prints the same
forever, and it is never deleted."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from .accounts import Account
from .catalog import MONEY


class DocumentCounter(models.Model):
    """The last number used in a series (e.g. invoices of 2026). Taken under a row lock."""

    series = models.CharField(_("series"), max_length=20, unique=True)
    last_number = models.PositiveIntegerField(_("last number"), default=0)

    class Meta:
        verbose_name = _("document counter")
        verbose_name_plural = _("document counters")

    def __str__(self) -> str:
        return f"{self.series}: {self.last_number}"


class Document(models.Model):
    class Kind(models.TextChoices):
        INVOICE = "invoice", _("Invoice")
        ACT = "act", _("Act of services rendered")

    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    number = models.CharField(_("number"), max_length=30)
    account = models.ForeignKey(Account, models.PROTECT, related_name="documents",
                                verbose_name=_("account"))
    period = models.DateField(_("month"), help_text=_("First day of the month it covers."))
    issued_on = models.DateField(_("date"))
    total = models.DecimalField(_("total"), **MONEY)
    # [{"name", "quantity", "unit", "price", "amount"}] — what the document says, frozen.
    lines = models.JSONField(_("lines"), default=list)
    # Hours of hourly subscription service (SP-8, SP-10), filled from tickets' time spent.
    hours_included = models.DecimalField(_("hours included"), max_digits=8, decimal_places=2,
                                         null=True, blank=True)
    hours_spent = models.DecimalField(_("hours spent"), max_digits=8, decimal_places=2,
                                      null=True, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("document")
        verbose_name_plural = _("documents")
        ordering = ["-period", "kind"]
        constraints = [
            models.UniqueConstraint(fields=["kind", "number"], name="document_number_unique"),
            models.UniqueConstraint(fields=["account", "kind", "period"],
                                    name="document_once_per_month"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} № {self.number}"
