"""Online top-ups through a payment gateway (C5, C3): the gateway's notifications are applied
once whatever happens to them — repeated, replayed, forged, late, out of order — and the
test gateway behaves like a real one."""

import json
import logging
from datetime import timedelta
from decimal import Decimal
from uuid import UUID, uuid4

import pytest
from django.core.checks import run_checks
from django.core.exceptions import ValidationError
from django.test import Client
from django.utils import timezone

from billing.gateways import Callback, UnknownGateway, get_gateway
from billing.gateways.test import CARD_DECLINED, CARD_SUCCEEDS, SIGNATURE_HEADER, TestGateway
from billing.models import Account, LedgerEntry, OnlinePayment, Payment
from billing.services.ledger import balance_mismatches
from billing.services.online import online_payments_expire, topup_callback, topup_start
from billing.tasks import expire_online_payments
from ispcrm.errors import RuleViolation
from tests.concurrency import run_in_parallel
from tests.factories import make_account

pytestmark = pytest.mark.django_db

CALLBACK_URL = "/billing/gateway/test/callback/"
Status = OnlinePayment.Status


@pytest.fixture(autouse=True)
def english(settings):
    from django.utils import translation

    settings.LANGUAGE_CODE = "en"
    settings.PAYMENT_GATEWAY = "test"
    settings.PAYMENT_GATEWAY_SECRET = ""
    with translation.override("en"):
        yield


def start(account, amount="500.00") -> tuple[OnlinePayment, str]:
    return topup_start(account=account, amount=amount, actor=None,
                       site_url="http://testserver/",
                       return_url=lambda online: f"http://testserver/my/topup/{online.public_id}/")


def signed(online, *, status="succeeded", amount=None, payment_id=None, reason=""):
    """The body and headers the test gateway sends about ``online``."""
    session = {"order_id": str(online.public_id),
               "payment_id": payment_id or online.gateway_payment_id,
               "amount": amount or f"{online.amount:.2f}"}
    return TestGateway().callback(session, status=status, reason=reason)


def notify(online=None, *, body=None, headers=None, **fields):
    """POST a notification to the callback endpoint, as the gateway does."""
    if body is None:
        body, headers = signed(online, **fields)
    extra = {f"HTTP_{name.upper().replace('-', '_')}": value
             for name, value in (headers or {}).items() if name != "Content-Type"}
    return Client().post(CALLBACK_URL, data=body, content_type="application/json", **extra)


def balance_of(account) -> Decimal:
    return Account.objects.get(pk=account.pk).balance


@pytest.fixture
def account():
    return make_account(balance=Decimal("100.00"))


def assert_ledger_consistent():
    assert not balance_mismatches().exists()


# --- Starting ---------------------------------------------------------------------------------

def test_start_records_a_pending_payment_and_sends_to_the_gateway_page(account):
    online, url = start(account)
    assert online.status == Status.PENDING and online.gateway == "test"
    assert online.amount == Decimal("500.00")
    assert online.gateway_payment_id.startswith("tg_")
    assert url.startswith(f"/billing/gateway/test/pay/{online.public_id}/?session=")
    assert balance_of(account) == Decimal("100.00")  # nothing credited yet


@pytest.mark.parametrize("amount", ["9.99", "100000.01", "abc", "0", "-5", "10.001"])
def test_start_refuses_a_bad_amount(account, amount):
    with pytest.raises(ValidationError) as exc:
        start(account, amount)
    assert "amount" in exc.value.message_dict
    assert not OnlinePayment.objects.exists()


def test_start_accepts_the_limits_and_russian_notation(account):
    assert start(account, "10")[0].amount == Decimal("10.00")
    assert start(account, "100 000,00")[0].amount == Decimal("100000.00")


def test_a_closed_account_cannot_be_topped_up():
    closed = make_account(status=Account.Status.CLOSED)
    with pytest.raises(RuleViolation):
        start(closed)
    assert not OnlinePayment.objects.exists()


