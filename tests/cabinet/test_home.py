"""The cabinet's home page (issue 6, item 2): the figures on hand-built accounts, worked out
by hand on the day TODAY — the next charge with a service, how long the balance lasts, the
debt and its block date, the pause, an outage at his building (and not another's), and the
connection stage before the contract."""

from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.test import Client
from django.utils import timezone

from billing.models import AccountService, Pause, Service
from billing.services.charges import charge_run
from cabinet import selectors
from tests.factories import (
    BuildingFactory,
    ClientCardFactory,
    TariffFactory,
    UserFactory,
    make_account,
)
from tickets.models import Outage

pytestmark = pytest.mark.django_db

TODAY = date(2026, 11, 23)  # a Monday; November has 30 days, December and January 31
MSK = ZoneInfo("Europe/Moscow")


def D(value) -> Decimal:
    return Decimal(value)


@pytest.fixture(autouse=True)
def english_on_the_day(settings, monkeypatch):
    """Pages in English (the msgids), dated TODAY for every `timezone.localdate()`."""
    settings.LANGUAGE_CODE = "en"
    monkeypatch.setattr(timezone, "localdate", lambda *args, **kwargs: TODAY)


@pytest.fixture
def static_ip():
    return Service.objects.create(code="static-ip", name="Static IP",
                                  monthly_fee=D("150.00"))


def billed_account(balance, *, services=(), tariff=None, **fields):
    """An active account on a 600 ₽ tariff (+ services) with November charged on the 1st
    by the real charge run; ``balance`` is what is left after that charge."""
    account = make_account(tariff=tariff or TariffFactory(monthly_fee=D("600.00")),
                           balance=D(balance) + D("600.00") + sum(
                               (s.monthly_fee for s in services), D(0)), **fields)
    for service in services:
        AccountService.objects.create(account=account, service=service,
                                      start=date(2026, 1, 1))
    charge_run(day=date(2026, 11, 1))
    account.refresh_from_db()
    assert account.balance == D(balance)
    return account


# --- The figures (cabinet.selectors) --------------------------------------------------------

def test_next_charge_is_the_tariff_and_the_services_of_the_first(static_ip):
    account = billed_account("900.00", services=[static_ip])
    ended = Service.objects.create(code="rent", name="Router rent", monthly_fee=D("99.00"))
    AccountService.objects.create(account=account, service=ended, start=date(2026, 1, 1),
                                  end=date(2026, 12, 1))  # stops before the 1st

    charge = selectors.next_charge(account, today=TODAY)

    assert charge.on == date(2026, 12, 1)
    assert charge.amount == D("750.00")  # 600 + 150; the rent has ended
    assert [(line.label, line.amount) for line in charge.lines] == [
        (account.subscriptions.get().tariff.name, D("600.00")), ("Static IP", D("150.00"))]


def test_next_charge_while_paused_over_the_first_is_the_pause_fee_by_days():
    tariff = TariffFactory(monthly_fee=D("600.00"), pause_fee=D("90.00"))
    account = make_account(tariff=tariff, status="paused", balance=D("500.00"))
    Pause.objects.create(account=account, start=date(2026, 11, 20), end=date(2026, 12, 11))

    charge = selectors.next_charge(account, today=TODAY)

    # 1–10 December of 31 days: 90 × 10 / 31 = 29.032… → 29.03
    assert (charge.on, charge.amount, charge.paused) == (date(2026, 12, 1), D("29.03"), True)


def test_no_next_charge_for_a_blocked_or_pending_account():
    assert selectors.next_charge(make_account(status="blocked"), today=TODAY) is None
    assert selectors.next_charge(make_account(status="pending"), today=TODAY) is None


def test_balance_lasts_through_the_paid_month_and_then_by_days(static_ip):
    account = billed_account("900.00", services=[static_ip])

    forecast = selectors.balance_lasts(account, today=TODAY)

    # November is paid. December costs 750 → 150 left. January by days (31):
    # 6 days = 600·6/31 + 150·6/31 = 116.13 + 29.03 = 145.16 ≤ 150; 7 days = 169.35 > 150.
    assert forecast.until == date(2027, 1, 6)
    assert forecast.days == 45  # 23–30 Nov (8) + December (31) + 1–6 Jan (6)
    assert not forecast.more


def test_balance_lasts_less_than_a_day_when_a_day_costs_more():
    account = make_account(tariff=TariffFactory(monthly_fee=D("600.00")), balance=D("10.00"))
    # November not charged: from today, one day is 600·23/30 − 600·22/30 = 460 − 440 = 20.
    forecast = selectors.balance_lasts(account, today=TODAY)
    assert forecast.days == 0
    assert forecast.until == date(2026, 11, 22)


def test_no_forecast_in_debt():
    account = make_account(balance=D("-300.00"))
    assert selectors.balance_lasts(account, today=TODAY) is None


def test_debt_with_a_notice_is_blocked_on_its_day_or_after_a_promise():
    account = make_account(balance=D("-300.00"))
    account.debt_notice_on, account.block_due_on = date(2026, 11, 20), date(2026, 11, 27)
    state = selectors.debt_state(account, today=TODAY)
    assert (state.state, state.debt, state.block_on) == ("due", D("300.00"), date(2026, 11, 27))

    account.promised_until = date(2026, 11, 28)  # service on through the 28th
    state = selectors.debt_state(account, today=TODAY)
    assert (state.block_on, state.promised_until) == (date(2026, 11, 29), date(2026, 11, 28))


