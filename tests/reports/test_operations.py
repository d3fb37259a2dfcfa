"""Operational reports (R4, R7, Q5, SP-10): managers' day and week, what is overdue and
whose, ticket KPIs by week and month, service hours — each figure on a small hand-built data
set with the arithmetic in the comments; the pages, their Excel and query counts.

Branch A is «Москва — офис» (the default branch), B «Тюмень — офис». Times are Moscow time;
November 2026: Mondays 02, 09, 16, 23, 30; the 1st is a Sunday."""

import datetime as dt
import io
from decimal import Decimal

import pytest
from django.contrib.auth.models import Group
from django.test import Client
from django.test.utils import CaptureQueriesContext
from openpyxl import load_workbook

from connections.models import Installation, Survey
from ispcrm import roles
from reports.selectors.operations import (
    first_response_hours,
    hours_utilization,
    late_in_period,
    manager_activity,
    overdue_now,
    ticket_kpis,
)
from tests.factories import (
    BranchFactory,
    CityFactory,
    ClientCardFactory,
    TariffFactory,
    make_account,
)
from tests.reports.test_employees import at, call, card, log, pay, rate, ticket
from tickets.models import Category, SlaPolicy, TimeEntry

pytestmark = pytest.mark.django_db
D = Decimal
NOV_1, NOV_30 = dt.date(2026, 11, 1), dt.date(2026, 11, 30)
MONDAY_9, TUESDAY_10 = dt.date(2026, 11, 9), dt.date(2026, 11, 10)


@pytest.fixture
def people(make_user):
    u = make_user
    return {
        "ann": u(roles.MANAGER, username="ann", first_name="Анна", last_name="Арбузова"),
        "bob": u(roles.MANAGER, username="bob", first_name="Борис", last_name="Бобров"),
        "cleo": u(roles.CREW_LEADER, username="cleo", first_name="Клео",
                  last_name="Монтажникова"),
        "nick": u(roles.NOC_HEAD, username="nick", first_name="Никита", last_name="Нок"),
        "sue": u(roles.SUPPORT, username="sue", first_name="Сью", last_name="Саппорт"),
    }


@pytest.fixture
def other_branch(db):
    return BranchFactory(city=CityFactory(name="Тюмень"))


@pytest.fixture
def helpdesk(db):
    """internet (group L1), tv (group L2), a policy of 2 h to answer and 8 h to resolve."""
    l1, l2 = Group.objects.create(name="L1"), Group.objects.create(name="L2")
    return {
        "L1": l1, "L2": l2,
        "internet": Category.objects.create(code="internet", name="Интернет", group=l1),
        "tv": Category.objects.create(code="tv", name="ТВ", group=l2),
        "policy": SlaPolicy.objects.create(name="Стандарт", first_response_hours=2,
                                           resolution_hours=8),
    }


# --- working hours to the first response ------------------------------------------------------

def test_first_response_hours_follow_the_branch_calendar(branch):
    rows = [
        # Friday 13.11 17:00 → Monday 16.11 10:00: 1 h + 1 h = 7,200 s (not 65 clock hours)
        ("a", branch.pk, at(13, 17), at(16, 10)),
        # Saturday 14.11 → Monday 16.11 09:30: only Monday's half hour = 1,800 s
        ("a", branch.pk, at(14, 12), at(16, 9, 30)),
        # answered "before" it was created (clock skew): zero
        ("b", branch.pk, at(16, 10), at(16, 9)),
    ]
    assert first_response_hours(rows) == {"a": (2, 9000), "b": (1, 0)}


# --- R4: managers' day and week ---------------------------------------------------------------

