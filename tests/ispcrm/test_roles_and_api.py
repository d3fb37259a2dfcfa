"""Roles (D15) and the API's access rules and error format (API.md)."""

import pytest
from django.contrib.auth.models import Group

from ispcrm import roles
from tests.factories import BuildingFactory

pytestmark = pytest.mark.django_db


def test_every_role_of_the_contract_exists_with_permissions():
    names = set(Group.objects.values_list("name", flat=True))
    assert set(roles.ALL_ROLES) <= names
    manager = Group.objects.get(name=roles.MANAGER)
    assert manager.permissions.filter(codename="add_clientcard").exists()
    assert not Group.objects.get(name=roles.ACCOUNTANT).permissions.filter(
        codename="add_clientcard").exists()


@pytest.mark.parametrize("url", ["/api/v1/buildings/", "/api/v1/clients/"])
def test_anonymous_api_call_is_401_in_the_error_format(api, url):
    response = api.get(url)
    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"
    assert response.json()["detail"]


def test_a_bad_token_is_401(api):
    api.credentials(HTTP_AUTHORIZATION="Token nonsense")
    assert api.get("/api/v1/buildings/").status_code == 401


def test_a_role_without_permission_gets_403(api, make_user):
    accountant = make_user(roles.ACCOUNTANT)
    building = BuildingFactory()
    client = api.as_user(accountant)
    assert client.get("/api/v1/buildings/").status_code == 200  # may look
    response = client.post("/api/v1/clients/", {
        "kind": "person", "name": "Пётр", "phone": "+79120000001", "building": building.pk,
        "connection_type": "lan"}, format="json")
    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"


def test_staff_without_any_role_cannot_read_clients(api, make_user):
    nobody = make_user()
    assert api.as_user(nobody).get("/api/v1/clients/").status_code == 403


def test_unknown_object_is_404_in_the_error_format(api, manager):
    response = api.as_user(manager).get("/api/v1/clients/999999/")
    assert response.status_code == 404
    assert response.json() == {"detail": response.json()["detail"], "code": "not_found"}


def test_openapi_schema_and_docs_are_served(client, api, manager):
    schema = api.as_user(manager).get("/api/schema/")
    assert schema.status_code == 200
    assert b"/api/v1/clients/" in schema.content
    client.force_login(manager)
    docs = client.get("/api/docs/")
    assert docs.status_code == 200
    assert b"swagger" in docs.content.lower()


def test_pagination_follows_the_contract(api, manager):
    for _ in range(3):
        BuildingFactory()
    body = api.as_user(manager).get("/api/v1/buildings/?page_size=2").json()
    assert set(body) == {"count", "next", "previous", "results"}
    assert body["count"] == 3 and len(body["results"]) == 2 and body["next"]
