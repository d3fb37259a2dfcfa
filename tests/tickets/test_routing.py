"""Routing by category (Q1) and forwarding (R7)."""

import pytest

from tickets.models import Comment
from tickets.services import routing
from tickets.services import tickets as service

from .conftest import at

pytestmark = pytest.mark.django_db


def test_a_subcategory_goes_to_the_least_loaded_member_of_its_parents_group(
        open_ticket, support, groups):
    first = open_ticket(at(23, 10))
    assert first.group == groups["L1"]
    assert first.assignee == support["anna"]  # both free: the first by id
    second = open_ticket(at(23, 10, 5))
    assert second.assignee == support["boris"]  # anna already has one open ticket
    service.ticket_resolve(ticket=first, actor=support["anna"])
    assert open_ticket(at(23, 10, 10)).assignee == support["anna"]  # resolved ones don't load


def test_the_branch_staff_come_first(open_ticket, support, groups, categories):
    from tests.factories import BranchFactory

    other = BranchFactory(name="Другой офис")
    support["anna"].branch = other
    support["anna"].save()
    assert routing.route(categories["speed"], support["boris"].branch) == (
        groups["L1"], support["boris"])


def test_a_named_person_takes_every_ticket(open_ticket, support, groups):
    ticket = open_ticket(at(23, 10), category="tv")
    assert (ticket.group, ticket.assignee) == (groups["L2"], support["engineer"])


def test_forwarding_keeps_the_clock_and_records_the_holder(open_ticket, support, groups):
    ticket = open_ticket(at(23, 10))
    due = (ticket.first_response_due, ticket.resolution_due)
    service.ticket_forward(ticket=ticket, actor=support["anna"], group=groups["L2"],
                           note="Needs an engineer")
    ticket.refresh_from_db()
    assert (ticket.group, ticket.assignee) == (groups["L2"], support["engineer"])
    assert (ticket.first_response_due, ticket.resolution_due) == due
    forward = ticket.comments.get(kind=Comment.Kind.FORWARD)
    assert str(support["anna"]) in forward.body and "Needs an engineer" in forward.body
    assert forward.internal
