"""Employees (D11): every figure of the three tables on a small hand-built November 2026,
with the arithmetic in the comments; the page, its Excel and its query count.

Branch A is «Москва — офис» (the default branch), B «Тюмень — офис». Times are Moscow time;
the period is 01.11–30.11.2026. Mondays: 02, 09, 16, 23, 30 November."""

import datetime as dt
import io
import itertools
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth.models import Group
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from openpyxl import load_workbook

from billing.services.payments import payment_accept, payment_cancel
from connections.models import ClientCard, Crew, Installation, StageLog, Survey
from ispcrm import roles
from reports.selectors.employees import employees_report
from tests.factories import BranchFactory, CityFactory, ClientCardFactory, make_account
from tickets.models import Category, Rating, RetentionCall, SlaPolicy, Ticket, TimeEntry

pytestmark = pytest.mark.django_db
D = Decimal
MSK = ZoneInfo("Europe/Moscow")
NOV_1, NOV_30 = dt.date(2026, 11, 1), dt.date(2026, 11, 30)
_receipts = itertools.count(1)


def at(day: int, hour: int = 12, minute: int = 0, month: int = 11) -> dt.datetime:
    return dt.datetime(2026, month, day, hour, minute, tzinfo=MSK)


def card(branch, lead=None, created=None, activated=None, days=None, stage="active",
         **fields) -> ClientCard:
    """A card created (and activated) at the given moments; ``days``: connection_days."""
    made = ClientCardFactory(branch=branch, lead_manager=lead, stage=stage, **fields)
    ClientCard.objects.filter(pk=made.pk).update(
        created_at=created or at(1, 9, month=10), activated_at=activated, connection_days=days)
    made.refresh_from_db()
    return made


def pay(account, amount, when, actor):
    payment, _created = payment_accept(account=account, amount=D(amount), channel="cash",
                                       external_id=f"r{next(_receipts)}", paid_at=when,
                                       actor=actor)
    return payment


def log(card_, transition, actor, when):
    return StageLog.objects.create(card=card_, transition=transition, source="contract",
                                   target="installation", actor=actor, at=when)


def call(client, actor, due, *, status="done", outcome="", called_at=None):
    return RetentionCall.objects.create(client=client, manager=actor, due=due, status=status,
                                        outcome=outcome, called_by=actor if status == "done"
                                        else None, called_at=called_at)


def ticket(branch, category, *, created, assignee=None, policy=None, first=None,
           first_due=None, resolved=None, resolution_due=None, status=None, group=None,
           created_by=None, client=None) -> Ticket:
    return Ticket.objects.create(
        branch=branch, category=category, channel="phone", subject="Нет связи",
        created_at=created, assignee=assignee, policy=policy, first_response_at=first,
        first_response_due=first_due, resolved_at=resolved, resolution_due=resolution_due,
        status=status or ("resolved" if resolved else "open"), group=group or category.group,
        created_by=created_by, client=client)


def rate(ticket_, score, when):
    return Rating.objects.create(ticket=ticket_, score=score, assignee=ticket_.assignee,
                                 created_at=when)


