"""Email links (SP-5, SP-9): the client confirms the formal task and rates the resolved
ticket from the message he got, without signing in; a link that is tampered with, stale or
meant for the other action changes nothing."""

import re
import time
from urllib.parse import urlsplit

import pytest
from django.core import mail, signing
from django.core.exceptions import PermissionDenied
from django.test import Client

from tests.factories import ClientCardFactory
from tickets import links
from tickets.models import Rating, ReviewTask, Ticket
from tickets.services import tickets as service

from .conftest import at

pytestmark = pytest.mark.django_db

SITE = "https://my.isp.example"
DAY = 24 * 3600


@pytest.fixture(autouse=True)
def site(settings):
    settings.SITE_URL = SITE
    settings.TICKET_LINK_MAX_AGE_DAYS = 14


@pytest.fixture
def web():
    return Client()  # nobody signed in: the link is the only credential


@pytest.fixture
def tasked(open_ticket, support, django_capture_on_commit_callbacks):
    """A ticket whose formal task awaits the client's confirmation, and the message sent."""
    ticket = open_ticket(at(23, 10), category="tv")
    with django_capture_on_commit_callbacks(execute=True):
        service.formal_task_set(ticket=ticket, actor=support["engineer"],
                                text="Set up IPTV on two TVs")
    return ticket


@pytest.fixture
def resolved(open_ticket, support, django_capture_on_commit_callbacks):
    ticket = open_ticket(at(23, 10))
    with django_capture_on_commit_callbacks(execute=True):
        service.ticket_resolve(ticket=ticket, actor=support["anna"], note="Cable replaced")
    return ticket


def link_in(body: str, purpose: str) -> str:
    """The path of the link of ``purpose`` in a message (after checking its site)."""
    found = re.search(rf"{re.escape(SITE)}/tickets/link/{purpose}/\S+/", body)
    assert found, body
    return urlsplit(found.group(0)).path


def page_text(response) -> str:
    return response.content.decode()


def aged(ticket, purpose, days: float, monkeypatch) -> str:
    """A token signed ``days`` ago (the signer's clock turned back for the signing only)."""
    signed_at = int(time.time() - days * DAY)
    with monkeypatch.context() as patch:
        patch.setattr(signing.TimestampSigner, "timestamp",
                      lambda self: signing.b62_encode(signed_at))
        return links.make_token(ticket, purpose)


def test_the_task_message_carries_a_confirmation_link(tasked, card):
    message = mail.outbox[-1]
    assert message.to == [card.email]
    assert "Set up IPTV on two TVs" in message.body
    assert "personal cabinet" in message.body  # the cabinet wording stays
    link_in(message.body, "confirm")


def test_the_confirmation_link_shows_the_task_and_confirms_it_once(tasked, web):
    url = link_in(mail.outbox[-1].body, "confirm")
    page = web.get(url)
    assert page.status_code == 200
    assert "Set up IPTV on two TVs" in page_text(page)
    assert "Confirm the task" in page_text(page)

    done = web.post(url, follow=True)
    assert "the task is confirmed" in page_text(done)
    tasked.refresh_from_db()
    confirmed_at = tasked.formal_confirmed_at
    assert confirmed_at is not None
    assert "You confirmed the task on" in page_text(done)
    assert "Confirm the task</button>" not in page_text(done)

    again = web.post(url, follow=True)
    assert "already confirmed" in page_text(again)
    tasked.refresh_from_db()
    assert tasked.formal_confirmed_at == confirmed_at


def test_work_can_start_after_a_confirmation_by_link(tasked, web, support):
    web.post(link_in(mail.outbox[-1].body, "confirm"))
    ticket = service.ticket_take(ticket=Ticket.objects.get(pk=tasked.pk),
                                 actor=support["engineer"])
    assert ticket.status == Ticket.Status.OPEN


def test_the_resolution_message_carries_a_rating_link_that_rates_once(resolved, web, card,
                                                                      support):
    message = mail.outbox[-1]
    assert message.to == [card.email] and "rate our work" in message.body
    url = link_in(message.body, "rate")
    page = web.get(url)
    assert page.status_code == 200 and "How did we do?" in page_text(page)

    done = web.post(url, {"score": "2", "comment": "Took three days"}, follow=True)
    assert "Thank you for the rating" in page_text(done)
    assert "Your rating: 2 of 5." in page_text(done)
    rating = Rating.objects.get(ticket=resolved)
    assert (rating.score, rating.comment) == (2, "Took three days")
    assert ReviewTask.objects.get(rating=rating).head == support["head"]
    resolved.refresh_from_db()
    assert resolved.status == Ticket.Status.CLOSED

    again = web.post(url, {"score": "5"}, follow=True)
    assert "already rated" in page_text(again)
    assert Rating.objects.get(ticket=resolved).score == 2


