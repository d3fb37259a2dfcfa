"""Validation and normalisation of Russian requisites and phone numbers."""

import phonenumbers
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

_INN10_WEIGHTS = (2, 4, 10, 3, 5, 9, 4, 6, 8)
_INN12_WEIGHTS_1 = (7, 2, 4, 10, 3, 5, 9, 4, 6, 8)
_INN12_WEIGHTS_2 = (3, 7, 2, 4, 10, 3, 5, 9, 4, 6, 8)


def _check_digit(digits: str, weights: tuple[int, ...]) -> int:
    return sum(int(d) * w for d, w in zip(digits, weights, strict=False)) % 11 % 10


def validate_inn(value: str) -> None:
    """An INN: 10 digits for an organisation, 12 for a person or sole trader, with the
    check digits of the tax service's algorithm."""
    if not value.isdigit() or len(value) not in (10, 12):
        raise ValidationError(
            _("An INN has 10 digits (organisation) or 12 (person or sole trader)."),
            code="inn_format")
    if len(value) == 10:
        valid = _check_digit(value, _INN10_WEIGHTS) == int(value[9])
    else:
        valid = (_check_digit(value, _INN12_WEIGHTS_1) == int(value[10])
                 and _check_digit(value, _INN12_WEIGHTS_2) == int(value[11]))
    if not valid:
        raise ValidationError(_("The INN check digits do not match: check the number."),
                              code="inn_checksum")


def validate_kpp(value: str) -> None:
    if len(value) != 9 or not value[:4].isdigit() or not value[6:].isdigit():
        raise ValidationError(_("A KPP has 9 characters: NNNNPPNNN."), code="kpp_format")


def normalize_phone(value: str) -> str:
    """Any way a Russian phone is written (8 912…, +7 (912)…, 912…) → E.164 "+79123456789".
    Raises ValidationError for something that is not a possible number."""
    raw = value.strip()
    if raw.startswith("8") and len("".join(ch for ch in raw if ch.isdigit())) == 11:
        raw = "+7" + "".join(ch for ch in raw if ch.isdigit())[1:]
    try:
        number = phonenumbers.parse(raw, "RU")
    except phonenumbers.NumberParseException:
        number = None
    if number is None or not phonenumbers.is_possible_number(number):
        raise ValidationError(_("Not a phone number: %(value)s"), params={"value": value},
                              code="phone")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def format_phone(value: str) -> str:
    """E.164 → how Russians write it: "+7 912 345-67-89"."""
    if value.startswith("+7") and len(value) == 12:
        d = value[2:]
        return f"+7 {d[:3]} {d[3:6]}-{d[6:8]}-{d[8:]}"
    return value
