"""Billing staff pages: the account on the client card and its actions, the account page,
the cash desk (M3), payments, the catalogue; who may open what."""

import re
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from billing.models import Account, LedgerEntry, Payment, Promotion, Service, Subscription, Tariff
from billing.services.ledger import balance_mismatches
from billing.services.payments import payment_accept
from ispcrm import roles
from tests.factories import ClientCardFactory, TariffFactory, make_account

pytestmark = pytest.mark.django_db


@pytest.fixture
def account():
    tariff = TariffFactory(name="Домашний 300", monthly_fee=Decimal("750.00"),
                           pause_fee=Decimal("50.00"))
    account = make_account(tariff=tariff, balance=Decimal("-250.00"),
                           client=ClientCardFactory(stage="active", name="Орлова Анна",
                                                    phone="+79161234567"))
    account.client.save()  # as account_open does: the number becomes searchable
    return account


@pytest.fixture
def signed_in(client, manager):
    client.force_login(manager)
    return client


def as_role(client, make_user, role):
    client.force_login(make_user(role))
    return client


def cash_id(html: str) -> str:
    return re.search(r'name="cash_id" value="([^"]+)"', html)[1]


# --- Who may open what ----------------------------------------------------------------------

def _pages(account):
    payment, _ = payment_accept(account=account, amount="100", channel="terminal",
                                external_id="r-1")
    tariff = Tariff.objects.get()
    service = Service.objects.create(code="static-ip", name="Статический IP",
                                     monthly_fee=Decimal("150"))
    promotion = Promotion.objects.create(name="Полцены", discount_percent=50,
                                         valid_from=date(2026, 1, 1))
    n = account.number
    return {
        # url: (a role that may open it, one that may not)
        f"/billing/accounts/{n}/": (roles.MANAGER, roles.NOC_HEAD),
        f"/billing/accounts/{n}/tariff/": (roles.MANAGER, roles.ACCOUNTANT),
        f"/billing/accounts/{n}/tariff/cancel/": (roles.MANAGER, roles.ACCOUNTANT),
        f"/billing/accounts/{n}/pause/": (roles.SUBSCRIBER_DEPT, roles.SUPPORT),
        f"/billing/accounts/{n}/resume/": (roles.SUBSCRIBER_DEPT, roles.SUPPORT),
        f"/billing/accounts/{n}/promised-payment/": (roles.MANAGER, roles.LAWYER),
        f"/billing/accounts/{n}/deferral/": (roles.MANAGER, roles.DIRECTOR),
        f"/billing/accounts/{n}/never-block/": (roles.MANAGER, roles.NOC_HEAD),
        "/billing/cashier/": (roles.MANAGER, roles.NOC_HEAD),
        "/billing/cashier/search/?q=Орлова": (roles.ACCOUNTANT, roles.SUPPORT),
        "/billing/payments/": (roles.ACCOUNTANT, roles.NOC_HEAD),
        f"/billing/payments/{payment.pk}/cancel/": (roles.ACCOUNTANT, roles.MANAGER),
        "/billing/tariffs/": (roles.NOC_HEAD, None),
        "/billing/tariffs/?show=closed": (roles.CREW_LEADER, None),
        "/billing/tariffs/new/": (roles.HEAD_OF_SALES, roles.NOC_HEAD),
        f"/billing/tariffs/{tariff.pk}/edit/": (roles.COMMERCIAL_DIRECTOR, roles.MANAGER),
        "/billing/services/": (roles.MANAGER, roles.NOC_HEAD),
        "/billing/services/new/": (roles.HEAD_OF_SALES, roles.MANAGER),
        f"/billing/services/{service.pk}/edit/": (roles.HEAD_OF_SALES, roles.ACCOUNTANT),
        "/billing/promotions/": (roles.MANAGER, roles.NOC_HEAD),
        "/billing/promotions/new/": (roles.HEAD_OF_SALES, roles.SUPPORT),
        f"/billing/promotions/{promotion.pk}/edit/": (roles.COMMERCIAL_DIRECTOR,
                                                      roles.MANAGER),
    }


def test_every_page_opens_for_a_permitted_role_and_is_403_for_another(client, make_user,
                                                                      account):
    users = {}

    def user(role):
        if role not in users:
            users[role] = make_user(role)
        return users[role]

    for url, (allowed, refused) in _pages(account).items():
        client.force_login(user(allowed))
        response = client.get(url)
        assert response.status_code == 200, (url, allowed, response.status_code)
        if refused:
            client.force_login(user(refused))
            assert client.get(url).status_code == 403, (url, refused)
    client.logout()
    assert client.get("/billing/cashier/").status_code == 302  # to the sign-in page


