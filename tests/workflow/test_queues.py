"""The work queues of the connection standard: each role's page lists what it must do, the
buttons do it (or say why not), other roles are turned away, and each role lands on its
queue. Pages are read in English (the language switch), whatever the translations say."""

import datetime as dt
from decimal import Decimal

import pytest
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from connections import queues
from connections.models import (
    ClientCard,
    ColleagueQuestion,
    Contract,
    Crew,
    Installation,
    Stage,
    Survey,
)
from ispcrm import roles
from tests.factories import BranchFactory, CityFactory, ClientCardFactory, make_account

pytestmark = pytest.mark.django_db

TUESDAY, WEDNESDAY, THURSDAY = (dt.date(2026, 11, 24), dt.date(2026, 11, 25),
                                dt.date(2026, 11, 26))
PAGES = {
    "pipeline": "/work/pipeline/", "survey_log": "/work/surveys/",
    "network_agenda": "/work/network/", "crew_board": "/work/crews/",
    "equipment_list": "/work/equipment/", "activation_queue": "/work/activation/",
    "contract_queue": "/work/contracts/", "question_queue": "/work/questions/",
}


def at(day: dt.date, hour: int = 10) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time(hour)))


@pytest.fixture
def browse(client):
    """browse(user) → a test client signed in as the user, pages in English."""
    def sign_in(user):
        client.force_login(user)
        client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
        return client
    return sign_in


def html(response) -> str:
    assert response.status_code == 200, response.status_code
    return response.content.decode()


def follow(response) -> str:
    """The page a POST redirected to, with its message."""
    assert response.status_code == 302, response.status_code
    return html(response.client.get(response["Location"]))


@pytest.fixture
def card(branch, building, team):
    """A card of the branch led by the team's manager; stage and fields as the test needs."""
    def make(name, stage=Stage.COMMERCIAL, since=None, **fields):
        return ClientCardFactory(name=name, branch=branch, building=building, stage=stage,
                                 lead_manager=fields.pop("lead_manager", team["manager"]),
                                 stage_changed_at=since or at(dt.date(2026, 11, 23), 9),
                                 **fields)
    return make


def survey(card, **fields):
    fields.setdefault("status", Survey.Status.SCHEDULED)
    fields.setdefault("due_date", dt.date(2026, 11, 30))
    return Survey.objects.create(card=card, branch=card.branch, **fields)


def signed_contract(card, **fields):
    fields.setdefault("signed_at", at(dt.date(2026, 11, 20)))
    return Contract.objects.create(card=card, branch=card.branch, number=f"T-{card.pk}",
                                   connection_fee=Decimal("1000.00"), **fields)


# Pipeline ------------------------------------------------------------------------------------

def test_pipeline_shows_the_branch_by_stage_with_counts_ages_and_overdue(
        browse, team, card, on_monday):
    card("Комаров Сергей", since=at(dt.date(2026, 11, 16)))  # a week ago: 5 working days
    late = card("Опоздалов Иван", Stage.EXPERTISE)
    survey(late, date=dt.date(2026, 11, 19), due_date=dt.date(2026, 11, 20))
    on_time = card("Вовремя Анна", Stage.EXPERTISE)
    survey(on_time, date=TUESDAY, due_date=dt.date(2026, 11, 27))
    installing = card("Монтажов Пётр", Stage.INSTALLATION)
    Installation.objects.create(card=installing, due_date=dt.date(2026, 11, 24))
    elsewhere = BranchFactory(city=CityFactory(name="Тверь"))
    ClientCardFactory(name="Чужой Филиал", branch=elsewhere)
    ClientCardFactory(name="Уже Подключён", branch=team["manager"].branch, stage=Stage.ACTIVE)

    page = html(browse(team["head_of_sales"]).get(PAGES["pipeline"]))

    for name in ("Комаров Сергей", "Опоздалов Иван", "Вовремя Анна", "Монтажов Пётр"):
        assert name in page
    assert "Чужой Филиал" not in page and "Уже Подключён" not in page
    assert "4 clients in progress" in page
    assert "5 w.d." in page
    assert "Overdue: due 20.11.2026" in page
    assert "survey 24.11" in page and "installation 25.11" not in page
    assert "Due 24.11.2026" in page  # the installation's last working day: amber
    assert "Due 27.11.2026" in page


