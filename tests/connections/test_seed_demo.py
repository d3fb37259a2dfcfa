"""manage.py seed_demo: the demo data a fresh install and the screenshots rely on."""

import datetime
import re
from collections import Counter
from io import StringIO

import pytest
from django.contrib.auth import authenticate
from django.core.management import call_command
from django.test import RequestFactory
from django.utils import timezone

from billing.models import Account, Terms
from connections import demo
from connections.models import (
    Building,
    ClientCard,
    ClientContact,
    ColleagueQuestion,
    ConnectionType,
    Contract,
    ContractCounter,
    Crew,
    Installation,
    Stage,
    StageLog,
    Survey,
    WorkflowSettings,
)
from connections.services import contracts, surveys, workflow
from ispcrm import roles
from ispcrm.models import Branch, City, User
from ispcrm.validators import normalize_phone, validate_inn, validate_kpp

N = 200


def seed(clients: int = N, seed: int = 1) -> str:
    out = StringIO()
    call_command("seed_demo", clients=clients, seed=seed, stdout=out)
    return out.getvalue()


def client_fingerprint() -> list[tuple]:
    return list(ClientCard.objects.order_by("pk").values_list(
        "name", "phone", "inn", "stage", "connection_type", "premises"))


@pytest.fixture
def seeded(db) -> str:
    return seed()


def test_two_cities_with_a_branch_each(seeded):
    assert set(City.objects.values_list("name", flat=True)) == {"Москва", "Екатеринбург"}
    zones = dict(Branch.objects.values_list("name", "time_zone"))
    assert zones == {"Москва — Центральный": "Europe/Moscow",
                     "Екатеринбург": "Asia/Yekaterinburg"}
    for branch in Branch.objects.all():
        assert Building.objects.filter(street__city=branch.city).exists()
        assert ClientCard.objects.filter(branch=branch).exists()


def test_a_working_login_per_role_in_its_group(seeded):
    request = RequestFactory().post("/accounts/login/")  # django-axes wants the request
    for role in roles.ALL_ROLES:
        user = authenticate(request, username=role, password="demo12345")
        assert user is not None, role
        assert user.role_names == {role}
        assert user.branch.name == "Москва — Центральный"
        assert user.get_full_name()
        assert role in seeded  # the logins table
    admin = authenticate(request, username="admin", password="demo12345")
    assert admin.is_superuser and admin.is_staff
    assert User.objects.get(username="manager_ekb").branch.name == "Екатеринбург"


def test_cards_cover_the_funnel_and_every_connection_type(seeded):
    cards = ClientCard.objects.all()
    assert cards.count() == N
    assert set(cards.values_list("stage", flat=True)) == set(Stage.values)
    assert set(cards.values_list("connection_type", flat=True)) == set(ConnectionType.values)
    assert cards.filter(stage=Stage.ACTIVE).count() > N / 2
    assert cards.filter(connection_type=ConnectionType.LAN).count() > N / 2
    assert 0.15 * N <= cards.filter(kind=ClientCard.Kind.COMPANY).count() <= 0.25 * N
    assert 0.05 * N <= cards.filter(referrer__isnull=False).count() <= 0.15 * N


def test_requisites_and_phones_are_valid(seeded):
    phones = list(ClientCard.objects.values_list("phone", flat=True))
    phones += [p for p in ClientContact.objects.values_list("phone", flat=True) if p]
    assert len(set(phones)) == len(phones)
    for phone in phones:
        assert re.fullmatch(r"\+79\d{9}", phone) and normalize_phone(phone) == phone
    companies = ClientCard.objects.filter(kind=ClientCard.Kind.COMPANY)
    for card in companies:
        assert len(card.inn) == 10
        validate_inn(card.inn)
        validate_kpp(card.kpp)
        assert 1 <= card.contacts.count() <= 2
    persons = ClientCard.objects.filter(kind=ClientCard.Kind.PERSON)
    assert not persons.exclude(inn="").exists()
    assert all(p.startswith("кв. ") for p in persons.values_list("premises", flat=True))
    assert len(persons.first().name.split()) == 3  # surname, name, patronymic


def test_cards_are_led_by_their_branchs_managers_and_spread_over_three_years(seeded):
    now = timezone.now()
    for card in ClientCard.objects.select_related("lead_manager", "referrer", "building__street"):
        assert card.lead_manager.has_role(roles.MANAGER)
        assert card.lead_manager.branch_id == card.branch_id
        assert card.building.street.city_id == card.branch.city_id
        assert card.created_at <= card.updated_at <= now
        if card.referrer:
            assert card.referrer.created_at < card.created_at
    oldest = ClientCard.objects.order_by("created_at").first().created_at
    assert (now - oldest).days > 2 * 365


