"""The notification sender: email through Django's backend, SMS and messenger through a
pluggable backend, and a failed delivery reported, never raised."""

import logging
import smtplib

import pytest
from django.core import mail
from django.core.mail.backends.base import BaseEmailBackend

from ispcrm import notifications
from ispcrm.notifications import SendResult, send


class RecordingBackend:
    """An SMS gateway stand-in that keeps what it was asked to send."""

    sent: list[tuple[str, str]] = []

    def send(self, recipient: str, text: str) -> None:
        self.sent.append((recipient, text))


class BrokenGateway:
    def send(self, recipient: str, text: str) -> None:
        raise ConnectionError("gateway is down")


class BrokenEmailBackend(BaseEmailBackend):
    def send_messages(self, email_messages):
        raise smtplib.SMTPServerDisconnected("Connection unexpectedly closed")


@pytest.fixture(autouse=True)
def _clean_recording_backend():
    RecordingBackend.sent = []


def test_email_goes_through_django_mail_from_the_default_address(settings):
    settings.DEFAULT_FROM_EMAIL = "billing@isp.example"
    result = send(channel="email", recipient="client@example.com",
                  subject="Задолженность\nпо счёту", text="Оплатите, пожалуйста.")
    assert result == SendResult(ok=True, error="")
    [message] = mail.outbox
    assert message.to == ["client@example.com"]
    assert message.from_email == "billing@isp.example"
    assert message.subject == "Задолженность по счёту"  # a line break cannot be in a header
    assert message.body == "Оплатите, пожалуйста."


def test_sms_by_default_is_written_to_the_log_and_succeeds(caplog):
    with caplog.at_level(logging.INFO, logger="ispcrm.notifications"):
        result = send(channel="sms", recipient="+79123456789", subject="ignored",
                      text="Код: 123456")
    assert result.ok and result.error == ""
    assert "+79123456789" in caplog.text and "Код: 123456" in caplog.text
    assert not mail.outbox


def test_sms_backend_is_chosen_by_the_setting(settings):
    settings.NOTIFICATION_SMS_BACKEND = f"{__name__}.RecordingBackend"
    assert send(channel="sms", recipient=" +79123456789 ", subject="", text="Привет").ok
    assert RecordingBackend.sent == [("+79123456789", "Привет")]


def test_messenger_uses_its_own_backend_or_falls_back_to_the_sms_one(settings):
    settings.NOTIFICATION_SMS_BACKEND = f"{__name__}.RecordingBackend"
    assert send(channel="messenger", recipient="+79120000001", subject="", text="a").ok
    assert RecordingBackend.sent == [("+79120000001", "a")]
    settings.NOTIFICATION_MESSENGER_BACKEND = f"{__name__}.BrokenGateway"
    assert not send(channel="messenger", recipient="+79120000001", subject="", text="b").ok
    assert send(channel="sms", recipient="+79120000001", subject="", text="c").ok
    assert RecordingBackend.sent == [("+79120000001", "a"), ("+79120000001", "c")]


def test_a_gateway_failure_is_returned_and_logged_not_raised(settings, caplog):
    settings.NOTIFICATION_SMS_BACKEND = f"{__name__}.BrokenGateway"
    with caplog.at_level(logging.WARNING, logger="ispcrm.notifications"):
        result = send(channel="sms", recipient="+79123456789", subject="", text="x")
    assert result == SendResult(ok=False, error="ConnectionError: gateway is down")
    assert "gateway is down" in caplog.text


def test_an_smtp_failure_is_returned_not_raised(settings):
    settings.EMAIL_BACKEND = f"{__name__}.BrokenEmailBackend"
    result = send(channel="email", recipient="client@example.com", subject="s", text="t")
    assert not result.ok
    assert "SMTPServerDisconnected" in result.error


def test_a_misconfigured_backend_is_a_failed_delivery(settings):
    settings.NOTIFICATION_SMS_BACKEND = "no.such.Backend"
    result = send(channel="sms", recipient="+79123456789", subject="", text="x")
    assert not result.ok and "ModuleNotFoundError" in result.error


def test_no_recipient_is_a_failed_delivery():
    assert send(channel="email", recipient="  ", subject="s", text="t") == SendResult(
        ok=False, error="no recipient")
    assert not mail.outbox


def test_an_unknown_channel_is_a_programming_error():
    with pytest.raises(ValueError):
        send(channel="pigeon", recipient="x", subject="", text="t")
    assert notifications.CHANNELS == ("email", "sms", "messenger")


class FakeTelegramAnswer:
    def __init__(self, body: bytes):
        self.body = body

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def read(self):
        return self.body


def test_telegram_backend_writes_to_the_chat(settings, monkeypatch):
    """A reply to a client who wrote to the support bot goes back to his chat."""
    import json

    settings.NOTIFICATION_MESSENGER_BACKEND = "ispcrm.notifications.TelegramBackend"
    settings.TELEGRAM_BOT_TOKEN = "123:abc"
    calls = []

    def urlopen(request, timeout):
        calls.append((request.full_url, json.loads(request.data), timeout))
        return FakeTelegramAnswer(b'{"ok": true}')

    monkeypatch.setattr("urllib.request.urlopen", urlopen)
    result = send(channel=notifications.MESSENGER, recipient="555111", subject="",
                  text="Answer to your request #7")
    assert result == SendResult(ok=True)
    assert calls == [("https://api.telegram.org/bot123:abc/sendMessage",
                      {"chat_id": 555111, "text": "Answer to your request #7"}, 10)]


def test_telegram_refusal_or_a_phone_is_a_failed_delivery(settings, monkeypatch):
    settings.NOTIFICATION_MESSENGER_BACKEND = "ispcrm.notifications.TelegramBackend"
    settings.TELEGRAM_BOT_TOKEN = "123:abc"
    monkeypatch.setattr("urllib.request.urlopen", lambda request, timeout: FakeTelegramAnswer(
        b'{"ok": false, "description": "Forbidden: bot was blocked by the user"}'))
    refused = send(channel=notifications.MESSENGER, recipient="555111", subject="", text="x")
    assert not refused.ok and "blocked by the user" in refused.error
    phone = send(channel=notifications.MESSENGER, recipient="+79120000000", subject="",
                 text="x")
    assert not phone.ok and "not a Telegram chat id" in phone.error