class Staff:
    """The hand-built company. Each figure's expected value is worked out in the tests."""

    def __init__(self, make_user, branch):
        self.a = branch
        self.b = BranchFactory(city=CityFactory(name="Тюмень"))
        u = make_user
        self.ann = u(roles.MANAGER, username="ann", first_name="Анна", last_name="Арбузова")
        self.bob = u(roles.MANAGER, username="bob", first_name="Борис", last_name="Бобров")
        self.dora = u(roles.MANAGER, username="dora", first_name="Дора", last_name="Дынина",
                      branch=self.b)
        self.gone = u(roles.MANAGER, username="gone", last_name="Уволенный", is_active=False)
        self.acc = u(roles.ACCOUNTANT, username="acc", last_name="Бухгалтерова")
        self.nick = u(roles.NOC_HEAD, username="nick", first_name="Никита", last_name="Нок")
        self.cleo = u(roles.CREW_LEADER, username="cleo", first_name="Клео",
                      last_name="Монтажникова")
        self.sue = u(roles.SUPPORT, username="sue", first_name="Сью", last_name="Саппорт")
        self.sam = u(roles.SUPPORT, username="sam", first_name="Сэм", last_name="Сервис")
        self._managers()
        self._technical()
        self._support()

    def _managers(self):
        a, b, ann, bob = self.a, self.b, self.ann, self.bob
        # Cards: c1 opened 05.11, activated 20.11 in 2.50 working days; c2 opened in
        # October, activated 10.11 in 3.25; c3 opened 30.11 23:30 (still November); c6
        # opened 31.10 23:59 (October); c4 (Bob) opened 01.12 00:10 (December); c5 (Bob,
        # branch B) opened 02.11, activated 25.11 without a fee paid (no connection days).
        self.c1 = card(a, ann, at(5), at(20), D("2.50"))
        self.c2 = card(a, ann, at(15, month=10), at(10), D("3.25"))
        self.c3 = card(a, ann, at(30, 23, 30), stage="commercial")
        self.c6 = card(a, ann, at(31, 23, 59, month=10), stage="commercial")
        self.c4 = card(a, bob, at(1, 0, 10, month=12), stage="commercial")
        self.c5 = card(b, bob, at(2), at(25), None)
        # Contracts: Ann signs c1 on 10.11 and another on 01.12 (December); Bob signs c5 on
        # 12.11; Ann's request for a survey is not a signing.
        log(self.c1, "sign_contract", ann, at(10))
        log(self.c3, "sign_contract", ann, at(1, 9, month=12))
        log(self.c5, "sign_contract", bob, at(12))
        log(self.c3, "request_expertise", ann, at(5))
        # Payments: Ann takes 1,000.00 (10.11) and 500.50 (30.11 20:00), 300 on 01.12, and
        # 200 on 11.11 that is cancelled; Bob 700 (15.11, branch B); the accountant 900.
        acc1, acc5 = make_account(client=self.c1), make_account(client=self.c5)
        pay(acc1, "1000.00", at(10), ann)
        pay(acc1, "500.50", at(30, 20), ann)
        pay(acc1, "300.00", at(1, 10, month=12), ann)
        payment_cancel(payment=pay(acc1, "200.00", at(11), ann), reason="ошибка",
                       actor=self.acc)
        pay(acc5, "700.00", at(15), bob)
        pay(acc1, "900.00", at(12), self.acc)
        # Retention calls: Ann — stays (10.11), stays (11.11), promised to pay (12.11), one
        # on 01.12, one missed (due 20.11), one still to make (25.11); Bob — unreachable.
        call(self.c1, ann, dt.date(2026, 11, 10), outcome="stays", called_at=at(10))
        call(self.c2, ann, dt.date(2026, 11, 11), outcome="stays", called_at=at(11))
        call(self.c1, ann, dt.date(2026, 11, 12), outcome="promised_to_pay",
             called_at=at(12))
        call(self.c1, ann, dt.date(2026, 12, 1), outcome="stays",
             called_at=at(1, month=12))
        call(self.c2, ann, dt.date(2026, 11, 20), status="skipped")
        call(self.c2, ann, dt.date(2026, 11, 25), status="open")
        call(self.c5, bob, dt.date(2026, 11, 15), outcome="unreachable", called_at=at(15))

    def _technical(self):
        a, nick, cleo = self.a, self.nick, self.cleo

        def survey(recorded, due, status="done"):
            return Survey.objects.create(
                card=card(a), branch=a, status=status, due_date=due,
                recorded_by=nick if status == "done" else None,
                recorded_at=recorded if status == "done" else None)

        # s1 on its due day; s2 a day late; s3 recorded 13.11 01:00 Moscow (12.11 22:00 UTC)
        # against a due date of 12.11: late in local time; s4 not done; s5 in December.
        survey(at(10), dt.date(2026, 11, 10))
        survey(at(12), dt.date(2026, 11, 11))
        survey(at(13, 1), dt.date(2026, 11, 12))
        survey(None, dt.date(2026, 11, 12), status="scheduled")
        survey(at(1, month=12), dt.date(2026, 12, 1))
        self.alpha = Crew.objects.create(branch=a, name="Альфа")
        self.beta = Crew.objects.create(branch=a, name="Бета")

        def install(completed, due, crew):
            return Installation.objects.create(card=card(a), due_date=due, crew=crew,
                                               completed_by=cleo if completed else None,
                                               completed_at=completed)

        # i1 two days early (Alpha), i2 two days late (Alpha), i3 on its day (Beta), i4 not
        # completed.
        install(at(10), dt.date(2026, 11, 12), self.alpha)
        install(at(20), dt.date(2026, 11, 18), self.alpha)
        install(at(21, 17), dt.date(2026, 11, 21), self.beta)
        install(None, dt.date(2026, 11, 21), self.beta)

    def _support(self):
        a, sue, sam = self.a, self.sue, self.sam
        self.l1 = Group.objects.create(name="L1")
        self.internet = Category.objects.create(code="internet", name="Интернет",
                                                group=self.l1)
        policy = self.policy = SlaPolicy.objects.create(
            name="Стандарт", first_response_hours=2, resolution_hours=8)
        # t1: Tue 10.11 10:00, answered 11:30 (1.5 working h, due 12:00), resolved 15:00
        # (due 18:00): SLA met.
        self.t1 = ticket(a, self.internet, created=at(10, 10), assignee=sue, policy=policy,
                         first=at(10, 11, 30), first_due=at(10, 12), resolved=at(10, 15),
                         resolution_due=at(10, 18))
        # t2: Fri 13.11 17:00, answered Mon 16.11 10:00 = 1 h Friday + 1 h Monday = 2 working
        # hours, exactly at its due; resolved 17.11 12:00 after its due 16.11 16:00: missed.
        self.t2 = ticket(a, self.internet, created=at(13, 17), assignee=sue, policy=policy,
                         first=at(16, 10), first_due=at(16, 10), resolved=at(17, 12),
                         resolution_due=at(16, 16))
        # t3: no SLA policy; 20.11 09:00, answered 09:30 (0.5 h), resolved 10:00.
        self.t3 = ticket(a, self.internet, created=at(20, 9), assignee=sue,
                         first=at(20, 9, 30), resolved=at(20, 10))
        # t4: created and answered in October, resolved 02.11 10:00 within both deadlines.
        self.t4 = ticket(a, self.internet, created=at(30, 9, month=10), assignee=sue,
                         policy=policy, first=at(30, 10, month=10),
                         first_due=at(30, 11, month=10), resolved=at(2, 10),
                         resolution_due=at(2, 12))
        # t5 (Sam): 23.11 10:00, answered 12:30 (2.5 h), still open.
        self.t5 = ticket(a, self.internet, created=at(23, 10), assignee=sam, policy=policy,
                         first=at(23, 12, 30), first_due=at(23, 12),
                         resolution_due=at(23, 18))
        # t6 (Sam): 24.11 09:00, answered 09:10 (10 minutes), resolved 11:00: met.
        self.t6 = ticket(a, self.internet, created=at(24, 9), assignee=sam, policy=policy,
                         first=at(24, 9, 10), first_due=at(24, 11), resolved=at(24, 11),
                         resolution_due=at(24, 17))
        # Not support's: unassigned (t7) and held by a manager (t8).
        ticket(a, self.internet, created=at(24, 9), first=at(24, 9, 5), resolved=at(24, 10))
        ticket(a, self.internet, created=at(24, 9), assignee=self.ann, first=at(24, 9, 5),
               resolved=at(24, 10))
        # Ratings: t1 5 (11.11), t2 2 (18.11), t3 3 (21.11), t4 1 given on 31.10 (October),
        # t6 4 (25.11).
        rate(self.t1, 5, at(11))
        rate(self.t2, 2, at(18))
        rate(self.t3, 3, at(21))
        rate(self.t4, 1, at(31, month=10))
        rate(self.t6, 4, at(25))
        # Time: Sue 90 min on 10.11 and 30 on 16.11 (120 = 2.00 h); 60 min on 01.12.
        TimeEntry.objects.create(ticket=self.t1, user=sue, day=dt.date(2026, 11, 10),
                                 minutes=90)
        TimeEntry.objects.create(ticket=self.t2, user=sue, day=dt.date(2026, 11, 16),
                                 minutes=30)
        TimeEntry.objects.create(ticket=self.t2, user=sue, day=dt.date(2026, 12, 1),
                                 minutes=60)


