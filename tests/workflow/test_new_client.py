"""The one-screen "new client" page (M1, C1, C2): a card with its tariff and a booked survey in
one POST; bad input saves nothing and says why on the fields."""

import datetime as dt

import pytest
from django.contrib.messages import get_messages
from django.utils.html import escape

from billing.models import Terms
from connections.models import ClientCard, StageLog, Survey, WorkflowSettings
from ispcrm import roles
from tests.factories import BuildingFactory, ClientCardFactory, TariffFactory

pytestmark = pytest.mark.django_db

URL = "/clients/start/"
TUESDAY = dt.date(2026, 11, 24)


@pytest.fixture
def on_network(building, branch):
    """A building where a neighbour is already connected."""
    ClientCardFactory(building=building, branch=branch, stage="active")
    return building


@pytest.fixture
def signed_in(client, manager):
    client.force_login(manager)
    return client


def person(building, tariff, /, **extra):
    return {"kind": "person", "name": "Соколов Пётр Ильич", "phone": "8 912 111-22-33",
            "building": building.pk, "premises": "17", "connection_type": "lan",
            "tariff": tariff.pk, "book": "on", **extra}


def field_errors(response) -> dict:
    return response.context["form"].errors


def test_a_card_with_tariff_and_booked_survey_in_one_post(signed_in, manager, tariff,
                                                          on_network, on_monday):
    response = signed_in.post(URL, person(on_network, tariff))

    card = ClientCard.objects.get(name="Соколов Пётр Ильич")
    assert response.status_code == 302 and response.url == f"/clients/{card.pk}/"
    assert card.stage == "expertise"
    assert (card.lead_manager, card.branch) == (manager, manager.branch)
    assert (card.phone, card.premises) == ("+79121112233", "17")
    assert Terms.objects.get(client=card).tariff == tariff
    survey = Survey.objects.get(card=card)
    assert (survey.date, survey.status, survey.urgent) == (TUESDAY, "scheduled", False)
    log = StageLog.objects.get(card=card)
    assert (log.transition, log.actor) == ("request_expertise", manager)
    [message] = [str(m) for m in get_messages(response.wsgi_request)]
    assert "24.11.2026" in message and "Вт" in message  # "Card opened, survey booked for Вт …"


def test_the_survey_goes_to_thursday_when_tuesday_is_full(signed_in, tariff, on_network,
                                                          on_monday, branch):
    WorkflowSettings.objects.create(branch=branch, survey_capacity=1)
    neighbour = ClientCardFactory(building=on_network, branch=branch, stage="expertise")
    Survey.objects.create(card=neighbour, branch=branch, date=TUESDAY, due_date=TUESDAY)

    signed_in.post(URL, person(on_network, tariff))

    assert Survey.objects.get(card__name="Соколов Пётр Ильич").date == dt.date(2026, 11, 26)


def test_an_urgent_survey_waits_for_the_technical_director(signed_in, tariff, on_network,
                                                           on_monday):
    response = signed_in.post(URL, person(on_network, tariff, book="", urgent="on"))

    survey = Survey.objects.get(card__name="Соколов Пётр Ильич")
    assert (survey.status, survey.date, survey.urgent) == ("awaiting_approval", None, True)
    assert survey.card.stage == "expertise"
    [message] = [str(m) for m in get_messages(response.wsgi_request)]
    assert "24.11.2026" not in message


def test_off_the_network_the_card_opens_without_a_survey(signed_in, tariff, building):
    response = signed_in.post(URL, person(building, tariff, book=""))

    card = ClientCard.objects.get()
    assert response.status_code == 302
    assert card.stage == "commercial" and not Survey.objects.exists()
    assert Terms.objects.get(client=card).tariff == tariff


