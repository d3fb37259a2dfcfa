"""Signing in to the personal cabinet in a real browser, on a phone screen: by account number
and password; and the first password by a one-time code read from the email, after which the
client lands signed in. Labels are matched in Russian or English (the catalogue of new texts
is compiled by the lead)."""

import re

import pytest
from django.core import mail
from playwright.sync_api import expect

from tests.factories import PASSWORD, ClientCardFactory, make_account

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

IDENTIFIER = re.compile("Лицевой счёт или телефон|Account number or phone")
PASSWORD_LABEL = re.compile("^(Пароль|Password)$")
HOME_HEADING = re.compile("Баланс|Balance")


@pytest.fixture
def phone(browser, live_server):
    context = browser.new_context(base_url=live_server.url, locale="ru-RU",
                                  viewport={"width": 390, "height": 844}, is_mobile=True,
                                  has_touch=True)
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()


def test_client_signs_in_by_account_number(phone, subscriber):
    phone.goto("/my/")
    phone.wait_for_url("**/my/login/?next=/my/")
    phone.get_by_label(IDENTIFIER).fill(subscriber.number)
    phone.get_by_label(PASSWORD_LABEL).fill(PASSWORD)
    phone.keyboard.press("Enter")
    phone.wait_for_url("**/my/")
    expect(phone.get_by_role("heading", name=HOME_HEADING)).to_be_visible()
    expect(phone.locator("#balance")).to_have_text("900,00\u00a0₽")


def test_wrong_password_says_so(phone, subscriber):
    phone.goto("/my/login/")
    phone.get_by_label(IDENTIFIER).fill(subscriber.number)
    phone.get_by_label(PASSWORD_LABEL).fill("not-it")
    phone.get_by_role("button", name=re.compile("^(Войти|Sign in)$")).click()
    expect(phone.get_by_role("alert")).to_contain_text(
        re.compile("Неверный|Wrong account number"))


def test_first_password_by_a_code_from_the_email(phone):
    card = ClientCardFactory(stage="active", email="orlova@mail.example", phone="+79161234567")
    account = make_account(client=card)
    phone.goto("/my/login/")
    phone.get_by_role("link", name=re.compile("код|code")).first.click()
    phone.wait_for_url("**/my/code/")
    phone.get_by_label(IDENTIFIER).fill("8 916 123-45-67")
    phone.get_by_role("button", name=re.compile("Отправить код|Send the code")).click()
    phone.wait_for_url("**/my/code/confirm/")
    expect(phone.get_by_role("alert")).to_contain_text(re.compile("10 минут|10 minutes"))

    code = re.search(r"\b(\d{6})\b", mail.outbox[-1].body)[1]
    assert mail.outbox[-1].to == ["orlova@mail.example"]
    expect(phone.get_by_label(IDENTIFIER)).to_have_value("8 916 123-45-67")
    phone.get_by_label(re.compile("Код из сообщения|Code from the message")).fill(code)
    phone.get_by_label(re.compile("^(Новый пароль|New password)$")).fill("Kvartira-2026!")
    phone.get_by_label(re.compile("Новый пароль ещё раз|New password again")).fill(
        "Kvartira-2026!")
    phone.get_by_role("button", name=re.compile("Сохранить|Save the password")).click()
    phone.wait_for_url("**/my/")
    expect(phone.get_by_role("heading", name=HOME_HEADING)).to_be_visible()

    # Signing out and in again with the new password, by the account number.
    phone.get_by_role("button", name=re.compile("^(Выйти|Sign out)$")).click()
    phone.wait_for_url("**/my/login/")
    phone.get_by_label(IDENTIFIER).fill(account.number)
    phone.get_by_label(PASSWORD_LABEL).fill("Kvartira-2026!")
    phone.keyboard.press("Enter")
    phone.wait_for_url("**/my/")
