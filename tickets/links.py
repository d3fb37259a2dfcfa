"""Email links (SP-5, SP-9): the client confirms a formal task or rates a resolved ticket
from the message he got, without signing in.

A link carries a token signed with the project's secret (``django.core.signing``) and a salt
of its own purpose, so a rating link can never confirm a task, nor the other way round. The
token names the ticket and its client (a ticket moved to another card makes its old links
dead); a confirmation link also names the task text it was sent for, so a rewritten task is
never confirmed by the link to the old one. Links expire after
``TICKET_LINK_MAX_AGE_DAYS`` days; the action behind a link is done once, as the service
refuses a second confirmation or rating."""

import hashlib
from dataclasses import dataclass

from django.conf import settings
from django.core import signing
from django.urls import reverse

from tickets.models import Ticket

CONFIRM = "confirm"
RATE = "rate"
PURPOSES = (CONFIRM, RATE)
DEFAULT_MAX_AGE_DAYS = 14


class BadLink(Exception):
    """The token is not ours, is for another purpose, or is stale. ``reason`` is
    ``invalid`` (tampered, other purpose, unknown ticket) or ``expired``."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Link:
    ticket: Ticket
    task_fingerprint: str | None = None  # confirmation links: the task text they were for

    def task_changed(self) -> bool:
        """The task was rewritten since this confirmation link was sent."""
        return self.task_fingerprint != task_fingerprint(self.ticket.formal_task)


def _signer(purpose: str) -> signing.TimestampSigner:
    if purpose not in PURPOSES:
        raise ValueError(f"unknown link purpose {purpose!r}")
    return signing.TimestampSigner(salt=f"tickets.link.{purpose}")


def task_fingerprint(text: str) -> str:
    """A short digest of the formal task's text: which version of the task a link is for."""
    return hashlib.sha256((text or "").encode()).hexdigest()[:16]


def make_token(ticket: Ticket, purpose: str) -> str:
    payload = {"t": ticket.pk, "c": ticket.client_id}
    if purpose == CONFIRM:
        payload["f"] = task_fingerprint(ticket.formal_task)
    return _signer(purpose).sign_object(payload, compress=False)


def max_age_seconds() -> int:
    days = getattr(settings, "TICKET_LINK_MAX_AGE_DAYS", DEFAULT_MAX_AGE_DAYS)
    return int(float(days) * 24 * 3600)


def read_token(token: str, purpose: str) -> Link:
    """The ticket a valid, fresh token of ``purpose`` names (its client still the one the
    link was sent to), else BadLink."""
    try:
        payload = _signer(purpose).unsign_object(token, max_age=max_age_seconds())
    except signing.SignatureExpired:
        raise BadLink("expired") from None
    except (signing.BadSignature, ValueError, TypeError):
        raise BadLink("invalid") from None
    if not isinstance(payload, dict) or not isinstance(payload.get("t"), int):
        raise BadLink("invalid")
    ticket = (Ticket.objects.select_related("client", "category")
              .filter(pk=payload["t"]).first())
    if ticket is None or ticket.client_id is None or ticket.client_id != payload.get("c"):
        raise BadLink("invalid")
    return Link(ticket, payload.get("f"))


def link_url(ticket: Ticket, purpose: str) -> str:
    """The absolute link for a message: ``SITE_URL`` + the page's path."""
    path = reverse(f"tickets:link_{purpose}", args=[make_token(ticket, purpose)])
    return settings.SITE_URL.rstrip("/") + path
