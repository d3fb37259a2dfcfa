"""The cash desk in a real browser (M3: a payment in a few seconds, keyboard only): find the
account by part of the phone, Enter picks it, the amount has the focus, Enter credits, the
new balance is shown and the desk is ready for the next client."""

from decimal import Decimal

import pytest
from playwright.sync_api import expect

from billing.models import Payment
from tests.e2e.steps import sign_in
from tests.factories import ClientCardFactory, make_account

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_manager_takes_a_cash_payment_from_the_keyboard(page, manager):
    card = ClientCardFactory(stage="active", name="Белова Ольга", phone="+79175556677")
    account = make_account(client=card, balance=Decimal("-300.00"))
    card.save()  # the account number goes into the search text, as account_open does
    sign_in(page, manager)
    page.get_by_role("link", name="Касса").click()
    page.wait_for_url("**/billing/cashier/")

    search = page.get_by_label("Лицевой счёт, телефон или ФИО")
    expect(search).to_be_focused()
    page.keyboard.type("917 555")
    page.locator("#cashier-results").get_by_text("Белова Ольга").wait_for()
    page.keyboard.press("Enter")

    amount = page.get_by_label("Сумма, ₽")
    expect(amount).to_be_focused()
    expect(page.locator(".cashier-account")).to_contain_text(account.number)
    page.keyboard.type("1 000")
    page.keyboard.press("Enter")

    expect(page.locator("#cashier-balance")).to_have_text("700,00\u00a0₽")
    expect(page.locator(".cashier-result")).to_contain_text("зачислен")
    expect(page.get_by_label("Лицевой счёт, телефон или ФИО")).to_be_focused()
    account.refresh_from_db()
    assert account.balance == Decimal("700.00")
    assert Payment.objects.get().external_id.startswith("cash-")
