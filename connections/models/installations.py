"""Installation (CS-4): crews, their slots and the installation of one client."""

import datetime as dt

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from ispcrm.models import Branch

from .clients import ClientCard

# The crews' day in slots; one installation takes one slot.
SLOTS = (dt.time(9, 0), dt.time(12, 0), dt.time(15, 0))


class Crew(models.Model):
    branch = models.ForeignKey(Branch, models.PROTECT, related_name="crews",
                               verbose_name=_("branch"))
    name = models.CharField(_("name"), max_length=100)
    members = models.CharField(_("members"), max_length=255, blank=True)
    phone = models.CharField(_("phone"), max_length=32, blank=True)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("crew")
        verbose_name_plural = _("crews")
        ordering = ["branch", "name"]
        constraints = [models.UniqueConstraint(fields=["branch", "name"],
                                               name="crew_name_per_branch")]

    def __str__(self) -> str:
        return self.name


class Installation(models.Model):
    class Priority(models.IntegerChoices):
        NORMAL = 0, _("Normal")
        HIGH = 1, _("High")
        URGENT = 2, _("Urgent")

    card = models.OneToOneField(ClientCard, models.CASCADE, related_name="installation",
                                verbose_name=_("client"))
    due_date = models.DateField(_("guaranteed by"), null=True, blank=True)
    priority = models.SmallIntegerField(_("priority"), choices=Priority.choices,
                                        default=Priority.NORMAL)
    crew = models.ForeignKey(Crew, models.PROTECT, null=True, blank=True,
                             related_name="installations", verbose_name=_("crew"))
    date = models.DateField(_("date"), null=True, blank=True)
    slot = models.TimeField(_("time"), null=True, blank=True)
    planned_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, null=True,
                                   blank=True, related_name="+", verbose_name=_("planned by"))
    planned_at = models.DateTimeField(null=True, blank=True)
    # The lead manager agrees the planned date with the client (CS-4, C2).
    confirmed_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, null=True,
                                     blank=True, related_name="+",
                                     verbose_name=_("confirmed with the client by"))
    confirmed_at = models.DateTimeField(null=True, blank=True)
    # Installation before payment needs the technical director (CS-4).
    override_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, null=True,
                                    blank=True, related_name="+",
                                    verbose_name=_("allowed before payment by"))
    override_reason = models.TextField(_("why before payment"), blank=True)
    special_equipment = models.TextField(
        _("special equipment to order"), blank=True,
        help_text=_("Goes to the chief engineer's list."))
    equipment_ordered_at = models.DateTimeField(_("equipment ordered"), null=True, blank=True)
    temporary_modem = models.BooleanField(_("temporary modem connection"), default=False)
    ip_address = models.GenericIPAddressField(_("client's IP address"), null=True, blank=True)
    completed_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, null=True,
                                     blank=True, related_name="+", verbose_name=_("completed by"))
    completed_at = models.DateTimeField(_("completed"), null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("installation")
        verbose_name_plural = _("installations")
        ordering = ["date", "slot"]
        constraints = [
            # Two installations can never share a crew's slot, even when planned at once.
            models.UniqueConstraint(fields=["crew", "date", "slot"],
                                    name="installation_one_per_crew_slot"),
        ]
        indexes = [
            models.Index(fields=["date", "crew"]),
            # The overdue ones (connections.queues.overdue_q): few among all ever made.
            models.Index(fields=["due_date"], condition=models.Q(completed_at__isnull=True),
                         name="installation_open_due"),
        ]

    def __str__(self) -> str:
        return f"{self.card} {self.date or ''}"

    @property
    def scheduled(self) -> bool:
        return bool(self.date and self.crew_id and self.slot)
