"""Signing in to the personal cabinet (issue 6, item 1): who an account number or phone is,
one-time codes for the first password and resets, the cabinet's short sessions and the
staff's logged "see as client" view.

A client signs in with what he knows from his contract: his **account number** or his
**phone**, written any usual way. The login behind it is the user linked by
``ClientCard.cabinet_user``; it is made when the first code is sent.

Codes: six digits, valid ``CODE_LIFETIME``, at most ``CODE_ATTEMPTS`` wrong tries each, at
most ``CODES_PER_HOUR`` per client. Only the newest code of a client counts. Every answer
is the same whether the account number or phone exists or not (see ``OneTimeCode``)."""

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth import password_validation
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.crypto import constant_time_compare, salted_hmac
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from billing.models import Account
from cabinet.models import OneTimeCode, SeeAsLog
from connections.models import ClientCard
from ispcrm import notifications
from ispcrm.errors import RuleViolation
from ispcrm.models import User
from ispcrm.validators import normalize_phone

CODE_LIFETIME = timedelta(minutes=10)
CODE_ATTEMPTS = 5
CODES_PER_HOUR = 3
CODE_DIGITS = 6
DEFAULT_SESSION_AGE = 30 * 60  # seconds; settings.CABINET_SESSION_AGE overrides

# Marks a session opened by a cabinet client (cabinet.middleware keeps it alive while used).
CABINET_SESSION_FLAG = "cabinet_client"


# --- Who is it -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Lookup:
    """What an identifier the client typed stands for. ``identifier`` is its normal form
    (the account number, or the phone as +79123456789): throttling counts by it, so
    "8 912 345-67-89" and "+7 (912) 3456789" are one login for django-axes."""

    identifier: str
    card: ClientCard | None = None
    ambiguous: bool = False  # a phone shared by several cards: the account number is needed


def find_card(identifier: str) -> Lookup:
    """The client card an account number or phone belongs to. A phone on several cards finds
    none (``ambiguous``): which client signs in must never be a guess."""
    text = (identifier or "").strip()
    compact = "".join(ch for ch in text if ch not in " -()\u00a0")
    if compact.isdigit():
        account = (Account.objects.select_related("client__cabinet_user")
                   .filter(number=compact).first())
        if account is not None:
            return Lookup(identifier=compact, card=account.client)
    phone = _phone(compact)
    if phone is None:
        return Lookup(identifier=compact[:32].casefold())
    cards = list(ClientCard.objects.select_related("cabinet_user").filter(phone=phone)[:2])
    if len(cards) > 1:
        return Lookup(identifier=phone, ambiguous=True)
    return Lookup(identifier=phone, card=cards[0] if cards else None)


def _phone(compact: str) -> str | None:
    if sum(ch.isdigit() for ch in compact) < 10:  # account numbers are shorter than phones
        return None
    try:
        return normalize_phone(compact)
    except ValidationError:
        return None


def ambiguous_phone_error() -> ValidationError:
    return ValidationError(_("Several accounts have this phone: enter your account number "
                             "instead (it is in your contract)."), code="ambiguous_phone")


def is_cabinet_user(user) -> bool:
    """A cabinet client's login (linked to a client card), not a staff member."""
    return bool(user and user.is_authenticated and hasattr(user, "client_card"))


# --- One-time codes --------------------------------------------------------------------------


@dataclass(frozen=True)
class CodeSent:
    """The outcome of a code request. The client's page must not show it (the answer is the
    same for everyone); the staff's card page does."""

    card: ClientCard | None
    channel: str = ""  # "" when nothing was sent (nobody has this identifier)
    recipient: str = ""
    delivered: bool = False
    error: str = ""


def _hash(card_id: int, code: str) -> str:
    return salted_hmac("cabinet.one-time-code", f"{card_id}:{code}",
                       algorithm="sha256").hexdigest()


def _codes(card: ClientCard | None, identifier: str):
    """The codes of a client, or the recorded requests for an identifier that is nobody's."""
    if card is not None:
        return OneTimeCode.objects.filter(card=card)
    return OneTimeCode.objects.filter(card__isnull=True, identifier=identifier)