@pytest.fixture
def staff(make_user, branch):
    return Staff(make_user, branch)


@pytest.fixture
def report(staff):
    return employees_report(NOV_1, NOV_30)


def rows_by_login(table: dict, staff: Staff) -> dict:
    names = {u.pk: u.username for u in (staff.ann, staff.bob, staff.dora, staff.gone,
                                         staff.acc, staff.nick, staff.cleo, staff.sue,
                                         staff.sam)}
    return {names[row["user_id"]]: row for row in table["rows"]}


# --- managers ---------------------------------------------------------------------------------

def test_who_is_in_the_managers_table(report, staff):
    # Active managers of any branch (Ann, Bob, Dora); not the inactive one without figures,
    # not the accountant who took a payment; ordered by last name.
    assert [row["name"] for row in report["managers"]["rows"]] == [
        "Анна Арбузова", "Борис Бобров", "Дора Дынина"]


def test_cards_opened_and_activated(report, staff):
    rows = rows_by_login(report["managers"], staff)
    # Ann opened c1 (05.11) and c3 (30.11 23:30); c2 and c6 are October's.
    assert rows["ann"]["cards_opened"] == 2
    # Bob opened c5 (02.11); c4 at 01.12 00:10 Moscow is December's.
    assert rows["bob"]["cards_opened"] == 1
    # Activated in November: Ann's c1 (20.11) and c2 (10.11); Bob's c5 (25.11).
    assert (rows["ann"]["activated"], rows["bob"]["activated"]) == (2, 1)
    # Average connection: (2.50 + 3.25) / 2 = 2.875 → 2.88; Bob's card has no days.
    assert rows["ann"]["connection_days"] == D("2.88")
    assert rows["bob"]["connection_days"] is None
    assert rows["dora"]["cards_opened"] == rows["dora"]["activated"] == 0


