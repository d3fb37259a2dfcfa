"""The cabinet's home, tariff and pause pages in a real browser (issue 6, items 2, 4, 5): on a
phone the balance and the Top up button are on the first screen; a change from next month is
scheduled and cancelled; a change from tomorrow shows its recalculation and moves the balance;
a pause shows its sums before it is confirmed, the account is paused, and resumed early.

Pages in English (the language switch's cookie), on a fixed day for every `localdate()`: the
live server runs in this process, so the figures are the hand-computed ones."""

from datetime import date
from decimal import Decimal

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from billing.models import Account
from billing.services.charges import charge_run
from tests.factories import TariffFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

TODAY = date(2026, 11, 23)
NBSP = "\u00a0"


@pytest.fixture(autouse=True)
def on_the_day(monkeypatch):
    monkeypatch.setattr(timezone, "localdate", lambda *args, **kwargs: TODAY)


def english(page, live_server):
    page.context.add_cookies([{"name": "django_language", "value": "en",
                               "url": live_server.url}])


def bill_november(account):
    """November charged on the 1st by the real run: 900 − 600 = 300 left."""
    charge_run(day=date(2026, 11, 1))
    account.refresh_from_db()
    assert account.balance == Decimal("300.00")


def test_on_a_phone_the_balance_and_top_up_are_above_the_fold(mobile_page, live_server):
    english(mobile_page, live_server)
    mobile_page.goto("/my/")

    height = mobile_page.viewport_size["height"]
    for locator in (mobile_page.locator("#balance"), mobile_page.locator("#topup-button")):
        expect(locator).to_be_visible()
        box = locator.bounding_box()
        assert box["y"] >= 0 and box["y"] + box["height"] <= height, box
    expect(mobile_page.locator("#balance")).to_have_text(f"900,00{NBSP}₽")
    expect(mobile_page.locator("#account-status")).to_have_text("Active")
    expect(mobile_page.locator("#topup-button")).to_have_text("Top up")
    assert mobile_page.evaluate("window.scrollY") == 0
    # The status is words, not only a colour; the tariff follows below.
    expect(mobile_page.locator("#status-text")).to_have_text("The internet is on.")
    expect(mobile_page.locator("#next-charge")).to_contain_text(f"600,00{NBSP}₽")


def test_change_from_next_month_is_scheduled_then_cancelled(cabinet_page, subscriber,
                                                            live_server):
    TariffFactory(name="Fast 500", monthly_fee=Decimal("900.00"), speed_mbps=500)
    english(cabinet_page, live_server)
    cabinet_page.goto("/my/")
    cabinet_page.get_by_role("link", name="Tariff and pause").first.click()
    cabinet_page.get_by_role("link", name="Choose «Fast 500»").click()

    expect(cabinet_page.locator("#quote-next-month")).to_contain_text(
        f"from 12/01/2026 the fee is 900,00{NBSP}₽ a month")
    cabinet_page.get_by_label("From the 1st of next month, 12/01/2026").check()
    cabinet_page.get_by_role("button", name="Change the tariff").click()

    cabinet_page.wait_for_url("**/my/tariff/")
    expect(cabinet_page.get_by_role("alert")).to_contain_text(
        "Tariff «Fast 500» from 12/01/2026.")
    scheduled = cabinet_page.locator("#scheduled")
    expect(scheduled).to_contain_text("From 12/01/2026: tariff «Fast 500».")
    expect(cabinet_page.locator("#tariff-history")).to_contain_text("scheduled")
    subscriber.refresh_from_db()
    assert subscriber.balance == Decimal("900.00")  # nothing charged now

    scheduled.get_by_role("button", name="Cancel the change").click()
    expect(cabinet_page.get_by_role("alert")).to_contain_text(
        "The scheduled tariff change is cancelled")
    expect(cabinet_page.locator("#scheduled")).to_have_count(0)
    expect(cabinet_page.locator("#tariff-history")).not_to_contain_text("Fast 500")


