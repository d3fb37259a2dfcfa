"""Online top-ups (C5): one client's attempt to pay by card through a payment gateway.

``created`` → ``pending`` (the client is on the gateway's page) → ``succeeded`` |
``failed`` | ``expired`` (no word from the gateway for an hour). ``succeeded`` is final and is
the only status with a ``payment``: the money is credited through the ordinary payment
(channel ``cabinet``, external id ``<gateway>:<gateway payment id>``), whose unique key makes
a repeated notification credit nothing. A success that arrives after ``failed`` or
``expired`` still credits: the bank took the money. billing.services.online moves it."""

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from billing.gateways import checks  # noqa: F401  (registers the deploy check)

from .accounts import Account
from .catalog import MONEY
from .ledger import Payment


class OnlinePayment(models.Model):
    class Status(models.TextChoices):
        CREATED = "created", pgettext_lazy("online payment", "Created")
        PENDING = "pending", pgettext_lazy("online payment", "Waiting for the bank")
        SUCCEEDED = "succeeded", pgettext_lazy("online payment", "Paid")
        FAILED = "failed", pgettext_lazy("online payment", "Failed")
        EXPIRED = "expired", pgettext_lazy("online payment", "Expired")

    # The allowed moves. A success may come late (after failed or expired): the bank took
    # the money, so it is credited. Nothing leaves succeeded.
    TRANSITIONS = {
        Status.CREATED: {Status.PENDING, Status.SUCCEEDED, Status.FAILED, Status.EXPIRED},
        Status.PENDING: {Status.SUCCEEDED, Status.FAILED, Status.EXPIRED},
        Status.FAILED: {Status.SUCCEEDED},
        Status.EXPIRED: {Status.SUCCEEDED, Status.FAILED},
        Status.SUCCEEDED: set(),
    }
    OPEN = (Status.CREATED, Status.PENDING)

    public_id = models.UUIDField(_("public id"), default=uuid.uuid4, unique=True,
                                 editable=False,
                                 help_text=_("Sent to the gateway and shown in the client's "
                                             "links; the numeric id never leaves the server."))
    account = models.ForeignKey(Account, models.PROTECT, related_name="online_payments",
                                verbose_name=_("account"))
    amount = models.DecimalField(_("amount"), **MONEY)
    gateway = models.CharField(_("gateway"), max_length=30)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices,
                              default=Status.CREATED)
    gateway_payment_id = models.CharField(_("payment id at the gateway"), max_length=64,
                                          blank=True)
    payment = models.OneToOneField(Payment, models.PROTECT, null=True, blank=True,
                                   related_name="online_payment",
                                   verbose_name=_("credited payment"))
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, null=True,
                                   blank=True, related_name="+", verbose_name=_("started by"))
    created_at = models.DateTimeField(_("started at"), default=timezone.now)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    error = models.CharField(_("error"), max_length=255, blank=True)

    class Meta:
        verbose_name = _("online payment")
        verbose_name_plural = _("online payments")
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["account", "-created_at"]),
                   # the expiry job: open ones older than an hour
                   models.Index(fields=["status", "created_at"])]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0),
                                   name="online_payment_amount_positive"),
            models.UniqueConstraint(fields=["gateway", "gateway_payment_id"],
                                    condition=~Q(gateway_payment_id=""),
                                    name="online_payment_unique_gateway_id"),
            models.CheckConstraint(
                condition=Q(status="succeeded", payment__isnull=False) | ~Q(status="succeeded"),
                name="online_payment_succeeded_has_payment"),
        ]

    def __str__(self) -> str:
        return f"{self.account} {self.amount} {self.gateway} ({self.get_status_display()})"

    @property
    def description(self) -> str:
        return _("Top-up of account %(number)s") % {"number": self.account.number}

    def can_become(self, status: str) -> bool:
        return status in self.TRANSITIONS[self.Status(self.status)]
