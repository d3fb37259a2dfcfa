"""Top up and the promised payment in the cabinet (C5, C3): the pages, their rules, and that
a client sees and pays only for his own account."""

import re
from decimal import Decimal
from urllib.parse import unquote
from uuid import uuid4

import pytest
from django.test import Client
from django.utils import formats, timezone, translation

from billing.models import Account, OnlinePayment, Payment, PromisedPayment
from billing.services.online import topup_start
from tests.factories import ClientCardFactory, UserFactory

pytestmark = pytest.mark.django_db

TOPUP = "/my/topup/"
PROMISED = "/my/promised/"


@pytest.fixture(autouse=True)
def english(settings):
    """Pages and messages as the code writes them (English msgids)."""
    from django.utils import translation

    settings.LANGUAGE_CODE = "en"
    settings.PAYMENT_GATEWAY = "test"
    with translation.override("en"):
        yield


def text(response) -> str:
    return re.sub(r"\s+", " ", response.content.decode()).replace("\u00a0", " ")


def started(account, amount="500.00") -> OnlinePayment:
    online, _url = topup_start(account=account, amount=amount, actor=None,
                               site_url="http://testserver/",
                               return_url=lambda o: f"http://testserver/my/topup/{o.public_id}/")
    return online


def pay_at_the_gateway(web, gateway_url: str, card: str):
    """What the client does on the test gateway's page: type the card, press Pay."""
    path, query = gateway_url.split("?")
    return web.post(path, {"card": card, "action": "pay",
                           "session": unquote(query.removeprefix("session="))})


def in_debt(account, debt="-250.00"):
    Account.objects.filter(pk=account.pk).update(balance=Decimal(debt))


# --- The top-up page ------------------------------------------------------------------------

def test_the_page_shows_the_balance_and_suggests_the_next_charge(cabinet_web, subscriber):
    response = cabinet_web.get(TOPUP)
    assert response.status_code == 200
    page = text(response)
    assert "900,00 ₽" in page  # the balance
    assert 'value="600,00"' in page or 'value="600.00"' in page  # next month's charge
    assert "Suggested: the next month's charge, 600,00 ₽" in page
    assert '<label class="form-label fw-semibold" for="id_amount">Amount, ₽</label>' in page
    assert 'inputmode="decimal"' in page
    for quick in ("300 ₽", "500 ₽", "1 000 ₽", "2 000 ₽"):
        assert f">{quick}</button>" in page
    assert "Promised payment" not in page  # no debt, no offer


def test_with_a_debt_the_debt_is_suggested_and_a_promised_payment_offered(cabinet_web,
                                                                           subscriber):
    in_debt(subscriber)
    page = text(cabinet_web.get(TOPUP))
    assert "Suggested: your debt, 250,00 ₽" in page
    assert "debt 250,00 ₽" in page
    assert "Take a promised payment" in page
    assert "Once a calendar month, and only while there is a debt." in page
    assert "for 3 more days" in page  # the billing settings' days


def test_pay_sends_the_client_to_the_gateway(cabinet_web, subscriber):
    response = cabinet_web.post(TOPUP, {"amount": "750,50"})
    assert response.status_code == 302
    online = OnlinePayment.objects.get()
    assert response["Location"].startswith(f"/billing/gateway/test/pay/{online.public_id}/")
    assert online.account == subscriber and online.amount == Decimal("750.50")
    assert online.status == OnlinePayment.Status.PENDING
    assert online.created_by == subscriber.client.cabinet_user


def test_a_quick_amount_pays_that_amount(cabinet_web, subscriber):
    response = cabinet_web.post(TOPUP, {"amount": "", "quick": "1000,00"})
    assert response.status_code == 302
    assert OnlinePayment.objects.get().amount == Decimal("1000.00")


@pytest.mark.parametrize(("amount", "message"), [
    ("5", "At least 10,00 ₽"), ("200000", "At most 100 000,00 ₽"), ("много", "Not an amount"),
    ("", "This field is required")])
def test_a_bad_amount_is_shown_on_the_field(cabinet_web, amount, message):
    response = cabinet_web.post(TOPUP, {"amount": amount})
    assert response.status_code == 200
    assert message in text(response)
    assert "is-invalid" in text(response)
    assert not OnlinePayment.objects.exists()


