"""The helpdesk API (API.md "Tickets and outages"): shapes, routing and SLA on creation,
who may see and do what (403/404), the client's own tickets, comments and ratings."""

import pytest
from django.contrib.auth.models import Group

from ispcrm import roles
from tests.factories import BuildingFactory, ClientCardFactory, UserFactory
from tickets.models import Category, SlaPolicy, Ticket
from tickets.services import outages
from tickets.services.tickets import ticket_open, ticket_resolve


@pytest.fixture
def agent(make_user):
    return make_user(roles.SUPPORT)


@pytest.fixture
def category(db):
    root = Category.objects.create(code="internet", name="Internet",
                                   group=Group.objects.get(name=roles.SUPPORT))
    Category.objects.create(code="internet-slow", name="Slow", parent=root)
    return root


@pytest.fixture
def policy(db):
    return SlaPolicy.objects.create(name="Everyone", first_response_hours=2,
                                    resolution_hours=16)


@pytest.fixture
def card(db):
    return ClientCardFactory(stage="active")


@pytest.fixture
def cabinet(card):
    """The card's cabinet login."""
    user = UserFactory(username="client-anna")
    card.cabinet_user = user
    card.save()
    return user


def _open(agent, category, card, subject="No internet"):
    return ticket_open(actor=agent, category=category, channel="phone", subject=subject,
                       client=card)


def test_categories_list_the_tree(api, agent, category):
    response = api.as_user(agent).get("/api/v1/ticket-categories/")

    assert response.status_code == 200
    assert {"code": "internet", "name": "Internet", "parent": None,
            "group": roles.SUPPORT} in response.json()
    assert {"code": "internet-slow", "name": "Slow", "parent": "internet",
            "group": None} in response.json()


def test_post_ticket_routes_it_and_sets_the_sla(api, agent, category, policy, card):
    response = api.as_user(agent).post("/api/v1/tickets/", {
        "client": card.pk, "category": "internet", "channel": "phone",
        "subject": "No internet", "description": "Since the morning"}, format="json")

    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["assignee"]["id"] == agent.pk  # the only member of the support group
    assert body["status"] == "new"
    assert body["client"] == card.pk and body["category"] == "internet"
    assert body["first_response_due"] and body["resolution_due"]
    assert body["first_response_due"] < body["resolution_due"]


def test_post_ticket_names_the_bad_fields(api, agent, category):
    response = api.as_user(agent).post("/api/v1/tickets/", {
        "category": "nope", "channel": "pigeon", "subject": ""}, format="json")

    assert response.status_code == 400
    assert {"category", "channel", "subject"} <= set(response.json())
    assert Ticket.objects.count() == 0


def test_a_ticket_at_a_down_building_is_linked_to_the_outage(api, agent, category, card,
                                                               make_user):
    outage = outages.outage_create(actor=make_user(roles.NOC_HEAD), description="Switch down",
                                   buildings=[card.building])

    response = api.as_user(agent).post("/api/v1/tickets/", {
        "client": card.pk, "category": "internet", "channel": "phone",
        "subject": "No internet"}, format="json")

    assert response.json()["outage"] == outage.pk


def test_list_filters_and_detail(api, agent, category, card):
    mine = _open(agent, category, card)
    other = _open(agent, category, ClientCardFactory(), subject="Other")
    api.as_user(agent)

    by_client = api.get(f"/api/v1/tickets/?client={card.pk}").json()
    assert [t["id"] for t in by_client["results"]] == [mine.pk]
    by_status = api.get("/api/v1/tickets/?status=resolved").json()
    assert by_status["count"] == 0
    by_assignee = api.get(f"/api/v1/tickets/?assignee={agent.pk}").json()
    assert {t["id"] for t in by_assignee["results"]} == {mine.pk, other.pk}
    assert api.get("/api/v1/tickets/?assignee=me").status_code == 400
    detail = api.get(f"/api/v1/tickets/{mine.pk}/")
    assert detail.status_code == 200 and detail.json()["subject"] == "No internet"


def test_a_role_without_ticket_rights_cannot_open_one(api, make_user, category):
    response = api.as_user(make_user(roles.ACCOUNTANT)).post("/api/v1/tickets/", {
        "category": "internet", "channel": "phone", "subject": "x"}, format="json")
    assert response.status_code == 403


def test_a_cabinet_client_sees_only_his_own_tickets(api, agent, category, card, cabinet):
    mine = _open(agent, category, card)
    theirs = _open(agent, category, ClientCardFactory(), subject="Other")
    api.as_user(cabinet)

    listing = api.get("/api/v1/tickets/").json()
    assert [t["id"] for t in listing["results"]] == [mine.pk]
    assert api.get(f"/api/v1/tickets/{mine.pk}/").status_code == 200
    assert api.get(f"/api/v1/tickets/{theirs.pk}/").status_code == 404