def test_pipeline_filters_by_manager_connection_type_and_overdue(browse, team, make_user, card,
                                                                  on_monday):
    other = make_user(roles.MANAGER, username="other_manager", last_name="Другов")
    card("Клиент Первого")
    card("Клиент Второго", lead_manager=other, connection_type="radio")
    late = card("Просроченный Клиент", Stage.EXPERTISE)
    survey(late, due_date=dt.date(2026, 11, 20))
    client = browse(team["head_of_sales"])

    page = html(client.get(PAGES["pipeline"], {"manager": other.pk}))
    assert "Клиент Второго" in page and "Клиент Первого" not in page
    page = html(client.get(PAGES["pipeline"], {"connection_type": "radio"}))
    assert "Клиент Второго" in page and "Просроченный Клиент" not in page
    page = html(client.get(PAGES["pipeline"], {"overdue": "1"}))
    assert "Просроченный Клиент" in page and "Клиент Первого" not in page
    assert "1 client in progress" in page


def test_a_full_column_links_to_the_rest_in_the_client_list(browse, team, card, branch,
                                                            monkeypatch, on_monday):
    monkeypatch.setattr(queues, "PER_COLUMN", 2)
    for n in range(5):
        card(f"Ожидающий {n}", since=at(dt.date(2026, 11, 2 + n)))
    page = html(browse(team["head_of_sales"]).get(PAGES["pipeline"]))
    assert "Ожидающий 0" in page and "Ожидающий 1" in page  # longest waiting first
    assert "Ожидающий 4" not in page
    assert "3 more" in page
    assert f"/clients/?stage=commercial&amp;branch={branch.pk}" in page


def _pipeline_queries(client) -> int:
    with CaptureQueriesContext(connection) as queries:
        html(client.get(PAGES["pipeline"]))
    return len(queries)


def test_pipeline_query_count_does_not_grow_with_the_cards(browse, team, card, crew,
                                                            on_monday):
    def add(n):
        for i in range(n):
            expertise = card(f"Эксп {n}-{i}", Stage.EXPERTISE)
            survey(expertise)
            installing = card(f"Монт {n}-{i}", Stage.INSTALLATION)
            Installation.objects.create(card=installing, due_date=TUESDAY, crew=crew,
                                        date=WEDNESDAY, slot=dt.time(9 + 3 * (i % 3)))
            card(f"Комм {n}-{i}", since=at(dt.date(2025, 1, 1) + dt.timedelta(days=i)))
            card(f"Акт {n}-{i}", Stage.ACTIVATION)

    client = browse(team["head_of_sales"])
    _pipeline_queries(client)  # the role permissions are cached from now on
    Installation.objects.all().delete()
    add(1)
    few = _pipeline_queries(client)
    Installation.objects.filter(date=WEDNESDAY).update(date=None, crew=None, slot=None)
    add(3)
    Installation.objects.filter(date=WEDNESDAY).update(date=None, crew=None, slot=None)
    add(3)
    many = _pipeline_queries(client)
    assert ClientCard.objects.filter(stage__in=queues.OPEN_STAGES).count() == 28
    assert many == few, (few, many)
    assert many <= 15


# Technical department work log ---------------------------------------------------------------

