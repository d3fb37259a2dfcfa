"""The client's requests in the cabinet (C4, SP-5, SP-9, Q4): open one in plain words, follow
its status and our promise, write, confirm the task, rate — and never see internal notes nor
another client's tickets."""

import datetime as dt

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse
from django.utils import timezone, translation

from ispcrm import roles
from tickets.models import Category, Comment, Rating, SlaPolicy, Ticket
from tickets.services import tickets as desk

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def english(settings):
    """Pages read as the code writes them (English msgids)."""
    settings.LANGUAGE_CODE = "en"
    with translation.override("en"):
        yield


@pytest.fixture
def agent(make_user):
    return make_user(roles.SUPPORT, username="agent", email="agent@isp.example")


@pytest.fixture
def tree(agent):
    """Internet (a type, with the agent's group) → two directions; billing without children;
    an inactive category the client must not be offered."""
    group = Group.objects.create(name="First line")
    group.user_set.add(agent)
    internet = Category.objects.create(code="internet", name="Internet", group=group,
                                       client_name="Internet does not work well", order=1)
    Category.objects.create(code="no-link", name="No link", parent=internet,
                            client_name="No internet at all")
    slow = Category.objects.create(code="slow", name="Low speed", parent=internet)
    Category.objects.create(code="money", name="Billing", group=group,
                            client_name="Payments and documents", order=2)
    Category.objects.create(code="old", name="Dial-up", parent=internet, active=False)
    SlaPolicy.objects.create(name="Internal policy name", first_response_hours=4,
                             update_hours=8, resolution_hours=40)
    return {"internet": internet, "slow": slow}


def open_for(account, tree, subject="Slow evenings", **fields):
    return desk.ticket_open(actor=account.client.cabinet_user, category=tree["slow"],
                            channel="cabinet", subject=subject, client=account.client,
                            **fields)


def url(name, *args):
    return reverse(f"cabinet:{name}", args=args)


def text(response) -> str:
    return response.content.decode()


def test_the_picker_offers_active_categories_in_plain_words(cabinet_web, tree):
    page = text(cabinet_web.get(url("request_new")))
    assert '<optgroup label="Internet does not work well">' in page
    assert "No internet at all" in page
    assert "Low speed" in page  # no client name: its name
    assert "Payments and documents" in page
    assert "Dial-up" not in page


def test_a_client_opens_a_request_and_sees_when_we_answer(cabinet_web, subscriber, tree,
                                                         agent):
    response = cabinet_web.post(url("request_new"), {
        "category": tree["slow"].pk, "subject": "Slow in the evenings",
        "description": "Since Monday, 2 Mbit/s after 20:00."}, follow=True)
    ticket = Ticket.objects.get()
    assert (ticket.client, ticket.channel, ticket.assignee) == (subscriber.client, "cabinet",
                                                                agent)
    assert response.redirect_chain[-1][0] == url("request_detail", ticket.pk)
    page = text(response)
    assert f"Your request #{ticket.pk} is registered; we will answer by" in page
    assert "Since Monday, 2 Mbit/s after 20:00." in page
    assert "Internal policy name" not in page

    listing = text(cabinet_web.get(url("requests")))
    assert f"#{ticket.pk} Slow in the evenings" in listing
    assert "Registered" in listing and "We will answer by" in listing


def test_a_request_needs_a_subject_and_a_category(cabinet_web, tree):
    response = cabinet_web.post(url("request_new"), {"category": "", "subject": ""})
    assert response.status_code == 200
    assert not Ticket.objects.exists()
    inactive = Category.objects.get(code="old")
    cabinet_web.post(url("request_new"), {"category": inactive.pk, "subject": "Modem"})
    assert not Ticket.objects.exists()


def test_the_list_puts_open_requests_first_and_says_what_awaits_the_client(
        cabinet_web, subscriber, tree, agent):
    done = open_for(subscriber, tree, subject="Old question")
    desk.ticket_resolve(ticket=done, actor=agent, note="Answered")
    tasked = open_for(subscriber, tree, subject="Router setup")
    desk.formal_task_set(ticket=tasked, actor=agent, text="Configure the Wi-Fi router")
    promised = open_for(subscriber, tree, subject="Cable in the staircase")
    later = timezone.now() + dt.timedelta(days=5)
    desk.promise(ticket=promised, actor=agent, promised_at=later)
    page = text(cabinet_web.get(url("requests")))
    assert page.index("Cable in the staircase") < page.index("Old question")
    assert page.index("Router setup") < page.index("Old question")
    assert "A task awaits your confirmation." in page
    assert "Waiting for your confirmation" in page
    assert "Please rate how we did." in page
    when = timezone.localtime(later).strftime("%m/%d/%Y")
    assert "Resolution promised by" in page and when in page


def test_internal_notes_never_reach_the_client(cabinet_web, subscriber, tree, agent):
    ticket = open_for(subscriber, tree)
    desk.comment_add(ticket=ticket, author=agent, body="We are checking the port.")
    desk.comment_add(ticket=ticket, author=agent, kind="note", internal=True,
                     body="SECRET: the client owes the landlord")
    desk.comment_add(ticket=ticket, author=agent, kind="reply", internal=True,
                     body="SECRET internal reply")
    desk.ticket_forward(ticket=ticket, actor=agent, group=Group.objects.get(name="First line"),
                        note="SECRET escalation reason")
    page = text(cabinet_web.get(url("request_detail", ticket.pk)))
    assert "We are checking the port." in page
    assert "SECRET" not in page
    assert "Forwarded" not in page and "Internal policy name" not in page