def test_a_misconfigured_gateway_is_a_message_not_an_error(cabinet_web, settings):
    settings.PAYMENT_GATEWAY = "nosuch"
    response = cabinet_web.post(TOPUP, {"amount": "500"})
    assert response.status_code == 200
    assert "Online payment is not available now." in text(response)
    assert not OnlinePayment.objects.exists()


def test_a_client_before_the_contract_has_nothing_to_top_up(db):
    user = UserFactory(username="newcomer", roles=())
    card = ClientCardFactory(stage="commercial", cabinet_user=user)
    web = Client()
    web.force_login(user)
    response = web.get(TOPUP)
    assert response.status_code == 200
    assert "when the contract is signed" in text(response)
    assert web.post(TOPUP, {"amount": "500"}).status_code == 200
    assert not OnlinePayment.objects.exists()
    assert web.post(PROMISED).status_code == 404
    assert card.pk


# --- The result page ------------------------------------------------------------------------

def test_paid_shows_the_new_balance_at_once(cabinet_web, subscriber):
    gateway_url = cabinet_web.post(TOPUP, {"amount": "500"})["Location"]
    back = pay_at_the_gateway(Client(), gateway_url, "4242 4242 4242 4242")
    online = OnlinePayment.objects.get()
    assert back["Location"] == f"http://testserver/my/topup/{online.public_id}/"
    page = text(cabinet_web.get(back["Location"]))
    assert "Paid: 500,00 ₽, your balance is now 1 400,00 ₽." in page
    assert "Paid" in page  # the status as text, not only a colour


def test_a_declined_card_shows_as_failed_with_a_retry(cabinet_web, subscriber):
    gateway_url = cabinet_web.post(TOPUP, {"amount": "500"})["Location"]
    back = pay_at_the_gateway(Client(), gateway_url, "4000 0000 0000 0002")
    page = text(cabinet_web.get(back["Location"]))
    assert "The payment failed: no money was taken." in page
    assert "declined" in page
    assert "Your balance: 900,00 ₽." in page
    assert "Try again: pay 500,00 ₽" in page
    # The retry starts a new payment of the same amount.
    retry = cabinet_web.post(TOPUP, {"amount": "500,00"})
    assert retry.status_code == 302 and OnlinePayment.objects.count() == 2
    subscriber.refresh_from_db()
    assert subscriber.balance == Decimal("900.00")


def test_waiting_refreshes_itself_for_a_minute_then_offers_a_link(cabinet_web, subscriber):
    online = started(subscriber)
    url = f"/my/topup/{online.public_id}/"
    page = text(cabinet_web.get(url))
    assert "Waiting for the bank" in page
    assert f'<meta http-equiv="refresh" content="3;url={url}?poll=1">' in page
    page = text(cabinet_web.get(f"{url}?poll=19"))
    assert "?poll=20" in page
    page = text(cabinet_web.get(f"{url}?poll=20"))
    assert 'http-equiv="refresh"' not in page
    assert "Check again" in page and "has not answered yet" in page
    assert cabinet_web.get(f"{url}?poll=abc").status_code == 200


def test_expired_says_so_and_offers_a_retry(cabinet_web, subscriber):
    online = started(subscriber)
    OnlinePayment.objects.filter(pk=online.pk).update(status="expired",
                                                      finished_at=timezone.now())
    page = text(cabinet_web.get(f"/my/topup/{online.public_id}/"))
    assert "did not confirm the payment in time" in page and "Try again" in page


def test_recent_card_payments_are_listed_with_their_status(cabinet_web, subscriber):
    online = started(subscriber)
    page = text(cabinet_web.get(TOPUP))
    assert "Recent card payments" in page
    assert f"/my/topup/{online.public_id}/" in page and "Waiting for the bank" in page


def test_another_clients_online_payment_is_404(cabinet_web, subscriber, stranger):
    theirs = started(stranger)
    assert cabinet_web.get(f"/my/topup/{theirs.public_id}/").status_code == 404
    assert cabinet_web.get(f"/my/topup/{uuid4()}/").status_code == 404
    assert cabinet_web.get("/my/topup/12/").status_code == 404  # not even a uuid
    assert f"/my/topup/{theirs.public_id}/" not in text(cabinet_web.get(TOPUP))


