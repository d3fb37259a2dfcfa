"""The public join form (C7): someone invited by a client leaves his name, phone and address,
and a manager calls him back. The address is typed as street and house and matched to the
address register of the referrer's city — no script needed; when several streets match,
the form asks to pick one of them."""

import re

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from connections.models import Building
from ispcrm.forms import BootstrapMixin
from ispcrm.validators import normalize_phone

# Words people add before a street's name; the register writes «ул. Ленина».
_STREET_WORDS = re.compile(r"^(ул|улица|пр|пр-т|проспект|пер|переулок|б-р|бульвар|ш|шоссе|"
                           r"пл|площадь|наб|набережная|проезд|туп|тупик)\.?\s+", re.IGNORECASE)
_HOUSE_WORD = re.compile(r"^(дом|д)\.?(?=\d)", re.IGNORECASE)
MAX_MATCHES = 10


def street_words(text: str) -> str:
    """«улица  Ленина» → «Ленина»: the part of a street's name to look for."""
    text = " ".join(text.split())
    return _STREET_WORDS.sub("", text) or text


def buildings_matching(city_id: int, street: str, house: str):
    """Buildings of the city on a street whose name contains the typed words, with that
    house number (any case, spaces ignored)."""
    house = _HOUSE_WORD.sub("", "".join(house.split()))
    words = street_words(street)
    if not words or not house:
        return Building.objects.none()
    return (Building.objects.select_related("street")
            .filter(street__city_id=city_id, street__name__icontains=words,
                    house__iexact=house)
            .order_by("street__name", "house")[:MAX_MATCHES])


class JoinForm(BootstrapMixin, forms.Form):
    name = forms.CharField(label=_("Your name"), max_length=150)
    phone = forms.CharField(label=_("Phone"), max_length=30,
                            widget=forms.TextInput(attrs={"type": "tel",
                                                          "autocomplete": "tel",
                                                          "inputmode": "tel"}))
    street = forms.CharField(label=_("Street"), max_length=150,
                             widget=forms.TextInput(attrs={"autocomplete": "address-line1"}))
    house = forms.CharField(label=_("House"), max_length=20)
    # Shown only when several streets match what was typed.
    building = forms.ChoiceField(label=_("Which of these addresses?"), required=False,
                                 widget=forms.RadioSelect)
    flat = forms.CharField(label=_("Flat"), max_length=20, required=False)
    consent = forms.BooleanField(
        label=_("I agree that my name, phone and address are kept and used to call me about "
                "the connection."),
        error_messages={"required": _("Without your consent we cannot call you back.")})
    # A honeypot: hidden from people (off screen, not in the tab order); bots fill it in.
    website = forms.CharField(label=_("Leave this field empty"), required=False,
                              widget=forms.TextInput(attrs={"tabindex": "-1",
                                                            "autocomplete": "off"}))

    def __init__(self, *args, city_id: int, **kwargs):
        super().__init__(*args, **kwargs)
        self.matches: list[Building] = []
        if self.is_bound:
            self.matches = list(buildings_matching(city_id, self.data.get("street", ""),
                                                   self.data.get("house", "")))
        self.fields["building"].choices = [(str(b.pk), str(b)) for b in self.matches]
        self.fields["name"].widget.attrs["autocomplete"] = "name"
        self.fields["flat"].widget.attrs["inputmode"] = "numeric"

    @property
    def is_bot(self) -> bool:
        return bool(self.data.get("website"))

    def clean_name(self) -> str:
        return " ".join(self.cleaned_data["name"].split())

    def clean_phone(self) -> str:
        try:
            return normalize_phone(self.cleaned_data["phone"])
        except ValidationError:
            raise ValidationError(_("Enter a phone number like +7 912 345-67-89."),
                                  code="phone") from None

    def clean(self):
        data = super().clean()
        if not data.get("street") or not data.get("house"):
            return data
        chosen = data.get("building")
        picked = next((b for b in self.matches if str(b.pk) == chosen), None)
        if picked is None and len(self.matches) == 1:
            picked = self.matches[0]
        if picked is not None:
            data["building"] = picked
        elif self.matches:
            self.add_error("building", _("Several streets match: choose yours."))
        else:
            self.add_error("street", _("We could not find this address in our area. Check "
                                       "the street and the house number."))
        return data