@pytest.fixture
def activity(people, branch, other_branch, helpdesk):
    ann, bob = people["ann"], people["bob"]
    # Ann: a card opened Tue 10.11 (and one in October), two stage moves on 10.11 and one on
    # 12.11, payments of 1,000.00 (10.11) and 250.00 (12.11), a call on 10.11, a ticket
    # taken on 11.11. Bob: a card (branch B) and a stage move on Sat 14.11. The crew leader's
    # stage move is not a manager's.
    c1 = card(branch, ann, at(10, 11))
    card(branch, ann, at(20, month=10))
    c2 = card(other_branch, bob, at(14, 10))
    log(c1, "sign_contract", ann, at(10, 12))
    log(c1, "request_expertise", ann, at(10, 15))
    log(c1, "sign_contract", ann, at(12, 9))
    log(c2, "request_expertise", bob, at(14, 11))
    log(c1, "complete_installation", people["cleo"], at(10, 16))
    account = make_account(client=c1)
    pay(account, "1000.00", at(10, 13), ann)
    pay(account, "250.00", at(12, 13), ann)
    call(c1, ann, TUESDAY_10, outcome="stays", called_at=at(10, 14))
    ticket(branch, helpdesk["internet"], created=at(11, 10), created_by=ann)
    return people


def test_a_managers_day(activity):
    data = manager_activity(TUESDAY_10, TUESDAY_10)
    rows = {row["name"]: row["total"] for row in data["rows"]}
    # Tuesday 10.11: Ann — 1 card, 2 stage moves, 1 payment of 1,000.00, 1 call, no ticket;
    # Bob — nothing that day, still listed.
    assert rows["Анна Арбузова"] == {"new_cards": 1, "stage_moves": 2, "payments": 1,
                                     "paid": D("1000.00"), "calls": 1, "tickets_opened": 0}
    assert rows["Борис Бобров"] == {"new_cards": 0, "stage_moves": 0, "payments": 0,
                                    "paid": D("0.00"), "calls": 0, "tickets_opened": 0}
    assert data["days"] == [TUESDAY_10]


def test_a_managers_week(activity):
    data = manager_activity(MONDAY_9, MONDAY_9 + dt.timedelta(days=6))
    rows = {row["name"]: row for row in data["rows"]}
    ann = rows["Анна Арбузова"]
    # The week 09–15.11: Ann — 1 card, 2 + 1 = 3 moves, 1,000 + 250 = 1,250.00 in two
    # payments, 1 call, 1 ticket.
    assert ann["total"] == {"new_cards": 1, "stage_moves": 3, "payments": 2,
                            "paid": D("1250.00"), "calls": 1, "tickets_opened": 1}
    assert ann["days"][dt.date(2026, 11, 12)]["paid"] == D("250.00")
    assert ann["days"][dt.date(2026, 11, 11)]["tickets_opened"] == 1
    # Bob on Saturday 14.11: 1 card, 1 move.
    assert rows["Борис Бобров"]["days"][dt.date(2026, 11, 14)]["new_cards"] == 1
    # All managers by day and for the week: cards 1 + 1, moves 3 + 1.
    assert data["by_day"][dt.date(2026, 11, 14)]["stage_moves"] == 1
    assert (data["total"]["new_cards"], data["total"]["stage_moves"],
            data["total"]["paid"]) == (2, 4, D("1250.00"))
    assert len(data["days"]) == 7


def test_a_managers_week_of_one_branch(activity, other_branch):
    data = manager_activity(MONDAY_9, MONDAY_9 + dt.timedelta(days=6), other_branch)
    # Branch B: only Bob's card and move for it (Bob sits in branch A but worked for B).
    assert [(row["name"], row["total"]["new_cards"], row["total"]["stage_moves"])
            for row in data["rows"]] == [("Борис Бобров", 1, 1)]


# --- R7: overdue ------------------------------------------------------------------------------

NOW = at(23, 12)  # Monday 23.11 12:00


