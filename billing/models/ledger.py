"""The ledger: append-only money movements of an account, and payments.

An entry is never edited or deleted — the database refuses it (see migration 0002); a
mistake is corrected by a new entry. Credits are positive, charges negative, so the entries of
an account sum to its balance."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .accounts import Account
from .catalog import MONEY, Service


class Payment(models.Model):
    class Channel(models.TextChoices):
        CASH = "cash", _("Cash desk")
        BANK = "bank", _("Bank transfer")
        CARD = "card", _("Bank card")
        TERMINAL = "terminal", _("Payment terminal")
        CABINET = "cabinet", _("Personal cabinet")

    class Status(models.TextChoices):
        COMPLETED = "completed", _("Completed")
        CANCELLED = "cancelled", _("Cancelled")

    account = models.ForeignKey(Account, models.PROTECT, related_name="payments",
                                verbose_name=_("account"))
    amount = models.DecimalField(_("amount"), **MONEY)
    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices)
    external_id = models.CharField(
        _("external id"), max_length=100,
        help_text=_("The payment's id in the channel (terminal receipt, bank document)."))
    paid_at = models.DateTimeField(_("paid at"), default=timezone.now)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices,
                              default=Status.COMPLETED)
    payer = models.CharField(_("payer"), max_length=255, blank=True)
    comment = models.CharField(_("comment"), max_length=255, blank=True)
    taken_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, null=True,
                                 blank=True, related_name="+", verbose_name=_("taken by"))
    created_at = models.DateTimeField(_("recorded at"), auto_now_add=True)
    cancelled_at = models.DateTimeField(_("cancelled at"), null=True, blank=True)
    cancelled_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, null=True,
                                     blank=True, related_name="+",
                                     verbose_name=_("cancelled by"))
    cancel_reason = models.CharField(_("reason for cancelling"), max_length=255, blank=True)

    class Meta:
        verbose_name = _("payment")
        verbose_name_plural = _("payments")
        ordering = ["-paid_at"]
        indexes = [models.Index(fields=["account", "-paid_at"]),
                   models.Index(fields=["-paid_at"])]
        constraints = [
            # Idempotency of every channel: the same receipt twice is one payment.
            models.UniqueConstraint(fields=["channel", "external_id"],
                                    name="payment_unique_per_channel"),
            models.CheckConstraint(condition=Q(amount__gt=0), name="payment_amount_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.account} {self.amount} ({self.get_channel_display()})"


class LedgerEntry(models.Model):
    class Kind(models.TextChoices):
        CHARGE = "charge", _("Charge")
        PAYMENT = "payment", _("Payment")
        CORRECTION = "correction", _("Correction")
        REFUND = "refund", _("Refund")
        BONUS = "bonus", _("Bonus")

    class ChargeKind(models.TextChoices):
        NONE = "", _("—")
        CONNECTION = "connection_fee", _("Connection fee")
        MONTHLY = "monthly_fee", _("Monthly fee")
        SERVICE = "service_fee", _("Additional service")
        PAUSE = "pause_fee", _("Pause fee")
        PRORATION = "proration", _("Recalculation")
        FINAL = "final", _("Final settlement")

    account = models.ForeignKey(Account, models.PROTECT, related_name="entries",
                                verbose_name=_("account"))
    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices)
    amount = models.DecimalField(_("amount"), **MONEY,
                                 help_text=_("Credits positive, charges negative."))
    created_at = models.DateTimeField(_("posted at"), default=timezone.now, db_index=True)
    description = models.CharField(_("description"), max_length=255)
    # For charges: the month (its first day) and what was charged.
    period = models.DateField(_("period"), null=True, blank=True)
    charge_kind = models.CharField(_("charge"), max_length=16, choices=ChargeKind.choices,
                                   default="", blank=True)
    service = models.ForeignKey(Service, models.PROTECT, null=True, blank=True,
                                related_name="+", verbose_name=_("service"))
    payment = models.ForeignKey(Payment, models.PROTECT, null=True, blank=True,
                                related_name="entries", verbose_name=_("payment"))
    # What makes a posting happen once: "fee:2026-11", "svc:3:2026-11", "pay:17",
    # "pay:17:cancel"… A repeated or concurrent posting with the same key is refused by the
    # database, so charge runs and callbacks can be retried freely.
    idem_key = models.CharField(_("idempotency key"), max_length=64, blank=True, default="")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, null=True,
                                   blank=True, related_name="+", verbose_name=_("posted by"))

    class Meta:
        verbose_name = _("ledger entry")
        verbose_name_plural = _("ledger")
        ordering = ["account", "created_at", "id"]
        indexes = [
            models.Index(fields=["account", "created_at"]),
            models.Index(fields=["period", "charge_kind"]),
            models.Index(fields=["kind", "created_at"]),
        ]
        constraints = [
            models.CheckConstraint(condition=~Q(amount=0), name="ledger_amount_not_zero"),
            models.UniqueConstraint(fields=["account", "idem_key"], condition=~Q(idem_key=""),
                                    name="ledger_posting_once"),
            models.CheckConstraint(
                condition=Q(kind="charge", period__isnull=False) | ~Q(kind="charge"),
                name="ledger_charge_has_period"),
        ]

    def __str__(self) -> str:
        return f"{self.account} {self.amount} {self.description}"
