"""manage.py seed_demo: the demo data a fresh install and the screenshots rely on."""

import re
from io import StringIO

import pytest
from django.contrib.auth import authenticate
from django.core.management import call_command
from django.test import RequestFactory
from django.utils import timezone

from connections import demo
from connections.models import Building, ClientCard, ClientContact, ConnectionType, Stage
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
    counts = [m.objects.count() for m in (City, Branch, User, Building, ClientCard,
                                          ClientContact)]
    output = seed()
    assert [m.objects.count() for m in (City, Branch, User, Building, ClientCard,
                                        ClientContact)] == counts
    assert "none added" in output
