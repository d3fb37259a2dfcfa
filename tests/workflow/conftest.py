import datetime as dt

import pytest
from django.utils import timezone

from ispcrm import roles
from tests.factories import BuildingFactory, TariffFactory

MONDAY = dt.date(2026, 11, 23)  # survey days Tue 24 and Thu 26


@pytest.fixture
def team(make_user):
    """One member of every role the connection standard needs, in the default branch."""
    return {role: make_user(role, email=f"{role}@isp.example") for role in (
        roles.MANAGER, roles.HEAD_OF_SALES, roles.COMMERCIAL_DIRECTOR, roles.NOC_HEAD,
        roles.TECHNICAL_DIRECTOR, roles.CHIEF_ENGINEER, roles.CREW_LEADER,
        roles.SUBSCRIBER_DEPT, roles.LAWYER, roles.ACCOUNTANT)}


@pytest.fixture
def tariff(db):
    return TariffFactory(name="Домашний 100", monthly_fee="600.00", connection_fee="1000.00")


@pytest.fixture
def building(branch):
    return BuildingFactory(street__city=branch.city)


@pytest.fixture
def crew(branch):
    from connections.models import Crew

    return Crew.objects.create(branch=branch, name="Бригада 1", members="Иванов, Петров")


@pytest.fixture
def on_monday(monkeypatch):
    """Freeze "today" at Monday 23.11.2026, 10:00 local time."""
    now = timezone.make_aware(dt.datetime(2026, 11, 23, 10, 0))
    monkeypatch.setattr(timezone, "now", lambda: now)
    monkeypatch.setattr(timezone, "localdate", lambda value=None, timezone=None: MONDAY)
    return MONDAY


@pytest.fixture
def api(api):
    """The API in English, so the tests read the reasons as written in the code."""
    api.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    return api