def code_request(*, identifier: str, now: datetime | None = None) -> CodeSent:
    """The client asks for a code by his account number or phone. An unknown identifier
    gets no code but is recorded and limited the same way (no account enumeration)."""
    lookup = find_card(identifier)
    if lookup.ambiguous:
        raise ValidationError({"identifier": ambiguous_phone_error()})
    return _issue(card=lookup.card, identifier=lookup.identifier, requested_by=None, now=now)


def code_send(*, card: ClientCard, requested_by: User, now: datetime | None = None) -> CodeSent:
    """A staff member sends the client a code from his card (the client asked on the phone)."""
    account = Account.objects.filter(client=card).only("number").first()
    return _issue(card=card, identifier=account.number if account else card.phone,
                  requested_by=requested_by, now=now)


def _issue(*, card: ClientCard | None, identifier: str, requested_by: User | None,
           now: datetime | None) -> CodeSent:
    now = now or timezone.now()
    with transaction.atomic():
        if card is not None:
            # Lock the card: two requests at once must not both pass the hourly limit, nor
            # both create the login.
            card = (ClientCard.objects.select_for_update(of=("self",))
                    .select_related("cabinet_user").get(pk=card.pk))
        _check_hourly_limit(_codes(card, identifier), now)
        code = f"{secrets.randbelow(10 ** CODE_DIGITS):0{CODE_DIGITS}d}" if card else ""
        channel, recipient = "", ""
        if card is not None:
            login_for(card)  # the first code makes the login (no usable password yet)
            channel, recipient = ((OneTimeCode.Channel.EMAIL, card.email) if card.email
                                  else (OneTimeCode.Channel.SMS, card.phone))
        record = OneTimeCode.objects.create(
            card=card, identifier=identifier, code_hash=_hash(card.pk, code) if card else "",
            channel=channel, requested_by=requested_by, created_at=now,
            expires_at=now + CODE_LIFETIME)
    if card is None:
        return CodeSent(card=None)
    # Sent after the commit: a slow mail server must not hold the card's lock, and a code
    # that was sent is always on record.
    result = notifications.send(channel=channel, recipient=recipient,
                                subject=_("Your personal cabinet code"),
                                text=_code_text(code))
    OneTimeCode.objects.filter(pk=record.pk).update(delivered=result.ok)
    return CodeSent(card=card, channel=channel, recipient=recipient, delivered=result.ok,
                    error=result.error)


def _check_hourly_limit(codes, now: datetime) -> None:
    recent = list(codes.filter(created_at__gt=now - timedelta(hours=1))
                  .order_by("-created_at").values_list("created_at", flat=True)
                  [:CODES_PER_HOUR])
    if len(recent) < CODES_PER_HOUR:
        return
    next_at = recent[-1] + timedelta(hours=1)  # when the oldest of them leaves the hour
    raise RuleViolation(
        ngettext("At most %(n)d code an hour can be sent. The next one: at %(time)s.",
                 "At most %(n)d codes an hour can be sent. The next one: at %(time)s.",
                 CODES_PER_HOUR) % {"n": CODES_PER_HOUR,
                                    "time": date_format(timezone.localtime(next_at), "H:i")},
        code="codes_per_hour")


