"""A manager's first minutes, in a real browser: sign in, find a client as he types,
open the card, open a new card through the building picker (M1, M4, UX: search everywhere)."""

import pytest

from connections.models import ClientCard
from tests.e2e.steps import sign_in
from tests.factories import BuildingFactory, ClientCardFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_manager_finds_a_client_by_phone_and_opens_the_card(page, manager):
    card = ClientCardFactory(name="Соколова Мария", phone="+79161112233", lead_manager=manager)
    sign_in(page, manager)
    page.keyboard.press("/")
    page.keyboard.type("8 916 111")
    result = page.locator("#header-search-results").get_by_text("Соколова Мария")
    result.wait_for()
    page.keyboard.press("Enter")
    page.wait_for_url(f"**/clients/{card.pk}/")
    assert page.get_by_role("heading", name="Соколова Мария").is_visible()
    assert page.get_by_text("+7 916 111-22-33").is_visible()


def test_manager_opens_a_full_card_with_the_building_picker(page, manager):
    BuildingFactory(street__name="ул. Садовая", house="15", street__city=manager.branch.city)
    sign_in(page, manager)
    page.goto("/clients/new/")  # the full form; the quick one is tests/e2e/test_new_client
    page.get_by_label("ФИО").fill("Кузнецов Алексей")
    page.get_by_label("Телефон").fill("8 912 555-44-33")
    page.get_by_label("Дом").fill("Садовая 15")
    page.locator("#building-options").get_by_role("option").first.click()
    page.get_by_label("Квартира или офис").fill("17")
    page.get_by_role("button", name="Открыть карточку").click()
    page.wait_for_url("**/clients/*/")
    card = ClientCard.objects.get()
    assert (card.name, card.phone, card.premises) == ("Кузнецов Алексей", "+79125554433", "17")
    assert page.get_by_text("Карточка клиента Кузнецов Алексей открыта.").is_visible()