@pytest.fixture
def backlog(people, branch, other_branch, helpdesk):
    sue, ann = people["sue"], people["ann"]
    internet = helpdesk["internet"]
    # Tickets: in work past their resolution due — Sue's (due 20.11), an unassigned one of
    # group L1 (due 22.11), Sue's in branch B (due 21.11); not overdue — waiting for the
    # client (due 19.11: clock stopped), due tomorrow, resolved.
    ticket(branch, internet, created=at(19, 9), assignee=sue, resolution_due=at(20, 17))
    ticket(branch, internet, created=at(20, 9), resolution_due=at(22, 17), status="new")
    ticket(other_branch, internet, created=at(20, 9), assignee=sue,
           resolution_due=at(21, 17))
    ticket(branch, internet, created=at(18, 9), assignee=sue, resolution_due=at(19, 17),
           status="waiting")
    ticket(branch, internet, created=at(23, 9), assignee=sue, resolution_due=at(24, 17))
    ticket(branch, internet, created=at(18, 9), assignee=sue, resolution_due=at(19, 17),
           resolved=at(20, 10))
    # Cards of Ann: a survey due 20.11 not done (expertise), an installation due 19.11 not
    # completed; not overdue: an installation due 25.11, a survey done.
    late_survey = card(branch, ann, stage="expertise")
    Survey.objects.create(card=late_survey, branch=branch, date=dt.date(2026, 11, 19),
                          due_date=dt.date(2026, 11, 20))
    late_install = card(branch, ann, stage="installation")
    Installation.objects.create(card=late_install, due_date=dt.date(2026, 11, 19))
    Installation.objects.create(card=card(branch, ann, stage="installation"),
                                due_date=dt.date(2026, 11, 25))
    done = card(branch, ann, stage="expertise")
    Survey.objects.create(card=done, branch=branch, status="done",
                          due_date=dt.date(2026, 11, 10))
    return {"survey_card": late_survey, "install_card": late_install}


def test_overdue_now_by_branch_and_employee(backlog, people):
    report = overdue_now(now=NOW)
    rows = {(r["branch"], r["employee"] or f"({r['group']})"):
            (r["tickets"], r["surveys"], r["installations"], r["total"]) for r in report["rows"]}
    assert rows == {
        ("Москва — офис", "Анна Арбузова"): (0, 1, 1, 2),
        ("Москва — офис", "Сью Саппорт"): (1, 0, 0, 1),
        ("Москва — офис", "(L1)"): (1, 0, 0, 1),
        ("Тюмень — офис", "Сью Саппорт"): (1, 0, 0, 1),
    }
    # 3 tickets + 1 survey + 1 installation = 5.
    assert report["total"] == {"tickets": 3, "surveys": 1, "installations": 1, "total": 5}
    # The longest overdue ticket first: due 20.11 → 3 days at 23.11.
    assert [t.days_overdue for t in report["tickets"]] == [3, 2, 1]
    # Cards by their guaranteed date: the installation (19.11, 4 days), the survey (20.11).
    assert [(c.pk, c.days_overdue) for c in report["cards"]] == [
        (backlog["install_card"].pk, 4), (backlog["survey_card"].pk, 3)]


def test_overdue_now_of_one_branch(backlog, other_branch):
    report = overdue_now(other_branch, now=NOW)
    assert [(r["employee"], r["tickets"]) for r in report["rows"]] == [("Сью Саппорт", 1)]
    assert report["cards"] == []


@pytest.fixture
def closed_work(people, branch, helpdesk):
    sue, nick, cleo = people["sue"], people["nick"], people["cleo"]
    internet, policy = helpdesk["internet"], helpdesk["policy"]
    # Sue resolves two tickets in November: one by its due, one after; one without an SLA
    # is not counted; one resolved late in December is out.
    ticket(branch, internet, created=at(10, 9), assignee=sue, policy=policy,
           resolved=at(10, 12), resolution_due=at(10, 17))
    ticket(branch, internet, created=at(11, 9), assignee=sue, policy=policy,
           resolved=at(12, 12), resolution_due=at(11, 17))
    ticket(branch, internet, created=at(11, 9), assignee=sue, resolved=at(12, 12))
    ticket(branch, internet, created=at(30, 9), assignee=sue, policy=policy,
           resolved=at(1, 12, month=12), resolution_due=at(30, 17))
    # Nick records two surveys: on the due date, and a day after.
    for recorded, due in ((at(10), 10), (at(12), 11)):
        Survey.objects.create(card=card(branch), branch=branch, status="done",
                              due_date=dt.date(2026, 11, due), recorded_by=nick,
                              recorded_at=recorded)
    # Cleo completes two installations: before the due date and after.
    for completed, due in ((at(10), 12), (at(20), 18)):
        Installation.objects.create(card=card(branch), due_date=dt.date(2026, 11, due),
                                    completed_by=cleo, completed_at=completed)
    return people