def _code_text(code: str) -> str:
    minutes = int(CODE_LIFETIME.total_seconds() // 60)
    return _("%(code)s is your personal cabinet code. It is valid for %(minutes)d minutes. "
             "Do not tell it to anyone: our staff never ask for it.") % {
        "code": code, "minutes": minutes}


def login_for(card: ClientCard) -> User:
    """The card's cabinet login, made on first need: username ``c<card id>`` (the client
    never types it) and no usable password until a code is confirmed."""
    if card.cabinet_user_id:
        return card.cabinet_user
    username = f"c{card.pk}"
    while User.objects.filter(username=username).exists():  # a staff login took the name
        username = f"c{card.pk}-{secrets.token_hex(2)}"
    user = User(username=username, email=card.email, first_name=card.name[:150])
    user.set_unusable_password()
    user.save()
    card.cabinet_user = user
    card.save(update_fields=["cabinet_user"])
    return user


def code_confirm(*, identifier: str, code: str, password: str,
                 now: datetime | None = None) -> User:
    """Check the code and set the new password; returns the login to sign in. Errors come
    as a ValidationError on ``code`` or ``new_password1`` (Django's password validators)."""
    now = now or timezone.now()
    lookup = find_card(identifier)
    if lookup.ambiguous:
        raise ValidationError({"identifier": ambiguous_phone_error()})
    code = "".join((code or "").split())
    with transaction.atomic():
        # Lock the newest code: two submissions at once must not both get a try past the
        # attempt limit, nor both use it. A wrong try is counted in this transaction, so
        # the error is raised only after it is committed.
        record = (_codes(lookup.card, lookup.identifier).select_for_update()
                  .order_by("-created_at", "-pk").first())
        error = _code_error(record, lookup.card, code, now)
        user = None
        if error is None:
            user = login_for(lookup.card)
            try:
                if not user.is_active:  # staff blocked this login: a code does not lift it
                    raise ValidationError({"code": ValidationError(
                        _("Your cabinet login is blocked: please call us."), code="inactive")})
                try:
                    password_validation.validate_password(password, user)
                except ValidationError as exc:
                    raise ValidationError({"new_password1": exc.error_list}) from exc
            except ValidationError as exc:
                error = exc
            else:
                user.set_password(password)
                user.save(update_fields=["password"])
                record.used_at = now
                record.save(update_fields=["used_at"])
    if error is not None:
        raise error
    return user


def _code_error(record: OneTimeCode | None, card: ClientCard | None, code: str,
                now: datetime) -> ValidationError | None:
    """Why the code cannot be used, counting a wrong try; None when it is right."""
    def refuse(message: str, code_name: str) -> ValidationError:
        return ValidationError({"code": ValidationError(message, code=code_name)})

    if record is None or record.used_at is not None:
        return refuse(_("This code is wrong or has been used: ask for a new one."), "no_code")
    if record.expires_at <= now:
        return refuse(_("The code has expired: ask for a new one."), "expired")
    if record.attempts >= CODE_ATTEMPTS:
        return refuse(_("Too many wrong codes: ask for a new one."), "attempts")
    if card is not None and constant_time_compare(_hash(card.pk, code), record.code_hash):
        return None
    record.attempts += 1
    record.save(update_fields=["attempts"])
    left = CODE_ATTEMPTS - record.attempts
    if left == 0:
        return refuse(_("Wrong code, and that was the last try: ask for a new one."),
                      "attempts")
    return refuse(ngettext("Wrong code: %(left)d try left.", "Wrong code: %(left)d tries left.",
                           left) % {"left": left}, "wrong")


# --- Sessions --------------------------------------------------------------------------------


def session_age() -> int:
    return int(getattr(settings, "CABINET_SESSION_AGE", DEFAULT_SESSION_AGE))


def on_user_logged_in(sender, request, user, **kwargs) -> None:
    """A cabinet client's session lasts ``CABINET_SESSION_AGE`` seconds after his last
    request, whichever form he signed in through (cabinet.middleware renews it)."""
    session = getattr(request, "session", None)
    if session is None or not is_cabinet_user(user):
        return
    session.set_expiry(session_age())
    session[CABINET_SESSION_FLAG] = True


# --- See as client ---------------------------------------------------------------------------


@transaction.atomic
def see_as_start(*, staff: User, card: ClientCard, reason: str) -> SeeAsLog:
    """Log that ``staff`` opens the client's cabinet read-only, and why (required)."""
    if not staff.has_perm("connections.view_clientcard"):
        raise PermissionDenied(_("You may not see client cards."))
    reason = " ".join((reason or "").split())
    if not reason:
        raise ValidationError({"reason": _("Say why you open the client's cabinet: the "
                                           "reason is logged.")})
    return SeeAsLog.objects.create(staff=staff, card=card, reason=reason[:500])