def test_a_gateway_that_fails_to_start_leaves_a_failed_attempt(account, monkeypatch):
    def broken(self, online, **kwargs):
        raise ConnectionError("gateway down")

    monkeypatch.setattr(TestGateway, "start", broken)
    with pytest.raises(RuleViolation, match="does not answer"):
        start(account)
    online = OnlinePayment.objects.get()
    assert online.status == Status.FAILED and "gateway down" in online.error


# --- Callbacks --------------------------------------------------------------------------------

def test_a_success_credits_the_account_at_once(account):
    online, _url = start(account)
    response = notify(online)
    assert response.status_code == 200
    assert response.json() == {"payment": str(online.public_id), "status": "succeeded",
                               "credited": True, "code": "credited"}
    online.refresh_from_db()
    assert online.status == Status.SUCCEEDED and online.finished_at is not None
    payment = online.payment
    assert payment.channel == Payment.Channel.CABINET
    assert payment.external_id == f"test:{online.gateway_payment_id}"
    assert payment.amount == Decimal("500.00")
    assert balance_of(account) == Decimal("600.00")
    assert_ledger_consistent()


def test_a_duplicate_callback_credits_once(account):
    online, _url = start(account)
    body, headers = signed(online)
    first, second = notify(body=body, headers=headers), notify(body=body, headers=headers)
    assert first.status_code == second.status_code == 200
    assert first.json()["credited"] is True
    assert second.json()["credited"] is False and second.json()["code"] == "duplicate"
    assert Payment.objects.count() == 1
    assert balance_of(account) == Decimal("600.00")
    assert_ledger_consistent()


def test_ten_deliveries_of_the_same_callback_credit_once(account):
    online, _url = start(account)
    body, headers = signed(online)
    responses = [notify(body=body, headers=headers) for _ in range(10)]
    assert {r.status_code for r in responses} == {200}
    assert sum(r.json()["credited"] for r in responses) == 1
    assert Payment.objects.count() == 1
    assert account.entries.filter(kind=LedgerEntry.Kind.PAYMENT).count() == 1
    assert balance_of(account) == Decimal("600.00")
    assert_ledger_consistent()


def _snapshot(account):
    return (balance_of(account), list(OnlinePayment.objects.values_list("status", "error")),
            Payment.objects.count(), LedgerEntry.objects.count())


@pytest.mark.parametrize("forge", ["wrong_secret", "tampered_amount", "no_signature",
                                   "signature_of_other_body"])
def test_a_forged_callback_credits_nothing_and_changes_nothing(account, forge, settings):
    online, _url = start(account)
    body, headers = signed(online)
    if forge == "wrong_secret":
        settings.PAYMENT_GATEWAY_SECRET = "not-the-secret"
        body, headers = signed(online)
        settings.PAYMENT_GATEWAY_SECRET = ""
    elif forge == "tampered_amount":
        body = body.replace(b'"500.00"', b'"50000.00"')
    elif forge == "no_signature":
        headers = {}
    else:
        headers = signed(online, status="failed")[1]
    before = _snapshot(account)
    response = notify(body=body, headers=headers)
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_callback"
    assert _snapshot(account) == before
    assert OnlinePayment.objects.get().status == Status.PENDING
    assert_ledger_consistent()


@pytest.mark.parametrize("body", [b"not json", b"[]", b'{"status": "succeeded"}',
                                  b'{"order_id": "x", "payment_id": "p", "status": "paid", '
                                  b'"amount": "1.00", "currency": "RUB"}'])
def test_a_signed_but_malformed_callback_is_refused(account, body):
    start(account)
    response = notify(body=body, headers=_sign_headers(body))
    assert response.status_code == 400
    assert balance_of(account) == Decimal("100.00")


def _sign_headers(body: bytes) -> dict:
    from billing.gateways.test import sign

    return {SIGNATURE_HEADER: sign(body)}


def test_a_replayed_callback_after_success_credits_nothing(account):
    online, _url = start(account)
    old_failure, old_failure_headers = signed(online, status="failed", reason="declined")
    success, success_headers = signed(online)
    assert notify(body=success, headers=success_headers).json()["credited"] is True
    # Days later someone replays both notifications he captured.
    for body, headers in [(success, success_headers), (old_failure, old_failure_headers)]:
        response = notify(body=body, headers=headers)
        assert response.status_code == 200 and response.json()["credited"] is False
    online.refresh_from_db()
    assert online.status == Status.SUCCEEDED
    assert Payment.objects.count() == 1 and balance_of(account) == Decimal("600.00")
    assert_ledger_consistent()