def test_survey_log_lists_urgent_requests_days_overdue_and_results(browse, team, card,
                                                                  on_monday):
    urgent = card("Срочный Заказчик", Stage.EXPERTISE)
    survey(urgent, status=Survey.Status.AWAITING_APPROVAL, urgent=True, access_roof=True,
           access_notes="Ключ у консьержа")
    regular = card("Плановый Абонент", Stage.EXPERTISE)
    survey(regular, date=TUESDAY)
    missed = card("Забытый Клиент", Stage.EXPERTISE)
    survey(missed, date=dt.date(2026, 11, 19), due_date=dt.date(2026, 11, 20))
    done = card("Проверенный Клиент", Stage.CONTRACT)
    finished = survey(done, status=Survey.Status.DONE, possible=True, date=dt.date(2026, 11, 19),
                      notes="Кабель по стояку", recorded_at=at(dt.date(2026, 11, 19)))
    finished.estimate.create(item="Коммутатор", quantity=1, unit_price=Decimal("3500.00"))

    page = html(browse(team["technical_director"]).get(PAGES["survey_log"]))

    assert "Срочный Заказчик" in page and "Ключ у консьержа" in page
    assert "Approve" in page and "Decline" in page
    assert "Tuesday, 24.11.2026" in page and "Thursday, 26.11.2026" in page
    assert "5 places free" in page and "6 places free" in page
    assert "Плановый Абонент" in page
    assert "Забытый Клиент" in page and "Result not recorded" in page
    assert "Проверенный Клиент" in page and "Кабель по стояку" in page
    assert "3\xa0500,00\xa0₽" in page
    noc_page = html(browse(team["noc_head"]).get(PAGES["survey_log"]))
    assert "Срочный Заказчик" in noc_page and "Decline" not in noc_page


def test_technical_director_approves_an_urgent_survey_on_a_chosen_day(browse, team, card,
                                                                     on_monday):
    urgent = card("Срочный Заказчик", Stage.EXPERTISE)
    request = survey(urgent, status=Survey.Status.AWAITING_APPROVAL, urgent=True)
    client = browse(team["technical_director"])

    page = follow(client.post(f"/work/surveys/{request.pk}/decide/",
                              {"decision": "approve", "date": "2026-11-25"}))

    request.refresh_from_db()
    assert (request.status, request.date) == (Survey.Status.SCHEDULED, WEDNESDAY)
    assert "approved for 25.11.2026" in page
    assert "Wednesday, 25.11.2026" in page  # an urgent day appears among the survey days


def test_a_declined_urgent_survey_goes_to_the_next_survey_day(browse, team, card, on_monday):
    request = survey(card("Срочный Заказчик", Stage.EXPERTISE),
                     status=Survey.Status.AWAITING_APPROVAL, urgent=True)
    page = follow(browse(team["technical_director"]).post(
        f"/work/surveys/{request.pk}/decide/", {"decision": "decline"}))
    request.refresh_from_db()
    assert request.date == TUESDAY and not request.urgent
    assert "declined" in page


def test_approving_on_a_day_off_is_refused_with_the_reason(browse, team, card, on_monday):
    request = survey(card("Срочный Заказчик", Stage.EXPERTISE),
                     status=Survey.Status.AWAITING_APPROVAL, urgent=True)
    page = follow(browse(team["technical_director"]).post(
        f"/work/surveys/{request.pk}/decide/", {"decision": "approve", "date": "2026-11-28"}))
    assert "Choose a working day from today on." in page
    request.refresh_from_db()
    assert request.status == Survey.Status.AWAITING_APPROVAL


def test_only_the_technical_director_decides_urgent_surveys(browse, team, card, on_monday):
    request = survey(card("Срочный Заказчик", Stage.EXPERTISE),
                     status=Survey.Status.AWAITING_APPROVAL, urgent=True)
    response = browse(team["noc_head"]).post(f"/work/surveys/{request.pk}/decide/",
                                              {"decision": "approve", "date": "2026-11-25"})
    assert response.status_code == 403


# Technical department meeting agenda ----------------------------------------------------------

