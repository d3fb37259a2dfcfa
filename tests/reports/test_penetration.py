"""Penetration (D10): clients per household by district and building, the trend, and the
advertising target list — on a small hand-built register whose figures are worked out by
hand below. Times are Moscow time; "today" is 20.11.2026; the trend has three points: the
ends of September and October and the end of 20.11.

Москва: district A «Центральный», B «Северный»; Тюмень: district C «Заречный».

bld  district households  clients (activated → terminated)               network
b1   A        100         c1 15.08; c2 10.10; c3 01.07 → 20.10; c4 lead;   yes
                          c5 20.11 23:30; c6 21.11 01:00 (after the day)
b2   A        40          c7 01.09; c8 05.09; c9 (company) 01.06;          yes
                          c10 01.05 → 25.10
b3   A        60          c11 not active, installation completed 10.11     yes
b4   A        80          c12 lead, nothing installed                      no
b5   B        20          c13…c18 01.08 (six)                              yes
b6   B        0           c19 01.08                                        yes
b8   B        30          c21 installation completed 25.11 (after the day) no
b7   C        50          c20 01.08 (Тюмень branch)                        yes

Active at the end of 20.11: b1 3 (c1, c2, c5), b2 3 (c7, c8, c9), b5 6, b6 1, b7 1.
"""

import datetime as dt
import io
from decimal import Decimal

import pytest
from django.test import Client
from django.utils import timezone
from openpyxl import load_workbook

from connections.models import Installation
from ispcrm import roles
from reports.selectors.penetration import band, penetration_report, trend_moments
from tests.factories import (
    BranchFactory,
    BuildingFactory,
    CityFactory,
    ClientCardFactory,
    DistrictFactory,
    StreetFactory,
)

pytestmark = pytest.mark.django_db
D = Decimal
TODAY = dt.date(2026, 11, 20)
NOV = (dt.date(2026, 11, 1), dt.date(2026, 11, 30))


def at(month, day, hour=12, minute=0):
    return timezone.make_aware(dt.datetime(2026, month, day, hour, minute))


class Register:
    def __init__(self):
        moscow, tyumen = CityFactory(name="Москва"), CityFactory(name="Тюмень")
        self.moscow = BranchFactory(city=moscow)
        self.tyumen = BranchFactory(city=tyumen)
        self.a = DistrictFactory(city=moscow, name="Центральный")
        self.b = DistrictFactory(city=moscow, name="Северный")
        self.c = DistrictFactory(city=tyumen, name="Заречный")
        street_m = StreetFactory(city=moscow, name="ул. Ленина")
        street_t = StreetFactory(city=tyumen, name="ул. Мира")

        def building(district, house, households):
            street = street_t if district == self.c else street_m
            return BuildingFactory(street=street, district=district, house=house,
                                   households=households)

        def client(bld, activated=None, terminated=None, **fields):
            branch = self.tyumen if bld.district_id == self.c.pk else self.moscow
            stage = "terminated" if terminated else "active" if activated else "commercial"
            return ClientCardFactory(building=bld, branch=branch, stage=stage,
                                     activated_at=activated, terminated_at=terminated,
                                     **fields)

        self.b1 = b1 = building(self.a, "1", 100)
        client(b1, at(8, 15))
        client(b1, at(10, 10))
        client(b1, at(7, 1), at(10, 20))
        client(b1)
        client(b1, at(11, 20, 23, 30))
        client(b1, at(11, 21, 1, 0))
        self.b2 = b2 = building(self.a, "2", 40)
        client(b2, at(9, 1, 10))
        client(b2, at(9, 5))
        client(b2, at(6, 1), kind="company", inn="7701234567")
        client(b2, at(5, 1), at(10, 25))
        self.b3 = b3 = building(self.a, "3", 60)
        Installation.objects.create(card=client(b3), completed_at=at(11, 10))
        self.b4 = b4 = building(self.a, "4", 80)
        client(b4)
        self.b5 = b5 = building(self.b, "5", 20)
        for _i in range(6):
            client(b5, at(8, 1))
        self.b6 = b6 = building(self.b, "6", 0)
        client(b6, at(8, 1))
        self.b8 = b8 = building(self.b, "8", 30)
        Installation.objects.create(card=client(b8), completed_at=at(11, 25))
        self.b7 = b7 = building(self.c, "7", 50)
        client(b7, at(8, 1))


@pytest.fixture
def register():
    return Register()


def report(**kwargs):
    return penetration_report(*NOV, months=3, today=TODAY, **kwargs)


def test_trend_points():
    points = trend_moments(TODAY, 3)
    assert [key for key, _m in points] == [dt.date(2026, 9, 1), dt.date(2026, 10, 1),
                                           dt.date(2026, 11, 1)]
    assert [timezone.localtime(m) for _k, m in points] == [
        at(10, 1, 0), at(11, 1, 0), at(11, 21, 0)]


