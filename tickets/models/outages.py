"""Outages (M5, M6): what is down, where, since when and until when."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from ispcrm.audit import AuditedHistory


class Outage(models.Model):
    description = models.TextField(_("description"))
    buildings = models.ManyToManyField("connections.Building", blank=True,
                                       related_name="outages", verbose_name=_("buildings"))
    districts = models.ManyToManyField("connections.District", blank=True, related_name="+",
                                       verbose_name=_("whole districts"))
    streets = models.ManyToManyField("connections.Street", blank=True, related_name="+",
                                     verbose_name=_("whole streets"))
    started_at = models.DateTimeField(_("started"), default=timezone.now)
    eta = models.DateTimeField(_("expected repair"), null=True, blank=True)
    resolved_at = models.DateTimeField(_("resolved"), null=True, blank=True)
    resolution = models.TextField(_("what was done"), blank=True)
    compensated_at = models.DateTimeField(_("compensated"), null=True, blank=True,
                                          editable=False)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, null=True,
                                   blank=True, related_name="+", verbose_name=_("created by"))
    history = HistoricalRecords(bases=[AuditedHistory])

    class Meta:
        verbose_name = _("outage")
        verbose_name_plural = _("outages")
        ordering = ["-started_at"]
        indexes = [models.Index(fields=["resolved_at", "-started_at"])]

    def __str__(self) -> str:
        return self.description[:60]

    @property
    def active(self) -> bool:
        return self.resolved_at is None


class OutageUpdate(models.Model):
    outage = models.ForeignKey(Outage, models.CASCADE, related_name="updates",
                               verbose_name=_("outage"))
    text = models.TextField(_("update"))
    eta = models.DateTimeField(_("new expected repair"), null=True, blank=True)
    author = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, null=True,
                               blank=True, related_name="+", verbose_name=_("author"))
    created_at = models.DateTimeField(_("written"), default=timezone.now)

    class Meta:
        verbose_name = _("outage update")
        verbose_name_plural = _("outage updates")
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return self.text[:60]