def test_anonymous_is_sent_to_sign_in(db):
    response = Client().get(TOPUP)
    assert response.status_code == 302 and "/my/login/" in response["Location"]
    assert Client().post(PROMISED).status_code == 302


# --- The promised payment -------------------------------------------------------------------

def test_promised_payment_once_a_month(cabinet_web, subscriber):
    in_debt(subscriber)
    response = cabinet_web.post(PROMISED, follow=True)
    page = text(response)
    assert "The promised payment is on" in page
    subscriber.refresh_from_db()
    until = formats.date_format(subscriber.promised_until, "SHORT_DATE_FORMAT")
    assert f"the service is kept until {until} inclusive" in page
    assert PromisedPayment.objects.filter(account=subscriber).count() == 1
    assert "A promised payment is on: the internet stays on until" in page

    # Again while it runs: refused, with the reason shown.
    page = text(cabinet_web.post(PROMISED, follow=True))
    assert "A promised payment is already running." in page

    # The promise is over but it is still the same month: refused, and the page says so.
    Account.objects.filter(pk=subscriber.pk).update(promised_until=None)
    page = text(cabinet_web.post(PROMISED, follow=True))
    assert "A promised payment was already used this month." in page
    assert "You have already used the promised payment this month" in page
    assert 'id="promised-button"' not in page
    assert PromisedPayment.objects.filter(account=subscriber).count() == 1


def test_promised_payment_needs_a_debt(cabinet_web, subscriber):
    page = text(cabinet_web.post(PROMISED, follow=True))
    assert "The account has no debt." in page
    assert not PromisedPayment.objects.exists()


def test_promised_payment_is_post_only(cabinet_web, subscriber):
    assert cabinet_web.get(PROMISED).status_code == 405


# --- Staff "see as client" --------------------------------------------------------------------

@pytest.fixture
def see_as_web(manager, subscriber):
    web = Client()
    web.force_login(manager)
    web.post(f"/my/see-as/{subscriber.client.pk}/", {"reason": "client on the phone"})
    return web


def test_see_as_shows_the_page_but_cannot_top_up(see_as_web, subscriber):
    in_debt(subscriber)
    page = see_as_web.get(TOPUP)
    assert page.status_code == 200
    assert re.search(r'id="pay-button"[^>]*disabled', page.content.decode())
    assert see_as_web.post(TOPUP, {"amount": "500"}).status_code == 403
    assert see_as_web.post(TOPUP, {"quick": "500"}).status_code == 403
    assert see_as_web.post(PROMISED).status_code == 403
    assert not OnlinePayment.objects.exists() and not PromisedPayment.objects.exists()
    online = started(subscriber)
    assert see_as_web.get(f"/my/topup/{online.public_id}/").status_code == 200


def test_the_payment_shows_in_the_staff_payment_list_as_a_cabinet_payment(
        cabinet_web, subscriber, admin_client):
    gateway_url = cabinet_web.post(TOPUP, {"amount": "500"})["Location"]
    pay_at_the_gateway(Client(), gateway_url, "4242424242424242")
    payment = Payment.objects.get()
    assert payment.get_channel_display() == "Personal cabinet"
    page = text(admin_client.get("/billing/payments/"))
    assert "Personal cabinet" in page and payment.external_id in page
    online = OnlinePayment.objects.get()
    for query in ("", "Москва", subscriber.number, str(online.public_id)):
        listed = admin_client.get("/admin/billing/onlinepayment/", {"q": query})
        assert listed.status_code == 200
        assert (online.gateway_payment_id in text(listed)) == (query != "Москва")
    assert admin_client.get(f"/admin/billing/onlinepayment/{online.pk}/change/").status_code == 200


def test_with_online_payment_off_the_page_says_how_to_pay_instead(settings, subscriber,
                                                                   cabinet_web):
    """Production's default until a real provider is set up: no form, the way to pay."""
    settings.PAYMENT_GATEWAY = ""
    with translation.override("en"):
        html = cabinet_web.get("/my/topup/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert 'id="topup-off"' in html and subscriber.number in html
    assert 'id="topup-form"' not in html
    cabinet_web.post("/my/topup/", {"amount": "500"})
    assert not OnlinePayment.objects.exists()