def test_deadlines_missed_in_the_period(closed_work):
    report = late_in_period(NOV_1, NOV_30)
    rows = {r["employee"]: r for r in report["rows"]}
    assert (rows["Сью Саппорт"]["tickets"], rows["Сью Саппорт"]["tickets_late"]) == (2, 1)
    assert (rows["Никита Нок"]["surveys"], rows["Никита Нок"]["surveys_late"]) == (2, 1)
    assert (rows["Клео Монтажникова"]["installations"],
            rows["Клео Монтажникова"]["installations_late"]) == (2, 1)
    assert rows["Сью Саппорт"]["late_percent"] == D("50.0")  # 1 of 2
    # closed 2 + 2 + 2 = 6, late 1 + 1 + 1 = 3 → 50.0 %.
    total = report["total"]
    assert (total["closed"], total["late"], total["late_percent"]) == (6, 3, D("50.0"))


# --- Q5: ticket KPIs --------------------------------------------------------------------------

@pytest.fixture
def kpi_tickets(people, branch, other_branch, helpdesk):
    internet, tv, policy, sue = (helpdesk["internet"], helpdesk["tv"], helpdesk["policy"],
                                 people["sue"])
    # k1 internet: Tue 10.11 10:00, answered 11:30 (1.5 h, due 12:00), resolved 15:00 (due
    # 18:00): met; rated 5 on 11.11.
    k1 = ticket(branch, internet, created=at(10, 10), assignee=sue, policy=policy,
                first=at(10, 11, 30), first_due=at(10, 12), resolved=at(10, 15),
                resolution_due=at(10, 18))
    rate(k1, 5, at(11))
    # k2 internet: Fri 13.11 17:00, answered Mon 16.11 10:00 (2 working h, at its due),
    # resolved 17.11 (due 16.11 16:00): missed; rated 2 on 18.11.
    k2 = ticket(branch, internet, created=at(13, 17), assignee=sue, policy=policy,
                first=at(16, 10), first_due=at(16, 10), resolved=at(17, 12),
                resolution_due=at(16, 16))
    rate(k2, 2, at(18))
    # k3 tv: Tue 17.11 09:00, answered 13:00 (4 h, due 11:00: late), resolved 18.11 10:00
    # (due 17.11 17:00): missed; rated 3 on 18.11.
    k3 = ticket(branch, tv, created=at(17, 9), assignee=sue, policy=policy,
                first=at(17, 13), first_due=at(17, 11), resolved=at(18, 10),
                resolution_due=at(17, 17))
    rate(k3, 3, at(18))
    # k4 tv: Tue 24.11 09:00, not answered yet.
    ticket(branch, tv, created=at(24, 9), policy=policy, first_due=at(24, 11),
           resolution_due=at(24, 17))
    # k5 internet, no policy: Fri 30.10 10:00 (October), answered Mon 02.11 10:00 (Friday
    # 10–18 = 8 h + Monday 9–10 = 1 h = 9 h), resolved 02.11 12:00.
    ticket(branch, internet, created=at(30, 10, month=10), assignee=sue, first=at(2, 10),
           resolved=at(2, 12))
    # Branch B: a ticket created 10.11, left out when the report is for branch A.
    ticket(other_branch, internet, created=at(10, 9))
    return helpdesk