def test_agenda_lists_cases_without_possibility_and_sends_them_to_survey_again(
        browse, team, card, on_monday):
    waiting = card("Далёкий Посёлок", Stage.NETWORK_DEVELOPMENT,
                   since=at(dt.date(2026, 11, 9)))
    survey(waiting, status=Survey.Status.DONE, possible=False, notes="Нет свободных портов",
           access_roof=True, recorded_at=at(dt.date(2026, 11, 6)))
    client = browse(team["noc_head"])

    page = html(client.get(PAGES["network_agenda"]))
    assert "Далёкий Посёлок" in page and "Нет свободных портов" in page
    assert "10 w.d." in page and "since 09.11.2026" in page

    page = follow(client.post(f"/work/network/{waiting.pk}/survey-again/"))
    waiting.refresh_from_db()
    assert waiting.stage == Stage.EXPERTISE
    booked = waiting.surveys.get(status=Survey.Status.SCHEDULED)
    assert booked.date == TUESDAY and booked.access_roof  # the access arranged before holds
    assert "goes to the technical survey again" in page
    assert "Nobody waits for the network." in page


# Crew planning board -------------------------------------------------------------------------

def test_crew_board_shows_crews_load_and_the_installations_waiting(browse, team, card, crew,
                                                                    on_monday):
    Crew.objects.create(branch=crew.branch, name="Бригада 2")
    planned = card("Запланированный Клиент", Stage.INSTALLATION)
    signed_contract(planned)
    Installation.objects.create(card=planned, crew=crew, date=WEDNESDAY, slot=dt.time(12),
                                due_date=THURSDAY, priority=Installation.Priority.HIGH)
    paid = card("Оплативший Клиент", Stage.INSTALLATION, fee_paid_at=at(dt.date(2026, 11, 20)))
    signed_contract(paid)
    Installation.objects.create(card=paid, due_date=dt.date(2026, 11, 20))
    unpaid = card("Должник Неоплативший", Stage.INSTALLATION)
    signed_contract(unpaid)
    Installation.objects.create(card=unpaid, due_date=THURSDAY)
    allowed = card("Разрешённый Досрочно", Stage.INSTALLATION)
    signed_contract(allowed)
    Installation.objects.create(card=allowed, due_date=THURSDAY,
                                override_by=team["technical_director"],
                                override_reason="Больница", priority=2)

    page = html(browse(team["crew_leader"]).get(PAGES["crew_board"]))

    assert "Бригада 1" in page and "Бригада 2" in page
    assert "Запланированный Клиент" in page and "12:00" in page
    assert "1 of 30 slots" in page and "0 of 30 slots" in page
    assert "Mon<br>23.11" in page and "Fri<br>04.12" in page  # ten working days
    # The queue: urgent first, then by guaranteed date.
    assert page.index("Разрешённый Досрочно") < page.index("Оплативший Клиент") \
        < page.index("Должник Неоплативший")
    assert "before payment" in page and "Больница" in page
    assert "Connection fee not paid" in page
    assert "Earliest free: 24.11.2026 09:00" in page
    assert "Plan here" in page
    assert "Overdue: due 20.11.2026" in page


def test_plan_here_fires_the_transition_and_a_refusal_names_the_reason(browse, team, card, crew,
                                                                       on_monday):
    paid = card("Оплативший Клиент", Stage.INSTALLATION, fee_paid_at=at(dt.date(2026, 11, 20)))
    signed_contract(paid)
    Installation.objects.create(card=paid, due_date=THURSDAY)
    unpaid = card("Должник Неоплативший", Stage.INSTALLATION)
    signed_contract(unpaid)
    Installation.objects.create(card=unpaid, due_date=THURSDAY)
    client = browse(team["crew_leader"])
    slot = {"date": "2026-11-25", "crew": crew.pk, "time": "15:00"}

    page = follow(client.post(f"/work/crews/plan/{paid.pk}/", slot))
    installation = Installation.objects.get(card=paid)
    assert (installation.date, installation.slot, installation.crew) == (
        WEDNESDAY, dt.time(15), crew)
    assert "Installation of Оплативший Клиент planned" in page
    assert "1/3" in page

    page = follow(client.post(f"/work/crews/plan/{unpaid.pk}/", slot | {"time": "09:00"}))
    assert "connection fee not paid" in page
    assert not Installation.objects.get(card=unpaid).scheduled

    assert browse(team["manager"]).post(f"/work/crews/plan/{paid.pk}/", slot).status_code == 403


