"""Churn (R1, R3): monthly churn by segment and ARPU grade, controllable or not, against the
plan; the ARPU grades of business clients and the grade of the manager leading each — on a
small hand-built base whose figures are worked out by hand below. Moscow time; "today" is
20.11.2026; the period September to November 2026.

ARPU grades for these tests: A from 20,000 ₽ a month (a lead manager), B from 5,000 (a
senior one), C below (any manager). A month's grade is set by the previous month's charges.

Persons (no accounts needed):
p1  activated 01.06, in service
p2  activated 01.06, terminated 15.09, controllable
p3  activated 01.07, terminated 01.10 00:30 (30.09 in UTC: October), uncontrollable
p4  activated 10.09, terminated 20.09, controllability not recorded
p5  activated 01.08, in service
p6  activated 01.05, terminated 10.11, controllable — Тюмень branch
p7  a lead, never activated: never counts
Businesses (charges by the month charged for):
k1  activated 01.05; Aug, Sep, Oct 25,000 → A, A, A; lead manager «Ведущий менеджер»
k2  activated 01.05; Aug 8,000, Sep 8,000 + connection fee 50,000 (not counted), Oct 3,000
    → B, B, C; terminated 05.11, uncontrollable
k3  activated 15.10; Oct 12,000 → November B; manager «Менеджер»
k4  activated 01.03; Sep 6,000 (nothing for August) → —, B; terminated 20.10, controllable
k5  activated 01.11 12:00; no charges; no lead manager
k6  activated 01.06; Oct 6,000 → —, —, B; manager «Старший менеджер»
k7  activated 01.06; Aug, Sep, Oct 40,000 → A, A, A; no lead manager
"""

import datetime as dt
import io
from decimal import Decimal

import pytest
from django.test import Client
from django.utils import timezone
from openpyxl import load_workbook