def test_ticket_kpis_by_week(kpi_tickets, branch):
    report = ticket_kpis(NOV_1, NOV_30, branch, "week")
    weeks = {row["bucket"].strftime("%d.%m"): row for row in report["by_bucket"]}
    # Sunday 01.11 belongs to the week from Monday 26.10; the last week starts 30.11.
    assert list(weeks) == ["26.10", "02.11", "09.11", "16.11", "23.11", "30.11"]
    assert weeks["26.10"]["created"] == 0
    # 02.11: k5's first response (9 h, no deadline) and resolution (no policy).
    w = weeks["02.11"]
    assert (w["created"], w["first_responses"], w["first_response_hours"],
            w["first_response_on_time_percent"], w["resolved"], w["sla_met_percent"]) == \
        (0, 1, D("9.00"), None, 1, None)
    # 09.11: k1 and k2 created; k1 answered (1.5 h, in time) and resolved (met), rated 5.
    w = weeks["09.11"]
    assert (w["created"], w["first_responses"], w["first_response_hours"],
            w["first_response_on_time_percent"], w["resolved"], w["sla_met_percent"],
            w["ratings"], w["rating_average"], w["poor_percent"]) == \
        (2, 1, D("1.50"), D("100.0"), 1, D("100.0"), 1, D("5.00"), D("0.0"))
    # 16.11: k3 created; k2 (2 h, in time) and k3 (4 h, late) answered → (2 + 4) / 2 = 3.00,
    # 1 of 2 in time = 50.0 %; both resolved, neither met = 0.0 %; rated 2 and 3 → 2.50,
    # both poor = 100.0 %.
    w = weeks["16.11"]
    assert (w["created"], w["first_responses"], w["first_response_hours"],
            w["first_response_on_time_percent"], w["resolved"], w["sla_met_percent"],
            w["ratings"], w["rating_average"], w["poor_percent"]) == \
        (1, 2, D("3.00"), D("50.0"), 2, D("0.0"), 2, D("2.50"), D("100.0"))
    assert weeks["23.11"]["created"] == 1  # k4


def test_ticket_kpis_total_and_by_month(kpi_tickets, branch):
    report = ticket_kpis(NOV_1, NOV_30, branch, "month")
    assert [row["bucket"] for row in report["by_bucket"]] == [NOV_1]
    total = report["total"]
    # created k1–k4 = 4; first responses (9 + 1.5 + 2 + 4) / 4 = 4.125 → 4.13 h, in time 2 of
    # the 3 with a deadline = 66.7 %; resolved 4, with a policy 3, met 1 = 33.3 %; ratings
    # 5, 2, 3 → 3.33, poor 2 of 3 = 66.7 %.
    assert (total["created"], total["first_responses"], total["first_response_hours"],
            total["first_response_on_time_percent"], total["resolved"],
            total["sla_met_percent"], total["ratings"], total["rating_average"],
            total["poor_percent"]) == \
        (4, 4, D("4.13"), D("66.7"), 4, D("33.3"), 3, D("3.33"), D("66.7"))
    assert report["by_bucket"][0]["created"] == 4
    # Q5's targets: under 8 working hours (met), poor ratings 0.4 % (missed).
    assert total["first_response_above_target"] is False
    assert total["poor_above_target"] is True


def test_ticket_kpis_by_category_and_group(kpi_tickets, branch):
    report = ticket_kpis(NOV_1, NOV_30, branch, "month")
    categories = {e["label"]: e["total"] for e in report["categories"]}
    internet, tv = categories["Интернет"], categories["ТВ"]
    # Интернет: created k1, k2; answered k5 9 h, k1 1.5 h, k2 2 h → 12.5 / 3 = 4.1667 → 4.17;
    # resolved k5, k1, k2: with a policy 2, met 1 → 50.0 %; rated 5 and 2 → 3.50, poor 50.0 %.
    assert (internet["created"], internet["first_responses"], internet["first_response_hours"],
            internet["resolved"], internet["sla_met_percent"], internet["rating_average"],
            internet["poor_percent"]) == (2, 3, D("4.17"), 3, D("50.0"), D("3.50"), D("50.0"))
    # ТВ: created k3, k4; answered k3 4 h; resolved k3, missed → 0.0 %; rated 3 → poor 100 %.
    assert (tv["created"], tv["first_responses"], tv["first_response_hours"], tv["resolved"],
            tv["sla_met_percent"], tv["rating_average"], tv["poor_percent"]) == \
        (2, 1, D("4.00"), 1, D("0.0"), D("3.00"), D("100.0"))
    groups = {e["label"]: e["total"]["created"] for e in report["groups"]}
    assert groups == {"L1": 2, "L2": 2}


