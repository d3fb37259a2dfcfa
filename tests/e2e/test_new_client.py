"""The new-client page in a real browser, keyboard only (M1, C2): type, Tab, Enter — from the
empty page to the card in expertise with the technician's visit booked."""

import re

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from billing.models import Terms
from connections.models import ClientCard
from connections.services.surveys import next_survey_day
from tests.e2e.steps import sign_in
from tests.factories import BuildingFactory, ClientCardFactory, TariffFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_new_client_with_a_booked_visit_by_keyboard(page, manager):
    building = BuildingFactory(street__name="ул. Садовая", house="15",
                               street__city=manager.branch.city)
    ClientCardFactory(building=building, branch=manager.branch, stage="active")  # on the network
    tariff = TariffFactory(name="Домашний 100", monthly_fee="500.00")
    TariffFactory(name="Домашний 500", monthly_fee="950.00")
    visit_day = next_survey_day(manager.branch, timezone.localdate())
    sign_in(page, manager)
    page.goto("/clients/start/")

    expect(page.get_by_label("ФИО")).to_be_focused()
    page.keyboard.type("Кузнецов Алексей")
    page.keyboard.press("Tab")
    page.keyboard.type("8 912 555-44-33")
    page.keyboard.press("Tab")
    page.keyboard.type("Садовая 15")
    page.locator("#building-options").get_by_role("option").first.wait_for()
    page.keyboard.press("Enter")  # picks the first building found
    expect(page.locator("#building-picked")).to_contain_text("Садовая, 15")
    # The visit block answers for that building: the first free survey day is ticked.
    expect(page.locator("#id_book")).to_be_checked()
    expect(page.locator("#survey-days")).to_contain_text(visit_day.strftime("%d.%m.%Y"))
    page.keyboard.press("Tab")
    page.keyboard.type("17")
    page.keyboard.press("Tab")  # connection type: LAN by default
    page.keyboard.press("Tab")
    page.keyboard.press("ArrowDown")  # the first (cheapest) tariff
    page.keyboard.press("Enter")

    page.wait_for_url(re.compile(r"/clients/\d+/$"))
    card = ClientCard.objects.get(name="Кузнецов Алексей")
    assert page.url.endswith(f"/clients/{card.pk}/")
    assert (card.stage, card.phone, card.premises) == ("expertise", "+79125554433", "17")
    assert card.surveys.get().date == visit_day
    assert Terms.objects.get(client=card).tariff == tariff
    expect(page.get_by_role("alert").first).to_contain_text(visit_day.strftime("%d.%m.%Y"))
