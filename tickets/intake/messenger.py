"""Messenger intake (SP-2): a webhook update becomes a ticket of the client whose card has
that chat linked (``ClientCard.messenger_id``), or joins his latest open messenger ticket.

Each messenger is an adapter that turns its update into an ``Incoming`` message; the rest
does not know which messenger it was. Telegram is the one adapter so far."""

import logging
from dataclasses import dataclass
from typing import Protocol

from django.db import transaction

from connections.models import ClientCard
from tickets.models import Comment, Ticket
from tickets.services import outages, tickets

from .email import intake_category

logger = logging.getLogger("tickets.intake")

SUBJECT_MAX = 80
OPEN_STATUSES = (Ticket.Status.NEW, Ticket.Status.OPEN, Ticket.Status.WAITING)


@dataclass(frozen=True)
class Incoming:
    chat_id: str
    text: str
    message_id: str  # unique across messengers: kept as the ticket's or comment's reference


class Adapter(Protocol):
    name: str

    def parse(self, update: dict) -> Incoming | None:
        """The message in a webhook update, or None for updates that carry none."""


class TelegramAdapter:
    """Bot API updates: https://core.telegram.org/bots/api#update"""

    name = "telegram"

    def parse(self, update: dict) -> Incoming | None:
        message = update.get("message") or update.get("edited_message")
        if not isinstance(message, dict):
            return None
        chat = message.get("chat") or {}
        text = (message.get("text") or message.get("caption") or "").strip()
        if "id" not in chat or not text:
            return None
        return Incoming(chat_id=str(chat["id"]), text=text,
                        message_id=f"tg:{chat['id']}:{message.get('message_id', '')}")


def _subject(text: str) -> str:
    line = text.splitlines()[0]
    return line if len(line) <= SUBJECT_MAX else line[:SUBJECT_MAX - 1] + "…"


@transaction.atomic
def receive(incoming: Incoming) -> Ticket | None:
    """File the message; None when no card has the chat linked (logged)."""
    card = ClientCard.objects.filter(messenger_id=incoming.chat_id).order_by("-pk").first()
    if card is None:
        logger.warning("Messenger message from unknown chat %s ignored", incoming.chat_id)
        return None
    if (Ticket.objects.filter(external_ref=incoming.message_id).exists()
            or Comment.objects.filter(external_ref=incoming.message_id).exists()):
        return None  # a webhook retried: taken already
    ticket = (card.tickets.filter(channel=Ticket.Channel.MESSENGER, status__in=OPEN_STATUSES)
              .order_by("-created_at", "-pk").first())
    if ticket is not None:
        tickets.comment_add(ticket=ticket, author=None, body=incoming.text,
                            kind=Comment.Kind.CLIENT, external_ref=incoming.message_id)
        return ticket
    category = intake_category()
    if category is None:
        logger.error("Messenger message from chat %s: no ticket category", incoming.chat_id)
        return None
    ticket = tickets.ticket_open(actor=None, category=category,
                                 channel=Ticket.Channel.MESSENGER,
                                 subject=_subject(incoming.text), description=incoming.text,
                                 client=card, external_ref=incoming.message_id)
    outages.link_to_active_outage(ticket)
    return ticket
