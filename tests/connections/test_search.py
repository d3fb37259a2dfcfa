"""The search box's matching rules (UX: search everywhere)."""

import pytest

from connections.selectors import client_search
from tests.factories import BuildingFactory, ClientCardFactory

pytestmark = pytest.mark.django_db


def found(query: str) -> list[str]:
    return [card.name for card in client_search(query)]


def test_any_case_any_word_order():
    ClientCardFactory(name="Ёлкина Дарья Петровна")
    assert found("дарья ЁЛКИНА") == ["Ёлкина Дарья Петровна"]


def test_phone_as_dialled_with_8_or_plus_7():
    ClientCardFactory(name="Абонент", phone="+79031234567")
    assert found("8 903 123-45") == ["Абонент"]
    assert found("+7 (903) 123") == ["Абонент"]
    assert found("1234567") == ["Абонент"]


def test_inn_email_and_card_number():
    card = ClientCardFactory(name="ООО Тест", kind="company", inn="7707083893",
                             email="office@test.ru")
    assert found("7707083893") == ["ООО Тест"]
    assert found("office@test") == ["ООО Тест"]
    assert found(str(card.pk)) == ["ООО Тест"]


def test_address_with_flat():
    building = BuildingFactory(street__name="ул. Мира", house="10")
    ClientCardFactory(name="Жилец", building=building, premises="кв. 5")
    ClientCardFactory(name="Сосед", building=BuildingFactory(street=building.street, house="12"))
    assert found("мира 10") == ["Жилец"]


def test_renamed_street_is_found_by_its_new_name():
    building = BuildingFactory(street__name="ул. Старая")
    ClientCardFactory(name="Житель", building=building)
    building.street.name = "ул. Новая"
    building.street.save()
    assert found("новая") == ["Житель"]
    assert found("старая") == []
