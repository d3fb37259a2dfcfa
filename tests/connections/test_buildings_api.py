"""GET/POST /api/v1/buildings/ and GET /api/v1/buildings/{id}/clients/ (API.md)."""

import pytest

from connections.models import Building, District, Street
from ispcrm import roles
from tests.factories import BuildingFactory, ClientCardFactory

pytestmark = pytest.mark.django_db

NEW_BUILDING = {"city": "Москва", "district": "Басманный", "street": "ул. Покровка",
                "house": "12к2", "households": 240}


def test_manager_registers_a_building_by_its_address(api, manager):
    response = api.as_user(manager).post("/api/v1/buildings/", NEW_BUILDING, format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert {k: body[k] for k in NEW_BUILDING} == NEW_BUILDING
    assert Building.objects.get(pk=body["id"]).street.city.name == "Москва"


def test_names_match_existing_city_district_and_street_case_insensitively(api, manager):
    client = api.as_user(manager)
    client.post("/api/v1/buildings/", NEW_BUILDING, format="json")
    again = {**NEW_BUILDING, "street": "УЛ. ПОКРОВКА", "district": "басманный", "house": "14"}
    assert client.post("/api/v1/buildings/", again, format="json").status_code == 201
    assert Street.objects.count() == 1 and District.objects.count() == 1


def test_the_same_house_twice_is_refused(api, manager):
    client = api.as_user(manager)
    client.post("/api/v1/buildings/", NEW_BUILDING, format="json")
    response = client.post("/api/v1/buildings/", {**NEW_BUILDING, "house": "12К2"},
                           format="json")
    assert response.status_code == 400
    assert "house" in response.json()
    assert Building.objects.count() == 1


@pytest.mark.parametrize("body, field", [
    ({**NEW_BUILDING, "house": ""}, "house"),
    ({**NEW_BUILDING, "households": -5}, "households"),
    ({**NEW_BUILDING, "households": "many"}, "households"),
    ({k: v for k, v in NEW_BUILDING.items() if k != "street"}, "street"),
    ({**NEW_BUILDING, "city": "   "}, "city"),
    ({**NEW_BUILDING, "latitude": "200"}, "latitude"),
])
def test_bad_input_is_400_with_field_errors_and_nothing_saved(api, manager, body, field):
    response = api.as_user(manager).post("/api/v1/buildings/", body, format="json")
    assert response.status_code == 400
    data = response.json()
    assert field in data and data["code"] and data["detail"]
    assert not Building.objects.exists() and not Street.objects.exists()


def test_garbage_body_is_400_not_500(api, manager):
    response = api.as_user(manager).post("/api/v1/buildings/", "{not json",
                                         content_type="application/json")
    assert response.status_code == 400
    assert response.json()["code"] == "parse_error"


def test_search_matches_street_and_house(api, manager):
    wanted = BuildingFactory(street__name="ул. Ленина", house="5А")
    BuildingFactory(street__name="пр-т Мира", house="5")
    body = api.as_user(manager).get("/api/v1/buildings/", {"search": "Ленина 5"}).json()
    assert [b["id"] for b in body["results"]] == [wanted.pk]


def test_role_that_may_not_register_buildings_gets_403(api, make_user):
    lawyer = make_user(roles.LAWYER)
    response = api.as_user(lawyer).post("/api/v1/buildings/", NEW_BUILDING, format="json")
    assert response.status_code == 403


def test_building_clients_lists_every_card_there(api, manager):
    building = BuildingFactory()
    here = [ClientCardFactory(building=building) for _ in range(3)]
    ClientCardFactory()  # another building
    response = api.as_user(manager).get(f"/api/v1/buildings/{building.pk}/clients/")
    assert response.status_code == 200
    results = response.json()["results"]
    assert sorted(r["id"] for r in results) == sorted(c.pk for c in here)
    assert set(results[0]) >= {"id", "name", "premises", "stage", "account", "phone"}
    assert results[0]["stage"] == "commercial" and results[0]["account"] is None


def test_clients_of_an_unknown_building_is_404(api, manager):
    assert api.as_user(manager).get("/api/v1/buildings/424242/clients/").status_code == 404
