"""The same money delivered several times at once, through the doors it really comes in by
(issue 8, "Faults"): a bank statement uploaded twice at once (the API and the page), a
gateway's callback delivered ten times in parallel, a terminal's payment retried ten times in
parallel. Each request runs on its own thread and database connection, as on several
gunicorn workers; every delivery gets a proper answer and the money is credited once.

The services' own races are in test_bank_import.py, test_online_payments.py and
test_payments.py; these go through the HTTP layer, where a lost race could still become a
500 or a wrong answer."""

from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from rest_framework.test import APIClient

from billing.gateways.test import TestGateway
from billing.models import Account, BankStatement, BankTransfer, OnlinePayment, Payment
from billing.services.ledger import balance_mismatches
from billing.services.online import topup_start
from tests.billing.test_bank_import import statement
from tests.concurrency import run_in_parallel
from tests.factories import make_account

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

CALLBACK_URL = "/billing/gateway/test/callback/"


def balance(account: Account) -> Decimal:
    return Account.objects.get(pk=account.pk).balance


def token_client(user) -> APIClient:
    from rest_framework.authtoken.models import Token

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.get_or_create(user=user)[0]}")
    return client


@pytest.fixture
def march_statement():
    """Two accounts named in the purposes and one transfer nobody can be matched to."""
    first = make_account(number="10000001", balance=Decimal("0.00"))
    second = make_account(number="10000002", balance=Decimal("-300.00"))
    data = statement({"number": "41", "amount": "500", "purpose": "л/с 10000001"},
                     {"number": "42", "amount": "700", "purpose": "оплата по л/с 10000002"},
                     {"number": "43", "amount": "900", "purpose": "за интернет"})
    return data, first, second


# --- The same bank statement twice at once ------------------------------------------------

def test_the_same_statement_posted_twice_at_once_through_the_api_credits_once(
        accountant, march_statement):
    data, first, second = march_statement

    def upload(_i):
        return token_client(accountant).post(
            "/api/v1/bank-statements/", {"file": SimpleUploadedFile("march.txt", data)},
            format="multipart")

    responses, errors = run_in_parallel(upload, 2)
    assert errors == []
    assert [r.status_code for r in responses] == [201, 201]
    # One upload recorded the three documents, the other saw them as duplicates.
    counts = sorted((r.json()["imported"], r.json()["duplicates"]) for r in responses)
    assert counts == [(0, 3), (3, 0)]
    assert (balance(first), balance(second)) == (Decimal("500.00"), Decimal("400.00"))
    assert Payment.objects.count() == 2 and BankTransfer.objects.count() == 3
    assert BankTransfer.objects.filter(status=BankTransfer.Status.UNMATCHED).count() == 1
    assert not balance_mismatches().exists()


def test_the_same_statement_through_the_page_and_the_api_at_once_credits_once(
        accountant, march_statement):
    data, first, second = march_statement

    def upload(i):
        if i == 0:
            web = Client()
            web.force_login(accountant)
            return web.post("/billing/bank/", {"file": SimpleUploadedFile("march.txt", data)})
        return token_client(accountant).post(
            "/api/v1/bank-statements/", {"file": SimpleUploadedFile("march.txt", data)},
            format="multipart")

    responses, errors = run_in_parallel(upload, 2)
    assert errors == []
    # The page sends the accountant to the statement's result, the API answers 201.
    assert sorted(r.status_code for r in responses) == [201, 302]
    assert sorted(BankStatement.objects.values_list("imported", flat=True)) == [0, 3]
    assert (balance(first), balance(second)) == (Decimal("500.00"), Decimal("400.00"))
    assert Payment.objects.count() == 2
    assert not balance_mismatches().exists()


# --- The same gateway callback ten times at once --------------------------------------------

@pytest.fixture
def gateway(settings):
    settings.PAYMENT_GATEWAY = "test"
    settings.PAYMENT_GATEWAY_SECRET = ""


def started_topup(account, amount="500.00") -> OnlinePayment:
    online, _url = topup_start(
        account=account, amount=amount, actor=None, site_url="http://testserver/",
        return_url=lambda online: f"http://testserver/my/topup/{online.public_id}/")
    return online