def test_contracts_signed(report, staff):
    rows = rows_by_login(report["managers"], staff)
    # Ann: 10.11 (the December one and the survey request do not count); Bob: 12.11.
    assert (rows["ann"]["contracts_signed"], rows["bob"]["contracts_signed"]) == (1, 1)


def test_payments_taken(report, staff):
    rows = rows_by_login(report["managers"], staff)
    # Ann: 1,000.00 + 500.50 = 1,500.50 in two payments (the cancelled 200 and December's
    # 300 are out); Bob: 700.00.
    assert (rows["ann"]["payments"], rows["ann"]["paid"]) == (2, D("1500.50"))
    assert (rows["bob"]["payments"], rows["bob"]["paid"]) == (1, D("700.00"))
    assert (rows["dora"]["payments"], rows["dora"]["paid"]) == (0, D("0.00"))


def test_retention_calls_and_outcomes(report, staff):
    rows = rows_by_login(report["managers"], staff)
    # Ann called three times in November: stays twice, promised to pay once; one missed.
    assert rows["ann"]["calls"] == 3
    assert rows["ann"]["outcomes"] == {"stays": 2, "promised_to_pay": 1}
    assert rows["ann"]["calls_skipped"] == 1
    assert (rows["bob"]["calls"], rows["bob"]["outcomes"]) == (1, {"unreachable": 1})


def test_managers_total(report):
    total = report["managers"]["total"]
    # opened 2 + 1; contracts 1 + 1; activated 2 + 1; average over the two cards with days
    # (2.50 + 3.25) / 2 = 2.88; payments 2 + 1 = 3 for 1,500.50 + 700 = 2,200.50; calls 3 + 1.
    assert (total["cards_opened"], total["contracts_signed"], total["activated"]) == (3, 2, 3)
    assert total["connection_days"] == D("2.88")
    assert (total["payments"], total["paid"]) == (3, D("2200.50"))
    assert (total["calls"], total["calls_skipped"]) == (4, 1)
    assert total["outcomes"] == {"stays": 2, "promised_to_pay": 1, "unreachable": 1}