def test_a_user_without_any_role_cannot_see_tariffs(client, make_user):
    client.force_login(make_user())
    assert client.get("/billing/tariffs/").status_code == 403


def test_header_menu_shows_billing_items_by_permission(client, make_user):
    client.force_login(make_user(roles.ACCOUNTANT))
    html = client.get("/").content.decode()
    for label in ("Касса", "Платежи", "Банк", "Тарифы"):
        assert f">{label}</a>" in html, label
    client.force_login(make_user(roles.NOC_HEAD))
    html = client.get("/").content.decode()
    assert ">Тарифы</a>" in html
    assert ">Касса</a>" not in html and ">Платежи</a>" not in html


# --- The card ---------------------------------------------------------------------------------

def test_card_shows_the_account_section(signed_in, account):
    LedgerEntry.objects.create(account=account, kind="charge", amount=Decimal("-750.00"),
                               period=date(2026, 11, 1), description="Абонентская плата")
    Account.objects.filter(pk=account.pk).update(balance=Decimal("-1000.00"),
                                                 block_due_on=date(2026, 12, 4))
    html = signed_in.get(f"/clients/{account.client_id}/").content.decode()
    assert 'id="account"' in html
    for text in (account.number, "−1\u00a0000,00\u00a0₽", "Домашний 300", "04.12.2026",
                 "Абонентская плата", "Принять платёж", "Сменить тариф", "Пауза",
                 "Обещанный платёж", "Отсрочка", "Не блокировать"):
        assert text in html, text
    # The balance after each entry: the running sum, newest first.
    ledger = html[html.index('class="table table-sm small mb-0 ledger"'):]
    assert ledger.index("−1\u00a0000,00") < ledger.index("−250,00")


def test_card_without_an_account_has_no_section(signed_in):
    card = ClientCardFactory()
    html = signed_in.get(f"/clients/{card.pk}/").content.decode()
    assert 'id="account"' not in html


def test_card_section_is_hidden_from_a_role_without_billing(client, make_user, account):
    client.force_login(make_user(roles.NOC_HEAD))
    html = client.get(f"/clients/{account.client_id}/").content.decode()
    assert 'id="account"' not in html and account.number not in html


def test_card_section_offers_only_what_the_user_may_do(client, make_user, account):
    client.force_login(make_user(roles.SUPPORT))  # sees billing, changes nothing
    html = client.get(f"/clients/{account.client_id}/").content.decode()
    assert account.number in html
    for text in ("Принять платёж", "Сменить тариф", "Обещанный платёж", "acc-pause"):
        assert text not in html, text


def test_change_tariff_from_the_card(signed_in, account):
    new = TariffFactory(name="Домашний 500", monthly_fee=Decimal("950.00"))
    card_url = f"/clients/{account.client_id}/"
    response = signed_in.post(f"/billing/accounts/{account.number}/tariff/",
                              {"tariff": new.pk, "when": "next_month", "next": card_url})
    assert response.status_code == 302 and response["Location"] == card_url
    scheduled = Subscription.objects.get(account=account, tariff=new)
    assert scheduled.start == (timezone.localdate().replace(day=1) + timedelta(days=32)
                               ).replace(day=1)
    html = signed_in.get(card_url).content.decode()
    assert "«Домашний 500» с " in html and "отменить смену" in html

    response = signed_in.post(f"/billing/accounts/{account.number}/tariff/cancel/",
                              {"next": card_url})
    assert response.status_code == 302
    assert not Subscription.objects.filter(account=account, tariff=new).exists()


def test_a_refused_tariff_change_says_why(signed_in, account):
    closed = TariffFactory(name="Архивный", valid_to=date(2025, 1, 1))
    response = signed_in.post(f"/billing/accounts/{account.number}/tariff/",
                              {"tariff": closed.pk, "when": "tomorrow"})
    assert response.status_code == 200  # the form again, with the field's error
    assert "is-invalid" in response.content.decode()
    current = Subscription.objects.get(account=account).tariff
    response = signed_in.post(f"/billing/accounts/{account.number}/tariff/",
                              {"tariff": current.pk, "when": "tomorrow"}, follow=True)
    assert "Тариф не изменён" in response.content.decode()


def test_pause_and_resume_from_the_card(signed_in, account):
    today = timezone.localdate()
    response = signed_in.post(f"/billing/accounts/{account.number}/pause/", {
        "start": today.isoformat(), "end": (today + timedelta(days=10)).isoformat()},
        follow=True)
    account.refresh_from_db()
    assert account.status == Account.Status.PAUSED
    assert "Пауза с" in response.content.decode()
    html = signed_in.get(f"/clients/{account.client_id}/").content.decode()
    assert "Возобновить" in html

    signed_in.post(f"/billing/accounts/{account.number}/resume/")
    account.refresh_from_db()
    assert account.status == Account.Status.ACTIVE
    assert not balance_mismatches().exists()