def post_callback(body: bytes, headers: dict):
    extra = {f"HTTP_{name.upper().replace('-', '_')}": value
             for name, value in headers.items() if name != "Content-Type"}
    return Client().post(CALLBACK_URL, data=body, content_type="application/json", **extra)


def signed(online: OnlinePayment, status: str = "succeeded") -> tuple[bytes, dict]:
    session = {"order_id": str(online.public_id), "payment_id": online.gateway_payment_id,
               "amount": f"{online.amount:.2f}"}
    return TestGateway().callback(session, status=status, reason="")


def test_the_same_callback_delivered_ten_times_at_once_credits_once(gateway):
    account = make_account(balance=Decimal("100.00"))
    online = started_topup(account)
    body, headers = signed(online)

    responses, errors = run_in_parallel(lambda _i: post_callback(body, headers), 10)
    assert errors == []
    # Every delivery is answered 200, so the gateway stops retrying; one of them credited.
    assert [r.status_code for r in responses] == [200] * 10
    assert sorted(r.json()["credited"] for r in responses) == [False] * 9 + [True]
    assert {r.json()["code"] for r in responses if not r.json()["credited"]} == {"duplicate"}
    assert Payment.objects.count() == 1
    assert OnlinePayment.objects.get(pk=online.pk).status == OnlinePayment.Status.SUCCEEDED
    assert balance(account) == Decimal("600.00")
    assert not balance_mismatches().exists()


def test_success_and_failure_callbacks_racing_credit_once(gateway):
    """A gateway that said "failed" and then "succeeded" (a retried 3-D Secure), both
    delivered repeatedly at once: whatever the order, the success stands, credited once."""
    account = make_account(balance=Decimal("0.00"))
    online = started_topup(account, "250.00")
    success, failure = signed(online, "succeeded"), signed(online, "failed")

    responses, errors = run_in_parallel(
        lambda i: post_callback(*(success if i % 2 else failure)), 10)
    assert errors == []
    assert {r.status_code for r in responses} == {200}
    assert sum(r.json()["credited"] for r in responses) == 1
    assert OnlinePayment.objects.get(pk=online.pk).status == OnlinePayment.Status.SUCCEEDED
    assert balance(account) == Decimal("250.00")
    assert not balance_mismatches().exists()


# --- The same terminal payment ten times at once --------------------------------------------

def test_the_same_api_payment_retried_ten_times_at_once_credits_once(manager):
    account = make_account(balance=Decimal("0.00"))
    body = {"account": account.number, "amount": "300.00", "external_id": "term-7-000123",
            "channel": "terminal"}

    responses, errors = run_in_parallel(
        lambda _i: token_client(manager).post("/api/v1/payments/", body, format="json"), 10)
    assert errors == []
    # The first is 201 Created, the nine repeats 200 with the same payment.
    assert sorted(r.status_code for r in responses) == [200] * 9 + [201]
    assert len({r.json()["id"] for r in responses}) == 1
    assert balance(account) == Decimal("300.00")
    assert not balance_mismatches().exists()


def test_a_retry_with_another_amount_at_once_is_refused_not_credited(manager):
    """Ten deliveries of one payment id, two of them with a different amount: the amount
    that wins the race is credited once, the other is a 409 — never both."""
    account = make_account(balance=Decimal("0.00"))

    def pay(i):
        amount = "999.00" if i in (3, 7) else "300.00"
        return token_client(manager).post("/api/v1/payments/", {
            "account": account.number, "amount": amount, "external_id": "term-7-000124",
            "channel": "terminal"}, format="json")

    responses, errors = run_in_parallel(pay, 10)
    assert errors == []
    assert {r.status_code for r in responses} <= {200, 201, 409}
    assert sum(r.status_code == 201 for r in responses) == 1
    credited = Payment.objects.get().amount
    assert balance(account) == credited
    refused = [r for r in responses if r.status_code == 409]
    assert refused and all(r.json()["code"] == "payment_conflict" for r in refused)
    assert not balance_mismatches().exists()
