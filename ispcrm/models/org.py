"""The organisation: cities, branches (D15) and staff."""

import datetime
import zoneinfo

from django.contrib.auth.models import AbstractUser
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from simple_history.models import HistoricalRecords

from ispcrm.audit import AuditedHistory


def validate_time_zone(value: str) -> None:
    if value not in zoneinfo.available_timezones():
        raise ValidationError(_("Unknown time zone: %(zone)s"), params={"zone": value})


class City(models.Model):
    name = models.CharField(pgettext_lazy("place", "name"), max_length=100, unique=True)
    history = HistoricalRecords(bases=[AuditedHistory])

    class Meta:
        verbose_name = _("city")
        verbose_name_plural = _("cities")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Branch(models.Model):
    """An office serving a city. Its time zone and working hours drive every
    "N working days/hours" rule for its clients (see ispcrm.workcalendar)."""

    city = models.ForeignKey(City, models.PROTECT, related_name="branches", verbose_name=_("city"))
    name = models.CharField(pgettext_lazy("place", "name"), max_length=100, unique=True)
    time_zone = models.CharField(
        _("time zone"), max_length=64, default="Europe/Moscow", validators=[validate_time_zone]
    )
    work_start = models.TimeField(_("working day starts"), default=datetime.time(9, 0))
    work_end = models.TimeField(_("working day ends"), default=datetime.time(18, 0))
    address = models.CharField(_("office address"), max_length=255, blank=True)
    phone = models.CharField(_("office phone"), max_length=32, blank=True)
    history = HistoricalRecords(bases=[AuditedHistory])

    class Meta:
        verbose_name = _("branch")
        verbose_name_plural = _("branches")
        ordering = ["city__name", "name"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(work_start__lt=models.F("work_end")),
                name="branch_working_day_not_empty",
            )
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def tz(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.time_zone)


class User(AbstractUser):
    """A staff member (roles are Django groups, see ispcrm.roles) or, later, a cabinet client."""

    branch = models.ForeignKey(
        Branch, models.PROTECT, null=True, blank=True, related_name="staff",
        verbose_name=_("branch"),
    )
    phone = models.CharField(_("phone"), max_length=32, blank=True)
    position = models.CharField(_("position"), max_length=100, blank=True)
    history = HistoricalRecords(bases=[AuditedHistory], excluded_fields=["password", "last_login"])

    class Meta(AbstractUser.Meta):
        verbose_name = _("employee")
        verbose_name_plural = _("employees")
        ordering = ["last_name", "first_name", "username"]

    def __str__(self) -> str:
        return self.get_full_name() or self.username

    @property
    def role_names(self) -> set[str]:
        """Names of this user's role groups, cached for the request."""
        if not hasattr(self, "_role_names"):
            self._role_names = set(self.groups.values_list("name", flat=True))
        return self._role_names

    def has_role(self, *roles: str) -> bool:
        return self.is_superuser or bool(self.role_names.intersection(roles))