def test_branch_filter_counts_the_clients_branch(staff):
    report = employees_report(NOV_1, NOV_30, staff.b)
    rows = {row["name"]: row for row in report["managers"]["rows"]}
    # Branch B: Bob's work for c5 (he sits in branch A) and Dora, B's manager, with zeros.
    assert list(rows) == ["Борис Бобров", "Дора Дынина"]
    bob = rows["Борис Бобров"]
    assert (bob["cards_opened"], bob["activated"], bob["contracts_signed"], bob["payments"],
            bob["paid"], bob["calls"]) == (1, 1, 1, 1, D("700.00"), 1)
    assert report["technical"]["rows"] == [] and report["support"]["rows"] == []


# --- technical staff --------------------------------------------------------------------------

def test_surveys_and_installations(report, staff):
    rows = rows_by_login(report["technical"], staff)
    assert list(rows) == ["cleo", "nick"]  # Монтажникова, Нок
    nick, cleo = rows["nick"], rows["cleo"]
    # Nick: s1, s2, s3 recorded in November; only s1 by its date (s3 is 13.11 in Moscow)
    # → 1 of 3 = 33.3 %.
    assert (nick["surveys"], nick["surveys_on_time"], nick["surveys_on_time_percent"]) == \
        (3, 1, D("33.3"))
    # Cleo: i1, i2, i3 completed; i1 and i3 by their dates → 2 of 3 = 66.7 %.
    assert (cleo["installations"], cleo["installations_on_time"],
            cleo["installations_on_time_percent"]) == (3, 2, D("66.7"))
    assert nick["installations"] == 0 and nick["installations_on_time_percent"] is None
    total = report["technical"]["total"]
    assert (total["surveys"], total["surveys_on_time"], total["installations"],
            total["installations_on_time"]) == (3, 1, 3, 2)


def test_crews(report):
    # Alpha: i1 on time, i2 late → 1 of 2 = 50.0 %; Beta: i3 → 100.0 %.
    assert [(c["name"], c["installations"], c["installations_on_time"],
             c["installations_on_time_percent"]) for c in report["crews"]] == [
        ("Альфа", 2, 1, D("50.0")), ("Бета", 1, 1, D("100.0"))]


# --- support ----------------------------------------------------------------------------------

def test_tickets_handled_and_sla(report, staff):
    rows = rows_by_login(report["support"], staff)
    assert list(rows) == ["sue", "sam"]  # Саппорт, Сервис
    sue, sam = rows["sue"], rows["sam"]
    # Sue resolved t1, t2, t3, t4 in November; with a policy: t1, t2, t4; met: t1 and t4
    # (t2 was resolved after its due) → 2 of 3 = 66.7 %.
    assert (sue["handled"], sue["with_policy"], sue["sla_met"], sue["sla_met_percent"]) == \
        (4, 3, 2, D("66.7"))
    # Sam resolved t6 in time (t5 is open) → 100.0 %.
    assert (sam["handled"], sam["sla_met_percent"]) == (1, D("100.0"))


def test_first_response_in_working_hours(report, staff):
    rows = rows_by_login(report["support"], staff)
    # Sue's first responses in November: t1 1.5 h, t2 2 h (Friday 17–18 and Monday 9–10,
    # not the 65 clock hours), t3 0.5 h → 4 / 3 = 1.333 → 1.33 (t4 was answered in October).
    assert (rows["sue"]["first_responses"], rows["sue"]["first_response_hours"]) == \
        (3, D("1.33"))
    # Sam: t5 2.5 h and t6 10 min → (9,000 + 600) s / 2 = 4,800 s = 1.333 h → 1.33.
    assert (rows["sam"]["first_responses"], rows["sam"]["first_response_hours"]) == \
        (2, D("1.33"))


def test_ratings(report, staff):
    rows = rows_by_login(report["support"], staff)
    # Sue in November: 5, 2, 3 (the 1 was given in October) → average 10 / 3 = 3.33; poor
    # (≤ 3): 2 of 3 = 66.7 %.
    sue = rows["sue"]
    assert (sue["ratings"], sue["rating_average"], sue["poor_ratings"], sue["poor_percent"]) \
        == (3, D("3.33"), 2, D("66.7"))
    sam = rows["sam"]
    assert (sam["ratings"], sam["rating_average"], sam["poor_percent"]) == (1, D("4.00"),
                                                                           D("0.0"))


