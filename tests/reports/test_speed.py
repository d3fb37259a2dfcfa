"""Connection speed (CS-6): working days from the fee payment to activation per connection
type and month, the share within 24 hours, per type and in all; the page and its Excel."""

import datetime as dt
import io
from decimal import Decimal

import pytest
from django.test import Client
from django.utils import timezone
from openpyxl import load_workbook

from connections.kpi import connection_speed
from connections.models import ClientCard
from ispcrm import roles
from reports.selectors.speed import connection_speed_report
from tests.factories import BranchFactory, CityFactory, ClientCardFactory

pytestmark = pytest.mark.django_db
D = Decimal
OCT_NOV = (dt.date(2026, 10, 1), dt.date(2026, 11, 30))


def aware(*args):
    return timezone.make_aware(dt.datetime(*args))


@pytest.fixture
def cards(branch):
    """Six activations (the working days as the workflow stored them) and one without a
    paid fee, which does not count."""
    other = BranchFactory(city=CityFactory(name="Тюмень"))

    def activated(kind, paid, done, days, where=branch):
        card = ClientCardFactory(branch=where, connection_type=kind, stage="active")
        ClientCard.objects.filter(pk=card.pk).update(fee_paid_at=paid, activated_at=done,
                                                     connection_days=days)

    activated("lan", aware(2026, 10, 5, 10), aware(2026, 10, 5, 16), D("0.67"))    # 6 h
    activated("lan", aware(2026, 10, 6, 10), aware(2026, 10, 9, 12), D("3.22"))    # 74 h
    activated("radio", aware(2026, 10, 1, 10), aware(2026, 10, 14, 12), D("9.00"))  # 13 days
    activated("lan", aware(2026, 11, 2, 10), aware(2026, 11, 3, 9), D("0.89"))     # 23 h
    activated("radio", aware(2026, 11, 10, 10), aware(2026, 11, 11, 10), D("1.00"))  # 24 h
    activated("lan", aware(2026, 11, 5, 10), aware(2026, 11, 6, 9), D("1.11"), other)  # 23 h
    activated("lan", None, aware(2026, 11, 7, 9), None)  # no fee paid: not counted
    return {"branch": branch, "other": other}


def test_per_month_and_type(cards):
    rows = connection_speed_report(*OCT_NOV)["rows"]
    assert [(r["month"], r["connection_type"], r["activated"], r["average_days"],
             r["within_24h"], r["within_24h_share"], r["above_target"]) for r in rows] == [
        # October lan: (0.67 + 3.22) / 2 = 1.945 → 1.95; one of two within 24 h
        (dt.date(2026, 10, 1), "lan", 2, D("1.95"), 1, D("50.0"), False),
        # October radio: 9 working days, above the standard's 4
        (dt.date(2026, 10, 1), "radio", 1, D("9.00"), 0, D("0.0"), True),
        # November lan, both branches: (0.89 + 1.11) / 2 = 1.00, both within 23 hours
        (dt.date(2026, 11, 1), "lan", 2, D("1.00"), 2, D("100.0"), False),
        # November radio: exactly 24 hours counts as within
        (dt.date(2026, 11, 1), "radio", 1, D("1.00"), 1, D("100.0"), False),
    ]


def test_per_type_and_in_all(cards):
    report = connection_speed_report(*OCT_NOV)
    by_type = {r["connection_type"]: r for r in report["by_type"]}
    # lan: (0.67 + 3.22 + 0.89 + 1.11) / 4 = 1.4725 → 1.47; 3 of 4 within 24 h
    assert (by_type["lan"]["activated"], by_type["lan"]["average_days"],
            by_type["lan"]["within_24h_share"]) == (4, D("1.47"), D("75.0"))
    # radio: (9.00 + 1.00) / 2 = 5.00 — above target over the period; 1 of 2
    assert (by_type["radio"]["average_days"], by_type["radio"]["within_24h_share"],
            by_type["radio"]["above_target"]) == (D("5.00"), D("50.0"), True)
    # in all: 15.89 / 6 = 2.648… → 2.65; 4 of 6 → 66.7 %
    total = report["total"]
    assert (total["activated"], total["average_days"], total["within_24h"],
            total["within_24h_share"]) == (6, D("2.65"), 4, D("66.7"))
    assert total["month"] is None and total["connection_type"] is None


def test_one_branch(cards):
    total = connection_speed_report(*OCT_NOV, branch=cards["branch"])["total"]
    # without the Tyumen card: (0.67 + 3.22 + 9.00 + 0.89 + 1.00) / 5 = 2.956 → 2.96
    assert (total["activated"], total["average_days"]) == (5, D("2.96"))


def test_the_kpi_keeps_its_monthly_rows(cards):
    """connections.kpi.connection_speed without ``by``: as before, per month and type."""
    rows = connection_speed(dt.date(2026, 10, 1), dt.date(2026, 10, 31))
    assert [(r.month, r.connection_type, r.activated) for r in rows] == [
        (dt.date(2026, 10, 1), "lan", 2), (dt.date(2026, 10, 1), "radio", 1)]
    with pytest.raises(ValueError):
        connection_speed(*OCT_NOV, by=("district",))


def test_nothing_activated(db):
    total = connection_speed_report(*OCT_NOV)["total"]
    assert (total["activated"], total["average_days"], total["within_24h_share"]) == (
        0, None, None)


@pytest.fixture
def director(make_user):
    web = Client()
    web.force_login(make_user(roles.DIRECTOR))
    return web


PERIOD = {"period": "custom", "date_from": "2026-10-01", "date_to": "2026-11-30"}


def test_the_page(director, cards, django_assert_max_num_queries):
    with django_assert_max_num_queries(14):  # three grouped queries, the rest is the frame
        response = director.get("/reports/connection-speed/", PERIOD)
    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="table-speed"' in html and 'id="chart-speed"' in html
    assert "9,00" in html and "2,65" in html and "66,7" in html
    table = response.context["table"]
    assert [kind["code"] for kind in table["types"]] == ["lan", "radio"]
    assert [m["month"] for m in table["months"]] == [dt.date(2026, 10, 1),
                                                      dt.date(2026, 11, 1)]


def test_the_page_defaults_to_this_year(director):
    response = director.get("/reports/connection-speed/")
    period = response.context["period"]
    assert (period.preset, period.start) == ("year", dt.date(timezone.localdate().year, 1, 1))


def test_the_excel(director, cards):
    response = director.get("/reports/connection-speed/", {**PERIOD, "format": "xlsx"})
    book = load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    rows = list(book.worksheets[0].iter_rows(min_row=2, values_only=True))
    # four month rows, two per-type rows, the total
    assert len(rows) == 7
    assert rows[1][0] == dt.datetime(2026, 10, 1) and rows[1][3] == 9
    assert rows[-1][2:] == (6, 2.65, 4, 66.7)