def test_a_callback_with_another_amount_is_refused_and_logged(account, caplog):
    online, _url = start(account)
    with caplog.at_level(logging.WARNING, logger="billing.services.online"):
        response = notify(online, amount="5000.00")
    assert response.status_code == 409
    assert response.json()["code"] == "amount_mismatch"
    assert "5000.00" in caplog.text and str(online.public_id) in caplog.text
    online.refresh_from_db()
    assert online.status == Status.PENDING and online.payment is None
    assert "5000.00" in online.error  # staff see why in the admin
    assert not Payment.objects.exists() and balance_of(account) == Decimal("100.00")
    assert_ledger_consistent()


def test_a_callback_for_another_gateway_payment_id_is_refused(account):
    online, _url = start(account)
    response = notify(online, payment_id="tg_someone_else")
    assert response.status_code == 409
    assert not Payment.objects.exists()


def test_an_unknown_payment_is_404_and_changes_nothing(account):
    start(account)
    ghost = OnlinePayment(public_id=uuid4(), amount=Decimal("500.00"),
                          gateway_payment_id="tg_ghost")
    response = notify(ghost)
    assert response.status_code == 404 and response.json()["code"] == "not_found"
    assert not Payment.objects.exists()


def test_an_unknown_gateway_is_404():
    response = Client().post("/billing/gateway/nosuch/callback/", data=b"{}",
                             content_type="application/json")
    assert response.status_code == 404


def test_the_callback_accepts_only_post():
    assert Client().get(CALLBACK_URL).status_code == 405


def test_a_failure_is_recorded_and_credits_nothing(account):
    online, _url = start(account)
    response = notify(online, status="failed", reason="Insufficient funds")
    assert response.status_code == 200 and response.json()["status"] == "failed"
    online.refresh_from_db()
    assert online.status == Status.FAILED and online.error == "Insufficient funds"
    assert balance_of(account) == Decimal("100.00")


def test_failed_after_succeeded_changes_nothing(account):
    online, _url = start(account)
    notify(online)
    response = notify(online, status="failed", reason="late decline")
    assert response.status_code == 200 and response.json()["code"] == "ignored"
    online.refresh_from_db()
    assert online.status == Status.SUCCEEDED and online.error == ""
    assert balance_of(account) == Decimal("600.00")
    assert_ledger_consistent()


def test_a_late_success_after_failure_still_credits_once(account):
    online, _url = start(account)
    notify(online, status="failed")
    assert notify(online).json()["credited"] is True
    assert notify(online).json()["credited"] is False
    online.refresh_from_db()
    assert online.status == Status.SUCCEEDED and "failed" in online.error
    assert balance_of(account) == Decimal("600.00")
    assert_ledger_consistent()


def test_payments_left_pending_for_an_hour_expire(account):
    old, _url = start(account)
    fresh, _url = start(account)
    OnlinePayment.objects.filter(pk=old.pk).update(
        created_at=timezone.now() - timedelta(hours=1, minutes=1))
    assert expire_online_payments() == 1  # the beat task
    assert expire_online_payments() == 0  # idempotent
    old.refresh_from_db()
    fresh.refresh_from_db()
    assert old.status == Status.EXPIRED and old.finished_at is not None
    assert fresh.status == Status.PENDING


def test_a_late_success_after_expiry_credits_once(account):
    online, _url = start(account)
    assert online_payments_expire(now=timezone.now() + timedelta(hours=2)) == 1
    online.refresh_from_db()
    assert online.status == Status.EXPIRED
    body, headers = signed(online)
    assert notify(body=body, headers=headers).json()["credited"] is True  # the bank took it
    assert notify(body=body, headers=headers).json()["credited"] is False
    online.refresh_from_db()
    assert online.status == Status.SUCCEEDED
    assert Payment.objects.count() == 1 and balance_of(account) == Decimal("600.00")
    assert_ledger_consistent()


