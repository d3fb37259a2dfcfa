"""Tickets that arrive by themselves (SP-2): the support mailbox — a new message opens a
ticket, a reply threads into it, a malformed one is rejected with a logged reason and
changes nothing — and the Telegram webhook."""

import mailbox

import pytest
from django.contrib.auth.models import Group
from django.core.management import call_command

from connections.models import ClientContact
from ispcrm import roles
from tests.factories import ClientCardFactory
from tickets.intake import email as intake
from tickets.models import Category, Comment, Ticket
from tickets.services.tickets import comment_add


@pytest.fixture
def agent(make_user):
    return make_user(roles.SUPPORT)


@pytest.fixture
def category(db):
    return Category.objects.create(code="general", name="General",
                                   group=Group.objects.get(name=roles.SUPPORT))


@pytest.fixture
def card(db):
    return ClientCardFactory(stage="active", email="anna@example.com")


def message(*, sender="Anna <anna@example.com>", subject="No internet", body="Since 9am.",
            message_id="<m1@example.com>", reply_to="", extra="") -> bytes:
    headers = [f"From: {sender}" if sender else "", f"Subject: {subject}",
               f"Message-ID: {message_id}", f"In-Reply-To: {reply_to}" if reply_to else "",
               "Content-Type: text/plain; charset=utf-8", extra]
    return ("\n".join(h for h in headers if h) + "\n\n" + body + "\n").encode()


def test_a_new_message_opens_a_ticket_for_the_client(agent, category, card):
    outcome = intake.receive(message())

    ticket = outcome.ticket
    assert outcome.created
    assert (ticket.client, ticket.channel, ticket.subject) == (card, "email", "No internet")
    assert ticket.description == "Since 9am."
    assert ticket.external_ref == "<m1@example.com>"
    assert ticket.assignee == agent  # routed like any other


def test_a_contact_person_s_email_finds_the_client(agent, category, card):
    ClientContact.objects.create(client=card, name="Boris", email="it@firm.example")

    ticket = intake.receive(message(sender="it@firm.example")).ticket

    assert ticket.client == card


def test_an_unknown_sender_gets_a_ticket_without_client(agent, category, settings):
    settings.SUPPORT_EMAIL_CATEGORY = "general"

    ticket = intake.receive(message(sender="who@nowhere.example")).ticket

    assert ticket.client is None and ticket.category == category
    assert "who@nowhere.example" in ticket.description


def test_a_reply_threads_into_the_ticket_and_resumes_the_clock(agent, category, card):
    ticket = intake.receive(message()).ticket
    comment_add(ticket=ticket, author=agent, body="Is the light on the router green?",
                kind="question")
    ticket.refresh_from_db()
    assert ticket.status == Ticket.Status.WAITING

    outcome = intake.receive(message(subject="Re: No internet", body="Yes, it is green.",
                                     message_id="<m2@example.com>",
                                     reply_to="<m1@example.com>"))

    assert not outcome.created and outcome.ticket == ticket
    assert Ticket.objects.count() == 1
    ticket.refresh_from_db()
    assert ticket.status == Ticket.Status.OPEN
    last = ticket.comments.last()
    assert (last.kind, last.body) == (Comment.Kind.CLIENT, "Yes, it is green.")


def test_a_reply_to_a_comment_or_with_the_number_in_the_subject(agent, category, card):
    ticket = intake.receive(message()).ticket
    intake.receive(message(body="More", message_id="<m2@example.com>",
                           reply_to="<m1@example.com>"))
    intake.receive(message(body="Even more", message_id="<m3@example.com>",
                           reply_to="<m2@example.com>"))
    intake.receive(message(subject=f"Re: [#{ticket.pk}] No internet", body="Tagged",
                           message_id="<m4@example.com>"))

    assert Ticket.objects.count() == 1
    assert list(ticket.comments.values_list("body", flat=True)) == ["More", "Even more",
                                                                     "Tagged"]


def test_someone_else_cannot_thread_by_the_subject_tag(agent, category, card):
    ticket = intake.receive(message()).ticket

    other = intake.receive(message(sender="eve@example.com", subject=f"[#{ticket.pk}] hi",
                                   message_id="<e1@example.com>"))

    assert other.created and other.ticket != ticket
    assert not ticket.comments.exists()