def test_an_answer_to_our_question_resumes_the_request(cabinet_web, subscriber, tree, agent):
    ticket = open_for(subscriber, tree)
    desk.comment_add(ticket=ticket, author=agent, kind="question",
                     body="Which router do you have?")
    page = text(cabinet_web.get(url("request_detail", ticket.pk)))
    assert "Waiting for your answer" in page and "Question to you" in page
    assert "we continue as soon as you answer" in page
    response = cabinet_web.post(url("request_reply", ticket.pk), {"body": "TP-Link"},
                                follow=True)
    assert "Thank you for the answer" in text(response)
    ticket.refresh_from_db()
    assert ticket.status == Ticket.Status.OPEN and ticket.paused_since is None
    comment = ticket.comments.get(author=subscriber.client.cabinet_user)
    assert (comment.kind, comment.body) == (Comment.Kind.CLIENT, "TP-Link")


def test_an_empty_reply_is_refused(cabinet_web, subscriber, tree):
    ticket = open_for(subscriber, tree)
    response = cabinet_web.post(url("request_reply", ticket.pk), {"body": "  "}, follow=True)
    assert "Write your message first." in text(response)
    assert not ticket.comments.exists()


def test_the_client_confirms_the_formal_task(cabinet_web, subscriber, tree, agent):
    ticket = open_for(subscriber, tree)
    desk.formal_task_set(ticket=ticket, actor=agent, text="Replace the patch cord")
    page = text(cabinet_web.get(url("request_detail", ticket.pk)))
    assert "Replace the patch cord" in page and "Confirm the task" in page
    response = cabinet_web.post(url("request_confirm", ticket.pk), follow=True)
    assert "the task is confirmed" in text(response)
    assert "You confirmed the task on" in text(response)
    ticket.refresh_from_db()
    assert ticket.formal_confirmed_at is not None
    again = cabinet_web.post(url("request_confirm", ticket.pk), follow=True)
    assert "already confirmed" in text(again)


def test_the_client_rates_a_resolved_request_once(cabinet_web, subscriber, tree, agent):
    ticket = open_for(subscriber, tree)
    page = text(cabinet_web.get(url("request_detail", ticket.pk)))
    assert "How did we do?" not in page  # not before the resolution
    desk.ticket_resolve(ticket=ticket, actor=agent, note="Port reset")
    page = text(cabinet_web.get(url("request_detail", ticket.pk)))
    assert "How did we do?" in page and "Port reset" in page
    response = cabinet_web.post(url("request_rate", ticket.pk),
                                {"score": "4", "comment": "Quick"}, follow=True)
    assert "Thank you for the rating." in text(response)
    assert "Your rating: 4 of 5." in text(response)
    again = cabinet_web.post(url("request_rate", ticket.pk), {"score": "1"}, follow=True)
    assert "already rated" in text(again)
    assert Rating.objects.get(ticket=ticket).score == 4


def test_a_rating_out_of_range_is_refused(cabinet_web, subscriber, tree, agent):
    ticket = open_for(subscriber, tree)
    desk.ticket_resolve(ticket=ticket, actor=agent)
    response = cabinet_web.post(url("request_rate", ticket.pk), {"score": "7"}, follow=True)
    assert "Choose a rating from 1 to 5." in text(response)
    assert not Rating.objects.exists()


def test_another_clients_request_is_a_404_everywhere(cabinet_web, stranger, tree, agent):
    theirs = open_for(stranger, tree, subject="Stranger's request")
    desk.formal_task_set(ticket=theirs, actor=agent, text="Their task")
    assert cabinet_web.get(url("request_detail", theirs.pk)).status_code == 404
    assert cabinet_web.post(url("request_reply", theirs.pk),
                            {"body": "Hi"}).status_code == 404
    assert cabinet_web.post(url("request_confirm", theirs.pk)).status_code == 404
    desk.formal_task_confirm(ticket=theirs, user=stranger.client.cabinet_user)
    desk.ticket_resolve(ticket=theirs, actor=agent)
    assert cabinet_web.post(url("request_rate", theirs.pk),
                            {"score": "1"}).status_code == 404
    assert "Stranger's request" not in text(cabinet_web.get(url("requests")))
    assert not theirs.comments.filter(kind=Comment.Kind.CLIENT).exists()
    assert not Rating.objects.exists()


def test_a_new_request_cannot_be_opened_for_someone_else(cabinet_web, stranger, tree):
    cabinet_web.post(url("request_new"), {"category": tree["slow"].pk, "subject": "Mine",
                                          "client": stranger.client.pk})
    assert Ticket.objects.get().client != stranger.client


def test_the_pages_need_a_cabinet_sign_in(client, tree):
    response = client.get(url("requests"))
    assert response.status_code == 302 and reverse("cabinet:login") in response["Location"]
