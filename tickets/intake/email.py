"""The support mailbox (SP-2): each RFC 822 message opens a ticket or, when it answers one,
threads into it as the client's message (which resumes a clock waiting for him).

A reply is recognised by In-Reply-To/References naming a ticket's or a comment's Message-ID,
or by "[#123]" in the subject. A message that cannot be read (no sender, no text, a body that
does not decode) is rejected: the reason is logged to ``tickets.intake`` and nothing changes.
The same message delivered twice is taken once (its Message-ID is remembered)."""

import email
import email.policy
import logging
import re
from dataclasses import dataclass, field
from email.utils import parseaddr

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils.html import strip_tags

from connections.models import ClientCard, ClientContact
from connections.models.clients import Stage
from ispcrm.models import Branch
from tickets.models import Category, Comment, Ticket
from tickets.services import outages, tickets

logger = logging.getLogger("tickets.intake")

SUBJECT_TAG = re.compile(r"\[#(\d+)\]")
SUBJECT_MAX = 200


class Rejected(Exception):
    """The message cannot become a ticket; ``str()`` says why."""


@dataclass
class Message:
    sender: str
    subject: str
    body: str
    message_id: str = ""
    references: list[str] = field(default_factory=list)


@dataclass
class Outcome:
    ticket: Ticket
    created: bool  # a new ticket, not a reply
    comment: Comment | None = None


def _text_of(msg) -> str:
    part = msg.get_body(preferencelist=("plain", "html"))
    if part is None:
        raise Rejected("no text part")
    try:
        text = part.get_content()
    except (LookupError, UnicodeError, ValueError) as exc:
        raise Rejected(f"undecodable body: {exc}") from None
    if not isinstance(text, str):
        raise Rejected("the body is not text")
    if part.get_content_subtype() == "html":
        text = strip_tags(text)
    return text.strip()


def parse(raw: bytes | str) -> Message:
    """Read the parts a ticket needs; raises Rejected with the reason."""
    try:
        if isinstance(raw, str):
            msg = email.message_from_string(raw, policy=email.policy.default)
        else:
            msg = email.message_from_bytes(raw, policy=email.policy.default)
        sender = parseaddr(str(msg.get("From", "")))[1].strip().lower()
        subject = " ".join(str(msg.get("Subject", "")).split())
        message_id = str(msg.get("Message-ID", "")).strip()
        references = " ".join(str(msg.get(name, "")) for name in ("In-Reply-To", "References"))
    except (ValueError, TypeError, UnicodeError, LookupError) as exc:
        raise Rejected(f"unreadable headers: {exc}") from None
    if "@" not in sender:
        raise Rejected("no sender address (From)")
    body = _text_of(msg)
    if not body:
        raise Rejected("empty body")
    return Message(sender=sender, subject=subject, body=body, message_id=message_id,
                   references=re.findall(r"<[^<>\s]+>", references))


def client_by_email(address: str) -> ClientCard | None:
    """The card with this email, or whose contact has it; a current client first."""
    cards = ClientCard.objects.filter(
        Q(email__iexact=address)
        | Q(pk__in=ClientContact.objects.filter(email__iexact=address).values("client")))
    gone = (Stage.CANCELLED, Stage.TERMINATED)
    return cards.exclude(stage__in=gone).order_by("-pk").first() or cards.order_by("-pk").first()


def intake_category() -> Category | None:
    """Where tickets that arrive by themselves (mail, messengers) start; routing by a person
    may refine it later."""
    code = getattr(settings, "SUPPORT_EMAIL_CATEGORY", "")
    category = Category.objects.filter(code=code, active=True).first() if code else None
    return category or Category.objects.filter(parent__isnull=True, active=True).first()


def _thread(message: Message, client: ClientCard | None) -> Ticket | None:
    """The ticket this message answers, if any."""
    if message.references:
        ticket = Ticket.objects.filter(external_ref__in=message.references).first()
        if ticket is not None:
            return ticket
        comment = (Comment.objects.filter(external_ref__in=message.references)
                   .select_related("ticket").first())
        if comment is not None:
            return comment.ticket
    tag = SUBJECT_TAG.search(message.subject)
    if tag:
        # A subject tag is easy to type: only the ticket's own client threads by it.
        ticket = Ticket.objects.filter(pk=int(tag.group(1))).first()
        if ticket is not None and (ticket.client_id is None
                                   or (client is not None and ticket.client_id == client.pk)):
            return ticket
    return None


def _already_taken(message_id: str) -> Ticket | None:
    if not message_id:
        return None
    ticket = Ticket.objects.filter(external_ref=message_id).first()
    if ticket is None:
        comment = Comment.objects.filter(external_ref=message_id).first()
        ticket = comment.ticket if comment is not None else None
    return ticket


def _open(message: Message, client: ClientCard | None) -> Outcome:
    category = intake_category()
    if category is None:
        raise Rejected("no ticket category for email (set SUPPORT_EMAIL_CATEGORY)")
    branch = client.branch if client is not None else Branch.objects.order_by("pk").first()
    description = message.body if client is not None else (
        f"From: {message.sender}\n\n{message.body}")
    ticket = tickets.ticket_open(
        actor=None, category=category, channel=Ticket.Channel.EMAIL,
        subject=(message.subject or message.body.splitlines()[0])[:SUBJECT_MAX],
        description=description, client=client, branch=branch,
        external_ref=message.message_id)
    outages.link_to_active_outage(ticket)
    return Outcome(ticket=ticket, created=True)


def receive(raw: bytes | str) -> Outcome | None:
    """Take one message; None when it was rejected (the reason is logged)."""
    try:
        message = parse(raw)
        with transaction.atomic():
            return _take(message)
    except Rejected as exc:
        logger.warning("Support email rejected: %s", exc)
    except ValidationError as exc:
        logger.warning("Support email rejected: %s", "; ".join(exc.messages))
    return None


def _take(message: Message) -> Outcome:
    seen = _already_taken(message.message_id)
    if seen is not None:
        logger.info("Support email %s already taken into ticket %s", message.message_id,
                    seen.pk)
        return Outcome(ticket=seen, created=False)
    client = client_by_email(message.sender)
    ticket = _thread(message, client)
    if ticket is None or ticket.status == Ticket.Status.CLOSED:
        return _open(message, client)  # a closed ticket stays closed: a new request
    comment = tickets.comment_add(ticket=ticket, author=None, body=message.body,
                                  kind=Comment.Kind.CLIENT, external_ref=message.message_id)
    return Outcome(ticket=ticket, created=False, comment=comment)
