"""History, documents and referrals of the cabinet in a real browser (C6, C7): the ledger
filtered on a phone, an invoice downloaded, the referral link copied and opened by a friend
who leaves a request."""

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings
from django.db import transaction
from playwright.sync_api import expect

from billing.models import BillingSettings, Document, Payment
from billing.services.ledger import lock_account, post
from cabinet.referral_codes import referral_code
from connections.models import ClientCard
from tests.factories import BuildingFactory, StreetFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

MSK = ZoneInfo("Europe/Moscow")


def english(page, live_server) -> None:
    """Read the pages as the code writes them, whatever the Russian catalogue holds."""
    page.context.add_cookies([{"name": settings.LANGUAGE_COOKIE_NAME, "value": "en",
                               "url": live_server.url}])


def entry(account, kind, amount, when, description, **fields):
    with transaction.atomic():
        post(account=lock_account(account.pk), kind=kind, amount=Decimal(amount),
             description=description, at=when, **fields)


def test_history_filtered_on_a_phone(mobile_page, subscriber, live_server):
    page = mobile_page
    english(page, live_server)
    when = dt.datetime(2026, 2, 10, 12, tzinfo=MSK)
    payment = Payment.objects.create(account=subscriber, amount=Decimal("1000.00"),
                                     channel="cabinet", external_id="gw-1", paid_at=when)
    entry(subscriber, "charge", "-600", when - dt.timedelta(days=5), "Monthly fee, February",
          period=dt.date(2026, 2, 1), charge_kind="monthly_fee")
    entry(subscriber, "payment", "1000", when, "Online payment", payment=payment)

    page.goto("/my/history/")
    entries = page.locator("#ledger .ledger-entry")
    expect(entries).to_have_count(3)  # with the opening balance of today
    page.locator("nav").get_by_role("link", name="Payments").click()
    expect(entries).to_have_count(1)
    expect(entries.first).to_contain_text("Online payment")
    expect(entries.first).to_contain_text("Card online")
    expect(entries.first.locator(".ledger-amount")).to_have_text("+1\u00a0000,00\u00a0₽")

    page.get_by_text("Choose dates").click()
    page.get_by_label("From", exact=True).fill("2026-02-01")
    page.get_by_label("To", exact=True).fill("2026-02-28")
    page.get_by_role("button", name="Show").click()
    page.wait_for_url("**date_to=2026-02-28**")
    assert "kind=payments" in page.url
    expect(entries).to_have_count(1)
    expect(page.locator("#total-paid")).to_have_text("1\u00a0000,00\u00a0₽")
    expect(page.locator("#total-charged")).to_have_text("600,00\u00a0₽")
    # The figure and the filter are above the fold of a 390×844 screen.
    box = page.locator("#total-paid").bounding_box()
    assert box is not None and box["y"] + box["height"] < 844

    page.get_by_label("From", exact=True).fill("2026-03-01")
    page.get_by_role("button", name="Show").click()
    expect(page.locator("#history-errors")).to_contain_text(
        "The end of the period is before its start.")


def test_an_invoice_is_downloaded(cabinet_page, subscriber, live_server):
    page = cabinet_page
    english(page, live_server)
    Document.objects.create(
        kind="invoice", number="СЧ-2026-000007", account=subscriber,
        period=dt.date(2026, 10, 1), issued_on=dt.date(2026, 10, 31), total=Decimal("600.00"),
        lines=[{"name": "Абонентская плата за октябрь 2026", "quantity": "1", "unit": "мес.",
                "price": "600.00", "amount": "600.00"}])
    page.goto("/my/history/")
    page.get_by_role("link", name="Documents").first.click()
    page.wait_for_url("**/my/documents/")
    expect(page.get_by_role("heading", name="October 2026")).to_be_visible()
    with page.expect_download() as download:
        page.get_by_role("link", name="Invoice № СЧ-2026-000007").click()
    assert download.value.suggested_filename == "invoice-СЧ-2026-000007.pdf"
    with open(download.value.path(), "rb") as pdf:
        assert pdf.read(5) == b"%PDF-"


def test_the_referral_link_is_shown_copied_and_brings_a_lead(cabinet_page, subscriber,
                                                             browser, live_server):
    rules = BillingSettings.current()
    rules.referral_mode, rules.referral_fixed_amount = "fixed", Decimal("500.00")
    rules.save()
    card = subscriber.client
    card.name = "Белова Ольга Петровна"
    card.save()
    BuildingFactory(street=StreetFactory(city=card.building.street.city, name="ул. Ленина"),
                    house="12")
    page = cabinet_page
    english(page, live_server)
    page.goto("/my/referrals/")
    code = referral_code(card.pk)
    link = page.get_by_label("Your link")
    expect(link).to_have_value(f"{live_server.url}/my/join/{code}/")
    expect(page.locator("#referral-rule")).to_contain_text("500,00\u00a0₽")
    page.get_by_role("button", name="Copy link").click()
    expect(page.locator("#copy-status")).not_to_be_empty()

    # A friend opens the link, signed out.
    friend = browser.new_context(base_url=live_server.url)
    visitor = friend.new_page()
    english(visitor, live_server)
    visitor.goto(link.input_value())
    expect(visitor.get_by_role("heading", level=1)).to_have_text("Ольга invites you to connect")
    visitor.get_by_label("Your name", exact=True).fill("Сидоров Иван")
    visitor.get_by_label("Phone", exact=True).fill("+7 912 555-44-33")
    visitor.get_by_label("Street", exact=True).fill("Ленина")
    visitor.get_by_label("House", exact=True).fill("12")
    visitor.get_by_label("Flat", exact=True).fill("5")
    visitor.get_by_label("I agree").check()
    visitor.get_by_role("button", name="Ask for a call").click()
    expect(visitor.locator("#join-done")).to_contain_text("A manager will call you")
    friend.close()
    lead = ClientCard.objects.get(phone="+79125554433")
    assert lead.stage == "commercial" and lead.referrer_id == card.pk