def test_a_pause_with_bad_dates_names_the_field(signed_in, account):
    today = timezone.localdate()
    response = signed_in.post(f"/billing/accounts/{account.number}/pause/", {
        "start": today.isoformat(), "end": (today + timedelta(days=200)).isoformat()})
    html = response.content.decode()
    assert response.status_code == 200 and "is-invalid" in html and "90" in html
    assert not account.pauses.exists()


def test_promised_payment_deferral_and_never_block_from_the_card(signed_in, account):
    n = account.number
    response = signed_in.post(f"/billing/accounts/{n}/promised-payment/", follow=True)
    account.refresh_from_db()
    assert account.promised_until is not None
    assert "Обещанный платёж" in response.content.decode()
    # Once a month: the second is refused with the reason.
    Account.objects.filter(pk=account.pk).update(promised_until=None)
    response = signed_in.post(f"/billing/accounts/{n}/promised-payment/", follow=True)
    assert "уже" in response.content.decode()

    until = timezone.localdate() + timedelta(days=10)
    signed_in.post(f"/billing/accounts/{n}/deferral/",
                   {"until": until.isoformat(), "reason": "Зарплата 5-го"})
    account.refresh_from_db()
    assert account.deferred_until == until

    response = signed_in.post(f"/billing/accounts/{n}/never-block/", {"value": "on",
                                                                       "reason": ""})
    assert response.status_code == 200 and "is-invalid" in response.content.decode()
    signed_in.post(f"/billing/accounts/{n}/never-block/", {"value": "on", "reason": "Школа"})
    account.refresh_from_db()
    assert account.never_block and account.never_block_reason == "Школа"


# --- The account page -------------------------------------------------------------------------

def test_account_page_shows_the_ledger_with_filters_and_history(signed_in, account):
    for month in (9, 10, 11):
        LedgerEntry.objects.create(account=account, kind="charge", amount=Decimal("-750.00"),
                                   period=date(2026, month, 1),
                                   description=f"Абонентская плата за {month:02d}.2026")
    payment_accept(account=account, amount="3000", channel="terminal", external_id="t-77")
    url = f"/billing/accounts/{account.number}/"
    html = signed_in.get(url).content.decode()
    for text in ("за 09.2026", "за 11.2026", "3\u00a0000,00", "Домашний 300", "История тарифов",
                 "Паузы", "Документы", "Уведомления"):
        assert text in html, text

    html = signed_in.get(url, {"period": "2026-10"}).content.decode()
    assert "за 10.2026" in html and "за 09.2026" not in html and "за 11.2026" not in html
    # The balance after the October charge counts everything before it, whatever the filter.
    assert "−1\u00a0750,00" in html

    html = signed_in.get(url, {"kind": "payment"}).content.decode()
    assert "за 10.2026" not in html and "3\u00a0000,00" in html


def test_account_page_pages_a_long_ledger(signed_in, account):
    LedgerEntry.objects.bulk_create([
        LedgerEntry(account=account, kind="bonus", amount=Decimal("1.00"),
                    description=f"Бонус {i}") for i in range(60)])
    html = signed_in.get(f"/billing/accounts/{account.number}/", {"page": 2}).content.decode()
    assert "Страница 2 из 2" in html


def test_unknown_account_is_404(signed_in):
    assert signed_in.get("/billing/accounts/99999999/").status_code == 404


# --- The cash desk (M3) -----------------------------------------------------------------------

def test_cashier_finds_the_account_by_phone_name_and_number(signed_in, account):
    ClientCardFactory(name="Орлов Без Счёта")
    for query in ("8 916 123", "орлова", account.number):
        html = signed_in.get("/billing/cashier/search/", {"q": query}).content.decode()
        assert f"?account={account.number}" in html, query
        assert "Орлов Без Счёта" not in html


def test_cashier_enter_on_a_unique_match_takes_the_account(signed_in, account):
    html = signed_in.get("/billing/cashier/", {"q": account.number}).content.decode()
    assert 'name="amount"' in html and "autofocus" in html
    assert f'name="account" value="{account.number}"' in html


