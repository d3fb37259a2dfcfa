"""Audit of every change (D7): who, when, from which request, which fields."""

import pytest

from connections.models import Building, ClientCard, ConnectionType
from connections.services.clients import client_update
from ispcrm.audit import change_events
from tests.factories import BuildingFactory, ClientCardFactory

pytestmark = pytest.mark.django_db


def test_api_change_is_recorded_with_actor_request_and_fields(api, manager):
    card = ClientCardFactory()
    response = api.as_user(manager).patch(
        f"/api/v1/clients/{card.pk}/", {"premises": "101"}, format="json",
        HTTP_X_REQUEST_ID="req-42", REMOTE_ADDR="10.1.2.3")
    assert response.status_code == 200
    assert response["X-Request-ID"] == "req-42"
    row = card.history.first()
    assert row.history_type == "~"
    assert row.history_user == manager
    assert row.request_id == "req-42"
    assert row.request_ip == "10.1.2.3"
    assert row.request_path == f"/api/v1/clients/{card.pk}/"
    assert [c.field for c in row.diff_against(row.prev_record).changes] == ["premises"]


def test_page_edit_is_recorded_with_the_signed_in_user(client, manager):
    card = ClientCardFactory()
    client.force_login(manager)
    client.post(f"/clients/{card.pk}/edit/", {
        "kind": "person", "name": "Новое Имя", "phone": card.phone, "building": card.building_id,
        "premises": card.premises, "connection_type": "radio", "branch": card.branch_id})
    row = card.history.first()
    assert row.history_user == manager and row.name == "Новое Имя"
    assert row.request_id  # generated when the proxy sent none


def test_change_events_name_changed_fields_with_old_and_new_values(manager):
    card = ClientCardFactory(connection_type="lan")
    client_update(card=card, actor=manager, connection_type="radio")
    events = change_events(ClientCard.objects.get(pk=card.pk).history.all(), "Card")
    assert events[0].kind == "record_changed"
    label = str(ClientCard._meta.get_field("connection_type").verbose_name)
    assert events[0].changes == ((label, str(ConnectionType.LAN.label),
                                  str(ConnectionType.RADIO.label)),)


def test_deletion_is_recorded():
    building = BuildingFactory()
    pk = building.pk
    building.delete()
    assert Building.history.filter(id=pk, history_type="-").exists()


def test_work_outside_a_request_is_recorded_without_actor():
    card = ClientCardFactory()
    row = card.history.first()
    assert row.history_user is None and row.request_id == "" and row.request_ip is None