def test_change_from_tomorrow_shows_the_recalculation_and_moves_the_balance(
        cabinet_page, subscriber, live_server):
    TariffFactory(name="Fast 500", monthly_fee=Decimal("900.00"), speed_mbps=500)
    bill_november(subscriber)
    english(cabinet_page, live_server)
    cabinet_page.goto("/my/tariff/")
    cabinet_page.get_by_role("link", name="Choose «Fast 500»").click()

    # 24–30 Nov: 140 of 600 back, 210 of 900 charged.
    quote = cabinet_page.locator("#quote-tomorrow")
    expect(quote).to_contain_text(f"140,00{NBSP}₽ of the current tariff comes back, "
                                  f"210,00{NBSP}₽ of the new one is charged")
    expect(quote).to_contain_text(f"Charged now: 70,00{NBSP}₽")
    expect(quote).to_contain_text(f"balance after: 230,00{NBSP}₽")
    expect(cabinet_page.get_by_label("From tomorrow, 11/24/2026")).to_be_checked()
    cabinet_page.get_by_role("button", name="Change the tariff").click()

    cabinet_page.wait_for_url("**/my/tariff/")
    scheduled = cabinet_page.locator("#scheduled")
    expect(scheduled).to_contain_text("From 11/24/2026: tariff «Fast 500».")
    cabinet_page.goto("/my/")
    expect(cabinet_page.locator("#balance")).to_have_text(f"230,00{NBSP}₽")
    subscriber.refresh_from_db()
    assert subscriber.balance == Decimal("230.00")

    # He changes his mind before tomorrow: the recalculation comes back with the cancel.
    cabinet_page.goto("/my/tariff/")
    cabinet_page.locator("#scheduled").get_by_role("button", name="Cancel the change").click()
    cabinet_page.wait_for_url("**/my/tariff/")
    cabinet_page.goto("/my/")
    expect(cabinet_page.locator("#balance")).to_have_text(f"300,00{NBSP}₽")


def test_pause_shows_its_cost_first_then_pauses_and_resumes_early(mobile_page, subscriber,
                                                                 live_server):
    tariff = subscriber.subscriptions.get().tariff
    tariff.pause_fee = Decimal("90.00")
    tariff.save()
    bill_november(subscriber)
    english(mobile_page, live_server)
    mobile_page.goto("/my/tariff/")
    mobile_page.get_by_role("link", name="Pause the internet").click()

    mobile_page.get_by_label("Pause from").fill("2026-11-23")
    mobile_page.get_by_label("Service resumes on").fill("2026-11-30")
    mobile_page.get_by_role("button", name="Show the cost").click()

    # 23–29 Nov: 600 × 29/30 − 600 × 22/30 = 140 not paid; pause fee 87 − 66 = 21.
    quote = mobile_page.locator("#pause-quote")
    expect(quote).to_contain_text("Pause of 7 days: 11/23/2026–11/29/2026")
    expect(mobile_page.locator("#quote-returned")).to_have_text(f"140,00{NBSP}₽")
    expect(mobile_page.locator("#quote-fee")).to_have_text(f"21,00{NBSP}₽")
    expect(mobile_page.locator("#quote-total")).to_have_text(f"119,00{NBSP}₽")
    subscriber.refresh_from_db()
    assert subscriber.status == Account.Status.ACTIVE  # nothing before the confirmation

    quote.get_by_role("button", name="Confirm the pause").click()
    expect(mobile_page.get_by_role("alert")).to_contain_text(
        "Pause from 11/23/2026; service resumes on 11/30/2026.")
    expect(mobile_page.locator("#pause-current")).to_contain_text(
        "The internet is paused since 11/23/2026 and comes back on 11/30/2026.")
    mobile_page.goto("/my/")
    expect(mobile_page.locator("#account-status")).to_have_text("Paused")
    expect(mobile_page.locator("#balance")).to_have_text(f"439,00{NBSP}₽")  # 300 + 160 − 21

    mobile_page.get_by_role("link", name="Pause details").click()
    mobile_page.get_by_role("button", name="Resume the internet now").click()
    expect(mobile_page.get_by_role("alert")).to_contain_text("Service resumed from today")
    mobile_page.goto("/my/")
    expect(mobile_page.locator("#account-status")).to_have_text("Active")
    expect(mobile_page.locator("#balance")).to_have_text(f"300,00{NBSP}₽")
