"""Sending a message to a person — the one sender of the whole product (debt notices of
SP-7, the cabinet's one-time codes, …).

``send(channel=…, recipient=…, subject=…, text=…)`` never raises for a failed delivery: it
returns ``SendResult(ok=False, error=…)`` and logs a warning, so a caller can record the
failure and go on (a daily job must not stop at one bad address). A programming error — an
unknown channel — still raises.

- **email** goes through Django's email backend (``EMAIL_BACKEND``, from
  ``DEFAULT_FROM_EMAIL``). Set ``EMAIL_TIMEOUT`` in production: without it a dead SMTP
  server can hold the caller for the operating system's TCP timeout.
- **sms** goes through the backend named by the setting ``NOTIFICATION_SMS_BACKEND`` (a dotted
  path to a class with a no-argument constructor, see ``SmsBackend``); the default only writes
  the message to the ``ispcrm.notifications`` log, which is what development and tests want
  and what production must replace (it logs one-time codes in clear).
- **messenger** goes through ``NOTIFICATION_MESSENGER_BACKEND`` when it is set, otherwise
  through the SMS backend (many SMS gateways deliver to a messenger first and fall back to
  SMS themselves). ``TelegramBackend`` is the built-in one: it writes to the chat a client
  wrote to the support bot from (his card's ``messenger_id``), with ``TELEGRAM_BOT_TOKEN``.
"""

import json
import logging
import urllib.request
from dataclasses import dataclass
from typing import Protocol

from django.conf import settings
from django.core.mail import send_mail
from django.utils.module_loading import import_string

__all__ = ["CHANNELS", "EMAIL", "MESSENGER", "SMS", "LoggingSmsBackend", "SendResult",
           "SmsBackend", "TelegramBackend", "send"]

logger = logging.getLogger("ispcrm.notifications")

EMAIL = "email"
SMS = "sms"
MESSENGER = "messenger"
CHANNELS = (EMAIL, SMS, MESSENGER)

DEFAULT_SMS_BACKEND = "ispcrm.notifications.LoggingSmsBackend"


@dataclass(frozen=True)
class SendResult:
    ok: bool
    error: str = ""


class SmsBackend(Protocol):
    """What an SMS or messenger gateway adapter provides. A new instance is made for each
    message, so keep connection pools at module level if the gateway needs one."""

    def send(self, recipient: str, text: str) -> None:
        """Deliver ``text`` to ``recipient`` (a phone as +79123456789) or raise an exception
        that says why not. Bound your own network timeouts: the caller waits."""


class LoggingSmsBackend:
    """The default: writes the message to the log and reports success."""

    def send(self, recipient: str, text: str) -> None:
        logger.info("Message to %s: %s", recipient, text)


class TelegramBackend:
    """Telegram's Bot API ``sendMessage`` to a chat id. A phone number is no chat id: a
    client who never wrote to the bot cannot be reached this way (the caller's failure)."""

    API = "https://api.telegram.org/bot{token}/sendMessage"
    TIMEOUT = 10  # seconds: the caller (a request or a job) waits for the answer

    def send(self, recipient: str, text: str) -> None:
        token = getattr(settings, "TELEGRAM_BOT_TOKEN", "")
        if not token:
            raise RuntimeError("TELEGRAM_BOT_TOKEN is not set")
        if not recipient.lstrip("-").isdigit():
            raise ValueError(f"{recipient!r} is not a Telegram chat id")
        body = json.dumps({"chat_id": int(recipient), "text": text[:4096]}).encode()
        request = urllib.request.Request(self.API.format(token=token), data=body,
                                         headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=self.TIMEOUT) as response:
            answer = json.loads(response.read() or b"{}")
        if not answer.get("ok"):
            raise RuntimeError(answer.get("description") or "Telegram refused the message")


def _backend_path(channel: str) -> str:
    sms = getattr(settings, "NOTIFICATION_SMS_BACKEND", "") or DEFAULT_SMS_BACKEND
    if channel == MESSENGER:
        return getattr(settings, "NOTIFICATION_MESSENGER_BACKEND", "") or sms
    return sms


def _send_email(recipient: str, subject: str, text: str) -> None:
    # A header cannot hold a line break (Django refuses it): one line of the subject's words.
    subject = " ".join(subject.split())
    delivered = send_mail(subject, text, settings.DEFAULT_FROM_EMAIL, [recipient])
    if not delivered:
        raise RuntimeError("the email backend did not send the message")


def send(*, channel: str, recipient: str, subject: str, text: str) -> SendResult:
    """Deliver one message. ``subject`` is used by email only. Returns whether it went out;
    a failure is logged and described in ``error``, never raised."""
    if channel not in CHANNELS:
        raise ValueError(f"unknown notification channel {channel!r}")
    recipient = recipient.strip()
    if not recipient:
        return SendResult(ok=False, error="no recipient")
    try:
        if channel == EMAIL:
            _send_email(recipient, subject, text)
        else:
            backend: SmsBackend = import_string(_backend_path(channel))()
            backend.send(recipient, text)
    except Exception as exc:  # any failure of a backend is a failed delivery, not a crash
        error = f"{type(exc).__name__}: {exc}"
        logger.warning("Sending %s to %s failed: %s", channel, recipient, error)
        return SendResult(ok=False, error=error)
    return SendResult(ok=True)