def test_a_cabinet_client_opens_tickets_for_himself_only(api, category, card, cabinet):
    api.as_user(cabinet)
    own = api.post("/api/v1/tickets/", {"category": "internet", "channel": "cabinet",
                                        "subject": "Slow"}, format="json")
    assert own.status_code == 201 and own.json()["client"] == card.pk

    other = ClientCardFactory()
    refused = api.post("/api/v1/tickets/", {"client": other.pk, "category": "internet",
                                            "channel": "cabinet", "subject": "x"},
                       format="json")
    assert refused.status_code == 403
    assert not other.tickets.exists()


def test_internal_notes_are_hidden_from_the_client(api, agent, category, card, cabinet):
    ticket = _open(agent, category, card)
    api.as_user(agent)
    reply = api.post(f"/api/v1/tickets/{ticket.pk}/comments/", {"body": "Rebooting"},
                     format="json")
    note = api.post(f"/api/v1/tickets/{ticket.pk}/comments/",
                    {"body": "Port 7 flaps", "internal": True}, format="json")
    assert reply.status_code == note.status_code == 201
    assert note.json()["internal"] is True

    seen = api.as_user(cabinet).get(f"/api/v1/tickets/{ticket.pk}/").json()["comments"]
    assert [c["body"] for c in seen] == ["Rebooting"]
    answer = api.post(f"/api/v1/tickets/{ticket.pk}/comments/", {"body": "Still down"},
                      format="json")
    assert answer.status_code == 201 and answer.json()["kind"] == "client"


def test_rating_by_the_client_once_after_resolution(api, agent, category, card, cabinet):
    ticket = _open(agent, category, card)
    url = f"/api/v1/tickets/{ticket.pk}/rating/"

    early = api.as_user(cabinet).post(url, {"score": 5}, format="json")
    assert early.status_code == 409
    ticket_resolve(ticket=ticket, actor=agent)
    assert api.post(url, {"score": 9}, format="json").status_code == 400
    rated = api.post(url, {"score": 5, "comment": "Fast"}, format="json")
    assert rated.status_code == 201 and rated.json()["score"] == 5
    assert api.post(url, {"score": 4}, format="json").status_code == 409

    assert api.as_user(agent).post(url, {"score": 1}, format="json").status_code == 403
    stranger = UserFactory(username="client-boris")
    other_card = ClientCardFactory()
    other_card.cabinet_user = stranger
    other_card.save()
    assert api.as_user(stranger).post(url, {"score": 1}, format="json").status_code == 404
    ticket.refresh_from_db()
    assert ticket.rating.score == 5


def test_outages_listed_by_staff_and_created_by_noc_and_support(api, make_user):
    building = BuildingFactory()
    payload = {"description": "Switch down", "buildings": [building.pk]}

    refused = api.as_user(make_user(roles.MANAGER)).post("/api/v1/outages/", payload,
                                                         format="json")
    assert refused.status_code == 403
    created = api.as_user(make_user(roles.NOC_HEAD)).post("/api/v1/outages/", payload,
                                                          format="json")
    assert created.status_code == 201, created.json()
    body = created.json()
    assert {"id", "description", "buildings", "started_at", "eta", "resolved_at"} <= set(body)
    assert body["buildings"] == [building.pk] and body["resolved_at"] is None
    support = api.as_user(make_user(roles.SUPPORT))
    assert support.post("/api/v1/outages/", payload, format="json").status_code == 201
    assert api.post("/api/v1/outages/", {"description": "x"}, format="json").status_code == 400

    update = api.post(f"/api/v1/outages/{body['id']}/updates/",
                      {"text": "Crew on site", "eta": "2030-01-01T18:00:00+03:00"},
                      format="json")
    assert update.status_code == 201
    assert update.json()["eta"] and update.json()["updates"][0]["text"] == "Crew on site"
    resolved = api.post(f"/api/v1/outages/{body['id']}/resolve/", {"resolution": "Replaced"},
                        format="json")
    assert resolved.status_code == 200 and resolved.json()["resolved_at"]
    active = api.as_user(make_user(roles.MANAGER)).get("/api/v1/outages/?active=1").json()
    assert active["count"] == 1 and active["results"][0]["id"] != body["id"]
    assert api.get("/api/v1/outages/").json()["count"] == 2


def test_a_cabinet_client_cannot_read_outages(api, cabinet):
    assert api.as_user(cabinet).get("/api/v1/outages/").status_code == 403