def test_cash_payment_is_credited_once_even_if_the_form_is_posted_twice(signed_in, account):
    html = signed_in.get("/billing/cashier/", {"account": account.number}).content.decode()
    form = {"account": account.number, "cash_id": cash_id(html), "amount": "1 000,50",
            "channel": "cash", "comment": ""}
    first = signed_in.post("/billing/cashier/", form).content.decode()
    second = signed_in.post("/billing/cashier/", form).content.decode()
    account.refresh_from_db()
    assert account.balance == Decimal("750.50")
    assert Payment.objects.filter(account=account).count() == 1
    assert "750,50" in first and "зачислен" in first
    assert "уже" in second
    # The desk is ready for the next client: the search box has the focus.
    assert 'id="cashier-q"' in first and 'name="amount"' not in first
    assert not balance_mismatches().exists()


def test_cashier_says_when_the_payment_restored_service(signed_in, account):
    Account.objects.filter(pk=account.pk).update(status=Account.Status.BLOCKED,
                                                 blocked_on=date(2026, 11, 10))
    html = signed_in.get("/billing/cashier/", {"account": account.number}).content.decode()
    response = signed_in.post("/billing/cashier/", {
        "account": account.number, "cash_id": cash_id(html), "amount": "300",
        "channel": "cash"})
    account.refresh_from_db()
    assert account.status == Account.Status.ACTIVE
    assert "доступ восстановлен" in response.content.decode()


def test_a_terminal_payment_needs_its_receipt_number(signed_in, account):
    html = signed_in.get("/billing/cashier/", {"account": account.number}).content.decode()
    form = {"account": account.number, "cash_id": cash_id(html), "amount": "500",
            "channel": "terminal", "receipt": ""}
    response = signed_in.post("/billing/cashier/", form)
    assert "is-invalid" in response.content.decode()
    assert not Payment.objects.exists()
    signed_in.post("/billing/cashier/", {**form, "receipt": "T-100"})
    assert Payment.objects.get().external_id == "T-100"


def test_a_bad_amount_is_named_and_nothing_is_credited(signed_in, account):
    html = signed_in.get("/billing/cashier/", {"account": account.number}).content.decode()
    response = signed_in.post("/billing/cashier/", {
        "account": account.number, "cash_id": cash_id(html), "amount": "-5", "channel": "cash"})
    assert "is-invalid" in response.content.decode()
    assert not Payment.objects.exists()


def test_a_cash_form_without_its_id_is_refused(signed_in, account):
    response = signed_in.post("/billing/cashier/", {
        "account": account.number, "cash_id": "", "amount": "100", "channel": "cash"})
    assert response.status_code == 200 and not Payment.objects.exists()


# --- Payments -------------------------------------------------------------------------------

def test_payments_list_filters_and_totals(client, make_user, account):
    other = make_account(client=ClientCardFactory(stage="active", name="Зайцев Пётр"))
    payment_accept(account=account, amount="500", channel="terminal", external_id="a")
    payment_accept(account=account, amount="250", channel="cash", external_id="cash-x")
    payment_accept(account=other, amount="1000", channel="terminal", external_id="b",
                   payer="ООО Плательщик")
    as_role(client, make_user, roles.ACCOUNTANT)
    html = client.get("/billing/payments/").content.decode()
    assert "3 платежа на сумму 1\u00a0750,00\u00a0₽" in html
    html = client.get("/billing/payments/", {"channel": "terminal"}).content.decode()
    assert "2 платежа на сумму 1\u00a0500,00\u00a0₽" in html
    html = client.get("/billing/payments/", {"q": "Плательщик"}).content.decode()
    assert "1 платёж на сумму 1\u00a0000,00\u00a0₽" in html
    html = client.get("/billing/payments/", {"q": account.number}).content.decode()
    assert "Зайцев" not in html and "Орлова Анна" in html
    html = client.get("/billing/payments/", {"date_from": "2020-01-01",
                                             "date_to": "2020-01-31"}).content.decode()
    assert "0 платежей" in html


def test_cancel_payment_needs_a_reason_and_reverses_it(client, make_user, account):
    payment, _ = payment_accept(account=account, amount="500", channel="terminal",
                                external_id="t-1")
    as_role(client, make_user, roles.ACCOUNTANT)
    url = f"/billing/payments/{payment.pk}/cancel/"
    response = client.post(url, {"reason": ""})
    assert response.status_code == 200 and "is-invalid" in response.content.decode()
    response = client.post(url, {"reason": "Ошибка кассира", "next": "/billing/payments/"},
                           follow=True)
    payment.refresh_from_db()
    account.refresh_from_db()
    assert payment.status == Payment.Status.CANCELLED
    assert payment.cancel_reason == "Ошибка кассира"
    assert account.balance == Decimal("-250.00")
    assert "отменён" in response.content.decode()
    client.post(url, {"reason": "Ещё раз"})  # twice changes nothing
    account.refresh_from_db()
    assert account.balance == Decimal("-250.00")
    assert not balance_mismatches().exists()


