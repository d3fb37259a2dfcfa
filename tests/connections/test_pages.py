"""Staff pages: work queue, search as you type, client list and card, building page."""

import pytest

from connections.models import ClientCard
from ispcrm import roles
from tests.factories import BuildingFactory, ClientCardFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def signed_in(client, manager):
    client.force_login(manager)
    return client


def test_manager_lands_on_his_clients_in_progress(signed_in, manager, make_user):
    mine = ClientCardFactory(lead_manager=manager, name="Мой Клиент")
    ClientCardFactory(name="Чужой Клиент", lead_manager=make_user(roles.MANAGER,
                                                                   username="colleague"))
    page = signed_in.get("/").content.decode()
    assert mine.name in page and "Чужой Клиент" not in page


def test_header_search_answers_by_name_phone_and_address(signed_in):
    card = ClientCardFactory(name="Смирнова Анна", phone="+79161234567",
                             building=BuildingFactory(street__name="ул. Гагарина", house="7"))
    ClientCardFactory(name="Другой Человек")
    for query in ("смирнова", "8 916 123", "Гагарина 7", "Анна Смирнова"):
        html = signed_in.get("/clients/search/", {"q": query}).content.decode()
        assert "Смирнова Анна" in html, query
        assert "Другой Человек" not in html
        assert f"/clients/{card.pk}/" in html


def test_search_says_when_nobody_matches(signed_in):
    html = signed_in.get("/clients/search/", {"q": "Несуществующий"}).content.decode()
    assert "Несуществующий" in html and "list-group-item" in html


def test_client_list_filters_by_stage_and_pages(signed_in):
    ClientCardFactory.create_batch(3)
    ClientCardFactory(stage="active", name="Активный Клиент")
    html = signed_in.get("/clients/", {"stage": "active"}).content.decode()
    assert "Активный Клиент" in html
    assert html.count("/clients/") >= 1
    assert "Клиентов Клиент" not in html


def test_card_shows_everything_on_one_page(signed_in, manager):
    card = ClientCardFactory(lead_manager=manager, phone="+79123456789", premises="12")
    card.contacts.create(name="Бухгалтер Ольга", role="бухгалтер", phone="+79160000000")
    html = signed_in.get(f"/clients/{card.pk}/").content.decode()
    for text in (card.name, "+7 912 345-67-89", card.building.street.name, "Бухгалтер Ольга",
                 str(manager)):
        assert text in html


def test_manager_opens_a_card_from_the_form(signed_in, manager):
    building = BuildingFactory(street__city=manager.branch.city)
    response = signed_in.post("/clients/new/", {
        "kind": "person", "name": "Петров Пётр", "phone": "+7 (912) 111-22-33",
        "building": building.pk, "premises": "5", "connection_type": "lan"})
    card = ClientCard.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/clients/{card.pk}/"
    assert card.phone == "+79121112233" and card.lead_manager == manager
    assert card.branch == manager.branch


def test_form_names_what_is_wrong_and_saves_nothing(signed_in):
    building = BuildingFactory()
    response = signed_in.post("/clients/new/", {
        "kind": "company", "name": "ООО Ромашка", "phone": "123", "building": building.pk,
        "connection_type": "lan", "inn": "1234567890"})
    html = response.content.decode()
    assert response.status_code == 200
    assert "is-invalid" in html
    assert not ClientCard.objects.exists()


def test_adding_a_contact_on_the_card(signed_in):
    card = ClientCardFactory()
    signed_in.post(f"/clients/{card.pk}/contacts/", {"name": "Сергей", "role": "ИТ",
                                                     "phone": "8 916 000 00 00", "email": ""})
    assert card.contacts.get().phone == "+79160000000"


def test_building_page_lists_its_clients_with_penetration(signed_in):
    building = BuildingFactory(households=10)
    ClientCardFactory(building=building, stage="active", name="Активный Житель")
    ClientCardFactory(building=building, name="Новый Житель")
    html = signed_in.get(f"/buildings/{building.pk}/").content.decode()
    assert "Активный Житель" in html and "Новый Житель" in html
    assert "10.0%" in html or "10,0%" in html


def test_building_page_orders_flats_by_number_and_escapes_names(signed_in):
    building = BuildingFactory()
    ClientCardFactory(building=building, premises="кв. 10", name="Десятая")
    ClientCardFactory(building=building, premises="кв. 2", name="<b>Вторая</b>",
                      phone="+79123456789")
    html = signed_in.get(f"/buildings/{building.pk}/").content.decode()
    assert html.index("&lt;b&gt;Вторая&lt;/b&gt;") < html.index("Десятая")
    assert "<b>Вторая" not in html
    assert 'href="tel:+79123456789">+7 912 345-67-89</a>' in html


def test_building_picker_offers_matching_buildings(signed_in):
    BuildingFactory(street__name="ул. Профсоюзная", house="3")
    html = signed_in.get("/buildings/pick/", {"building_query": "Профсоюзная"}).content.decode()
    assert "ул. Профсоюзная, 3" in html and "data-building-id" in html


def test_a_role_without_the_permission_gets_403_on_pages(client, make_user):
    client.force_login(make_user(roles.ACCOUNTANT))
    assert client.get("/clients/").status_code == 200
    assert client.get("/clients/new/").status_code == 403