def test_debt_without_a_notice_gives_the_expected_block_date():
    account = make_account(balance=D("-300.00"))
    # Notice today (Monday 23.11); the block 5 working days later: 24, 25, 26, 27, 30.
    state = selectors.debt_state(account, today=TODAY)
    assert (state.state, state.notice_on, state.block_on) == (
        "expected", TODAY, date(2026, 11, 30))

    account.deferred_until = date(2026, 12, 5)  # deferred: the notice comes on Sunday 6.12
    state = selectors.debt_state(account, today=TODAY)
    assert (state.notice_on, state.block_on) == (date(2026, 12, 6), date(2026, 12, 11))


def test_debt_of_a_never_block_or_blocked_client_has_no_block_date():
    account = make_account(balance=D("-300.00"))
    account.never_block = True
    state = selectors.debt_state(account, today=TODAY)
    assert (state.state, state.block_on) == ("never_block", None)

    blocked = make_account(status="blocked", balance=D("-50.00"))
    blocked.blocked_on = date(2026, 11, 10)
    state = selectors.debt_state(blocked, today=TODAY)
    assert (state.state, state.blocked_on, state.debt) == ("blocked", date(2026, 11, 10),
                                                           D("50.00"))
    assert selectors.debt_state(make_account(balance=D("5.00")), today=TODAY) is None
    paused = make_account(status="paused", balance=D("-20.00"))
    assert selectors.debt_state(paused, today=TODAY).state == "unpaid"  # nothing to block


# --- The page -------------------------------------------------------------------------------

def test_home_shows_balance_status_topup_tariff_charge_and_days(subscriber, cabinet_web,
                                                                static_ip):
    AccountService.objects.create(account=subscriber, service=static_ip,
                                  start=date(2026, 1, 1))
    html = cabinet_web.get("/my/").content.decode()

    assert "900,00\u00a0₽" in html
    assert 'status-active">Active' in html and "The internet is on." in html
    assert 'href="/my/topup/"' in html
    assert subscriber.subscriptions.get().tariff.name in html
    assert "100 Mbit/s · 600,00\u00a0₽ a month" in html
    assert "Next charge on 12/01/2026: <strong>750,00\u00a0₽</strong>" in html
    # November is not charged on this hand-made account: 900 pays from today. 23–30 Nov:
    # (600 − 440) + (150 − 110) = 200, 700 left; December by days: 28 days = 541.94 + 135.48
    # = 677.42 ≤ 700, 29 days = 561.29 + 140.32 = 701.61 > 700.
    assert "The balance lasts 36 days, until 12/28/2026." in html


def test_home_shows_the_debt_with_its_block_date(subscriber, cabinet_web):
    from billing.models import Account

    Account.objects.filter(pk=subscriber.pk).update(
        balance=D("-300.00"), debt_notice_on=date(2026, 11, 20),
        block_due_on=date(2026, 11, 27))
    html = cabinet_web.get("/my/").content.decode()

    assert "−300,00\u00a0₽" in html  # the balance
    assert "Debt: 300,00\u00a0₽" in html
    assert "the internet will be switched off on 11/27/2026" in html
    assert "The balance lasts" not in html


def test_home_shows_an_outage_at_his_building_with_its_eta_and_not_another(subscriber,
                                                                         cabinet_web):
    ours = Outage.objects.create(description="Switch down in the basement",
                                 eta=datetime(2026, 11, 23, 18, 30, tzinfo=MSK))
    ours.buildings.add(subscriber.client.building)
    elsewhere = Outage.objects.create(description="Fibre cut on another street")
    elsewhere.buildings.add(BuildingFactory())
    fixed = Outage.objects.create(description="Old outage, repaired",
                                  resolved_at=datetime(2026, 11, 22, 12, 0, tzinfo=MSK))
    fixed.buildings.add(subscriber.client.building)
    by_street = Outage.objects.create(description="Works on the whole street")
    by_street.streets.add(subscriber.client.building.street)

    html = cabinet_web.get("/my/").content.decode()

    assert "Switch down in the basement" in html
    assert "11/23/2026 18:30" in html
    assert "Works on the whole street" in html and "being worked out" in html
    assert "Fibre cut on another street" not in html
    assert "Old outage, repaired" not in html


def test_home_counts_open_requests(subscriber, stranger, cabinet_web):
    from tickets.models import Category, Ticket

    category = Category.objects.filter(active=True).first() or Category.objects.create(
        code="other", name="Other")
    for card, status in [(subscriber.client, "new"), (subscriber.client, "waiting"),
                         (subscriber.client, "closed"), (stranger.client, "new")]:
        Ticket.objects.create(client=card, branch=card.branch, category=category,
                              channel="cabinet", subject="s", status=status)
    html = cabinet_web.get("/my/").content.decode()
    assert '<span class="badge text-bg-primary rounded-pill" id="open-requests">2 open' in html


def test_before_the_contract_home_shows_the_stage_in_plain_words():
    card = ClientCardFactory(stage="expertise")
    card.cabinet_user = UserFactory(username="future-client", roles=())
    card.save(update_fields=["cabinet_user"])
    web = Client()
    web.force_login(card.cabinet_user)

    response = web.get("/my/")

    html = response.content.decode()
    assert response.status_code == 200
    assert "Our engineers are checking how to connect your building." in html
    assert "Technical expertise" in html
    assert 'id="balance"' not in html
    assert web.get("/my/tariff/").status_code == 200


def test_home_needs_a_cabinet_login(client, manager):
    assert client.get("/my/").status_code == 302
    client.force_login(manager)  # staff without a logged "see as client"
    assert client.get("/my/").status_code == 302
