import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth.models import Group

from ispcrm import roles
from tests.factories import ClientCardFactory, UserFactory
from tickets.models import Category, SlaPolicy
from tickets.services import tickets as service

MSK = ZoneInfo("Europe/Moscow")
MONDAY = dt.date(2026, 11, 23)  # a plain week: Sat 28 and Sun 29 are the weekend


def at(day: int, hour: int, minute: int = 0, *, month: int = 11) -> dt.datetime:
    """A Moscow moment in November 2026 (the branch's zone)."""
    return dt.datetime(2026, month, day, hour, minute, tzinfo=MSK)


@pytest.fixture
def support(make_user):
    """Two first-line agents, a second-line engineer and the group head, with emails."""
    return {name: make_user(roles.SUPPORT, username=name, email=f"{name}@isp.example")
            for name in ("anna", "boris", "engineer", "head")}


@pytest.fixture
def groups(support):
    first, second = Group.objects.create(name="L1"), Group.objects.create(name="L2")
    first.user_set.add(support["anna"], support["boris"])
    second.user_set.add(support["engineer"])
    return {"L1": first, "L2": second}


@pytest.fixture
def categories(groups, support):
    """internet (L1, head) → speed (inherits); tv (L2, one named engineer)."""
    internet = Category.objects.create(code="internet", name="Internet", group=groups["L1"],
                                       head=support["head"])
    speed = Category.objects.create(code="speed", name="Low speed", parent=internet)
    tv = Category.objects.create(code="tv", name="TV", group=groups["L2"],
                                 person=support["engineer"])
    return {"internet": internet, "speed": speed, "tv": tv}


@pytest.fixture
def policy(db):
    """The fallback rule: first response 2 h, update 4 h, resolution 8 h, warn at 80 %."""
    return SlaPolicy.objects.create(name="Standard", order=100, first_response_hours=2,
                                    update_hours=4, resolution_hours=8, warn_percent=80)


@pytest.fixture
def vip_policy(db):
    return SlaPolicy.objects.create(name="Companies from 5000", order=10, segment="company",
                                    min_arpu=Decimal("5000"), first_response_hours=1,
                                    resolution_hours=4)


@pytest.fixture
def client_user(branch):
    """A cabinet client with an email, and his card."""
    user = UserFactory(username="client", email="client@mail.example", branch=None)
    ClientCardFactory(branch=branch, email="client@mail.example", support_channel="email",
                      cabinet_user=user)
    return user


@pytest.fixture
def card(client_user):
    return client_user.client_card


@pytest.fixture
def open_ticket(support, categories, policy, card, branch):
    """open_ticket(at(23, 10)) → a ticket of the client in "speed", routed to L1."""

    def make(created, category="speed", **fields):
        fields.setdefault("client", card)
        return service.ticket_open(actor=support["anna"], category=categories[category],
                                   channel="phone", subject="Slow internet",
                                   branch=branch, now=created, **fields)

    return make


@pytest.fixture(autouse=True)
def english(settings):
    """Helpdesk tests read pages, mails and messages as the code writes them (English
    msgids); the Russian catalogue is checked by the staff journeys in the browser."""
    from django.utils import translation

    settings.LANGUAGE_CODE = "en"
    with translation.override("en"):
        yield