# Chief engineer's equipment list -------------------------------------------------------------

def test_chief_engineer_marks_special_equipment_ordered(browse, team, card, on_monday):
    radio = card("Радиомост Заказчик", Stage.INSTALLATION)
    item = Installation.objects.create(card=radio, due_date=THURSDAY,
                                       special_equipment="Антенна Ubiquiti 5 ГГц")
    Installation.objects.create(card=card("Обычный Клиент", Stage.INSTALLATION))
    client = browse(team["chief_engineer"])

    page = html(client.get(PAGES["equipment_list"]))
    assert "Радиомост Заказчик" in page and "Антенна Ubiquiti 5 ГГц" in page
    assert "Обычный Клиент" not in page

    page = follow(client.post(f"/work/equipment/{item.pk}/ordered/"))
    item.refresh_from_db()
    assert item.equipment_ordered_at is not None
    assert "Nothing to order." in page and "Ordered recently" in page
    assert browse(team["manager"]).get(PAGES["equipment_list"]).status_code == 403


# Activation queue ----------------------------------------------------------------------------

def test_activation_queue_checks_the_three_conditions_and_activates(browse, team, card, tariff,
                                                                    on_monday):
    ready = card("Готовый Абонент", Stage.ACTIVATION, fee_paid_at=at(dt.date(2026, 11, 20)))
    signed_contract(ready)
    Installation.objects.create(card=ready, ip_address="10.20.30.40",
                                completed_at=at(dt.date(2026, 11, 23), 9))
    make_account(client=ready, tariff=tariff, status="pending", activated_on=on_monday)
    no_act = card("Без Акта", Stage.ACTIVATION, fee_paid_at=at(dt.date(2026, 11, 20)))
    signed_contract(no_act)
    Installation.objects.create(card=no_act)
    client = browse(team["subscriber_dept"])

    page = html(client.get(PAGES["activation_queue"]))
    assert "Готовый Абонент" in page and "10.20.30.40" in page and f"T-{ready.pk}" in page
    assert "Без Акта" in page
    assert "No act of completed works with the client&#x27;s IP address" in page
    assert page.count(">Activate</button>") == 1

    page = follow(client.post(f"/work/activation/{ready.pk}/activate/"))
    ready.refresh_from_db()
    assert ready.stage == Stage.ACTIVE
    assert "Готовый Абонент is activated" in page

    page = follow(client.post(f"/work/activation/{no_act.pk}/activate/"))
    assert "no act of completed works" in page
    no_act.refresh_from_db()
    assert no_act.stage == Stage.ACTIVATION


# Contract approvals and disputes --------------------------------------------------------------

def test_both_commercial_heads_approve_non_standard_terms_from_their_queue(browse, team, card,
                                                                           on_monday):
    special = card("Особые Условия", Stage.CONTRACT)
    contract = signed_contract(special, signed_at=None, nonstandard=True,
                               tariff_name="Бизнес 200")
    card("Обычные Условия", Stage.CONTRACT)
    sales = browse(team["head_of_sales"])

    page = html(sales.get(PAGES["contract_queue"]))
    assert "Особые Условия" in page and "Бизнес 200" in page and "1\xa0000,00\xa0₽" in page
    assert "Обычные Условия" not in page

    page = follow(sales.post(f"/work/contracts/{contract.pk}/approve/"))
    assert f"Contract {contract.number} approved." in page
    assert "No contracts wait for your approval." in page
    contract.refresh_from_db()
    assert contract.sales_approved_by == team["head_of_sales"] and not contract.approved

    page = html(browse(team["commercial_director"]).get(PAGES["contract_queue"]))
    assert "Особые Условия" in page and str(team["head_of_sales"]) in page
    assert browse(team["manager"]).get(PAGES["contract_queue"]).status_code == 403


