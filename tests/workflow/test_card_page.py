"""The client card's "Connection standard" section: the stages in the standard's words, the
actions of the user's role (or why not), and a page that stays fast however long the
client's history is (M2, M4, CS-7)."""

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils.html import escape

from billing.models import Account
from billing.services.payments import payment_accept
from billing.services.terms import terms_set
from connections.models import ClientCard, StageLog, Survey
from connections.services import questions, workflow
from connections.services.clients import client_update
from tests.factories import ClientCardFactory

pytestmark = pytest.mark.django_db


# Driving a card along the standard, as the people of each role would -----------------------

def new_card(team, tariff, building, branch, **fields):
    card = ClientCardFactory(building=building, branch=branch, lead_manager=team["manager"],
                             **fields)
    terms_set(card=card, actor=team["manager"], tariff=tariff)
    return card


def fresh(card) -> ClientCard:
    # The stage is a protected FSM field: refresh_from_db() cannot set it.
    return ClientCard.objects.get(pk=card.pk)


def to_expertise(card, team) -> ClientCard:
    workflow.fire(card=card, name="request_expertise", actor=team["manager"])
    return fresh(card)


def to_contract(card, team) -> ClientCard:
    card = to_expertise(card, team)
    workflow.fire(card=card, name="record_expertise", actor=team["noc_head"], payload={
        "possible": True, "estimate": [{"item": "Коммутатор", "quantity": 1,
                                        "unit_price": "3500.00"}]})
    return fresh(card)


def to_installation(card, team) -> ClientCard:
    card = to_contract(card, team)
    workflow.fire(card=card, name="sign_contract", actor=team["manager"])
    return fresh(card)


def pay_fee(card, external_id="fee-1"):
    account = Account.objects.get(client=card)
    payment_accept(account=account, amount=Decimal("1000.00"), channel="bank",
                   external_id=external_id)
    return account


def card_url(card, **query):
    url = reverse("connections:client_detail", args=[card.pk])
    return url + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")


def page(client, user, card, **query) -> str:
    client.force_login(user)
    response = client.get(card_url(card, **query))
    assert response.status_code == 200
    return response.content.decode()


def action_url(card, name):
    return reverse("connections:card_transition", args=[card.pk, name])


# The query budget -------------------------------------------------------------------------

@pytest.fixture
def busy_card(team, tariff, building, branch, crew, on_monday):
    """A card at installation with the fee paid: every section of the page has work."""
    card = to_installation(new_card(team, tariff, building, branch), team)
    pay_fee(card)
    return fresh(card)


def queries_of_page(client, card) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(card_url(card))
    assert response.status_code == 200
    return len(queries)


def add_workflow_and_money_events(card, team, n=100):
    """Years of a client's life: re-plans in the stage log, questions, payments."""
    StageLog.objects.bulk_create(
        StageLog(card=card, transition="schedule_installation", source="installation",
                 target="installation", actor=team["crew_leader"], summary=f"План {i}")
        for i in range(n))
    account = Account.objects.get(client=card)
    for i in range(n):
        payment_accept(account=account, amount=Decimal("600.00"), channel="cash",
                       external_id=f"cash-{i}")
        questions.ask(card=card, actor=team["manager"], role="noc_head", question=f"Вопрос {i}")


def test_card_page_queries_do_not_grow_with_stage_log_and_ledger(client, team, busy_card):
    client.force_login(team["manager"])
    client.get(card_url(busy_card))  # warm the caches a first request fills
    short = queries_of_page(client, busy_card)

    add_workflow_and_money_events(busy_card, team)

    long = queries_of_page(client, busy_card)
    assert long == short, f"{short} queries with a short history, {long} with a long one"


def test_card_page_queries_do_not_grow_with_card_edits(client, team, busy_card):
    client.force_login(team["manager"])
    client.get(card_url(busy_card))
    short = queries_of_page(client, busy_card)

    add_workflow_and_money_events(busy_card, team, n=70)
    for i in range(60):
        client_update(card=busy_card, actor=team["manager"], notes=f"Звонок {i}")

    long = queries_of_page(client, busy_card)
    assert long == short, f"{short} queries with a short history, {long} with a long one"