def test_a_rating_out_of_range_by_link_is_refused(resolved, web):
    url = link_in(mail.outbox[-1].body, "rate")
    page = web.post(url, {"score": "9"}, follow=True)
    assert "Rate from 1 to 5" in page_text(page)
    assert not Rating.objects.exists()


def test_a_tampered_link_does_nothing(tasked, resolved, web):
    for ticket, purpose in ((tasked, links.CONFIRM), (resolved, links.RATE)):
        token = links.make_token(ticket, purpose)
        forged = token[:-1] + ("A" if token[-1] != "A" else "B")
        # …and one that names another ticket with the original signature.
        rest = token.partition(":")[2]
        other = signing.b64_encode(b'{"t":999,"c":1}').decode() + ":" + rest
        for bad in (forged, other, "nonsense"):
            url = f"/tickets/link/{purpose}/{bad}/"
            assert web.get(url).status_code == 400
            response = web.post(url, {"score": "5"})
            assert response.status_code == 400
            assert "The link does not work" in page_text(response)
    tasked.refresh_from_db()
    assert tasked.formal_confirmed_at is None
    assert not Rating.objects.exists()


def test_an_expired_link_does_nothing(tasked, resolved, web, monkeypatch):
    stale = aged(tasked, links.CONFIRM, 15, monkeypatch)
    response = web.post(f"/tickets/link/confirm/{stale}/")
    assert response.status_code == 400 and "expired" in page_text(response)
    stale = aged(resolved, links.RATE, 15, monkeypatch)
    response = web.post(f"/tickets/link/rate/{stale}/", {"score": "5"})
    assert response.status_code == 400 and "expired" in page_text(response)
    tasked.refresh_from_db()
    assert tasked.formal_confirmed_at is None
    assert not Rating.objects.exists()
    # Within TICKET_LINK_MAX_AGE_DAYS the same link still works.
    fresh = aged(tasked, links.CONFIRM, 13, monkeypatch)
    web.post(f"/tickets/link/confirm/{fresh}/")
    tasked.refresh_from_db()
    assert tasked.formal_confirmed_at is not None


def test_a_rating_link_cannot_confirm_a_task_nor_the_other_way_round(tasked, web,
                                                                     support):
    rate_token = links.make_token(tasked, links.RATE)
    response = web.post(f"/tickets/link/confirm/{rate_token}/")
    assert response.status_code == 400
    tasked.refresh_from_db()
    assert tasked.formal_confirmed_at is None

    service.ticket_resolve(ticket=tasked, actor=support["engineer"])
    confirm_token = links.make_token(tasked, links.CONFIRM)
    response = web.post(f"/tickets/link/rate/{confirm_token}/", {"score": "5"})
    assert response.status_code == 400
    assert not Rating.objects.exists()


def test_a_link_to_a_rewritten_task_does_not_confirm_the_new_one(tasked, web, support):
    old = link_in(mail.outbox[-1].body, "confirm")
    service.formal_task_set(ticket=tasked, actor=support["engineer"],
                            text="Set up IPTV on three TVs and the router")
    page = web.post(old, follow=True)
    assert "The task was changed after this link was sent" in page_text(page)
    tasked.refresh_from_db()
    assert tasked.formal_confirmed_at is None


def test_a_link_dies_when_the_ticket_moves_to_another_client(tasked, web, branch):
    url = link_in(mail.outbox[-1].body, "confirm")
    Ticket.objects.filter(pk=tasked.pk).update(client=ClientCardFactory(branch=branch))
    assert web.post(url).status_code == 400
    tasked.refresh_from_db()
    assert tasked.formal_confirmed_at is None


def test_the_services_take_the_card_of_the_ticket_client_only(tasked, card, client_user,
                                                              branch, support):
    other = ClientCardFactory(branch=branch)
    with pytest.raises(PermissionDenied):
        service.formal_task_confirm(ticket=tasked, client=other)
    with pytest.raises(PermissionDenied):
        service.formal_task_confirm(ticket=tasked)  # nobody at all
    with pytest.raises(TypeError):
        service.formal_task_confirm(ticket=tasked, user=client_user, client=card)
    service.formal_task_confirm(ticket=tasked, client=card)
    service.ticket_resolve(ticket=tasked, actor=support["engineer"])
    with pytest.raises(PermissionDenied):
        service.rate(ticket=tasked, client=other, score=5)
    assert service.rate(ticket=tasked, client=card, score=5).score == 5