def test_lawyer_resolves_a_disputed_clause(browse, team, card, on_monday):
    disputed = card("Спорщик Иван", Stage.CONTRACT)
    contract = signed_contract(disputed, signed_at=None, disputed=True,
                               dispute="П. 5.2 о штрафах")
    client = browse(team["lawyer"])

    page = html(client.get(PAGES["contract_queue"]))
    assert "Спорщик Иван" in page and "П. 5.2 о штрафах" in page

    page = follow(client.post(f"/work/contracts/{contract.pk}/resolve/", {"resolution": ""}))
    assert "Write the resolution." in page
    page = follow(client.post(f"/work/contracts/{contract.pk}/resolve/",
                              {"resolution": "Штраф снижен до 1%"}))
    contract.refresh_from_db()
    assert contract.lawyer_resolution == "Штраф снижен до 1%" and contract.resolved_at
    assert "No disputed clauses." in page


# Questions from colleagues -------------------------------------------------------------------

def test_questions_reach_their_role_and_are_answered_there(browse, team, card, on_monday):
    client_card = card("Любопытный Клиент")
    mine = ColleagueQuestion.objects.create(card=client_card, role=roles.CHIEF_ENGINEER,
                                            question="Хватит ли мачты 6 м?",
                                            asked_by=team["manager"])
    ColleagueQuestion.objects.create(card=client_card, role=roles.NOC_HEAD,
                                     question="Есть ли порт на узле?", asked_by=team["manager"])
    client = browse(team["chief_engineer"])

    landing = html(client.get("/"))
    assert "Equipment to order" in landing
    assert "1 question from a colleague waits for your answer." in landing
    page = html(client.get(PAGES["question_queue"]))
    assert "Хватит ли мачты 6 м?" in page and "Есть ли порт на узле?" not in page

    page = follow(client.post(f"/work/questions/{mine.pk}/answer/", {"answer": "Хватит"}))
    mine.refresh_from_db()
    assert mine.answer == "Хватит" and mine.answered_by == team["chief_engineer"]
    assert "No questions wait for your answer." in page

    other = ColleagueQuestion.objects.get(role=roles.NOC_HEAD)
    page = follow(client.post(f"/work/questions/{other.pk}/answer/", {"answer": "Да"}))
    assert "The question is for NOC head." in page
    assert browse(team["manager"]).get(PAGES["question_queue"]).status_code == 403


# Who sees what -------------------------------------------------------------------------------

@pytest.mark.parametrize(("page", "role"), [
    ("pipeline", roles.CREW_LEADER), ("pipeline", roles.LAWYER),
    ("survey_log", roles.MANAGER), ("survey_log", roles.CREW_LEADER),
    ("network_agenda", roles.SUBSCRIBER_DEPT), ("crew_board", roles.MANAGER),
    ("equipment_list", roles.SUBSCRIBER_DEPT), ("activation_queue", roles.CREW_LEADER),
    ("contract_queue", roles.NOC_HEAD), ("question_queue", roles.LAWYER),
])
def test_other_roles_are_turned_away(browse, make_user, page, role):
    assert browse(make_user(role)).get(PAGES[page]).status_code == 403


def test_pages_need_sign_in(client):
    for url in PAGES.values():
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


