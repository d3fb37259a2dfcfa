"""The client's view of the API (API.md: a cabinet user sees only his own data): his own
account and ledger, 404 for any other number, and 403 from every staff endpoint. Staff keep
their access as before."""

from decimal import Decimal

import pytest

from ispcrm import roles

pytestmark = pytest.mark.django_db


@pytest.fixture
def me(api, subscriber):
    return api.as_user(subscriber.client.cabinet_user)


def test_a_client_reads_his_own_account_and_ledger(me, subscriber):
    response = me.get(f"/api/v1/accounts/{subscriber.number}/")
    assert response.status_code == 200
    body = response.json()
    assert (body["number"], body["client"], body["balance"], body["status"]) == (
        subscriber.number, subscriber.client_id, "900.00", "active")

    response = me.get(f"/api/v1/accounts/{subscriber.number}/ledger/")
    assert response.status_code == 200
    entries = response.json()["results"]
    assert [(e["amount"], e["balance_after"]) for e in entries] == [("900.00", "900.00")]


def test_another_clients_account_is_a_404_not_a_403(me, stranger):
    for url in (f"/api/v1/accounts/{stranger.number}/",
                f"/api/v1/accounts/{stranger.number}/ledger/",
                "/api/v1/accounts/99999999/"):
        response = me.get(url)
        assert response.status_code == 404, url
        assert stranger.number not in response.content.decode()


def test_a_client_cannot_change_an_account(me, subscriber):
    assert me.patch(f"/api/v1/accounts/{subscriber.number}/",
                    {"balance": "1000000.00"}, format="json").status_code in (403, 405)
    assert me.post(f"/api/v1/accounts/{subscriber.number}/ledger/", {},
                   format="json").status_code in (403, 405)
    subscriber.refresh_from_db()
    assert subscriber.balance == Decimal("900.00")


@pytest.mark.parametrize(("method", "url", "data"), [
    ("get", "/api/v1/tariffs/", None),
    ("get", "/api/v1/clients/", None),
    ("get", "/api/v1/buildings/", None),
    ("get", "/api/v1/outages/", None),
    ("post", "/api/v1/payments/", {"account": "10000001", "amount": "500.00",
                                   "external_id": "x-1", "channel": "cabinet"}),
    ("get", "/api/v1/bank-statements/", None),
])
def test_staff_endpoints_refuse_a_cabinet_client(me, subscriber, method, url, data):
    response = getattr(me, method)(url, data, format="json") if data else me.get(url)
    assert response.status_code == 403, response.content
    subscriber.refresh_from_db()
    assert subscriber.balance == Decimal("900.00")


def test_a_client_clients_card_is_a_staff_endpoint(me, subscriber):
    assert me.get(f"/api/v1/clients/{subscriber.client_id}/").status_code == 403


def test_staff_still_read_any_account(api, make_user, subscriber, stranger):
    staff = api.as_user(make_user(roles.ACCOUNTANT))
    for account in (subscriber, stranger):
        assert staff.get(f"/api/v1/accounts/{account.number}/").status_code == 200
        assert staff.get(f"/api/v1/accounts/{account.number}/ledger/").status_code == 200


def test_a_role_without_billing_view_is_still_refused(api, make_user, subscriber):
    crew = api.as_user(make_user(roles.CREW_LEADER))
    assert crew.get(f"/api/v1/accounts/{subscriber.number}/").status_code == 403


def test_anonymous_gets_401(api, subscriber):
    assert api.get(f"/api/v1/accounts/{subscriber.number}/").status_code == 401
