"""Bank statements imported from the bank's client (1CClientBankExchange, D12 "and back")
and their incoming documents, matched to accounts or waiting for an accountant."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from .accounts import Account
from .catalog import MONEY
from .ledger import Payment


class BankStatement(models.Model):
    file_name = models.CharField(_("file"), max_length=255)
    sha256 = models.CharField(_("checksum"), max_length=64)
    format = models.CharField(_("format"), max_length=30)
    our_account = models.CharField(_("our bank account"), max_length=30)
    date_from = models.DateField(_("from"), null=True, blank=True)
    date_to = models.DateField(_("to"), null=True, blank=True)
    imported = models.PositiveIntegerField(_("imported"), default=0)
    duplicates = models.PositiveIntegerField(_("duplicates"), default=0)
    unmatched = models.PositiveIntegerField(_("unmatched"), default=0)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, null=True,
                                    blank=True, related_name="+",
                                    verbose_name=_("uploaded by"))
    uploaded_at = models.DateTimeField(_("uploaded at"), auto_now_add=True)

    class Meta:
        verbose_name = _("bank statement")
        verbose_name_plural = _("bank statements")
        ordering = ["-uploaded_at"]

    def __str__(self) -> str:
        return f"{self.file_name} ({self.uploaded_at:%d.%m.%Y})"


class BankTransfer(models.Model):
    """An incoming payment order of a statement. Unique on (number, date, payer account):
    the same document in another upload is recognised as a duplicate."""

    class Status(models.TextChoices):
        MATCHED = "matched", _("Credited")
        UNMATCHED = "unmatched", _("Waiting for an account")
        ASSIGNED = "assigned", _("Credited by hand")
        IGNORED = "ignored", _("Not a client payment")

    statement = models.ForeignKey(BankStatement, models.PROTECT, related_name="transfers",
                                  verbose_name=_("statement"))
    doc_number = models.CharField(_("document number"), max_length=30)
    doc_date = models.DateField(_("document date"))
    amount = models.DecimalField(_("amount"), **MONEY)
    payer_name = models.CharField(_("payer"), max_length=255, blank=True)
    payer_inn = models.CharField(_("payer INN"), max_length=12, blank=True)
    payer_account = models.CharField(_("payer account"), max_length=30, blank=True)
    purpose = models.TextField(_("purpose of payment"), blank=True)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices)
    account = models.ForeignKey(Account, models.PROTECT, null=True, blank=True,
                                related_name="+", verbose_name=_("account"))
    payment = models.OneToOneField(Payment, models.PROTECT, null=True, blank=True,
                                   related_name="bank_transfer", verbose_name=_("payment"))
    handled_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, null=True,
                                   blank=True, related_name="+", verbose_name=_("handled by"))

    class Meta:
        verbose_name = _("bank transfer")
        verbose_name_plural = _("bank transfers")
        ordering = ["-doc_date", "doc_number"]
        constraints = [
            models.UniqueConstraint(fields=["doc_number", "doc_date", "payer_account"],
                                    name="bank_transfer_once"),
        ]
        indexes = [models.Index(fields=["status", "-doc_date"])]

    def __str__(self) -> str:
        return f"№ {self.doc_number} {self.doc_date:%d.%m.%Y} {self.amount}"

    @property
    def external_id(self) -> str:
        """The Payment.external_id of the bank channel for this document."""
        return f"{self.doc_date:%Y%m%d}/{self.doc_number}/{self.payer_account}"
