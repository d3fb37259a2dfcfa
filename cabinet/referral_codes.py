"""Referral codes (C7): a short code that names the client who shares his link.

A code is the card's id in Crockford's base32 followed by a six-character checksum — the
first 30 bits of an HMAC of the id under the project's SECRET_KEY. ``2F`` + ``K7WQ3M`` →
``2FK7WQ3M``: short enough to dictate on the phone, no new table, and the same code forever
for the same card.

Why the checksum: an id alone (or the account number) is sequential, so anyone could walk
through the numbers and learn the first names of our clients from the join page. With the
checksum a made-up code is valid once in about a billion tries, and the join page is rate
limited besides. A code is not a secret, though: it only says who invited the visitor — the
join page shows the referrer's first name and nothing else, and the code opens nothing in
the cabinet.

Changing SECRET_KEY would change every code; the old key in SECRET_KEY_FALLBACKS keeps the
links already shared working (``card_id`` accepts a code made with any of them)."""

import hmac

from django.conf import settings
from django.utils.crypto import salted_hmac

SALT = "cabinet.referral_codes"
ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford's base32: no I, L, O, U
CHECK_LENGTH = 6  # 30 bits
MAX_LENGTH = 20
# What people mistype when they read a code aloud or copy it by hand.
_READ_AS = str.maketrans({"O": "0", "I": "1", "L": "1", "-": None, " ": None})


def _encode(number: int) -> str:
    digits = []
    while True:
        number, digit = divmod(number, 32)
        digits.append(ALPHABET[digit])
        if number == 0:
            return "".join(reversed(digits))


def _decode(text: str) -> int | None:
    number = 0
    for char in text:
        index = ALPHABET.find(char)
        if index < 0:
            return None
        number = number * 32 + index
    return number


def _checksum(card_id: int, secret: str | bytes) -> str:
    digest = salted_hmac(SALT, str(card_id), secret=secret, algorithm="sha256").digest()
    bits = int.from_bytes(digest[:4], "big") >> 2  # the first 30 bits
    return _encode(bits).rjust(CHECK_LENGTH, "0")


def referral_code(card_id: int) -> str:
    """The code of a client card, e.g. ``2FK7WQ3M``."""
    return _encode(card_id) + _checksum(card_id, settings.SECRET_KEY)


def card_id(code: str) -> int | None:
    """The card id a code names, or None when it is not a code we made. Case, dashes,
    spaces and the letters O/I/L read as digits are forgiven."""
    code = (code or "").upper().translate(_READ_AS)
    if not CHECK_LENGTH < len(code) <= MAX_LENGTH:
        return None
    number = _decode(code[:-CHECK_LENGTH])
    if not number:
        return None
    given = code[-CHECK_LENGTH:]
    for secret in (settings.SECRET_KEY, *getattr(settings, "SECRET_KEY_FALLBACKS", ())):
        # Constant time: how much of a guess matched must not show in the response time.
        if hmac.compare_digest(given, _checksum(number, secret)):
            return number
    return None