def test_a_success_unblocks_a_blocked_debtor_at_once():
    debtor = make_account(status=Account.Status.BLOCKED, balance=Decimal("-300.00"))
    online, _url = start(debtor, "300")
    notify(online)
    debtor.refresh_from_db()
    assert debtor.status == Account.Status.ACTIVE  # (the rest of the month is charged again)
    assert_ledger_consistent()


def test_a_success_for_an_account_closed_meanwhile_is_not_lost(account):
    online, _url = start(account)
    Account.objects.filter(pk=account.pk).update(status=Account.Status.CLOSED)
    response = notify(online)
    assert response.status_code == 409 and response.json()["code"] == "not_credited"
    online.refresh_from_db()
    assert online.status == Status.PENDING and "closed" in online.error
    assert not Payment.objects.exists()


def test_everything_together_keeps_balance_equal_to_the_entries(account):
    paid, _url = start(account, "250")
    declined, _url = start(account, "1000")
    mismatched, _url = start(account, "300")
    notify(paid)
    notify(paid)
    notify(declined, status="failed")
    notify(declined)  # late success: credited
    notify(mismatched, amount="3000.00")
    notify(body=b"{}", headers={SIGNATURE_HEADER: "0" * 64})
    account.refresh_from_db()
    assert account.balance == Decimal("1350.00")
    assert account.balance == sum(account.entries.values_list("amount", flat=True))
    assert_ledger_consistent()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_ten_deliveries_at_once_credit_once():
    account = make_account(balance=Decimal("100.00"))
    online, _url = start(account)
    body, headers = signed(online)
    results, errors = run_in_parallel(
        lambda i: topup_callback(gateway_name="test", body=body, headers=headers), 10)
    assert errors == []
    assert sum(outcome.credited for outcome in results) == 1
    assert Payment.objects.count() == 1
    online.refresh_from_db()
    assert online.status == Status.SUCCEEDED
    assert balance_of(account) == Decimal("600.00")
    assert_ledger_consistent()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_expiry_racing_a_success_loses_nothing():
    account = make_account()
    online, _url = start(account)
    body, headers = signed(online)
    later = timezone.now() + timedelta(hours=2)
    _results, errors = run_in_parallel(
        lambda i: (topup_callback(gateway_name="test", body=body, headers=headers) if i % 2
                   else online_payments_expire(now=later)), 6)
    assert errors == []
    online.refresh_from_db()
    assert online.status == Status.SUCCEEDED  # whichever came first, the success stands
    assert balance_of(account) == Decimal("500.00")
    assert_ledger_consistent()


# --- The test gateway's payment page ---------------------------------------------------------

def _pay_page(account, amount="500.00"):
    online, url = start(account, amount)
    return online, url, Client()


def test_the_payment_page_says_it_is_a_test_and_shows_what_is_paid(account):
    _online, url, browser = _pay_page(account)
    page = browser.get(url)
    assert page.status_code == 200
    text = page.content.decode()
    assert "Test payment gateway" in text and "No real money" in text
    assert "500,00\u00a0₽" in text
    assert "ООО «Городская сеть»" in text  # the merchant
    assert account.number in text


def test_the_test_card_pays_and_returns_the_client(account):
    online, url, browser = _pay_page(account)
    response = _post_card(browser, url, "4242 4242 4242 4242")
    assert response.status_code == 302
    assert response["Location"] == f"http://testserver/my/topup/{online.public_id}/"
    online.refresh_from_db()
    assert online.status == Status.SUCCEEDED
    assert balance_of(account) == Decimal("600.00")


def _post_card(browser, url, card, action="pay"):
    from urllib.parse import unquote

    token = unquote(url.split("session=")[1])
    return browser.post(url.split("?")[0], {"card": card, "action": action, "session": token})


def test_the_declined_card_fails_and_credits_nothing(account):
    online, url, browser = _pay_page(account)
    assert _post_card(browser, url, CARD_DECLINED).status_code == 302
    online.refresh_from_db()
    assert online.status == Status.FAILED and "declined" in online.error
    assert balance_of(account) == Decimal("100.00")