@pytest.mark.parametrize(("change", "field", "words"), [
    ({"phone": "12345"}, "phone", ""),
    ({"kind": "company", "name": "ООО «Ромашка»", "inn": ""}, "inn", "ИНН"),
    ({"kind": "company", "name": "ООО «Ромашка»", "inn": "7701000002"}, "inn", ""),
    ({"connection_type": "radio"}, "tariff", ""),
    ({"tariff": ""}, "tariff", ""),
    ({"building": ""}, "building", ""),
])
def test_bad_input_shows_field_errors_and_saves_nothing(signed_in, tariff, on_network,
                                                        on_monday, change, field, words):
    tariff.connection_types = ["lan"]
    tariff.save()
    response = signed_in.post(URL, person(on_network, tariff, **change))

    assert response.status_code == 200
    assert field in field_errors(response), field_errors(response)
    assert words in " ".join(field_errors(response)[field])
    html = response.content.decode()
    assert "is-invalid" in html and "invalid-feedback" in html
    assert ClientCard.objects.count() == 1  # only the neighbour
    assert not Survey.objects.exists() and not Terms.objects.exists()


def test_a_tariff_for_companies_is_refused_for_a_person(signed_in, on_network, on_monday):
    business = TariffFactory(name="Бизнес 200", segment="company")
    response = signed_in.post(URL, person(on_network, business))

    assert "tariff" in field_errors(response)
    assert ClientCard.objects.count() == 1 and not Terms.objects.exists()


def test_when_the_survey_cannot_be_booked_nothing_is_saved(signed_in, tariff, on_network,
                                                          on_monday, branch):
    # Surveys only on Sundays, which are never working days: no day can take the survey.
    WorkflowSettings.objects.create(branch=branch, survey_weekdays="6")
    response = signed_in.post(URL, person(on_network, tariff))

    assert response.status_code == 200
    errors = response.context["form"].non_field_errors()
    assert errors and "90" in errors[0]  # "No survey day has room in the next 90 days…"
    assert escape(errors[0]) in response.content.decode()
    assert ClientCard.objects.count() == 1
    assert not Terms.objects.exists() and not Survey.objects.exists()


def test_only_a_manager_books_the_survey(client, make_user, tariff, on_network, on_monday):
    client.force_login(make_user(roles.HEAD_OF_SALES))
    response = client.post(URL, person(on_network, tariff))

    assert "book" in field_errors(response)
    assert ClientCard.objects.count() == 1


def test_the_visit_block_shows_the_survey_days_of_an_on_network_building(
        signed_in, on_network, on_monday, branch):
    WorkflowSettings.objects.create(branch=branch, survey_capacity=2)
    neighbour = ClientCardFactory(building=on_network, branch=branch, stage="expertise")
    Survey.objects.create(card=neighbour, branch=branch, date=TUESDAY, due_date=TUESDAY)

    html = signed_in.get(URL + "live/", {"part": "visit", "picked": "building",
                                         "building": on_network.pk}).content.decode()

    assert "Вт 24.11.2026" in html and "Чт 26.11.2026" in html
    assert "Вт 01.12.2026" in html
    assert 'name="book" value="on" id="id_book" checked' in html
    assert 'name="urgent"' in html


def test_the_visit_block_for_a_building_off_the_network(signed_in, building, on_monday):
    html = signed_in.get(URL + "live/", {"part": "visit", "picked": "building",
                                         "building": building.pk}).content.decode()
    assert 'name="book"' not in html and "24.11.2026" not in html


def test_the_tariff_list_follows_the_connection_type(signed_in, tariff, building):
    radio = TariffFactory(name="Загородный радио 50", connection_types=["radio"])
    tariff.connection_types = ["lan"]
    tariff.save()
    html = signed_in.get(URL + "live/", {"part": "tariff", "connection_type": "radio",
                                         "building": building.pk}).content.decode()
    assert radio.name in html and tariff.name not in html


def test_the_page_is_ready_for_the_keyboard(signed_in, building):
    BuildingFactory()
    html = signed_in.get(URL).content.decode()
    assert 'name="name"' in html and "autofocus" in html
    assert html.index('name="name"') < html.index('name="phone"') \
        < html.index('name="building_query"') < html.index('name="premises"') \
        < html.index('name="connection_type"') < html.index('name="tariff"')
    listing = signed_in.get("/clients/").content.decode()
    assert 'href="/clients/start/"' in listing
