"""Retention (R2, R5): call scripts per typical situation with a quality checklist, and the
daily call list of clients who show signs of leaving, with each call's outcome."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Situation(models.TextChoices):
    DEBT = "debt", _("Debt")
    COMPLAINT = "complaint", _("Complaint")
    COMPETITOR = "competitor", _("Competitor offer")
    MOVING = "moving", _("Moving")
    OTHER = "other", _("Other")


class CallScript(models.Model):
    situation = models.CharField(_("situation"), max_length=12, choices=Situation.choices)
    title = models.CharField(_("title"), max_length=200)
    text = models.TextField(_("script"), help_text=_("The steps of the conversation."))
    active = models.BooleanField(_("active"), default=True)
    order = models.PositiveSmallIntegerField(_("order"), default=0)

    class Meta:
        verbose_name = _("call script")
        verbose_name_plural = _("call scripts")
        ordering = ["situation", "order", "pk"]

    def __str__(self) -> str:
        return self.title


class ChecklistItem(models.Model):
    """A point of the quality checklist the manager ticks during the call."""

    script = models.ForeignKey(CallScript, models.CASCADE, related_name="checklist",
                               verbose_name=_("call script"))
    text = models.CharField(_("text"), max_length=255)
    order = models.PositiveSmallIntegerField(_("order"), default=0)

    class Meta:
        verbose_name = _("checklist item")
        verbose_name_plural = _("checklist items")
        ordering = ["script", "order", "pk"]

    def __str__(self) -> str:
        return self.text


class RetentionCall(models.Model):
    class Status(models.TextChoices):
        OPEN = "open", _("To call")
        DONE = "done", _("Called")
        SKIPPED = "skipped", _("Skipped")  # its day passed without a call

    class Outcome(models.TextChoices):
        NONE = "", _("—")
        STAYS = "stays", _("Stays")
        PROMISED = "promised_to_pay", _("Promised to pay")
        TARIFF = "tariff_changed", _("Tariff changed")
        LEAVING_CONTROLLABLE = "leaving_controllable", _("Will leave (controllable)")
        LEAVING_UNCONTROLLABLE = "leaving_uncontrollable", _("Will leave (uncontrollable)")
        UNREACHABLE = "unreachable", _("Unreachable")

    class Reason(models.TextChoices):
        DEBT_GROWING = "debt_growing", _("Debt growing")
        PAYMENTS_STOPPED = "payments_stopped", _("Payments stopped")
        REPEATED_TICKETS = "repeated_tickets", _("Repeated tickets")
        LOW_RATING = "low_rating", _("Low rating")
        USAGE_DROPPED = "usage_dropped", _("Usage dropped")

    client = models.ForeignKey("connections.ClientCard", models.CASCADE,
                               related_name="retention_calls", verbose_name=_("client"))
    reasons = models.JSONField(_("reason codes"), default=list, blank=True)
    reason_text = models.CharField(_("why on the list"), max_length=500, blank=True)
    manager = models.ForeignKey(settings.AUTH_USER_MODEL, models.SET_NULL, null=True,
                                blank=True, related_name="retention_calls",
                                verbose_name=_("manager"))
    due = models.DateField(_("call on"))
    status = models.CharField(_("status"), max_length=8, choices=Status.choices,
                              default=Status.OPEN)
    outcome = models.CharField(_("outcome"), max_length=24, choices=Outcome.choices,
                               default="", blank=True)
    notes = models.TextField(_("notes"), blank=True)
    script = models.ForeignKey(CallScript, models.SET_NULL, null=True, blank=True,
                               related_name="calls", verbose_name=_("call script"))
    answers = models.JSONField(_("checklist answers"), default=dict, blank=True,
                               help_text=_("Checklist item id → done or not."))
    called_at = models.DateTimeField(_("called at"), null=True, blank=True)
    called_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.SET_NULL, null=True,
                                  blank=True, related_name="+", verbose_name=_("called by"))
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("retention call")
        verbose_name_plural = _("retention calls")
        ordering = ["due", "pk"]
        indexes = [models.Index(fields=["manager", "due", "status"]),
                   models.Index(fields=["due", "status"])]
        constraints = [
            # The daily job may run twice: one call per client and day.
            models.UniqueConstraint(fields=["client", "due"], name="retention_call_once_a_day"),
        ]

    def __str__(self) -> str:
        return f"{self.client} {self.due:%d.%m.%Y}"
