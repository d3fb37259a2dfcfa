"""The helpdesk's staff screens as support sees them: queues with SLA clocks, the ticket
page with its thread and forms, the phone form, outages in the header, on the card and on
the building page (M5, M6)."""

from decimal import Decimal

import pytest
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone, translation

from tests.factories import ClientCardFactory, make_account
from tests.tickets.conftest import at
from tickets import cards
from tickets.models import Ticket
from tickets.services import outages
from tickets.services import tickets as service
from tickets.views.clocks import Clocks


@pytest.fixture(autouse=True)
def pages_registered():
    """What TicketsConfig.ready() registers: the card section and the building parts."""
    cards.register()


@pytest.fixture(autouse=True)
def english(client):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"


@pytest.fixture
def anna_client(client, support):
    client.force_login(support["anna"])
    return client


@pytest.fixture
def now_ticket(open_ticket):
    """A ticket opened now, so its clock is running when the page is looked at."""
    def make(**fields):
        return open_ticket(timezone.now(), **fields)
    return make


def text_of(response) -> str:
    return response.content.decode()


def messages_of(response) -> list[str]:
    return [str(message) for message in response.context["messages"]]


def test_queue_shows_my_tickets_with_the_sla_clock(anna_client, now_ticket, support):
    ticket = now_ticket()
    service.ticket_take(ticket=ticket, actor=support["anna"])
    page = text_of(anna_client.get(reverse("tickets:queue") + "?view=mine"))
    assert "Slow internet" in page
    assert f"#{ticket.pk}" in page
    assert "Internet → Low speed" in page
    # The clock says in words what is left, not only with a colour.
    assert "First response:" in page or "Resolution:" in page
    assert ("left" in page) or ("breached" in page) or ("paused" in page)


def test_waiting_queue_lists_tickets_paused_for_the_client(anna_client, now_ticket, support):
    ticket = now_ticket()
    service.comment_add(ticket=ticket, author=support["anna"], body="Which router?",
                        kind="question")
    page = text_of(anna_client.get(reverse("tickets:queue") + "?view=waiting"))
    assert "Slow internet" in page
    assert "paused: waiting for the client" in page


def test_overdue_queue_shows_breached_tickets_in_red(anna_client, open_ticket, card):
    long_ago = timezone.now() - timezone.timedelta(days=20)
    open_ticket(long_ago)
    page = text_of(anna_client.get(reverse("tickets:queue") + "?view=overdue"))
    assert "Slow internet" in page
    assert "sla-breached" in page and "breached" in page


def _queue_queries(client) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(reverse("tickets:queue") + "?view=all").status_code == 200
    return len(queries)


def test_queue_query_count_does_not_grow_with_the_rows(anna_client, now_ticket):
    _queue_queries(anna_client)  # the role permissions are cached from now on
    for _ in range(2):
        now_ticket()
    few = _queue_queries(anna_client)
    for _ in range(10):
        now_ticket(client=ClientCardFactory())
    assert _queue_queries(anna_client) == few


def test_ticket_page_shows_everything_and_marks_internal_notes(anna_client, now_ticket,
                                                                support):
    ticket = now_ticket()
    service.comment_add(ticket=ticket, author=support["anna"], body="We are checking the line.")
    service.comment_add(ticket=ticket, author=support["anna"], body="Port 12 flaps again",
                        kind="note", internal=True)
    anna_client.force_login(support["head"])  # a colleague: the ticket is not his yet
    page = text_of(anna_client.get(reverse("tickets:detail", args=[ticket.pk])))
    assert "We are checking the line." in page
    assert "Port 12 flaps again" in page  # staff see internal notes…
    assert "Internal — the client does not see this" in page  # …clearly marked
    assert "Visible to the client" in page
    for clock in ("First response", "Next update", "Resolution"):
        assert clock in page
    assert ticket.client.name in page and "Internet → Low speed" in page
    for button in ("Reply to the client", "Ask the client (pauses the clock)",
                   "Internal note", "Take it", "Forward", "Promise a new date", "Log time"):
        assert button in page


def test_reply_from_the_page_stops_the_first_response_clock(anna_client, now_ticket):
    ticket = now_ticket()
    response = anna_client.post(reverse("tickets:action", args=[ticket.pk, "reply"]),
                                {"body": "Restart the router, please."}, follow=True)
    assert "Reply sent to the client." in messages_of(response)
    ticket.refresh_from_db()
    assert ticket.first_response_at is not None
    assert "Restart the router, please." in text_of(response)