def test_card_shows_newest_50_events_and_links_the_whole_history(client, team, busy_card):
    add_workflow_and_money_events(busy_card, team, n=40)

    html = page(client, team["manager"], busy_card)
    whole = page(client, team["manager"], busy_card, history="all")

    rows = "<tr data-event="
    assert html.count(rows) == 50
    assert 'href="?history=all' in html
    assert whole.count(rows) > 120 and 'href="?history=all' not in whole
    assert "Вопрос 0" in whole  # the oldest question: only in the whole history


# Saying why -------------------------------------------------------------------------------

def test_crew_leader_sees_why_he_cannot_plan_before_payment(client, team, tariff, building,
                                                           branch, crew, on_monday):
    card = to_installation(new_card(team, tariff, building, branch), team)
    reason = workflow.refusal(card, "schedule_installation")
    assert reason  # the connection fee is not paid

    html = page(client, team["crew_leader"], card)

    assert escape(reason[0].upper() + reason[1:]) in html
    assert str(workflow.ACTIONS["schedule_installation"]) in html
    assert action_url(card, "schedule_installation") not in html  # no form to post
    # The guaranteed installation term is shown on the current stage.
    assert card.installation.due_date.strftime("%d.%m.%Y") in html


def test_manager_sees_which_approval_the_contract_still_needs(client, team, tariff, building,
                                                             branch, on_monday):
    from connections.services import contracts

    card = to_contract(new_card(team, tariff, building, branch), team)
    contract = contracts.draft(card=card, actor=team["manager"], nonstandard=True)
    contracts.approve(contract=contract, actor=team["head_of_sales"])

    html = page(client, team["manager"], card)

    reason = workflow.refusal(card, "sign_contract")
    assert "коммерческий директор" in reason
    assert escape(reason[0].upper() + reason[1:]) in html
    assert "✓" in html and team["head_of_sales"].get_full_name() in html  # one approval given


# Acting from the page ---------------------------------------------------------------------

def test_manager_requests_the_survey_from_the_card_and_sees_the_day(client, team, tariff,
                                                                    building, branch,
                                                                    on_monday):
    card = new_card(team, tariff, building, branch)
    html = page(client, team["manager"], card)
    assert action_url(card, "request_expertise") in html

    response = client.post(action_url(card, "request_expertise"), {
        "access_roof": "on", "access_notes": "Ключ у консьержа"}, follow=True)

    html = response.content.decode()
    assert fresh(card).stage == "expertise"
    assert "24.11.2026" in html  # Tuesday, the next survey day: in the message and the stage
    survey = Survey.objects.get(card=card)
    assert survey.access_roof and survey.access_notes == "Ключ у консьержа"
    assert "Ключ у консьержа" in html
    assert 'data-stage="expertise" data-status="current"' in html
    assert 'data-stage="commercial" data-status="done"' in html


def test_crew_leader_neither_sees_nor_fires_a_managers_action(client, team, tariff, building,
                                                             branch, on_monday):
    card = new_card(team, tariff, building, branch)

    html = page(client, team["crew_leader"], card)
    assert action_url(card, "request_expertise") not in html
    assert str(workflow.ACTIONS["request_expertise"]) in html  # as the next step, with its role

    response = client.post(action_url(card, "request_expertise"), {}, follow=True)
    assert fresh(card).stage == "commercial"
    messages = [str(m) for m in response.context["messages"]]
    assert any("manager" in text for text in messages), messages


def test_an_overdue_survey_is_highlighted_for_the_controller(client, team, tariff, building,
                                                             branch, on_monday):
    card = to_expertise(new_card(team, tariff, building, branch), team)
    Survey.objects.filter(card=card).update(due_date=on_monday.replace(day=20))

    html = page(client, team["manager"], card)

    assert '<span class="deadline badge text-bg-danger">' in html
    assert "20.11.2026" in html