def test_the_same_message_twice_is_taken_once(agent, category, card):
    intake.receive(message())
    intake.receive(message())
    assert Ticket.objects.count() == 1


@pytest.mark.parametrize("raw, reason", [
    (message(sender=""), "no sender"),
    (message(body=""), "empty body"),
    (message(extra="Content-Transfer-Encoding: base64",
             body="0J/RgNC40LLQtdGC").replace(b"charset=utf-8", b"charset=x-no-such"),
     "undecodable"),
])
def test_a_malformed_message_is_rejected_with_a_logged_reason(agent, category, card, caplog,
                                                              raw, reason):
    existing = intake.receive(message(message_id="<first@example.com>")).ticket

    with caplog.at_level("WARNING", logger="tickets.intake"):
        outcome = intake.receive(raw.replace(b"<m1@example.com>", b"<bad@example.com>"))

    assert outcome is None
    assert reason in caplog.text
    assert Ticket.objects.count() == 1 and Comment.objects.count() == 0
    existing.refresh_from_db()
    assert existing.status == Ticket.Status.NEW


def test_the_mailbox_command_files_new_messages_and_moves_them_to_cur(agent, category, card,
                                                                      tmp_path):
    box = mailbox.Maildir(tmp_path / "support", create=True)
    box.add(mailbox.MaildirMessage(message()))
    box.add(mailbox.MaildirMessage(message(sender="", message_id="<bad@example.com>")))

    call_command("read_support_mailbox", maildir=str(tmp_path / "support"))

    assert Ticket.objects.count() == 1
    assert not list((tmp_path / "support" / "new").iterdir())
    moved = list((tmp_path / "support" / "cur").iterdir())
    assert len(moved) == 2
    assert sum("F" in path.name.split(":2,")[1] for path in moved) == 1  # the rejected one
    call_command("read_support_mailbox", maildir=str(tmp_path / "support"))
    assert Ticket.objects.count() == 1  # nothing read twice


def test_the_inbound_email_webhook(api, agent, category, card, make_user):
    url = "/api/v1/inbound/email/"
    api.as_user(agent)

    created = api.generic("POST", url, message(), content_type="message/rfc822")
    assert created.status_code == 201 and created.json()["created"] is True
    reply = api.post(url, {"message": message(message_id="<m2@example.com>",
                                              reply_to="<m1@example.com>").decode()},
                     format="json")
    assert reply.status_code == 200 and reply.json()["ticket"] == created.json()["ticket"]
    bad = api.generic("POST", url, message(sender=""), content_type="message/rfc822")
    assert bad.status_code == 400

    refused = api.as_user(make_user(roles.MANAGER)).generic(
        "POST", url, message(message_id="<m9@example.com>"), content_type="message/rfc822")
    assert refused.status_code == 403
    assert Ticket.objects.count() == 1


def _update(chat_id, text, message_id):
    return {"update_id": message_id, "message": {"message_id": message_id, "text": text,
                                                 "chat": {"id": chat_id, "type": "private"}}}


def test_the_telegram_webhook(api, agent, category, settings):
    settings.TELEGRAM_WEBHOOK_SECRET = "s3cret"
    card = ClientCardFactory(stage="active", messenger_id="4242")
    url = "/api/v1/inbound/telegram/s3cret/"

    wrong = api.post("/api/v1/inbound/telegram/guess/", _update(4242, "hi", 1), format="json")
    assert wrong.status_code == 404 and not Ticket.objects.exists()

    first = api.post(url, _update(4242, "The internet is down", 1), format="json")
    assert first.status_code == 200
    ticket = Ticket.objects.get()
    assert (ticket.client, ticket.channel, ticket.subject) == (card, "messenger",
                                                               "The internet is down")
    api.post(url, _update(4242, "Still down", 2), format="json")
    api.post(url, _update(4242, "Still down", 2), format="json")  # Telegram retried
    assert Ticket.objects.count() == 1
    assert list(ticket.comments.values_list("body", flat=True)) == ["Still down"]

    stranger = api.post(url, _update(777, "hello", 3), format="json")
    assert stranger.status_code == 200 and stranger.json()["ticket"] is None
    assert Ticket.objects.count() == 1