def test_another_card_number_is_not_a_card(account):
    online, url, browser = _pay_page(account)
    response = _post_card(browser, url, "1234 5678 9012 3456")
    assert response.status_code == 400
    assert "not a test card" in response.content.decode()
    online.refresh_from_db()
    assert online.status == Status.PENDING


def test_cancel_on_the_payment_page_fails_the_payment(account):
    online, url, browser = _pay_page(account)
    response = _post_card(browser, url, "", action="cancel")
    assert response.status_code == 302
    online.refresh_from_db()
    assert online.status == Status.FAILED and "Cancelled" in online.error


def test_paying_twice_on_the_same_page_credits_once(account):
    _online, url, browser = _pay_page(account)
    _post_card(browser, url, CARD_SUCCEEDS)
    _post_card(browser, url, CARD_SUCCEEDS)  # back button, pay again
    assert Payment.objects.count() == 1 and balance_of(account) == Decimal("600.00")


def test_a_tampered_payment_link_is_refused(account):
    _online, url, browser = _pay_page(account)
    _other, other_url = start(account, "20")
    # The session of a 20 ₽ payment on the page of the 500 ₽ one, or a damaged one.
    assert browser.get(url.split("?")[0] + "?" + other_url.split("?")[1]).status_code == 400
    assert browser.get(url[:-3] + "abc").status_code == 400
    assert _post_card(browser, url.split("?")[0] + "?session=x", CARD_SUCCEEDS).status_code == 400
    assert not Payment.objects.exists()


def test_the_test_gateway_is_off_once_a_real_one_is_chosen(account, settings):
    online, url, browser = _pay_page(account)
    body, headers = signed(online)
    settings.PAYMENT_GATEWAYS = {"fake": "tests.billing.test_online_payments.FakeProvider"}
    settings.PAYMENT_GATEWAY = "fake"
    assert browser.get(url).status_code == 404
    assert notify(body=body, headers=headers).status_code == 404
    assert not Payment.objects.exists()
    with pytest.raises(UnknownGateway):
        get_gateway("test")


def test_check_deploy_warns_while_the_test_gateway_is_on(settings):
    ids = {message.id for message in run_checks(include_deployment_checks=True)}
    assert "billing.W001" in ids
    settings.PAYMENT_GATEWAYS = {"fake": "tests.billing.test_online_payments.FakeProvider"}
    settings.PAYMENT_GATEWAY = "fake"
    ids = {message.id for message in run_checks(include_deployment_checks=True)}
    assert "billing.W001" not in ids


# --- A real provider is one adapter away -------------------------------------------------------

class FakeProvider:
    """What an adapter for a real provider looks like: its page, its own signature."""

    name = "fake"
    title = "Fake bank"
    test_mode = False

    def start(self, online_payment, *, return_url, callback_url):
        online_payment.gateway_payment_id = f"fk-{online_payment.public_id.hex[:8]}"
        return f"https://pay.fake.example/{online_payment.gateway_payment_id}"

    def parse_callback(self, body, headers):
        from billing.gateways import InvalidCallback, header

        if header(headers, "X-Fake-Token") != "s3cret":
            raise InvalidCallback("bad token")
        data = json.loads(body)
        return Callback(public_id=UUID(data["order"]), status=data["state"],
                        amount=Decimal(data["sum"]), gateway_payment_id=data["id"])


def test_an_adapter_plugs_in_through_settings(account, settings):
    settings.PAYMENT_GATEWAYS = {"fake": "tests.billing.test_online_payments.FakeProvider"}
    settings.PAYMENT_GATEWAY = "fake"
    online, url = start(account)
    assert url == f"https://pay.fake.example/{online.gateway_payment_id}"
    body = json.dumps({"order": str(online.public_id), "state": "succeeded", "sum": "500.00",
                       "id": online.gateway_payment_id}).encode()
    response = Client().post("/billing/gateway/fake/callback/", data=body,
                             content_type="application/json", HTTP_X_FAKE_TOKEN="s3cret")
    assert response.status_code == 200 and response.json()["credited"] is True
    assert Payment.objects.get().external_id == f"fake:{online.gateway_payment_id}"