def test_refused_action_shows_its_reason(anna_client, now_ticket, support):
    ticket = now_ticket()
    service.formal_task_set(ticket=ticket, actor=support["anna"], text="Install a second AP")
    page = text_of(anna_client.get(reverse("tickets:detail", args=[ticket.pk])))
    assert "awaiting the client's confirmation" in page
    response = anna_client.post(reverse("tickets:action", args=[ticket.pk, "take"]),
                                follow=True)
    assert any("not confirmed the formal task" in text for text in messages_of(response))
    ticket.refresh_from_db()
    assert ticket.status == Ticket.Status.NEW  # not taken into work


def test_invalid_form_is_refused_with_the_field_named(anna_client, now_ticket):
    ticket = now_ticket()
    response = anna_client.post(reverse("tickets:action", args=[ticket.pk, "time"]),
                                {"minutes": "0"}, follow=True)
    assert any(text.startswith("Minutes:") for text in messages_of(response))
    assert not ticket.time_entries.exists()


def test_phone_form_finds_the_caller_and_opens_a_routed_ticket(anna_client, card, categories,
                                                                policy, support):
    found = text_of(anna_client.get(reverse("tickets:callers"), {"caller": card.phone[-7:]}))
    assert card.name in found
    response = anna_client.post(reverse("tickets:new"), {
        "caller": card.phone, "client": card.pk, "category": categories["tv"].pk,
        "subject": "No TV channels", "description": "Since morning", "priority": "high",
        "channel": "phone"}, follow=True)
    ticket = Ticket.objects.get(subject="No TV channels")
    assert ticket.client == card and ticket.channel == "phone"
    assert ticket.assignee == support["engineer"]  # the category's named person
    assert (f"Ticket #{ticket.pk} opened and assigned to {support['engineer']}."
            in messages_of(response))
    assert response.redirect_chain[-1][0] == reverse("tickets:detail", args=[ticket.pk])


def test_phone_form_shows_the_category_tree_and_keeps_input_on_error(anna_client,
                                                                     categories):
    page = text_of(anna_client.get(reverse("tickets:new")))
    assert "Internet" in page and "&nbsp;&nbsp;&nbsp;Low speed" in page.replace("\xa0",
                                                                                "&nbsp;")
    response = anna_client.post(reverse("tickets:new"), {
        "client": "", "category": categories["speed"].pk, "subject": "",
        "priority": "normal", "channel": "phone"})
    assert response.status_code == 200
    assert not Ticket.objects.exists()


def test_ticket_from_a_building_that_is_down_joins_the_outage(anna_client, card, categories,
                                                              policy, support):
    outage = outages.outage_create(actor=support["anna"], description="Switch burnt",
                                   buildings=[card.building])
    anna_client.post(reverse("tickets:new"), {
        "client": card.pk, "category": categories["speed"].pk, "subject": "No internet",
        "priority": "normal", "channel": "phone"})
    assert Ticket.objects.get(subject="No internet").outage == outage


def test_header_badge_and_outages_page(anna_client, card, now_ticket, support):
    now_ticket()
    assert "1 outage" not in text_of(anna_client.get(reverse("tickets:help")))
    response = anna_client.post(reverse("tickets:outage_create"), {
        "description": "Fibre cut on the main road", "buildings": [card.building_id],
        "eta": "2030-01-01T18:00"}, follow=True)
    assert "Outage declared; 1 open ticket linked to it." in messages_of(response)
    page = text_of(anna_client.get(reverse("tickets:outages")))
    assert "Fibre cut on the main road" in page
    assert "1 outage" in page  # the red header badge
    assert "01.01.2030 18:00" in page and "1 linked ticket" in page
    assert f"{card.building.street.name}, {card.building.house}" in page


def test_outage_form_refuses_without_a_place(anna_client):
    response = anna_client.post(reverse("tickets:outage_create"),
                                {"description": "Something"})
    assert "Name the buildings, streets or districts affected." in text_of(response)


def test_only_outage_roles_see_the_declare_form(client, make_user):
    client.force_login(make_user("accountant"))
    page = text_of(client.get(reverse("tickets:outages")))
    assert "Nothing is down." in page and "Declare the outage" not in page