def test_hours_logged(report, staff):
    # Sue: 90 + 30 = 120 minutes = 2.00 h (December's hour is out).
    assert rows_by_login(report["support"], staff)["sue"]["hours_logged"] == D("2.00")


def test_support_total(report):
    total = report["support"]["total"]
    # resolved 4 + 1 = 5; with a policy 3 + 1 = 4; met 2 + 1 = 3 → 75.0 %.
    assert (total["handled"], total["sla_met_percent"]) == (5, D("75.0"))
    # first responses: (5,400 + 7,200 + 1,800 + 9,000 + 600) s / 5 = 4,800 s → 1.33 h.
    assert (total["first_responses"], total["first_response_hours"]) == (5, D("1.33"))
    # ratings 5, 2, 3, 4 → 14 / 4 = 3.50; poor 2 of 4 = 50.0 %.
    assert (total["ratings"], total["rating_average"], total["poor_percent"]) == \
        (4, D("3.50"), D("50.0"))


def test_the_queries_do_not_grow_with_the_data(staff, make_user):
    with CaptureQueriesContext(connection) as before:
        employees_report(NOV_1, NOV_30)
    for n in range(5):  # five more managers, each with a card, a payment and a call
        manager = make_user(roles.MANAGER, username=f"extra{n}")
        extra = card(staff.a, manager, at(3), at(4), D("1.00"))
        pay(make_account(client=extra), "10.00", at(5), manager)
        call(extra, manager, dt.date(2026, 11, 6), outcome="stays", called_at=at(6))
    with CaptureQueriesContext(connection) as after:
        report = employees_report(NOV_1, NOV_30)
    assert len(after.captured_queries) == len(before.captured_queries)
    assert len(report["managers"]["rows"]) == 8


# --- the page ---------------------------------------------------------------------------------

@pytest.fixture
def director(make_user):
    web = Client()
    web.force_login(make_user(roles.DIRECTOR, username="boss"))
    return web


NOVEMBER = {"period": "custom", "date_from": "2026-11-01", "date_to": "2026-11-30"}


def test_the_page_in_a_fixed_number_of_queries(staff, director, django_assert_max_num_queries):
    # The report: managers 5, technical 2, crews 2 (figures and names), support 4 and the
    # first responses' branches and calendar 2, the three tables' people 3 — 18; the page:
    # the role check and the branch list — 2; base.html and the session: session, user, his
    # branch, permissions (2), role names, open outages — 7.
    with django_assert_max_num_queries(27):
        response = director.get("/reports/employees/", NOVEMBER)
    assert response.status_code == 200
    text = response.content.decode()
    assert "Анна Арбузова" in text and "Клео Монтажникова" in text and "Сью Саппорт" in text
    assert 'id="chart-managers"' in text


def test_only_report_roles_see_it(staff, make_user):
    web = Client()
    web.force_login(staff.ann)
    assert web.get("/reports/employees/").status_code == 403
    assert Client().get("/reports/employees/").status_code == 302


def test_excel(staff, director):
    response = director.get("/reports/employees/", {**NOVEMBER, "format": "xlsx"})
    assert response.status_code == 200
    assert "employees_2026-11-01_2026-11-30.xlsx" in response["Content-Disposition"]
    book = load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    assert len(book.sheetnames) == 4
    managers = list(book.worksheets[0].iter_rows(values_only=True))
    ann = next(row for row in managers if row[0] == "Анна Арбузова")
    # name, branch, opened, contracts, activated, avg days, payments, sum, calls, missed,
    # then one column per outcome (stays, promised to pay, …)
    assert ann[2:10] == (2, 1, 2, 2.88, 2, 1500.5, 3, 1)
    assert ann[10:12] == (2, 1)
    total = managers[-1]
    assert total[2] == 3 and total[7] == 2200.5
    crews = list(book.worksheets[2].iter_rows(values_only=True))
    assert crews[1][:4] == ("Альфа", "Москва — офис", 2, 1)
    support = list(book.worksheets[3].iter_rows(values_only=True))
    sue = next(row for row in support if row[0] == "Сью Саппорт")
    assert sue[2:4] == (4, 66.7)
