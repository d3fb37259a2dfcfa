"""What the client was told and when (SP-7): debt notices, block and unblock notices,
claims. Every message is recorded whatever the channel, and shown on the card."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from .accounts import Account
from .catalog import MONEY


class Notice(models.Model):
    class Kind(models.TextChoices):
        DEBT = "debt", _("Debt notice")
        BLOCKED = "blocked", _("Service blocked")
        UNBLOCKED = "unblocked", _("Service restored")
        CLAIM = "claim", _("Claim")
        PROMISED = "promised", _("Promised payment")
        DEFERRAL = "deferral", _("Deferral")

    class Channel(models.TextChoices):
        EMAIL = "email", _("Email")
        SMS = "sms", _("SMS")
        MESSENGER = "messenger", _("Messenger")
        LETTER = "letter", _("Letter")

    class Status(models.TextChoices):
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed")

    account = models.ForeignKey(Account, models.PROTECT, related_name="notices",
                                verbose_name=_("account"))
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices)
    recipient = models.CharField(_("recipient"), max_length=255)
    subject = models.CharField(_("subject"), max_length=255, blank=True)
    text = models.TextField(_("text"))
    status = models.CharField(_("status"), max_length=10, choices=Status.choices)
    error = models.CharField(_("error"), max_length=255, blank=True)
    sent_at = models.DateTimeField(_("sent at"), auto_now_add=True)
    sent_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, null=True,
                                blank=True, related_name="+", verbose_name=_("sent by"))

    class Meta:
        verbose_name = _("notice")
        verbose_name_plural = _("notices")
        ordering = ["-sent_at"]
        indexes = [models.Index(fields=["account", "-sent_at"])]

    def __str__(self) -> str:
        return f"{self.account} {self.get_kind_display()} {self.sent_at:%d.%m.%Y}"


class PromisedPayment(models.Model):
    """A one-time credit of a few days of service (at most once a calendar month)."""

    account = models.ForeignKey(Account, models.PROTECT, related_name="promised_payments",
                                verbose_name=_("account"))
    granted_on = models.DateField(_("granted on"))
    until = models.DateField(_("until"))
    granted_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, null=True,
                                   blank=True, related_name="+", verbose_name=_("granted by"))
    month = models.DateField(_("month"), help_text=_("First day of the month it was used in."))

    class Meta:
        verbose_name = _("promised payment")
        verbose_name_plural = _("promised payments")
        constraints = [models.UniqueConstraint(fields=["account", "month"],
                                               name="promised_payment_once_a_month")]

    def __str__(self) -> str:
        return f"{self.account} → {self.until:%d.%m.%Y}"


class Claim(models.Model):
    """An official claim (претензия) for a debt, numbered in its own series."""

    account = models.ForeignKey(Account, models.PROTECT, related_name="claims",
                                verbose_name=_("account"))
    number = models.CharField(_("number"), max_length=30, unique=True)
    created_on = models.DateField(_("date"))
    debt = models.DecimalField(_("debt"), **MONEY)
    paid_on = models.DateField(_("settled on"), null=True, blank=True)

    class Meta:
        verbose_name = _("claim")
        verbose_name_plural = _("claims")
        ordering = ["-created_on"]

    def __str__(self) -> str:
        return f"{self.number} {self.account}"