def test_ticket_kpis_of_all_branches(kpi_tickets):
    # The branch B ticket adds one created in the week of 09.11.
    report = ticket_kpis(NOV_1, NOV_30, None, "month")
    assert report["total"]["created"] == 5


def test_ticket_kpis_queries_do_not_grow(kpi_tickets, branch, people):
    from django.db import connection

    with CaptureQueriesContext(connection) as before:
        ticket_kpis(NOV_1, NOV_30, None, "week")
    for n in range(10):
        k = ticket(branch, kpi_tickets["tv"], created=at(3 + n, 10), assignee=people["sue"],
                   policy=kpi_tickets["policy"], first=at(3 + n, 11), first_due=at(3 + n, 12),
                   resolved=at(3 + n, 15), resolution_due=at(3 + n, 18))
        rate(k, 4, at(3 + n, 16))
    with CaptureQueriesContext(connection) as after:
        ticket_kpis(NOV_1, NOV_30, None, "week")
    assert len(after.captured_queries) == len(before.captured_queries)


# --- SP-10: hours -----------------------------------------------------------------------------

@pytest.fixture
def hourly_clients(branch, other_branch, helpdesk, people):
    tariff = TariffFactory(name="Бизнес-сервис", included_hours=D("10.00"),
                           hour_price=D("1200.00"), monthly_fee=D("5000.00"))
    out = {}
    for key, where, minutes, inn in (("moscow", branch, 240, "7707083893"),
                                     ("tyumen", other_branch, 720, "7736207543")):
        client = ClientCardFactory(kind="company", name=f"ООО «{key}»", inn=inn,
                                   stage="active", branch=where)
        make_account(client=client, tariff=tariff)
        t = ticket(where, helpdesk["internet"], created=at(2, 10), client=client)
        TimeEntry.objects.create(ticket=t, user=people["sue"], day=dt.date(2026, 11, 5),
                                 minutes=minutes)
        out[key] = client
    return out


def test_hours_of_one_branch_and_all(hourly_clients, other_branch):
    # Moscow: 240 min = 4.00 h of 10 → 40 %; Tyumen: 720 min = 12.00 h of 10 → 120 %.
    everything = hours_utilization(NOV_1)
    assert [(r["client"], r["used"], r["unused"], r["percent"]) for r in everything["rows"]] \
        == [("ООО «moscow»", D("4.00"), D("6.00"), 40), ("ООО «tyumen»", D("12.00"),
                                                          D("0.00"), 120)]
    # totals: included 20, used 16 → 80.0 %; unused 6 + 0.
    assert everything["total"] == {"included": D("20.00"), "used": D("16.00"),
                                   "unused": D("6.00"), "percent": D("80.0")}
    tyumen = hours_utilization(NOV_1, other_branch)
    assert [r["client"] for r in tyumen["rows"]] == ["ООО «tyumen»"]


# --- the pages --------------------------------------------------------------------------------

@pytest.fixture
def director(make_user):
    web = Client()
    web.force_login(make_user(roles.DIRECTOR, username="boss"))
    return web


NOVEMBER = {"period": "custom", "date_from": "2026-11-01", "date_to": "2026-11-30"}
# base.html and the session: session, user, his branch, permissions (2), role names, open
# outages — 7; the role check — 1.
PAGE = 8


def workbook(response):
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    return load_workbook(io.BytesIO(b"".join(response.streaming_content)))


def test_operations_hub_and_index(director):
    response = director.get("/reports/operations/")
    assert response.status_code == 200
    text = response.content.decode()
    for path in ("managers", "overdue", "tickets", "hours"):
        assert f"/reports/operations/{path}/" in text
    index = director.get("/reports/all/").content.decode()
    assert "/reports/employees/" in index and "/reports/operations/hours/" in index


