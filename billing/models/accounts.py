"""The account (лицевой счёт) of a client card, its tariff and services over time, pauses."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django_fsm import FSMField
from simple_history.models import HistoricalRecords

from connections.models import ClientCard
from ispcrm.audit import AuditedHistory

from .catalog import MONEY, Promotion, Service, Tariff


class Account(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")  # contract signed, not activated yet
        ACTIVE = "active", _("Active")
        BLOCKED = "blocked", _("Blocked")  # for debt
        PAUSED = "paused", _("Paused")  # voluntary
        CLOSED = "closed", _("Closed")

    number = models.CharField(_("account number"), max_length=20, unique=True)
    client = models.OneToOneField(ClientCard, models.PROTECT, related_name="account",
                                  verbose_name=_("client"))
    # Moved only by services (billing.services.accounts), each writing its own history.
    status = FSMField(_("status"), max_length=10, choices=Status.choices,
                      default=Status.PENDING)
    # The stored figure; only ledger postings change it, in the same transaction, under
    # a row lock. `manage.py check_balances` proves it equals the sum of the entries.
    balance = models.DecimalField(_("balance"), **MONEY, default=0)
    opened_at = models.DateTimeField(_("opened"), auto_now_add=True)
    activated_on = models.DateField(_("activated on"), null=True, blank=True)
    closed_on = models.DateField(_("closed on"), null=True, blank=True)
    # Dunning (SP-7)
    never_block = models.BooleanField(
        _("never block"), default=False,
        help_text=_("A trusted client (school, hospital): debt is chased but service stays."))
    never_block_reason = models.CharField(_("why never block"), max_length=255, blank=True)
    deferred_until = models.DateField(_("payment deferred until"), null=True, blank=True)
    deferral_reason = models.CharField(_("deferral reason"), max_length=255, blank=True)
    promised_until = models.DateField(_("promised payment until"), null=True, blank=True)
    debt_notice_on = models.DateField(_("debt notice sent on"), null=True, blank=True)
    block_due_on = models.DateField(_("block due on"), null=True, blank=True)
    blocked_on = models.DateField(_("blocked on"), null=True, blank=True)
    history = HistoricalRecords(bases=[AuditedHistory], excluded_fields=["balance"])

    class Meta:
        verbose_name = _("account")
        verbose_name_plural = _("accounts")
        ordering = ["number"]
        # Not on balance: every posting changes it, and an index on it would make each of those
        # updates rewrite index entries (no HOT updates) — the charge run updates them all.
        # The director's summary reads the day's openings, activations and closings
        # (reports.selectors.summary_sql.touched); none of these changes with a posting.
        indexes = [models.Index(fields=["status"]), models.Index(fields=["opened_at"]),
                   models.Index(fields=["activated_on"]), models.Index(fields=["closed_on"])]

    def __str__(self) -> str:
        return self.number


class Subscription(models.Model):
    """The tariff of an account from ``start`` (inclusive) until ``end`` (exclusive, empty:
    open-ended). A scheduled change is a row that starts in the future."""

    account = models.ForeignKey(Account, models.PROTECT, related_name="subscriptions",
                                verbose_name=_("account"))
    tariff = models.ForeignKey(Tariff, models.PROTECT, related_name="subscriptions",
                               verbose_name=_("tariff"))
    start = models.DateField(_("from"))
    end = models.DateField(_("until"), null=True, blank=True)
    promotion = models.ForeignKey(Promotion, models.PROTECT, null=True, blank=True,
                                  related_name="subscriptions", verbose_name=_("promotion"))
    discount_percent = models.DecimalField(_("discount, %"), max_digits=5, decimal_places=2,
                                           default=0)
    discount_until = models.DateField(_("discount until"), null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, null=True,
                                   blank=True, related_name="+", verbose_name=_("created by"))
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    history = HistoricalRecords(bases=[AuditedHistory])

    class Meta:
        verbose_name = _("subscription")
        verbose_name_plural = _("subscriptions")
        ordering = ["account", "start"]
        indexes = [models.Index(fields=["account", "start"])]
        constraints = [
            models.CheckConstraint(condition=models.Q(end__isnull=True)
                                   | models.Q(end__gt=models.F("start")),
                                   name="subscription_end_after_start"),
        ]

    def __str__(self) -> str:
        return f"{self.account} {self.tariff} {self.start:%d.%m.%Y}"


class AccountService(models.Model):
    """An additional service on an account from ``start`` until ``end`` (exclusive)."""

    account = models.ForeignKey(Account, models.PROTECT, related_name="services",
                                verbose_name=_("account"))
    service = models.ForeignKey(Service, models.PROTECT, related_name="+",
                                verbose_name=_("service"))
    start = models.DateField(_("from"))
    end = models.DateField(_("until"), null=True, blank=True)
    history = HistoricalRecords(bases=[AuditedHistory])

    class Meta:
        verbose_name = _("service of an account")
        verbose_name_plural = _("services of accounts")
        ordering = ["account", "start"]
        constraints = [
            models.CheckConstraint(condition=models.Q(end__isnull=True)
                                   | models.Q(end__gt=models.F("start")),
                                   name="accountservice_end_after_start"),
        ]

    def __str__(self) -> str:
        return f"{self.account} {self.service}"


class Pause(models.Model):
    """A voluntary pause (vacation): from ``start`` until ``end`` (exclusive); ``resumed_on``
    when the client came back early."""

    account = models.ForeignKey(Account, models.PROTECT, related_name="pauses",
                                verbose_name=_("account"))
    start = models.DateField(_("from"))
    end = models.DateField(_("until"))
    resumed_on = models.DateField(_("resumed on"), null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, null=True,
                                   blank=True, related_name="+", verbose_name=_("created by"))
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    history = HistoricalRecords(bases=[AuditedHistory])

    class Meta:
        verbose_name = _("pause")
        verbose_name_plural = _("pauses")
        ordering = ["account", "-start"]
        constraints = [
            models.CheckConstraint(condition=models.Q(end__gt=models.F("start")),
                                   name="pause_end_after_start"),
        ]

    def __str__(self) -> str:
        return f"{self.account} {self.start:%d.%m.%Y}–{self.end:%d.%m.%Y}"
