"""The whole connection standard through the API (API.md), as other systems drive it."""

import datetime as dt
from decimal import Decimal

import pytest

from billing.models import Account, LedgerEntry
from connections.models import CardDocument, StageLog

pytestmark = pytest.mark.django_db


def post(api, user, url, body=None):
    return api.as_user(user).post(url, body or {}, format="json")


def test_new_client_to_monthly_charges(api, team, tariff, building, crew, on_monday):
    created = post(api, team["manager"], "/api/v1/clients/", {
        "kind": "person", "name": "Соколов Пётр", "phone": "8 912 111-22-33",
        "building": building.pk, "premises": "кв. 5", "connection_type": "lan",
        "tariff": tariff.pk})
    assert created.status_code == 201, created.json()
    card_id = created.json()["id"]
    assert created.json()["stage"] == "commercial"
    url = f"/api/v1/clients/{card_id}/"
    card = api.as_user(team["manager"]).get(url).json()
    assert card["available_transitions"] == ["request_expertise", "cancel"]
    assert card["lead_manager"]["username"] == team["manager"].username
    assert card["account"] is None

    booked = post(api, team["manager"], url + "transitions/request_expertise/",
                  {"urgent": False, "access_roof": True})
    assert booked.status_code == 200, booked.json()
    assert booked.json()["stage"] == "expertise"
    assert StageLog.objects.get(card_id=card_id).payload["date"] == "2026-11-24"  # Tuesday

    result = post(api, team["noc_head"], url + "transitions/record_expertise/", {
        "possible": True, "notes": "Кабель по стояку",
        "estimate": [{"item": "Коммутатор", "quantity": 1, "unit_price": "3500.00"},
                     {"item": "Монтаж", "quantity": "2", "unit_price": "500", "kind": "works"}]})
    assert result.status_code == 200, result.json()
    assert result.json()["stage"] == "contract"

    signed = post(api, team["manager"], url + "transitions/sign_contract/",
                  {"nonstandard": False})
    assert signed.status_code == 200, signed.json()
    assert signed.json()["stage"] == "installation"
    account = Account.objects.get(client_id=card_id)
    assert signed.json()["account"] == {"number": account.number, "status": "pending",
                                        "balance": "-1000.00"}

    refused = post(api, team["crew_leader"], url + "transitions/schedule_installation/",
                   {"date": "2026-11-25"})
    assert refused.status_code == 409
    assert "connection fee not paid" in refused.json()["detail"]

    paid = post(api, team["accountant"], "/api/v1/payments/", {
        "account": account.number, "amount": "1000.00", "external_id": "bank-1",
        "channel": "bank"})
    assert paid.status_code == 201, paid.json()
    planned = post(api, team["crew_leader"], url + "transitions/schedule_installation/",
                   {"date": "2026-11-25", "crew": crew.pk})
    assert planned.status_code == 200, planned.json()
    assert planned.json()["stage"] == "installation"

    bad_ip = post(api, team["crew_leader"], url + "transitions/complete_installation/",
                  {"ip_address": "10.0.0.300"})
    assert bad_ip.status_code == 400 and "ip_address" in bad_ip.json()
    done = post(api, team["crew_leader"], url + "transitions/complete_installation/",
                {"ip_address": "10.20.30.40"})
    assert done.json()["stage"] == "activation"

    active = post(api, team["subscriber_dept"], url + "transitions/activate/")
    assert active.status_code == 200, active.json()
    assert active.json()["stage"] == "active"
    assert active.json()["account"]["status"] == "active"
    monthly = LedgerEntry.objects.get(account=account, charge_kind="monthly_fee")
    assert monthly.amount == Decimal("-160.00")  # 8 of 30 November days at 600 ₽

    log = list(StageLog.objects.filter(card_id=card_id).values_list("transition", flat=True))
    assert log == ["request_expertise", "record_expertise", "sign_contract",
                   "schedule_installation", "complete_installation", "activate"]
    kinds = set(CardDocument.objects.filter(card_id=card_id).values_list("kind", flat=True))
    assert {"expertise_act", "estimate", "contract", "work_order", "works_act"} <= kinds
    history = api.as_user(team["manager"]).get(url + "history/").json()["results"]
    assert any(item["kind"] == "stage" for item in history)
    assert dt.date.fromisoformat(active.json()["activated_at"][:10]) == on_monday
