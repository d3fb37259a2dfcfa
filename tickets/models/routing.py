"""Where a ticket goes and how fast it must be answered (Q1, SP-3): the category tree with
its responsible groups, and the SLA policies chosen by the first matching rule."""

from decimal import Decimal

from django.conf import settings
from django.contrib.auth.models import Group
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from ispcrm.audit import AuditedHistory


class Category(models.Model):
    """A node of type → direction → vendor/subject. A node without a group inherits its
    parent's; the person, if named, takes every ticket of the node."""

    code = models.SlugField(_("code"), max_length=50, unique=True)
    name = models.CharField(_("name"), max_length=100)
    client_name = models.CharField(
        _("name for clients"), max_length=150, blank=True,
        help_text=_("Plain words for the cabinet's picker; empty: the name."))
    parent = models.ForeignKey("self", models.PROTECT, null=True, blank=True,
                               related_name="children", verbose_name=_("parent"))
    group = models.ForeignKey(Group, models.PROTECT, null=True, blank=True, related_name="+",
                              verbose_name=_("responsible group"))
    person = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, null=True,
                               blank=True, related_name="+",
                               verbose_name=_("responsible person"))
    head = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, null=True, blank=True,
                             related_name="+", verbose_name=_("group head"),
                             help_text=_("Gets escalations and low ratings; empty: the "
                                         "parent's."))
    active = models.BooleanField(_("active"), default=True)
    order = models.PositiveSmallIntegerField(_("order"), default=0)
    history = HistoricalRecords(bases=[AuditedHistory])

    class Meta:
        verbose_name = _("ticket category")
        verbose_name_plural = _("ticket categories")
        ordering = ["order", "name"]

    def __str__(self) -> str:
        return f"{self.parent} → {self.name}" if self.parent_id else self.name


class SlaPolicy(models.Model):
    """Targets in working hours of the branch. Rules are tried in ``order``; empty match
    fields match anything, so the last rule with none set is the fallback."""

    class Segment(models.TextChoices):
        ANY = "", _("Any client")
        PERSON = "person", _("Persons")
        COMPANY = "company", _("Companies")

    name = models.CharField(_("name"), max_length=100)
    order = models.PositiveSmallIntegerField(_("order"), default=100)
    active = models.BooleanField(_("active"), default=True)
    segment = models.CharField(_("client segment"), max_length=10, choices=Segment.choices,
                               blank=True, default="")
    min_arpu = models.DecimalField(_("monthly fee from"), max_digits=14, decimal_places=2,
                                   null=True, blank=True,
                                   help_text=_("ARPU grade: the client's monthly fee."))
    client = models.ForeignKey("connections.ClientCard", models.CASCADE, null=True,
                               blank=True, related_name="+",
                               verbose_name=_("contract (one client)"))
    category = models.ForeignKey(Category, models.CASCADE, null=True, blank=True,
                                 related_name="+", verbose_name=_("category and below"))
    priority = models.CharField(_("priority"), max_length=10, blank=True, default="")
    first_response_hours = models.DecimalField(
        _("first response, working hours"), max_digits=6, decimal_places=2,
        validators=[MinValueValidator(Decimal("0.1"))])
    update_hours = models.DecimalField(
        _("update interval, working hours"), max_digits=6, decimal_places=2, null=True,
        blank=True, validators=[MinValueValidator(Decimal("0.1"))])
    resolution_hours = models.DecimalField(
        _("resolution, working hours"), max_digits=7, decimal_places=2,
        validators=[MinValueValidator(Decimal("0.1"))])
    warn_percent = models.PositiveSmallIntegerField(
        _("warn the assignee at, %"), default=80,
        validators=[MinValueValidator(1), MaxValueValidator(99)])
    history = HistoricalRecords(bases=[AuditedHistory])

    class Meta:
        verbose_name = _("SLA policy")
        verbose_name_plural = _("SLA policies")
        ordering = ["order", "id"]

    def __str__(self) -> str:
        return self.name