def test_building_page_shows_the_outage_and_clients_with_open_tickets(
        anna_client, card, now_ticket, support, make_user, client):
    neighbour = ClientCardFactory(building=card.building, name="Соседов Сосед")
    make_account(client=neighbour, status="blocked", balance=Decimal("-350.00"))
    now_ticket()
    now_ticket()
    outages.outage_create(actor=support["anna"], description="Switch burnt",
                          buildings=[card.building])
    client.force_login(make_user("support", "accountant", username="both"))
    page = text_of(client.get(reverse("connections:building_detail",
                                      args=[card.building_id])))
    assert "Outage in progress:" in page and "Switch burnt" in page
    assert card.name in page and "Соседов Сосед" in page
    assert "Open tickets" in page
    assert '<span class="badge text-bg-warning text-dark">2</span>' in page
    assert "Account, balance" in page and "-350" in page


def test_building_page_query_count_is_bounded(anna_client, card, now_ticket):
    url = reverse("connections:building_detail", args=[card.building_id])
    now_ticket()
    anna_client.get(url)  # the role permissions are cached from now on
    with CaptureQueriesContext(connection) as few:
        anna_client.get(url)
    for _ in range(8):
        other = ClientCardFactory(building=card.building)
        now_ticket(client=other)
    with CaptureQueriesContext(connection) as many:
        anna_client.get(url)
    assert len(many) == len(few)


def test_client_card_shows_tickets_outage_and_new_ticket_link(anna_client, card, now_ticket,
                                                              support):
    now_ticket()
    outages.outage_create(actor=support["anna"], description="Switch burnt",
                          buildings=[card.building], eta=timezone.now()
                          + timezone.timedelta(hours=3))
    page = text_of(anna_client.get(reverse("connections:client_detail", args=[card.pk])))
    assert "Slow internet" in page
    assert "Outage at this building:" in page and "Switch burnt" in page
    assert reverse("tickets:new") + f"?client={card.pk}" in page


def test_help_page_explains_the_flow(anna_client):
    page = text_of(anna_client.get(reverse("tickets:help")))
    for words in ("Who gets it", "The SLA clocks", "paused: waiting for the client",
                  "The formal task", "Resolution and rating", "Outages"):
        assert words in page




@translation.override("en")
def test_clock_turns_amber_near_the_limit_red_when_breached_grey_when_paused(
        open_ticket, support):
    ticket = open_ticket(at(23, 10))  # Monday 10:00: first response due at 12:00
    assert Clocks(at(23, 10, 30)).next(ticket).label == "1 h 30 min left"
    near = Clocks(at(23, 11, 45)).next(ticket)  # 87 % of two hours used
    assert (near.state, near.label) == ("warning", "only 15 min left")
    late = Clocks(at(23, 12, 30)).next(ticket)
    assert (late.state, late.label) == ("breached", "breached 30 min ago")
    service.comment_add(ticket=ticket, author=support["anna"], body="Which router?",
                        kind="question", now=at(23, 11))
    ticket.refresh_from_db()
    assert Clocks(at(23, 12, 30)).next(ticket).label == "paused: waiting for the client"


def test_affected_clients_are_told_in_bulk_from_the_outages_page(anna_client, card, support,
                                                                  mailoutbox):
    ClientCard = type(card)
    ClientCard.objects.filter(pk=card.pk).update(stage="active")
    outage = outages.outage_create(actor=support["anna"], description="Switch burnt",
                                   buildings=[card.building])
    page = text_of(anna_client.get(reverse("tickets:outages")))
    assert "Tell the affected clients" in page
    response = anna_client.post(reverse("tickets:outage_notify", args=[outage.pk]),
                                {"text": "Repair by 18:00."}, follow=True)
    assert "Clients told: 1 sent, 0 failed, 0 without a contact." in messages_of(response)
    assert mailoutbox[-1].to == ["client@mail.example"]
    assert "Repair by 18:00." in mailoutbox[-1].body


def test_resolving_the_outage_resolves_its_tickets_together(anna_client, card, now_ticket,
                                                            support):
    ticket = now_ticket()
    outage = outages.outage_create(actor=support["anna"], description="Switch burnt",
                                   buildings=[card.building])
    response = anna_client.post(reverse("tickets:outage_resolve", args=[outage.pk]),
                                {"resolution": "Switch replaced", "close_tickets": "1"},
                                follow=True)
    assert "Outage resolved." in messages_of(response)
    assert "Nothing is down." in text_of(response) and "1 outage" not in text_of(response)
    ticket.refresh_from_db()
    assert ticket.status == Ticket.Status.RESOLVED
    again = anna_client.post(reverse("tickets:outage_resolve", args=[outage.pk]),
                             {"resolution": "Twice"}, follow=True)
    assert "The outage is already resolved." in messages_of(again)
