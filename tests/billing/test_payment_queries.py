"""The cost of one POST /api/v1/payments/ (issue 3): its queries, and the cached token
authentication (forgotten the moment the token or its user changes)."""

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.authtoken.models import Token
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.test import APIRequestFactory

from billing.models import Account, Payment
from ispcrm.api.authentication import CachedTokenAuthentication
from tests.factories import make_account

pytestmark = pytest.mark.django_db


@pytest.fixture
def cashier(api, manager):
    return api.as_user(manager)


def pay(client, account, external_id, amount="100.00"):
    number = account if isinstance(account, str) else account.number
    return client.post("/api/v1/payments/", {"account": number, "amount": amount,
                                             "external_id": external_id,
                                             "channel": "terminal"}, format="json")


def test_one_payment_is_the_lock_two_inserts_and_the_balance(cashier):
    warm = make_account()
    assert pay(cashier, warm, "warm").status_code == 201  # role permissions cached
    account = make_account(balance=Decimal("-500.00"))  # still in debt after it: no dunning
    with CaptureQueriesContext(connection) as queries:
        response = pay(cashier, account, "t-1")
    assert response.status_code == 201 and response.json()["balance"] == "-400.00"
    # No permission, account or earlier-payment read, no re-read of the balance (the
    # token's lookup aside: a query with DRF's TokenAuthentication, none with the cached
    # one; transaction control aside: the test's own transaction makes it savepoints).
    sql = [query["sql"] for query in queries.captured_queries
           if query["sql"].split()[0].upper() in ("SELECT", "INSERT", "UPDATE", "DELETE")
           and "authtoken_token" not in query["sql"]]
    assert [text.split()[0].upper() for text in sql] == [
        "SELECT", "INSERT", "INSERT", "UPDATE"], sql
    if connection.vendor == "postgresql":
        assert "FOR UPDATE" in sql[0]  # the account read is the lock


def test_a_repeated_delivery_is_answered_from_the_first_payment(cashier):
    account = make_account()
    first = pay(cashier, account, "t-1").json()
    again = pay(cashier, account, "t-1")
    assert again.status_code == 200 and again.json() == first | {"balance": "100.00"}
    assert Payment.objects.count() == 1


def test_a_repeated_delivery_to_an_account_closed_since_is_still_answered(cashier):
    account = make_account()
    first = pay(cashier, account, "t-1").json()
    Account.objects.filter(pk=account.pk).update(status=Account.Status.CLOSED)
    again = pay(cashier, account, "t-1")
    assert again.status_code == 200 and again.json()["id"] == first["id"]
    fresh = pay(cashier, account, "t-2")
    assert fresh.status_code == 409 and fresh.json()["code"] == "account_closed"


def test_an_unknown_account_number_is_404_with_the_usual_body(cashier):
    response = pay(cashier, "99999999", "t-1")
    assert response.status_code == 404 and response.json()["code"] == "not_found"


def test_the_answer_has_the_balance_the_handlers_left(cashier):
    """Covering the debt of a blocked account unblocks it and charges the rest of the
    month: the answer's balance is the stored one, read by no extra query."""
    account = make_account(balance=Decimal("-300.00"), status="blocked")
    body = pay(cashier, account, "t-1", amount="1000.00").json()
    account.refresh_from_db()
    assert account.status == "active" and body["balance"] == f"{account.balance:.2f}"


# --- the cached token (ispcrm.api.authentication) --------------------------------------

def authenticate(user_token: str):
    request = APIRequestFactory().post("/api/v1/payments/",
                                       HTTP_AUTHORIZATION=f"Token {user_token}")
    return CachedTokenAuthentication().authenticate(request)


def test_a_known_token_asks_the_database_nothing(manager):
    key = Token.objects.create(user=manager).key
    authenticate(key)
    with CaptureQueriesContext(connection) as queries:
        user, token = authenticate(key)
    assert len(queries) == 0
    assert user.pk == manager.pk and user.is_active and token.key == key
    assert user.has_perm("billing.add_payment") and "password" in user.get_deferred_fields()


def test_a_deleted_token_stops_working_at_once(manager):
    token = Token.objects.create(user=manager)
    authenticate(token.key)
    token.delete()
    with pytest.raises(AuthenticationFailed):
        authenticate(token.key)


def test_a_deactivated_user_is_refused_at_once(manager):
    key = Token.objects.create(user=manager).key
    authenticate(key)
    manager.is_active = False
    manager.save()
    with pytest.raises(AuthenticationFailed):
        authenticate(key)


def test_a_login_keeps_the_cached_token(manager):
    key = Token.objects.create(user=manager).key
    authenticate(key)
    manager.save(update_fields=["last_login"])
    with CaptureQueriesContext(connection) as queries:
        authenticate(key)
    assert len(queries) == 0
