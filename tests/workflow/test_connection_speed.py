"""CS-6: the connection speed figures are stored at activation and summed by month and
connection type."""

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from connections.kpi import connection_speed
from connections.models import ClientCard
from tests.factories import ClientCardFactory
from tests.workflow.journey import drive

pytestmark = pytest.mark.django_db


def test_activation_stores_working_days_from_payment(team, tariff, crew, on_monday):
    card = drive(team, to="activate", tariff=tariff, crew=crew)
    assert card.fee_paid_at == card.activated_at == timezone.now()  # frozen clock
    assert card.connection_days == Decimal("0.00")


def test_the_stage_cannot_be_assigned_directly(team):
    card = ClientCardFactory(branch=team["manager"].branch)
    with pytest.raises(AttributeError):
        card.stage = "active"


def aware(*args):
    return timezone.make_aware(dt.datetime(*args))


def test_monthly_figures_per_connection_type(team):
    def activated(kind, paid, done, days):
        card = ClientCardFactory(branch=team["manager"].branch, connection_type=kind,
                                 stage="active")
        ClientCard.objects.filter(pk=card.pk).update(fee_paid_at=paid, activated_at=done,
                                                     connection_days=days)

    activated("lan", aware(2026, 10, 5, 10), aware(2026, 10, 5, 16), Decimal("0.67"))
    activated("lan", aware(2026, 10, 6, 10), aware(2026, 10, 9, 12), Decimal("3.22"))
    activated("radio", aware(2026, 10, 1, 10), aware(2026, 10, 14, 12), Decimal("9.00"))
    activated("lan", aware(2026, 11, 2, 10), aware(2026, 11, 3, 9), Decimal("0.89"))
    rows = connection_speed(dt.date(2026, 10, 1), dt.date(2026, 10, 31))
    assert [(r.month, r.connection_type, r.activated, r.average_days, r.within_24h,
             r.within_24h_share) for r in rows] == [
        (dt.date(2026, 10, 1), "lan", 2, Decimal("1.95"), 1, Decimal("50.0")),
        (dt.date(2026, 10, 1), "radio", 1, Decimal("9.00"), 0, Decimal("0.0")),
    ]