def test_managers_page_print_and_excel(activity, director, django_assert_max_num_queries):
    week = {"span": "week", "day": "2026-11-11"}
    # the report: five figures and the managers — 6; the branch list — 1.
    with django_assert_max_num_queries(PAGE + 7):
        response = director.get("/reports/operations/managers/", week)
    assert response.status_code == 200
    text = response.content.decode()
    assert "09.11.2026" in text and "15.11.2026" in text and "Анна Арбузова" in text
    printed = director.get("/reports/operations/managers/", {**week, "format": "print"})
    assert printed.status_code == 200 and b'class="navbar' not in printed.content
    book = workbook(director.get("/reports/operations/managers/", {**week, "format": "xlsx"}))
    assert len(book.sheetnames) == 3
    rows = list(book.worksheets[0].iter_rows(values_only=True))
    ann = next(row for row in rows if row[0] == "Анна Арбузова")
    assert ann[2:] == (1, 3, 2, 1250, 1, 1)
    days = list(book.worksheets[1].iter_rows(values_only=True))
    assert len(days) == 1 + 4  # Ann on 10, 11, 12.11; Bob on 14.11


def test_overdue_page_and_excel(backlog, closed_work, director,
                                django_assert_max_num_queries):
    # now: two grouped queries, three name look-ups, the two lists; the period: three
    # grouped queries and two name look-ups; the branch list — 13.
    with django_assert_max_num_queries(PAGE + 13):
        response = director.get("/reports/operations/overdue/", NOVEMBER)
    assert response.status_code == 200
    book = workbook(director.get("/reports/operations/overdue/",
                                 {**NOVEMBER, "format": "xlsx"}))
    assert len(book.sheetnames) == 4
    late = list(book.worksheets[3].iter_rows(values_only=True))
    # closed 2 + 2 + 2 (closed_work) + 1 resolved late (backlog) = 7, late 4 → 57.1 %.
    assert late[-1][-1] == 57.1


def test_ticket_kpi_page_and_excel(kpi_tickets, director, django_assert_max_num_queries):
    # five grouped queries, the first responses' branches and calendar, the category and
    # group names — 9; the branch list — 1.
    with django_assert_max_num_queries(PAGE + 10):
        response = director.get("/reports/operations/tickets/", {**NOVEMBER, "by": "week"})
    assert response.status_code == 200
    assert 'id="chart-kpi"' in response.content.decode()
    book = workbook(director.get("/reports/operations/tickets/",
                                 {**NOVEMBER, "by": "month", "format": "xlsx"}))
    assert len(book.sheetnames) == 3
    months = list(book.worksheets[0].iter_rows(values_only=True))
    # month, created, first responses, average hours, in time %, resolved, within SLA %, …
    assert months[1][1:7] == (5, 4, 4.13, 66.7, 4, 33.3)


def test_hours_page_and_excel(hourly_clients, director, other_branch):
    response = director.get("/reports/operations/hours/", {"month": "2026-11"})
    assert response.status_code == 200
    text = response.content.decode()
    assert "ООО «moscow»" in text and "ООО «tyumen»" in text
    assert "/tickets/hours/?month=2026-11" in text  # the director sees the helpdesk page
    book = workbook(director.get("/reports/operations/hours/", {
        "month": "2026-11", "branch": other_branch.pk, "format": "xlsx"}))
    rows = list(book.worksheets[0].iter_rows(values_only=True))
    assert rows[1][:7] == ("ООО «tyumen»", rows[1][1], "Бизнес-сервис", 10, 12, 0, 120)


def test_operations_pages_are_for_report_roles(people):
    web = Client()
    web.force_login(people["ann"])
    for path in ("", "managers/", "overdue/", "tickets/", "hours/"):
        assert web.get(f"/reports/operations/{path}").status_code == 403


@pytest.mark.parametrize("path", ["", "managers/", "overdue/", "tickets/", "hours/"])
def test_operations_pages_open_with_their_defaults(director, path):
    assert director.get(f"/reports/operations/{path}").status_code == 200


def test_wrong_filters_fall_back_to_the_defaults(director):
    response = director.get("/reports/operations/managers/", {"day": "not-a-day"})
    assert response.status_code == 200 and response.context["span"] == "day"
    response = director.get("/reports/operations/tickets/", {"by": "year"})
    assert response.status_code == 200 and response.context["by"] == "week"
    response = director.get("/reports/operations/hours/", {"month": "13-2026"})
    assert response.status_code == 200