def test_the_same_seed_gives_the_same_clients(db, monkeypatch):
    # Only this app's sections: the billing section's ledger cannot be deleted (append-only).
    monkeypatch.setattr(demo, "extra_sections", [])
    seed()
    first = client_fingerprint()
    ClientCard.objects.all().delete()
    seed()
    assert client_fingerprint() == first
    ClientCard.objects.all().delete()
    seed(seed=2)
    assert client_fingerprint() != first


def test_running_twice_adds_nothing(seeded):
    kept = (City, Branch, User, Building, ClientCard, ClientContact, WorkflowSettings, Crew,
            Survey, Contract, ContractCounter, Installation, StageLog, Terms)
    counts = [m.objects.count() for m in kept]
    output = seed()
    assert [m.objects.count() for m in kept] == counts
    assert "none added" in output


# --- The connection standard behind the stages -------------------------------------------

PAST_EXPERTISE = (Stage.CONTRACT, Stage.INSTALLATION, Stage.ACTIVATION, Stage.ACTIVE,
                  Stage.TERMINATED)
SIGNED = (Stage.INSTALLATION, Stage.ACTIVATION, Stage.ACTIVE, Stage.TERMINATED)


def test_each_branch_has_its_settings_series_and_crews(seeded):
    for branch in Branch.objects.all():
        settings = WorkflowSettings.objects.get(branch=branch)
        assert settings.weekdays == [1, 3] and settings.survey_capacity >= 6
        assert 2 <= Crew.objects.filter(branch=branch, active=True).count() <= 3
    assert set(WorkflowSettings.objects.values_list("contract_series", flat=True)) == {
        "MSK", "EKB"}


def test_every_card_past_expertise_has_a_positive_survey_with_an_estimate(seeded):
    for card in ClientCard.objects.filter(stage__in=PAST_EXPERTISE):
        survey = card.surveys.get(status=Survey.Status.DONE)
        assert survey.possible is True and survey.recorded_by.has_role(roles.NOC_HEAD)
        assert survey.estimate.exists() and survey.estimate_total > 0
        assert survey.date <= timezone.localtime(survey.recorded_at).date()
    for card in ClientCard.objects.filter(stage=Stage.NETWORK_DEVELOPMENT):
        survey = card.surveys.get(status=Survey.Status.DONE)
        assert survey.possible is False and survey.notes
    waiting = Survey.objects.filter(card__stage=Stage.EXPERTISE)
    assert waiting.count() == ClientCard.objects.filter(stage=Stage.EXPERTISE).count()
    # The technical department's work log has something to do and something late.
    assert waiting.filter(status=Survey.Status.AWAITING_APPROVAL, urgent=True).exists()
    assert any(survey.is_overdue() for survey in waiting)
    assert waiting.filter(status=Survey.Status.SCHEDULED,
                          date__gte=timezone.localdate()).exists()
    for branch in Branch.objects.all():
        capacity = WorkflowSettings.for_branch(branch).survey_capacity
        taken = Counter(Survey.objects.filter(branch=branch, status__in=[
            Survey.Status.SCHEDULED, Survey.Status.DONE]).values_list("date", flat=True))
        assert max(taken.values()) <= capacity
        assert surveys.next_survey_day(branch, timezone.localdate())  # a free place ahead


def test_contracts_numbered_per_branch_and_signed_before_installation(seeded):
    for card in ClientCard.objects.filter(stage__in=SIGNED).select_related("contract"):
        contract = card.contract
        series = WorkflowSettings.for_branch(card.branch).series
        year = timezone.localtime(contract.drafted_at).year
        assert contract.number.startswith(f"{series}-{year}-")
        assert contract.signed_at and contract.signed_by == card.lead_manager
        assert not contract.nonstandard or contract.approved
        assert contract.tariff_name == card.terms.tariff.name
        assert contract.connection_fee == card.terms.tariff.connection_fee
        assert card.installation.due_date
    # The next contract continues each series without a clash.
    for branch in Branch.objects.all():
        number = contracts.next_number(branch, timezone.localdate().year)
        assert not Contract.objects.filter(number=number).exists()
    drafts = Contract.objects.filter(card__stage=Stage.CONTRACT)
    assert drafts.exists() and not drafts.filter(signed_at__isnull=False).exists()
    assert drafts.filter(disputed=True, resolved_at__isnull=True).count() == 1
    assert drafts.filter(nonstandard=True, director_approved_at__isnull=True).exists()
    disputed = drafts.get(disputed=True).card
    assert "юрист" in workflow.refusal(disputed, "sign_contract")


