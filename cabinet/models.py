"""What the cabinet's sign-in keeps: one-time codes (first password and resets) and the log of
staff "see as client" views. Both are written only by ``cabinet.services.auth``."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from connections.models import ClientCard


class OneTimeCode(models.Model):
    """One request for a sign-in code. Only a hash of the code is kept (an HMAC with the
    site's secret key: a stolen table does not give the codes away).

    A request for an account number or phone that is nobody's is recorded too, with no card
    and no code (nothing is sent): the hourly limit and the answers to wrong codes then look
    the same whether the client exists or not, so the form cannot be used to find out who is
    a client."""

    class Channel(models.TextChoices):
        EMAIL = "email", _("Email")
        SMS = "sms", _("SMS")

    card = models.ForeignKey(ClientCard, models.CASCADE, null=True, blank=True,
                             related_name="cabinet_codes", verbose_name=_("client card"))
    identifier = models.CharField(_("asked for"), max_length=32, blank=True,
                                  help_text=_("The account number or phone as entered, "
                                              "normalised."))
    code_hash = models.CharField(max_length=64, blank=True, editable=False)
    channel = models.CharField(_("sent via"), max_length=10, choices=Channel.choices,
                               blank=True)
    delivered = models.BooleanField(_("delivered"), null=True, blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+",
        verbose_name=_("sent by staff member"))
    created_at = models.DateTimeField(_("requested"), default=timezone.now)
    expires_at = models.DateTimeField(_("expires"))
    attempts = models.PositiveSmallIntegerField(_("wrong attempts"), default=0)
    used_at = models.DateTimeField(_("used"), null=True, blank=True)

    class Meta:
        verbose_name = _("one-time code")
        verbose_name_plural = _("one-time codes")
        ordering = ["-created_at", "-pk"]
        indexes = [
            models.Index(fields=["card", "-created_at"]),
            models.Index(fields=["identifier", "-created_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.card or self.identifier} · {self.created_at:%Y-%m-%d %H:%M}"


class SeeAsLog(models.Model):
    """A staff member opened a client's cabinet "as the client" (read-only), and why."""

    staff = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, related_name="+",
                              verbose_name=_("staff member"))
    card = models.ForeignKey(ClientCard, models.CASCADE, related_name="see_as_log",
                             verbose_name=_("client card"))
    reason = models.CharField(_("reason"), max_length=500)
    at = models.DateTimeField(_("opened"), default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("\"see as client\" record")
        verbose_name_plural = _("\"see as client\" log")
        ordering = ["-at", "-pk"]

    def __str__(self) -> str:
        return f"{self.staff} → {self.card} · {self.at:%Y-%m-%d %H:%M}"
