import pytest
from tests.e2e.steps import sign_in
from tests.factories import BuildingFactory, ClientCardFactory, TariffFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_shot(page, manager):
    building = BuildingFactory(street__name="ул. Садовая", house="15",
                               street__city=manager.branch.city)
    ClientCardFactory(building=building, branch=manager.branch, stage="active")
    TariffFactory(name="Домашний 100", monthly_fee="500.00")
    TariffFactory(name="Домашний 500", monthly_fee="950.00")
    sign_in(page, manager)
    page.goto("/clients/start/")
    page.screenshot(path="/tmp/nc1.png", full_page=True)
    page.keyboard.type("Кузнецов Алексей")
    page.keyboard.press("Tab")
    page.keyboard.type("8 912")
    page.keyboard.press("Tab")
    page.keyboard.type("Садовая 15")
    page.locator("#building-options").get_by_role("option").first.wait_for()
    page.screenshot(path="/tmp/nc2.png", full_page=True)
    page.keyboard.press("Enter")
    page.locator("#id_book").wait_for()
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    page.locator(".invalid-feedback").first.wait_for()
    page.screenshot(path="/tmp/nc3.png", full_page=True)
    page.locator("#id_kind_1").check()
    page.screenshot(path="/tmp/nc4.png", full_page=True)