def test_districts(register, django_assert_max_num_queries):
    with django_assert_max_num_queries(3):
        data = report()
    rows = {row["name"]: row for row in data["districts"]}
    assert [row["name"] for row in data["districts"]] == ["Северный", "Центральный",
                                                         "Заречный"]
    a = rows["Центральный"]
    # A: 4 buildings, 100 + 40 + 60 + 80 = 280 households, active 3 + 3 = 6 → 2.1 %;
    #    with the network b1, b2, b3 (b4 has only a lead): 200 households → 6 / 200 = 3.0 %;
    #    potential (100 − 3) + (40 − 3) + (60 − 0) = 194.
    assert (a["buildings"], a["households"], a["active"], a["penetration"],
            a["network_buildings"], a["network_households"], a["network_penetration"],
            a["potential"]) == (4, 280, 6, D("2.1"), 3, 200, D("3.0"), 194)
    b = rows["Северный"]
    # B: 20 + 0 + 30 = 50 households, 6 + 1 = 7 active → 14.0 % (low: 10–25 %); b8's
    #    installation is after the day, so the network is in b5 and b6: 20 households →
    #    35.0 %; potential 20 − 6 = 14 (b6: 0 − 1 is not below zero).
    assert (b["households"], b["active"], b["penetration"], b["network_buildings"],
            b["network_households"], b["network_penetration"], b["potential"]) == (
        50, 7, D("14.0"), 2, 20, D("35.0"), 14)
    assert b["band"]["colour"] == "warning"
    # Everything: 380 households, 14 active → 3.7 %; network 270 → 5.2 %; potential
    # 194 + 14 + 49 = 257.
    total = data["total"]
    assert (total["households"], total["active"], total["penetration"],
            total["network_households"], total["network_penetration"],
            total["potential"]) == (380, 14, D("3.7"), 270, D("5.2"), 257)


def test_trend(register):
    data = report()
    rows = {row["name"]: row for row in data["districts"]}
    # A at the end of September: c1, c3 (leaves 20.10) in b1, c7, c8, c9, c10 (leaves
    #    25.10) in b2 = 6 → 6/280 = 2.1 %; end of October: c1, c2 and c7, c8, c9 = 5 →
    #    1.8 %; end of 20.11: 6 (c5 joined at 23:30; c6 at 01:00 the next day does not
    #    count) → 2.1 %.
    assert rows["Центральный"]["trend_active"] == [6, 5, 6]
    assert [p["value"] for p in rows["Центральный"]["trend"]] == [D("2.1"), D("1.8"),
                                                                  D("2.1")]
    # Total: 6 + 7 + 1 = 14, 13, 14 of 380 → 3.7, 3.4, 3.7 %.
    assert [p["value"] for p in data["total"]["trend"]] == [D("3.7"), D("3.4"), D("3.7")]


def test_the_advertising_target_list(register):
    buildings = report()["buildings"]
    # Only buildings with the network (not b4, not b8), lowest penetration first:
    # b3 0/60 = 0.0 %, b7 1/50 = 2.0 %, b1 3/100 = 3.0 %, b2 3/40 = 7.5 %, b5 6/20 = 30.0 %,
    # then b6 whose households are not recorded.
    assert [(b["house"], b["active"], b["households"], b["potential"], b["penetration"])
            for b in buildings] == [
        ("3", 0, 60, 60, D("0.0")), ("7", 1, 50, 49, D("2.0")), ("1", 3, 100, 97, D("3.0")),
        ("2", 3, 40, 37, D("7.5")), ("5", 6, 20, 14, D("30.0")), ("6", 1, 0, 0, None)]
    assert [b["band"]["colour"] for b in buildings] == [
        "danger", "danger", "danger", "danger", "info", ""]
    assert len(report(limit=2)["buildings"]) == 2


def test_branch_filter(register):
    data = report(branch=register.moscow)
    # The Moscow branch: the districts of Moscow, its clients; Тюмень's b7 is gone.
    assert {row["name"] for row in data["districts"]} == {"Центральный", "Северный"}
    assert "7" not in [b["house"] for b in data["buildings"]]
    assert (data["total"]["households"], data["total"]["active"]) == (330, 13)


@pytest.mark.parametrize("value, colour", [
    (D("0"), "danger"), (D("9.9"), "danger"), (D("10"), "warning"), (D("24.9"), "warning"),
    (D("25"), "info"), (D("49.9"), "info"), (D("50"), "success"), (D("100"), "success"),
    (None, "")])
def test_bands(value, colour):
    assert band(value)["colour"] == colour


# --- the page ------------------------------------------------------------------------------

@pytest.fixture
def director(make_user):
    web = Client()
    web.force_login(make_user(roles.DIRECTOR))
    return web


QUERY = {"period": "custom", "date_from": "2026-11-01", "date_to": "2026-11-20"}


def test_the_page(register, director, django_assert_max_num_queries):
    # session, user, role check (3), three for the report, the branch list (1), and the base
    # template's own: permissions (2), roles (1), open outages (1), the user's branch (1).
    with django_assert_max_num_queries(12):
        response = director.get("/reports/penetration/", QUERY)
    assert response.status_code == 200
    html = response.content.decode()
    assert "Центральный" in html and "ул. Ленина, 3" in html
    assert "table-danger" in html  # the heat table's colour, with the percentage as text


@pytest.mark.parametrize("table, sheet, first", [
    ("districts", 0, ("Москва", "Северный")),
    ("buildings", 0, ("Москва", "Центральный", "ул. Ленина, 3")),
])
def test_excel_tables(register, director, table, sheet, first):
    response = director.get("/reports/penetration/", {**QUERY, "format": "xlsx",
                                                      "table": table})
    assert response.status_code == 200
    book = load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    assert len(book.worksheets) == 1
    row = next(book.worksheets[sheet].iter_rows(min_row=2, values_only=True))
    assert row[:len(first)] == first


def test_excel_everything(register, director):
    response = director.get("/reports/penetration/", {**QUERY, "format": "xlsx"})
    book = load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    assert len(book.worksheets) == 2
    buildings = list(book.worksheets[1].iter_rows(min_row=2, values_only=True))
    assert len(buildings) == 6  # the whole list, not only the page's first rows
