"""Top up in a real browser (C5, C3): from the cabinet to the test gateway's payment page and
back; the new balance is on the page at once, a declined card shows as failed, and paying
again on the same bank page (its notification comes twice) credits once."""

from decimal import Decimal

import pytest
from django.conf import settings as conf
from playwright.sync_api import expect

from billing.models import OnlinePayment, Payment
from billing.services.ledger import balance_mismatches

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def test_gateway(settings):
    settings.PAYMENT_GATEWAY = "test"


def in_english(page, live_server) -> None:
    """Read the pages as the code writes them, whatever the Russian catalogue holds."""
    page.context.add_cookies([{"name": conf.LANGUAGE_COOKIE_NAME, "value": "en",
                               "url": live_server.url}])


def test_top_up_by_card_on_a_phone_shows_the_new_balance_at_once(mobile_page, live_server,
                                                                  subscriber):
    page = mobile_page
    in_english(page, live_server)
    page.goto("/my/topup/")
    expect(page.locator("#balance")).to_have_text("900,00\u00a0₽")
    pay = page.get_by_role("button", name="Pay", exact=True)
    expect(pay).to_be_in_viewport()  # the figure and the main button above the fold
    amount = page.get_by_label("Amount, ₽")
    expect(amount).to_have_value("600.00")  # the next month's charge (English notation)

    # A quick amount fills the field.
    page.get_by_role("button", name="500\u00a0₽", exact=True).click()
    expect(amount).to_have_value("500.00")
    pay.click()

    # The bank's page: clearly a test, with the merchant and the amount.
    page.wait_for_url("**/billing/gateway/test/pay/**")
    expect(page.get_by_text("Test payment gateway.")).to_be_visible()
    expect(page.get_by_text("No real money is charged", exact=False)).to_be_visible()
    expect(page.locator("#gateway-amount")).to_have_text("500,00\u00a0₽")
    expect(page.locator("#gateway-merchant")).not_to_be_empty()
    page.get_by_label("Card number").fill("4242 4242 4242 4242")
    page.get_by_role("button", name="Pay 500,00\u00a0₽").click()

    page.wait_for_url("**/my/topup/*/")
    expect(page.locator("#result-text")).to_have_text(
        "Paid: 500,00\u00a0₽, your balance is now 1\u00a0400,00\u00a0₽.")
    expect(page.locator("#topup-result")).to_contain_text("Paid")
    subscriber.refresh_from_db()
    assert subscriber.balance == Decimal("1400.00")

    # Back to the bank's page and pay again: the second notification credits nothing.
    page.go_back()
    page.wait_for_url("**/billing/gateway/test/pay/**")
    page.get_by_label("Card number").fill("4242 4242 4242 4242")
    page.get_by_role("button", name="Pay 500,00\u00a0₽").click()
    page.wait_for_url("**/my/topup/*/")
    expect(page.locator("#result-text")).to_contain_text("your balance is now 1\u00a0400,00")
    assert Payment.objects.count() == 1
    subscriber.refresh_from_db()
    assert subscriber.balance == Decimal("1400.00")
    assert not balance_mismatches().exists()

    # The home page shows it too.
    page.goto("/my/")
    expect(page.locator("#balance")).to_have_text("1\u00a0400,00\u00a0₽")


def test_a_declined_card_shows_as_failed_and_the_balance_is_unchanged(cabinet_page, live_server,
                                                                        subscriber):
    page = cabinet_page
    in_english(page, live_server)
    page.goto("/my/topup/")
    amount = page.get_by_label("Amount, ₽")
    amount.fill("300")
    amount.press("Enter")  # Enter in the field means Pay

    page.wait_for_url("**/billing/gateway/test/pay/**")
    expect(page.locator("#gateway-amount")).to_have_text("300,00\u00a0₽")
    card = page.get_by_label("Card number")
    card.fill("1111 2222 3333 4444")
    card.press("Enter")
    expect(page.get_by_text("This is not a test card.", exact=False)).to_be_visible()
    page.get_by_label("Card number").fill("4000 0000 0000 0002")
    page.get_by_role("button", name="Pay 300,00\u00a0₽").click()

    page.wait_for_url("**/my/topup/*/")
    expect(page.locator("#result-text")).to_have_text("The payment failed: no money was taken.")
    expect(page.locator("#topup-result")).to_contain_text("Failed")
    expect(page.locator("#topup-result")).to_contain_text("Your balance: 900,00\u00a0₽.")
    subscriber.refresh_from_db()
    assert subscriber.balance == Decimal("900.00")
    assert OnlinePayment.objects.get().status == OnlinePayment.Status.FAILED
    assert not Payment.objects.exists()

    # Try again from the result page: a new payment of the same amount, paid this time.
    page.get_by_role("button", name="Try again: pay 300,00\u00a0₽").click()
    page.wait_for_url("**/billing/gateway/test/pay/**")
    page.get_by_label("Card number").fill("4242424242424242")
    page.get_by_role("button", name="Pay 300,00\u00a0₽").click()
    page.wait_for_url("**/my/topup/*/")
    expect(page.locator("#result-text")).to_have_text(
        "Paid: 300,00\u00a0₽, your balance is now 1\u00a0200,00\u00a0₽.")


def test_cancel_on_the_bank_page_returns_with_the_payment_failed(cabinet_page, live_server,
                                                                  subscriber):
    page = cabinet_page
    in_english(page, live_server)
    page.goto("/my/topup/")
    page.get_by_role("button", name="Pay", exact=True).click()
    page.wait_for_url("**/billing/gateway/test/pay/**")
    page.get_by_role("button", name="Cancel and return to the shop").click()
    page.wait_for_url("**/my/topup/*/")
    expect(page.locator("#result-text")).to_have_text("The payment failed: no money was taken.")
    subscriber.refresh_from_db()
    assert subscriber.balance == Decimal("900.00")