def test_installations_planned_on_free_slots_and_completed_with_ip(seeded):
    today = timezone.localdate()
    waiting = Installation.objects.filter(card__stage=Stage.INSTALLATION)
    planned = waiting.filter(date__isnull=False)
    assert planned.exists() and waiting.filter(date__isnull=True).exists()
    for installation in planned.select_related("card", "crew"):
        assert installation.date > today and installation.crew.branch == installation.card.branch
        assert installation.card.fee_paid_at or installation.override_by.has_role(
            roles.TECHNICAL_DIRECTOR)
    unpaid = ClientCard.objects.filter(stage=Stage.INSTALLATION, fee_paid_at__isnull=True)
    for card in unpaid:
        assert card.account.balance < 0  # the connection fee is still owed
    for card in ClientCard.objects.filter(stage__in=(Stage.ACTIVATION, Stage.ACTIVE,
                                                     Stage.TERMINATED)):
        installation = card.installation
        assert installation.completed_at and installation.ip_address
        assert installation.scheduled
    # The subscriber department can take every card waiting for activation.
    for card in ClientCard.objects.filter(stage=Stage.ACTIVATION):
        assert workflow.refusal(card, "activate") is None


def test_the_stage_log_tells_how_each_card_got_to_its_stage(seeded):
    now = timezone.now()
    logs: dict[int, list[StageLog]] = {}
    for row in StageLog.objects.select_related("actor").order_by("at", "id"):
        logs.setdefault(row.card_id, []).append(row)
    for card in ClientCard.objects.all():
        rows, stage, at = logs.get(card.pk, []), Stage.COMMERCIAL, card.created_at
        for row in rows:
            assert row.source == stage, (card.pk, [r.transition for r in rows])
            assert at <= row.at <= now
            assert row.actor.has_role(*workflow.allowed_roles(row.transition)), row.transition
            stage, at = row.target, row.at
        assert stage == card.stage, (card.pk, card.stage, [r.transition for r in rows])
        assert card.stage_changed_at == at  # the last row's time, or when it was opened
    for row in StageLog.objects.filter(transition="request_expertise",
                                       payload__urgent=False)[:50]:
        day = datetime.date.fromisoformat(row.payload["date"])
        assert day.strftime("%d.%m.%Y") in row.summary  # "Survey booked for 24.11.2026"
        assert row.card.surveys.filter(date=day).exists()


def test_active_and_terminated_cards_have_their_figures(seeded):
    active = list(ClientCard.objects.filter(stage__in=(Stage.ACTIVE, Stage.TERMINATED)))
    for card in active:
        assert card.fee_paid_at <= card.activated_at
        assert card.connection_days is not None and card.connection_days >= 0
    days = sorted(card.connection_days for card in active)
    assert days[len(days) // 2] <= 4  # CS-6: mostly within 1–4 working days
    assert sum(d <= 4 for d in days) >= 0.9 * len(days)
    for card in ClientCard.objects.filter(stage=Stage.TERMINATED):
        assert card.termination_reason and card.termination_controllable is not None
        assert card.terminated_at > card.activated_at
        assert card.account.closed_on == timezone.localtime(card.terminated_at).date()
    assert ColleagueQuestion.objects.filter(answered_at__isnull=True).exists()
    assert ColleagueQuestion.objects.filter(answered_at__isnull=False).exists()


def test_every_card_with_an_account_or_in_the_funnel_has_a_tariff_agreed(seeded):
    stages = (*SIGNED, Stage.COMMERCIAL, Stage.EXPERTISE, Stage.CONTRACT)
    for card in ClientCard.objects.filter(stage__in=stages).select_related("terms__tariff"):
        assert card.terms.tariff.sold_for(card.connection_type)
        assert card.terms.tariff.segment in ("any", card.kind)
    for card in ClientCard.objects.filter(account__isnull=False):
        assert card.account.subscriptions.first().tariff == card.terms.tariff


def test_demo_cards_move_on_through_the_real_workflow(seeded):
    """What a user does next on the demo data works: book a survey, activate a client."""
    card = ClientCard.objects.filter(stage=Stage.COMMERCIAL).first()
    logged = StageLog.objects.count()
    card = workflow.fire(card=card, name="request_expertise", actor=card.lead_manager)
    assert card.stage == Stage.EXPERTISE
    assert surveys.current(card).date > timezone.localdate()
    waiting = ClientCard.objects.filter(stage=Stage.ACTIVATION).first()
    subscriber_dept = User.objects.get(username=roles.SUBSCRIBER_DEPT)
    waiting = workflow.fire(card=waiting, name="activate", actor=subscriber_dept)
    assert waiting.stage == Stage.ACTIVE
    assert Account.objects.get(client=waiting).status == "active"
    assert StageLog.objects.count() == logged + 2
