"""Traffic of an account per day, as the NetFlow/RADIUS collector reports it
(``POST /api/v1/usage/`` or ``manage.py import_usage``, billing.services.usage). Nothing is
charged for it: it feeds the "usage dropped" pre-churn signal (R5) and the client card."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from .accounts import Account


class Usage(models.Model):
    account = models.ForeignKey(Account, models.PROTECT, related_name="usage",
                                verbose_name=_("account"))
    day = models.DateField(_("day"))
    bytes_in = models.PositiveBigIntegerField(_("bytes in"))
    bytes_out = models.PositiveBigIntegerField(_("bytes out"))

    class Meta:
        verbose_name = _("traffic usage")
        verbose_name_plural = _("traffic usage")
        ordering = ["-day", "account_id"]
        indexes = [models.Index(fields=["day"])]
        constraints = [
            # One row per account and day: the same day sent again replaces it (upsert).
            models.UniqueConstraint(fields=["account", "day"], name="usage_once_a_day"),
        ]

    def __str__(self) -> str:
        return f"{self.account_id} {self.day:%d.%m.%Y}"
