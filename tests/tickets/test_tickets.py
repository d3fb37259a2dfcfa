"""Ticket operations: the thread, promises, formal tasks, ratings, time, history."""

import datetime as dt

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from connections.selectors import client_history
from ispcrm.errors import RuleViolation
from tests.factories import ClientCardFactory, UserFactory
from tickets.models import Comment, ReviewTask, Ticket
from tickets.services import tickets as service

from .conftest import at

pytestmark = pytest.mark.django_db


@pytest.fixture
def resolved(open_ticket, django_capture_on_commit_callbacks):
    ticket = open_ticket(at(23, 10))
    with django_capture_on_commit_callbacks(execute=True):
        service.ticket_resolve(ticket=ticket, actor=ticket.assignee, note="Replaced the cable")
    return ticket


def test_opening_needs_a_subject_and_an_active_category(support, categories, branch):
    with pytest.raises(ValidationError) as error:
        service.ticket_open(actor=support["anna"], category=categories["speed"],
                            channel="phone", subject=" ", branch=branch)
    assert "subject" in error.value.message_dict


def test_resolution_asks_the_client_for_a_rating(resolved):
    assert resolved.status == Ticket.Status.RESOLVED
    assert resolved.comments.filter(kind=Comment.Kind.REPLY).exists()
    message = mail.outbox[-1]
    assert message.to == ["client@mail.example"] and f"#{resolved.pk}" in message.subject


def test_only_the_tickets_client_rates_once_after_resolution(open_ticket, client_user,
                                                              support, branch):
    ticket = open_ticket(at(23, 10))
    with pytest.raises(RuleViolation):
        service.rate(ticket=ticket, user=client_user, score=5)
    service.ticket_resolve(ticket=ticket, actor=support["anna"])
    stranger = UserFactory(username="stranger", branch=None)
    ClientCardFactory(branch=branch, cabinet_user=stranger)
    for user in (support["anna"], stranger):
        with pytest.raises(PermissionDenied):
            service.rate(ticket=ticket, user=user, score=5)
    rating = service.rate(ticket=ticket, user=client_user, score=5)
    assert rating.assignee == ticket.assignee
    assert not ReviewTask.objects.exists()
    ticket.refresh_from_db()
    assert ticket.status == Ticket.Status.CLOSED
    with pytest.raises(RuleViolation):
        service.rate(ticket=ticket, user=client_user, score=4)


def test_a_low_rating_opens_a_review_for_the_category_head(resolved, client_user, support,
                                                           django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        service.rate(ticket=resolved, user=client_user, score=2, comment="Took too long")
    review = ReviewTask.objects.get()
    assert review.head == support["head"]  # the head of the parent category
    assert mail.outbox[-1].to == [support["head"].email]


def test_a_rating_out_of_range_is_refused(resolved, client_user):
    with pytest.raises(ValidationError):
        service.rate(ticket=resolved, user=client_user, score=6)


def test_work_starts_after_the_client_confirms_the_formal_task(
        open_ticket, support, client_user, django_capture_on_commit_callbacks):
    ticket = open_ticket(at(23, 10), category="tv")
    with django_capture_on_commit_callbacks(execute=True):
        service.formal_task_set(ticket=ticket, actor=support["engineer"],
                                text="Set up IPTV on two TVs")
    assert "Set up IPTV" in mail.outbox[-1].body
    with pytest.raises(RuleViolation) as refused:
        service.ticket_take(ticket=ticket, actor=support["engineer"])
    assert refused.value.code == "formal_task_unconfirmed"
    with pytest.raises(PermissionDenied):
        service.formal_task_confirm(ticket=ticket, user=support["engineer"])
    service.formal_task_confirm(ticket=ticket, user=client_user)
    service.ticket_take(ticket=ticket, actor=support["engineer"])
    ticket.refresh_from_db()
    assert ticket.status == Ticket.Status.OPEN and ticket.formal_confirmed_at


def test_a_promise_is_recorded_and_sent_to_the_client(open_ticket, support,
                                                      django_capture_on_commit_callbacks):
    ticket = open_ticket(at(23, 10))
    when = timezone.now() + dt.timedelta(days=2)
    with django_capture_on_commit_callbacks(execute=True):
        service.promise(ticket=ticket, actor=support["anna"], promised_at=when)
    ticket.refresh_from_db()
    assert ticket.promised_at == when
    assert ticket.comments.filter(kind=Comment.Kind.PROMISE).exists()
    assert mail.outbox[-1].to == ["client@mail.example"]
    with pytest.raises(ValidationError):
        service.promise(ticket=ticket, actor=support["anna"],
                        promised_at=timezone.now() - dt.timedelta(hours=1))


def test_a_staff_reply_reaches_the_client_and_a_note_does_not(
        open_ticket, support, django_capture_on_commit_callbacks):
    """The client learns the answer by his channel (email here), with "[#N]" in the
    subject so his reply threads back; internal notes never leave the desk."""
    ticket = open_ticket(at(23, 10))
    with django_capture_on_commit_callbacks(execute=True):
        service.comment_add(ticket=ticket, author=support["anna"], body="Internal only",
                            kind=Comment.Kind.NOTE)
        service.comment_add(ticket=ticket, author=support["anna"],
                            body="What is your router model?", kind=Comment.Kind.QUESTION)
    (message,) = mail.outbox
    assert message.to == ["client@mail.example"]
    assert message.subject == f"[#{ticket.pk}] Slow internet"
    assert "What is your router model?" in message.body
    assert "Internal only" not in message.body


def test_a_client_answer_to_a_resolved_ticket_reopens_it(resolved, client_user):
    service.comment_add(ticket=resolved, author=client_user, body="Still slow")
    resolved.refresh_from_db()
    assert resolved.status == Ticket.Status.OPEN and resolved.resolved_at is None


def test_a_client_cannot_write_into_someone_elses_ticket(open_ticket, branch):
    ticket = open_ticket(at(23, 10))
    stranger = UserFactory(username="stranger", branch=None)
    ClientCardFactory(branch=branch, cabinet_user=stranger)
    with pytest.raises(PermissionDenied):
        service.comment_add(ticket=ticket, author=stranger, body="Hi")


def test_time_is_logged_in_sane_amounts(open_ticket, support):
    ticket = open_ticket(at(23, 10))
    entry = service.time_log(ticket=ticket, user=support["anna"], minutes=25, note="Call")
    assert entry.minutes == 25
    with pytest.raises(ValidationError):
        service.time_log(ticket=ticket, user=support["anna"], minutes=0)


def test_the_clients_history_shows_his_tickets(resolved, card):
    kinds = [event.kind for event in client_history(card)]
    assert "ticket_opened" in kinds and "ticket_resolved" in kinds


def test_reopen_and_close(resolved, support):
    service.ticket_reopen(ticket=resolved, actor=support["anna"])
    assert resolved.status == Ticket.Status.OPEN
    with pytest.raises(RuleViolation):
        service.ticket_close(ticket=resolved)
    service.ticket_resolve(ticket=resolved, actor=support["anna"])
    service.ticket_close(ticket=resolved)
    resolved.refresh_from_db()
    assert resolved.status == Ticket.Status.CLOSED and resolved.closed_at
