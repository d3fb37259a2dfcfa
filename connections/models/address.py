"""The address register: districts and streets of a city, buildings with their households
(the denominator of penetration, D10)."""

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models.functions import Lower
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from simple_history.models import HistoricalRecords

from ispcrm.audit import AuditedHistory
from ispcrm.models import City


class District(models.Model):
    city = models.ForeignKey(City, models.PROTECT, related_name="districts",
                             verbose_name=_("city"))
    name = models.CharField(pgettext_lazy("place", "name"), max_length=100)
    history = HistoricalRecords(bases=[AuditedHistory])

    class Meta:
        verbose_name = _("district")
        verbose_name_plural = _("districts")
        ordering = ["city__name", "name"]
        constraints = [models.UniqueConstraint(Lower("name"), "city",
                                               name="district_unique_name_in_city")]

    def __str__(self) -> str:
        return self.name


class Street(models.Model):
    city = models.ForeignKey(City, models.PROTECT, related_name="streets", verbose_name=_("city"))
    name = models.CharField(pgettext_lazy("place", "name"), max_length=150,
                            help_text=_("As written: «ул. Ленина»."))
    history = HistoricalRecords(bases=[AuditedHistory])

    class Meta:
        verbose_name = _("street")
        verbose_name_plural = _("streets")
        ordering = ["city__name", "name"]
        constraints = [models.UniqueConstraint(Lower("name"), "city",
                                               name="street_unique_name_in_city")]

    def __str__(self) -> str:
        return self.name


class Building(models.Model):
    street = models.ForeignKey(Street, models.PROTECT, related_name="buildings",
                               verbose_name=_("street"))
    district = models.ForeignKey(District, models.PROTECT, related_name="buildings",
                                 verbose_name=_("district"))
    house = models.CharField(_("house"), max_length=20, help_text=_("Number with letter or "
                                                                    "block: «12к2», «5А»."))
    households = models.PositiveIntegerField(
        _("households"), default=0, help_text=_("Flats or offices: the penetration base.")
    )
    latitude = models.DecimalField(_("latitude"), max_digits=9, decimal_places=6, null=True,
                                   blank=True,
                                   validators=[MinValueValidator(-90), MaxValueValidator(90)])
    longitude = models.DecimalField(_("longitude"), max_digits=9, decimal_places=6, null=True,
                                    blank=True,
                                    validators=[MinValueValidator(-180), MaxValueValidator(180)])
    history = HistoricalRecords(bases=[AuditedHistory])

    class Meta:
        verbose_name = _("building")
        verbose_name_plural = _("buildings")
        ordering = ["street__name", "house"]
        constraints = [models.UniqueConstraint(Lower("house"), "street",
                                               name="building_unique_house_on_street")]

    def __str__(self) -> str:
        return f"{self.street.name}, {self.house}"

    @property
    def city(self) -> City:
        return self.street.city

    @property
    def address(self) -> str:
        return f"{self.street.city.name}, {self.street.name}, {self.house}"