@pytest.mark.parametrize(("role", "heading"), [
    (roles.NOC_HEAD, "Technical department work log"),
    (roles.TECHNICAL_DIRECTOR, "Technical department work log"),
    (roles.CREW_LEADER, "Crew planning board"),
    (roles.CHIEF_ENGINEER, "Equipment to order"),
    (roles.SUBSCRIBER_DEPT, "Activation queue"),
    (roles.LAWYER, "Contract approvals and disputes"),
    (roles.HEAD_OF_SALES, "Pipeline"),
    (roles.COMMERCIAL_DIRECTOR, "Pipeline"),
    (roles.DIRECTOR, "Director's dashboard"),
])
def test_each_role_lands_on_its_queue(browse, make_user, role, heading, on_monday):
    page = html(browse(make_user(role)).get("/"))
    assert f'<h1 class="h4 mb-0">{heading}' in page


def test_manager_lands_on_his_clients_and_sees_his_overdue_stages(browse, team, card,
                                                                  make_user, on_monday):
    late = card("Просроченный Мой", Stage.EXPERTISE)
    survey(late, due_date=dt.date(2026, 11, 20))
    card("Мой Без Спешки")
    other = make_user(roles.MANAGER, username="other_manager")
    survey(card("Чужой Просроченный", Stage.EXPERTISE, lead_manager=other),
           due_date=dt.date(2026, 11, 20))

    page = html(browse(team["manager"]).get("/"))

    assert "My clients in progress" in page and "Мой Без Спешки" in page
    assert "Overdue stages" in page and "Overdue: due 20.11.2026" in page
    assert "Просроченный Мой" in page and "Чужой Просроченный" not in page


def test_manager_sees_new_requests_nobody_leads(browse, team, card, on_monday):
    """A lead from the referral page or the API has no manager yet: every manager of the
    branch sees it on his landing page until one takes it."""
    card("Новый Без Менеджера", lead_manager=None)
    card("Уже Взятый")

    page = html(browse(team["manager"]).get("/"))

    assert "New requests without a manager" in page
    assert "Новый Без Менеджера" in page


def test_work_menu_shows_the_queues_of_the_role(browse, make_user):
    page = html(browse(make_user(roles.CREW_LEADER)).get("/"))
    assert 'href="/work/crews/"' in page and 'href="/work/equipment/"' in page
    assert 'href="/work/pipeline/"' not in page and 'href="/work/activation/"' not in page
    page = html(browse(make_user(roles.ACCOUNTANT)).get("/"))
    assert 'id="nav-work"' not in page


def _queries(client, url) -> int:
    with CaptureQueriesContext(connection) as queries:
        html(client.get(url))
    return len(queries)


def test_queue_pages_run_a_fixed_number_of_queries(browse, team, card, crew, on_monday):
    def add(n):
        for i in range(n):
            waiting = card(f"Ждёт Монтажа {n}-{i}", Stage.INSTALLATION,
                           fee_paid_at=at(dt.date(2026, 11, 20)) if i % 2 else None)
            signed_contract(waiting)
            Installation.objects.create(card=waiting, due_date=THURSDAY,
                                        special_equipment="Антенна" if i % 2 else "")
            ready = card(f"Ждёт Активации {n}-{i}", Stage.ACTIVATION)
            signed_contract(ready)
            Installation.objects.create(card=ready, ip_address="10.0.0.1",
                                        completed_at=at(dt.date(2026, 11, 20)))
            survey(card(f"Ждёт Выезда {n}-{i}", Stage.EXPERTISE), date=TUESDAY)
            survey(card(f"Ждёт Сети {n}-{i}", Stage.NETWORK_DEVELOPMENT),
                   status=Survey.Status.DONE, possible=False, recorded_at=at(THURSDAY))

    users = {"crew_board": "crew_leader", "activation_queue": "subscriber_dept",
             "survey_log": "noc_head", "network_agenda": "noc_head",
             "equipment_list": "chief_engineer"}
    add(2)  # one of each kind: paid and unpaid, with and without special equipment
    few = {name: _queries(browse(team[role]), PAGES[name]) for name, role in users.items()}
    add(4)
    many = {name: _queries(browse(team[role]), PAGES[name]) for name, role in users.items()}
    assert many == few, (few, many)