# --- The catalogue --------------------------------------------------------------------------

def test_tariff_create_edit_and_close(client, make_user):
    as_role(client, make_user, roles.HEAD_OF_SALES)
    response = client.post("/billing/tariffs/new/", {
        "name": "Турбо 1000", "description": "", "segment": "person",
        "connection_types": ["lan", "radio"], "speed_mbps": 1000, "monthly_fee": "1 200",
        "connection_fee": "0", "pause_fee": "50", "valid_from": "2026-01-01"})
    assert response.status_code == 200  # "1 200" is not a number for the model form
    response = client.post("/billing/tariffs/new/", {
        "name": "Турбо 1000", "description": "", "segment": "person",
        "connection_types": ["radio", "lan"], "speed_mbps": 1000, "monthly_fee": "1200",
        "connection_fee": "0", "pause_fee": "50", "valid_from": "2026-01-01"})
    assert response.status_code == 302
    tariff = Tariff.objects.get(name="Турбо 1000")
    assert tariff.connection_types == ["lan", "radio"] and tariff.is_open()
    assert "Турбо 1000" in client.get("/billing/tariffs/").content.decode()

    client.post(f"/billing/tariffs/{tariff.pk}/close/", {"valid_to": "2025-06-01"})
    tariff.refresh_from_db()
    assert tariff.valid_to is None  # before it opened: refused
    today = timezone.localdate()
    response = client.post(f"/billing/tariffs/{tariff.pk}/close/",
                           {"valid_to": today.isoformat()}, follow=True)
    tariff.refresh_from_db()
    assert tariff.valid_to == today and not tariff.is_open()
    assert "Турбо 1000" not in client.get("/billing/tariffs/").content.decode()
    assert "Турбо 1000" in client.get("/billing/tariffs/?show=closed").content.decode()


def test_tariff_edit_warns_about_its_clients(client, make_user, account):
    tariff = Subscription.objects.get(account=account).tariff
    as_role(client, make_user, roles.HEAD_OF_SALES)
    html = client.get(f"/billing/tariffs/{tariff.pk}/edit/").content.decode()
    assert "1 абонент" in html


def test_noc_head_sees_tariffs_but_cannot_close_one(client, make_user):
    tariff = TariffFactory()
    as_role(client, make_user, roles.NOC_HEAD)
    html = client.get("/billing/tariffs/").content.decode()
    assert tariff.name in html and "Закрыть продажи" not in html
    assert client.post(f"/billing/tariffs/{tariff.pk}/close/",
                       {"valid_to": "2026-12-01"}).status_code == 403


def test_service_and_promotion_create(client, make_user):
    as_role(client, make_user, roles.HEAD_OF_SALES)
    response = client.post("/billing/services/new/", {
        "name": "Аренда роутера", "code": "router", "monthly_fee": "200", "active": "on"})
    assert response.status_code == 302 and Service.objects.get().code == "router"
    tariff = TariffFactory()
    response = client.post("/billing/promotions/new/", {
        "name": "Два месяца бесплатно", "tariff": tariff.pk, "discount_percent": "100",
        "months": 2, "new_clients_only": "on", "valid_from": "2026-12-01",
        "valid_to": "2026-11-01"})
    assert response.status_code == 200 and "is-invalid" in response.content.decode()
    response = client.post("/billing/promotions/new/", {
        "name": "Два месяца бесплатно", "tariff": tariff.pk, "discount_percent": "100",
        "months": 2, "new_clients_only": "on", "valid_from": "2026-12-01"})
    assert response.status_code == 302
    assert "Два месяца бесплатно" in client.get("/billing/promotions/").content.decode()


def test_services_are_added_and_stopped_from_the_account_page(client, manager):
    from billing.models import Service

    account = make_account()
    ip = Service.objects.create(code="ip2", name="Статический IP", monthly_fee=Decimal("150"))
    client.force_login(manager)
    page = client.get(f"/billing/accounts/{account.number}/").content.decode()
    assert "Статический IP" in page  # offered in the add form
    added = client.post(f"/billing/accounts/{account.number}/services/", {"service": ip.pk},
                        follow=True)
    assert added.status_code == 200
    item = account.services.get()
    assert item.end is None
    account.refresh_from_db()
    assert account.balance < 0  # the rest of the month charged
    client.post(f"/billing/accounts/{account.number}/services/{item.pk}/stop/")
    # stopped the day it started: nothing used, the row goes and the charge comes back
    assert not account.services.exists()
    account.refresh_from_db()
    assert account.balance == 0