from billing.models import Account, LedgerEntry
from billing.services.ledger import post
from ispcrm import roles
from reports.models import ChurnPlan
from reports.selectors.churn import arpu_grades, churn_report, grade_of, manager_assignment
from tests.factories import (
    BranchFactory,
    BuildingFactory,
    CityFactory,
    ClientCardFactory,
    StreetFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db
D = Decimal
TODAY = dt.date(2026, 11, 20)
SEP, OCT, NOV = dt.date(2026, 9, 1), dt.date(2026, 10, 1), dt.date(2026, 11, 1)
PERIOD = (SEP, dt.date(2026, 11, 30))
GRADES = [("A", 20000, "lead"), ("B", 5000, "senior"), ("C", 0, "manager")]


@pytest.fixture(autouse=True)
def grades(settings):
    settings.REPORT_ARPU_GRADES = GRADES


def at(month, day, hour=12, minute=0):
    return timezone.make_aware(dt.datetime(2026, month, day, hour, minute))


class Base:
    def __init__(self):
        moscow, tyumen = CityFactory(name="Москва"), CityFactory(name="Тюмень")
        self.moscow = BranchFactory(city=moscow)
        self.tyumen = BranchFactory(city=tyumen)
        self.lead = UserFactory(username="lead", position="Ведущий менеджер",
                                branch=self.moscow)
        self.senior = UserFactory(username="senior", position="Старший менеджер",
                                  branch=self.moscow)
        self.plain = UserFactory(username="plain", position="Менеджер", branch=self.moscow)
        self.n = 0

        def card(activated=None, terminated=None, controllable=None, branch=None, **fields):
            branch = branch or self.moscow
            building = BuildingFactory(street=StreetFactory(city=branch.city))
            stage = "terminated" if terminated else "active" if activated else "commercial"
            return ClientCardFactory(branch=branch, building=building, stage=stage,
                                     activated_at=activated, terminated_at=terminated,
                                     termination_controllable=controllable, **fields)

        def company(name, activated, charges, terminated=None, controllable=None,
                    manager=None, fee=None):
            self.n += 1
            client = card(activated, terminated, controllable, kind="company",
                          name=name, inn=f"77{self.n:08d}", lead_manager=manager)
            account = Account.objects.create(number=f"{self.n:08d}", client=client,
                                             status="closed" if terminated else "active")
            for month, amount in charges.items():
                post(account=account, kind=LedgerEntry.Kind.CHARGE, amount=-D(amount),
                     period=dt.date(2026, month, 1), charge_kind="monthly_fee",
                     description="fee", at=at(month, 1))
            if fee:
                post(account=account, kind=LedgerEntry.Kind.CHARGE, amount=-D(fee[1]),
                     period=dt.date(2026, fee[0], 1), charge_kind="connection_fee",
                     description="connection", at=at(fee[0], 2))
            return client

        card(at(6, 1))
        card(at(6, 1), at(9, 15), True)
        card(at(7, 1), at(10, 1, 0, 30), False)
        card(at(9, 10), at(9, 20), None)
        card(at(8, 1))
        card(at(5, 1), at(11, 10), True, branch=self.tyumen)
        card()
        self.k1 = company("Альфа", at(5, 1), {8: 25000, 9: 25000, 10: 25000},
                          manager=self.lead)
        self.k2 = company("Бета", at(5, 1), {8: 8000, 9: 8000, 10: 3000}, at(11, 5), False,
                          fee=(9, 50000))
        self.k3 = company("Гамма", at(10, 15), {10: 12000}, manager=self.plain)
        self.k4 = company("Дельта", at(3, 1), {9: 6000}, at(10, 20), True)
        self.k5 = company("Ипсилон", at(11, 1), {})
        self.k6 = company("Дзета", at(6, 1), {10: 6000}, manager=self.senior)
        self.k7 = company("Эта", at(6, 1), {8: 40000, 9: 40000, 10: 40000})


@pytest.fixture
def base():
    return Base()


def seg(report, segment, *names):
    return [tuple(m["segments"][segment][name] for name in names) for m in report["months"]]


def test_grades_from_the_setting():
    assert [g.name for g in arpu_grades()] == ["A", "B", "C"]
    assert [grade_of(v) for v in (D("20000"), D("19999.99"), D("5000"), D("0"), D("-10"),
                                  None)] == ["A", "B", "B", "C", "C", "-"]


def test_churn_by_month_and_segment(base, django_assert_max_num_queries):
    with django_assert_max_num_queries(2):  # the figures and the plans
        report = churn_report(*PERIOD, today=TODAY)
    # Persons. September: in service at the start p1, p2, p3, p5, p6 = 5 (p4 came 10.09);
    #   lost p2 and p4 = 2 → 40 %. October: p1, p3 (left 01.10 00:30, after the start),
    #   p5, p6 = 4; lost p3 → 25 %. November: p1, p5, p6 = 3; lost p6 → 33.33 %.
    assert seg(report, "person", "at_start", "lost", "churn") == [
        (5, 2, D("40.00")), (4, 1, D("25.00")), (3, 1, D("33.33"))]
    # Businesses. September: k1, k2, k4, k6, k7 = 5, none lost. October: the same 5 (k3
    #   came 15.10), k4 lost → 20 %. November: k1, k2, k3, k6, k7 = 5 (k5 came 01.11 12:00),
    #   k2 lost → 20 %.
    assert seg(report, "company", "at_start", "lost", "churn") == [
        (5, 0, D("0.00")), (5, 1, D("20.00")), (5, 1, D("20.00"))]
    # All: 10 / 2 → 20 %; 9 / 2 → 22.22 %; 8 / 2 → 25 %.
    assert seg(report, "all", "at_start", "lost", "churn") == [
        (10, 2, D("20.00")), (9, 2, D("22.22")), (8, 2, D("25.00"))]
    # Over the period: all 6 / 27 = 22.22 %; persons 4 / 12 = 33.33 %; businesses
    # 2 / 15 = 13.33 %.
    total = report["total"]
    assert (total["all"]["churn"], total["person"]["churn"], total["company"]["churn"]) == (
        D("22.22"), D("33.33"), D("13.33"))


def test_churn_by_arpu_grade(base):
    report = churn_report(*PERIOD, today=TODAY)
    # Grades by the previous month's charges (k2's connection fee does not count: B in
    # October, not A):
    #   September (August's): k1 A, k7 A, k2 B, k4 and k6 not graded.
    #   October (September's): k1 A, k7 A, k2 B, k4 B (lost), k6 not graded.
    #   November (October's): k1 A, k7 A, k3 B, k6 B, k2 C (lost).
    assert seg(report, "company:A", "at_start", "lost") == [(2, 0), (2, 0), (2, 0)]
    assert seg(report, "company:B", "at_start", "lost", "churn") == [
        (1, 0, D("0.00")), (2, 1, D("50.00")), (2, 0, D("0.00"))]
    assert seg(report, "company:C", "at_start", "lost", "churn") == [
        (0, 0, None), (0, 0, None), (1, 1, D("100.00"))]
    assert seg(report, "company:-", "at_start") == [(2,), (1,), (0,)]
    # Over the period B: 1 / (1 + 2 + 2) = 20 %; the grades add up to the businesses:
    # 6 + 5 + 1 + 3 = 15.
    total = report["total"]
    assert total["company:B"]["churn"] == D("20.00")
    assert sum(total[f"company:{g}"]["at_start"] for g in "ABC-") == 15


def test_controllable_and_uncontrollable(base):
    report = churn_report(*PERIOD, today=TODAY)
    # September: p2 controllable, p4 not recorded → 1 / 10 = 10 %, 0 %.
    # October: k4 controllable, p3 uncontrollable → 1 / 9 = 11.11 % each.
    # November: p6 controllable, k2 uncontrollable → 1 / 8 = 12.5 % each.
    assert seg(report, "all", "controllable", "uncontrollable", "unknown",
               "controllable_churn", "uncontrollable_churn") == [
        (1, 0, 1, D("10.00"), D("0.00")), (1, 1, 0, D("11.11"), D("11.11")),
        (1, 1, 0, D("12.50"), D("12.50"))]
    # Over the period: 3 / 27 = 11.11 % and 2 / 27 = 7.41 %.
    total = report["total"]["all"]
    assert (total["controllable_churn"], total["uncontrollable_churn"]) == (D("11.11"),
                                                                            D("7.41"))


def test_against_the_plan(base):
    ChurnPlan.objects.create(month=OCT, segment="all", percent=D("25.00"))
    ChurnPlan.objects.create(month=NOV, segment="all", percent=D("20.00"))
    ChurnPlan.objects.create(month=NOV, segment="company", percent=D("15.00"))
    report = churn_report(*PERIOD, today=TODAY)
    # October 22.22 against 25: 2.78 below; November 25 against 20: 5 above.
    assert seg(report, "all", "plan", "delta", "over_plan") == [
        (None, None, None), (D("25.00"), D("-2.78"), False), (D("20.00"), D("5.00"), True)]
    assert seg(report, "company", "plan", "over_plan")[2] == (D("15.00"), True)
    # Over the period the plans' average (25 + 20) / 2 = 22.50 against 22.22.
    total = report["total"]["all"]
    assert (total["plan"], total["delta"], total["over_plan"]) == (D("22.50"), D("-0.28"),
                                                                   False)


def test_branch_filter(base):
    report = churn_report(*PERIOD, base.tyumen, today=TODAY)
    # Tyumen has only p6: in service at the start of each month, lost in November.
    assert seg(report, "all", "at_start", "lost") == [(1, 0), (1, 0), (1, 1)]


def test_a_future_period_has_no_months(base):
    report = churn_report(dt.date(2027, 1, 1), dt.date(2027, 3, 31), today=TODAY)
    assert report["months"] == [] and report["total"]["all"]["churn"] is None


def test_business_clients_and_their_managers(base, django_assert_max_num_queries):
    with django_assert_max_num_queries(1):
        data = manager_assignment(*PERIOD, today=TODAY)
    assert data["charges_month"] == OCT
    # In service at the end of 20.11: k7, k1, k3, k6, k5 (k2 and k4 left), by October's
    # charges, highest first.
    rows = [(c["name"], c["arpu"], c["grade"], c["manager_grade"], c["mismatch"])
            for c in data["clients"]]
    assert rows == [
        ("Эта", D("40000.00"), "A", "", True),          # grade A without a lead manager
        ("Альфа", D("25000.00"), "A", "lead", False),
        ("Гамма", D("12000.00"), "B", "manager", True),  # B needs a senior one at least
        ("Дзета", D("6000.00"), "B", "senior", False),
        ("Ипсилон", None, "-", "", False),             # no charges yet: not graded
    ]
    assert data["mismatches"] == 2
    # The matrix: grade × manager grade (lead, senior, manager, none).
    assert [(r["grade"], r["counts"]) for r in data["matrix"]] == [
        ("A", [1, 0, 0, 1]), ("B", [0, 1, 1, 0]), ("C", [0, 0, 0, 0]), ("-", [0, 0, 0, 1])]


# --- the page and the plan form ------------------------------------------------------------

def web_as(make_user, role, **fields):
    web = Client()
    web.force_login(make_user(role, **fields))
    return web


QUERY = {"period": "custom", "date_from": "2026-09-01", "date_to": "2026-11-30"}


def test_the_page(base, make_user, django_assert_max_num_queries):
    web = web_as(make_user, roles.DIRECTOR)
    # session, user, role check (3), figures, plans, assignment (3), the plan form's right to
    # edit: the user's roles (1, which the base template then reuses), the branch list (1),
    # and the base template's permissions (2), open outages (1), the user's branch (1).
    with django_assert_max_num_queries(12):
        response = web.get("/reports/churn/", QUERY)
    assert response.status_code == 200
    html = response.content.decode()
    assert "Гамма" in html and 'id="chart-churn"' in html
    assert 'id="plan-form"' in html


def test_the_plan_form_only_for_directors(base, make_user):
    web = web_as(make_user, roles.ACCOUNTANT)
    response = web.get("/reports/churn/", QUERY)
    assert response.status_code == 200
    assert 'id="plan-form"' not in response.content.decode()
    response = web.post("/reports/churn/plan/", {"month": "2026-11", "segment": "all",
                                                 "percent": "3"})
    assert response.status_code == 403
    assert not ChurnPlan.objects.exists()


@pytest.mark.parametrize("role", [roles.DIRECTOR, roles.COMMERCIAL_DIRECTOR])
def test_setting_the_plan(base, make_user, role):
    web = web_as(make_user, role)
    back = "period=custom&date_from=2026-09-01&date_to=2026-11-30"
    response = web.post("/reports/churn/plan/", {"month": "2026-11", "segment": "company",
                                                 "percent": "2.5", "back": back})
    assert response.status_code == 302
    assert response["Location"] == f"/reports/churn/?{back}"
    plan = ChurnPlan.objects.get()
    assert (plan.month, plan.segment, plan.percent) == (NOV, "company", D("2.50"))
    # Setting it again replaces it (one plan per month and segment).
    web.post("/reports/churn/plan/", {"month": "2026-11", "segment": "company",
                                      "percent": "4"})
    assert ChurnPlan.objects.get().percent == D("4.00")


@pytest.mark.parametrize("data", [
    {"month": "2026-13", "segment": "all", "percent": "3"},
    {"month": "2026-11", "segment": "vip", "percent": "3"},
    {"month": "2026-11", "segment": "all", "percent": "101"},
    {"month": "2026-11", "segment": "all", "percent": "-1"},
])
def test_a_wrong_plan_is_refused(base, make_user, data):
    web = web_as(make_user, roles.DIRECTOR)
    response = web.post("/reports/churn/plan/", data)
    assert response.status_code == 302
    assert not ChurnPlan.objects.exists()


def test_the_way_back_stays_on_the_page(base, make_user):
    web = web_as(make_user, roles.DIRECTOR)
    response = web.post("/reports/churn/plan/", {"month": "2026-11", "segment": "all",
                                                 "percent": "3",
                                                 "back": "x=1\r\nLocation: //evil.example"})
    assert response["Location"].startswith("/reports/churn/")
    assert "\n" not in response["Location"] and "evil.example" not in response["Location"]


def test_excel(base, make_user):
    web = web_as(make_user, roles.DIRECTOR)
    response = web.get("/reports/churn/", {**QUERY, "format": "xlsx"})
    assert response.status_code == 200
    book = load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    assert len(book.worksheets) == 3
    months = list(book.worksheets[0].iter_rows(min_row=2, values_only=True))
    # The first row: September, all clients, 10 at the start, 2 lost, 20 %.
    assert (months[0][0], *months[0][2:5]) == (dt.datetime(2026, 9, 1), 10, 2, 20)
    clients = list(book.worksheets[2].iter_rows(min_row=2, values_only=True))
    assert clients[0][0] == "Эта" and len(clients) == 5


def test_only_report_roles(base, make_user):
    assert web_as(make_user, roles.MANAGER).get("/reports/churn/").status_code == 403
