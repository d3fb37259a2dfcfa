"""POST/GET/PATCH /api/v1/clients/ and the history endpoint (API.md, M1, M2, D7)."""

import pytest

from connections.models import ClientCard
from ispcrm import roles
from tests.factories import BuildingFactory, ClientCardFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def building(branch):
    return BuildingFactory(street__city=branch.city)


def person(where, **extra):
    return {"kind": "person", "name": "Иванов Иван Иванович", "phone": "8 (912) 345-67-89",
            "building": where.pk, "premises": "45", "connection_type": "lan", **extra}


def test_manager_opens_a_card_in_the_commercial_stage(api, manager, building):
    response = api.as_user(manager).post("/api/v1/clients/", person(building), format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["stage"] == "commercial"
    assert body["phone"] == "+79123456789"  # normalised
    assert body["lead_manager"]["id"] == manager.pk  # the manager who opens it leads it
    assert body["branch"] == manager.branch_id
    assert body["account"] is None
    assert body["available_transitions"] == ["request_expertise", "cancel"]
    card = ClientCard.objects.get(pk=body["id"])
    assert card.address.endswith(", 45")


def test_company_needs_a_valid_inn(api, manager, building):
    client = api.as_user(manager)
    company = person(building, kind="company", name='ООО "Ромашка"')
    missing = client.post("/api/v1/clients/", company, format="json")
    assert missing.status_code == 400 and "inn" in missing.json()
    wrong = client.post("/api/v1/clients/", {**company, "inn": "7707083894"}, format="json")
    assert wrong.status_code == 400 and "inn" in wrong.json()
    ok = client.post("/api/v1/clients/", {**company, "inn": "7707083893", "kpp": "770701001"},
                     format="json")
    assert ok.status_code == 201, ok.content
    assert ClientCard.objects.count() == 1


@pytest.mark.parametrize("change, field", [
    ({"phone": "12"}, "phone"),
    ({"phone": "not a phone"}, "phone"),
    ({"name": ""}, "name"),
    ({"kind": "alien"}, "kind"),
    ({"connection_type": "pigeon"}, "connection_type"),
    ({"building": 999999}, "building"),
    ({"building": "abc"}, "building"),
    ({"email": "nope"}, "email"),
    ({"referrer": 999999}, "referrer"),
    ({"inn": "123"}, "inn"),
])
def test_bad_input_is_400_naming_the_field_and_nothing_saved(api, manager, building, change,
                                                             field):
    response = api.as_user(manager).post("/api/v1/clients/", person(building, **change),
                                         format="json")
    assert response.status_code == 400
    assert field in response.json()
    assert response.json()["code"]
    assert not ClientCard.objects.exists()


def test_card_shows_stage_manager_and_transitions(api, manager):
    card = ClientCardFactory(lead_manager=manager)
    body = api.as_user(manager).get(f"/api/v1/clients/{card.pk}/").json()
    assert body["stage"] == "commercial"
    assert body["lead_manager"] == {"id": manager.pk, "username": manager.username,
                                    "name": str(manager)}
    assert "available_transitions" in body


def test_stage_cannot_be_set_through_the_api(api, manager):
    card = ClientCardFactory()
    api.as_user(manager).patch(f"/api/v1/clients/{card.pk}/", {"stage": "active"},
                               format="json")
    card.refresh_from_db()
    assert card.stage == "commercial"


def test_referrer_is_recorded(api, manager, building):
    referrer = ClientCardFactory()
    body = api.as_user(manager).post("/api/v1/clients/", person(building, referrer=referrer.pk),
                                     format="json").json()
    assert ClientCard.objects.get(pk=body["id"]).referrer == referrer


def test_history_lists_field_edits_with_who_and_when(api, manager):
    client = api.as_user(manager)
    card_id = client.post("/api/v1/clients/", person(BuildingFactory()), format="json").json()["id"]
    client.patch(f"/api/v1/clients/{card_id}/", {"phone": "+7 912 000-00-01"}, format="json")
    history = client.get(f"/api/v1/clients/{card_id}/history/").json()["results"]
    assert [item["kind"] for item in history] == ["record_changed", "record_created"]
    latest = history[0]
    assert latest["actor"] == str(manager)
    assert "+79123456789 → +79120000001" in latest["summary"]
    assert latest["at"].endswith("+03:00")  # Moscow time with offset


def test_search_finds_by_phone_in_any_format(api, manager):
    wanted = ClientCardFactory(phone="+79123456789")
    ClientCardFactory(phone="+79990000000")
    found = api.as_user(manager).get("/api/v1/clients/", {"search": "8 912 345"}).json()
    assert [c["id"] for c in found["results"]] == [wanted.pk]


def test_support_may_read_but_not_open_cards(api, make_user, building):
    support = make_user(roles.SUPPORT)
    client = api.as_user(support)
    assert client.get("/api/v1/clients/").status_code == 200
    assert client.post("/api/v1/clients/", person(building), format="json").status_code == 403
