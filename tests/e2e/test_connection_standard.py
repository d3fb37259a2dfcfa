"""The connection standard in a real browser, each role on its own screen (CS-1…CS-5):
the manager requests the survey, the NOC head records the result with an estimate, the
manager signs, the fee is paid, the crew leader plans and completes the installation, the
subscriber department activates — and the monthly fee is charged."""

import datetime as dt

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from billing.models import Account, LedgerEntry
from billing.services.payments import payment_accept
from billing.services.terms import terms_set
from connections.models import Crew, Installation
from connections.services.surveys import next_survey_day
from ispcrm import roles
from tests.e2e.steps import sign_in
from tests.factories import ClientCardFactory, TariffFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def as_user(browser, live_server, user):
    context = browser.new_context(base_url=live_server.url, locale="ru-RU",
                                  viewport={"width": 1366, "height": 900})
    page = context.new_page()
    page.set_default_timeout(10_000)
    sign_in(page, user)
    return page


def act(page, card, action: str, fill=None):
    """Open the card, unfold the action (if it has a form), fill it and submit."""
    page.goto(f"/clients/{card.pk}/")
    block = page.locator(f"[data-action={action}]")
    if block.evaluate("e => e.tagName") == "DETAILS":
        block.locator("summary").click()
    if fill:
        fill(page)
    block.locator("button").last.click()
    page.wait_for_url(f"**/clients/{card.pk}/**")


def test_the_five_stages_in_the_browser(browser, live_server, make_user):
    team = {role: make_user(role) for role in (roles.MANAGER, roles.NOC_HEAD,
                                                roles.CREW_LEADER, roles.SUBSCRIBER_DEPT)}
    manager = team[roles.MANAGER]
    tariff = TariffFactory(name="Домашний 100", monthly_fee="600.00", connection_fee="1000.00")
    card = ClientCardFactory(name="Орлов Игорь", branch=manager.branch, lead_manager=manager,
                             building__street__city=manager.branch.city)
    terms_set(card=card, actor=manager, tariff=tariff)
    crew = Crew.objects.create(branch=manager.branch, name="Бригада Север")
    survey_day = next_survey_day(manager.branch, timezone.localdate())

    page = as_user(browser, live_server, manager)
    act(page, card, "request_expertise")
    expect(page.get_by_role("alert").first).to_contain_text(survey_day.strftime("%d.%m.%Y"))
    expect(page.locator("#workflow")).to_contain_text("Техническая экспертиза")

    noc = as_user(browser, live_server, team[roles.NOC_HEAD])

    def result(p):
        p.locator("[data-action=record_expertise] input[name=possible][value=true]").check()
        p.locator("#record_expertise-estimate-0-item").fill("Коммутатор доступа")
        p.locator("#record_expertise-estimate-0-quantity").fill("1")
        p.locator("#record_expertise-estimate-0-unit_price").fill("3500")

    act(noc, card, "record_expertise", result)
    expect(noc.get_by_role("alert").first).to_contain_text("3500")

    act(page, card, "sign_contract")
    account = Account.objects.get(client=card)
    expect(page.get_by_role("alert").first).to_contain_text("подписан")
    payment_accept(account=account, amount=account.balance.copy_abs(), channel="bank",
                   external_id="fee-1", actor=manager)

    crew_page = as_user(browser, live_server, team[roles.CREW_LEADER])
    act(crew_page, card, "schedule_installation")  # the earliest free slot, prefilled
    installation = Installation.objects.get(card=card)
    assert installation.crew == crew and installation.date > timezone.localdate()
    act(crew_page, card, "complete_installation",
        lambda p: p.locator("#complete_installation-ip_address").fill("10.20.30.40"))
    expect(crew_page.get_by_role("alert").first).to_contain_text("10.20.30.40")

    subscriber = as_user(browser, live_server, team[roles.SUBSCRIBER_DEPT])
    act(subscriber, card, "activate")
    expect(subscriber.get_by_role("alert").first).to_contain_text("Активирован")
    card.refresh_from_db()
    assert card.stage == "active" and card.activated_at is not None
    assert LedgerEntry.objects.filter(account=account, charge_kind="monthly_fee").exists()
    subscriber.goto(f"/clients/{card.pk}/")
    history = subscriber.locator("section[aria-labelledby=h-history]")
    for done in ("Договор", "Монтаж выполнен, IP 10.20.30.40", "Активирован"):
        expect(history).to_contain_text(done)
    assert survey_day - timezone.localdate() <= dt.timedelta(days=7)
