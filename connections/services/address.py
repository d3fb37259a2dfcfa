"""Address register operations."""

import re

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from connections.models import Building, District, Street
from ispcrm.models import City


def _clean_name(value: str) -> str:
    return re.sub(r"\s+", " ", value or "").strip()


@transaction.atomic
def building_create(*, city: str, district: str, street: str, house: str, households: int = 0,
                    latitude=None, longitude=None) -> Building:
    """Register a building by its address as people write it. The city, district and street
    are found by name (case-insensitive) or added, so a manager can register a new house in
    one step; the same house on the same street twice is refused."""
    city, district, street, house = map(_clean_name, (city, district, street, house))
    errors = {name: _("This field is required.")
              for name, value in (("city", city), ("district", district), ("street", street),
                                  ("house", house)) if not value}
    if errors:
        raise ValidationError(errors)

    city_obj = City.objects.filter(name__iexact=city).first() or City.objects.create(name=city)
    district_obj = (District.objects.filter(city=city_obj, name__iexact=district).first()
                    or District.objects.create(city=city_obj, name=district))
    street_obj = (Street.objects.filter(city=city_obj, name__iexact=street).first()
                  or Street.objects.create(city=city_obj, name=street))
    if Building.objects.filter(street=street_obj, house__iexact=house).exists():
        raise ValidationError({"house": _("%(street)s, %(house)s is already registered.")
                               % {"street": street_obj.name, "house": house}},
                              code="duplicate")
    building = Building(street=street_obj, district=district_obj, house=house,
                        households=households, latitude=latitude, longitude=longitude)
    building.full_clean()
    building.save()
    return building
