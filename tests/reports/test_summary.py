"""The director's summary figures (D8) on a hand-built company (tests/reports/summary_data.py),
every expected number worked out by hand in the comments."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.utils import timezone

from reports.selectors.summary import months_of, rollup, summary, summary_facts, total
from tests.reports.summary_data import Company

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("november_2026")]
D = Decimal
NOV = (dt.date(2026, 11, 1), dt.date(2026, 11, 30))


@pytest.fixture(autouse=True)
def _no_cached_months():
    """Closed months are cached (reports.selectors.summary): each test's data is new."""
    cache.clear()


@pytest.fixture
def company():
    return Company()


def figures(group, *names):
    return tuple(group[name] for name in names)


MONEY = ("collected_total", "collected_debt", "collected_current", "collected_prepaid",
         "charged", "arpu")
COUNTS = ("new_clients", "lost_clients", "connected", "disconnected")


def test_november_in_total(company):
    nov = total(summary_facts(*NOV))
    # new: acc4 (12.11) and acc5 (02.11) signed; lost: acc3 terminated 05.11 and acc4
    # cancelled 18.11 (both accounts closed); connected: acc5 (03.11); disconnected: acc3.
    assert figures(nov, *COUNTS) == (2, 2, 1, 1)
    # Payments of November (the cancelled 200 is not money; acc2's 100 of 01.12 01:00
    # Moscow is December although it is 30.11 in UTC):
    #   acc3 03.11  1,000: owed 1,800 (Sep+Oct 1,200 and Nov 600) → debt 1,000
    #   acc5 02.11  1,000: owed the November connection fee 1,000 → current 1,000
    #   acc1 10.11  1,500: balance −1,000+1,000−320−600+500−600 = −1,020; November's 600
    #                      is current, 420 earlier → debt 420, current 600, prepaid 480
    #   acc2 15.11  5,000: balance −5,000+8,000−387.10−3,000 = −387.10, all within
    #                      November's 3,000 → current 387.10, prepaid 4,612.90
    #   acc1 20.11    300: balance +480 → prepaid 300
    # total 8,800 = debt 1,420 + current 1,987.10 + prepaid 5,392.90
    # charged: 600 (acc1) + 3,000 (acc2) + 600 − 520 (acc3) + 15,000 (acc4 fee)
    #          + 1,000 + 560 (acc5) = 20,240
    # ARPU: without connection fees 20,240 − 16,000 = 4,240 over the accounts in service in
    #       November — acc1, acc2, acc3 (until 05.11), acc5 — 4 → 1,060.00
    assert figures(nov, *MONEY) == (D("8800.00"), D("1420.00"), D("1987.10"), D("5392.90"),
                                    D("20240.00"), D("1060.00"))


def test_november_by_district_city_tariff_and_type(company):
    facts = summary_facts(*NOV)
    by_district = {g["label"]: g for g in rollup(facts, "district")}
    # Центральный (acc1, acc3): lost and disconnected acc3; collected 1,500+300+1,000 =
    # 2,800 = debt 420+1,000, current 600, prepaid 480+300; charged 600+600−520 = 680 over
    # 2 accounts in service → ARPU 340.
    central = by_district["Центральный"]
    assert central["city"] == "Москва"
    assert figures(central, *COUNTS) == (0, 1, 0, 1)
    assert figures(central, *MONEY) == (D("2800.00"), D("1420.00"), D("600.00"),
                                        D("780.00"), D("680.00"), D("340.00"))
    # Северный (acc2): 5,000 = current 387.10 + prepaid 4,612.90; charged 3,000, 1 account.
    assert figures(by_district["Северный"], *COUNTS) == (0, 0, 0, 0)
    assert figures(by_district["Северный"], *MONEY) == (
        D("5000.00"), D("0.00"), D("387.10"), D("4612.90"), D("3000.00"), D("3000.00"))
    # Заречный (acc4, acc5): two new, acc4 lost, acc5 connected; 1,000 current; charged
    # 15,000 + 1,000 + 560 = 16,560, of it 560 recurring over 1 account (acc5).
    assert figures(by_district["Заречный"], *COUNTS) == (2, 1, 1, 0)
    assert figures(by_district["Заречный"], *MONEY) == (
        D("1000.00"), D("0.00"), D("1000.00"), D("0.00"), D("16560.00"), D("560.00"))

    by_city = {g["label"]: g for g in rollup(facts, "city")}
    assert by_city["Москва"]["collected_total"] == D("7800.00")  # 2,800 + 5,000
    assert by_city["Тюмень"]["charged"] == D("16560.00")

    by_tariff = {g["label"]: g for g in rollup(facts, "tariff")}
    # Домашний: acc1, acc3, acc5 — new acc5; lost/disconnected acc3; connected acc5;
    # collected 2,800 + 1,000; charged 680 + 1,560; ARPU (680 + 560) / 3 = 413.33.
    home = by_tariff["Домашний 600"]
    assert figures(home, *COUNTS) == (1, 1, 1, 1)
    assert figures(home, "collected_total", "charged", "arpu") == (
        D("3800.00"), D("2240.00"), D("413.33"))
    # Спутник: acc4 only — new and lost, charged its fee, never in service: no ARPU.
    assert figures(by_tariff["Спутник 3500"], "new_clients", "lost_clients", "charged",
                   "arpu") == (1, 1, D("15000.00"), None)

    by_type = {g["key"]: g for g in rollup(facts, "connection_type")}
    assert set(by_type) == {"lan", "radio", "satellite"}
    assert by_type["radio"]["collected_current"] == D("387.10")
    assert by_type["lan"]["collected_debt"] == D("1420.00")


def test_two_months_by_month(company):
    months = rollup(summary_facts(dt.date(2026, 10, 1), dt.date(2026, 11, 30)), "month")
    assert [g["key"] for g in months] == [dt.date(2026, 10, 1), dt.date(2026, 11, 1)]
    october, november = months
    # October: acc2 signed and activated.
    assert figures(october, *COUNTS) == (1, 0, 1, 0)
    #   acc1 05.10 500: balance −1,000+1,000−320−600 = −920; October's 600 current, 320
    #                   of September → debt 320, current 180
    #   acc2 25.10 8,000: owed the October fee 5,000 → current 5,000, prepaid 3,000
    # charged: 600 (acc1) + 600 (acc3) + 5,000 + 387.10 (acc2) = 6,587.10, recurring
    # 1,587.10 over acc1, acc2, acc3 in service → ARPU 529.03
    assert figures(october, *MONEY) == (D("8500.00"), D("320.00"), D("5180.00"),
                                        D("3000.00"), D("6587.10"), D("529.03"))
    # November is the same whether the period starts in October or November (the opening
    # balance of 1 October is carried in).
    assert figures(november, *MONEY) == figures(total(summary_facts(*NOV)), *MONEY)
    both = total(summary_facts(dt.date(2026, 10, 1), dt.date(2026, 11, 30)))
    # ARPU over two months: (1,587.10 + 4,240) / (3 + 4 account-months) = 832.44
    assert both["arpu"] == D("832.44")
    assert both["collected_total"] == D("17300.00")


def test_a_month_boundary_is_local_time(company):
    december = total(summary_facts(dt.date(2026, 12, 1), dt.date(2026, 12, 31)))
    # acc2's 100 at 01:00 on 1 December in Moscow (22:00 on 30 November UTC): balance
    # +4,612.90 before it → prepaid.
    assert figures(december, "collected_total", "collected_prepaid") == (D("100.00"),
                                                                          D("100.00"))
    by_month = rollup(summary_facts(dt.date(2026, 11, 1), dt.date(2026, 12, 31)), "month")
    assert [g["collected_total"] for g in by_month] == [D("8800.00"), D("100.00")]


def test_part_of_a_month(company):
    part = total(summary_facts(dt.date(2026, 11, 10), dt.date(2026, 11, 20)))
    # 10–20 November: acc4 signed (12.11) and cancelled (18.11); payments acc1 1,500 and
    # 300, acc2 5,000 — split as in the whole month; the only charge posted is acc4's
    # connection fee 15,000, so nothing recurring; in service: acc1, acc2, acc5 (acc3
    # closed on 05.11) for 11 of 30 days → ARPU 0 over 1.1 account-months.
    assert figures(part, *COUNTS) == (1, 1, 0, 0)
    assert figures(part, *MONEY) == (D("6800.00"), D("420.00"), D("987.10"), D("5392.90"),
                                     D("15000.00"), D("0.00"))


def test_one_branch(company):
    tyumen = total(summary_facts(*NOV, branch=company.tyumen_branch))
    # acc4 and acc5 only.
    assert figures(tyumen, *COUNTS) == (2, 1, 1, 0)
    assert figures(tyumen, "collected_total", "charged", "arpu") == (
        D("1000.00"), D("16560.00"), D("560.00"))
    moscow = total(summary_facts(*NOV, branch=company.moscow_branch.pk))
    assert moscow["collected_total"] == D("7800.00")


@pytest.mark.parametrize("start", [dt.date(2026, 8, 1), dt.date(2026, 11, 1)])
def test_opening_balance_read_either_way_gives_the_same_split(company, start):
    end = dt.date(2026, 12, 31)
    prefix = summary_facts(start, end, opening="prefix")
    suffix = summary_facts(start, end, opening="suffix")
    assert prefix.rows == suffix.rows
    assert total(prefix)["collected_debt"] == (
        D("1420.00") if start.month == 11 else D("1740.00"))  # + October's 320


def test_an_empty_period(db):
    result = summary(dt.date(2020, 1, 1), dt.date(2020, 3, 31))
    assert [g["key"] for g in result["groups"]] == ["2020-01", "2020-02", "2020-03"]
    assert result["total"]["collected_total"] == D("0.00")
    assert result["total"]["arpu"] is None
    assert result["groups"][0]["new_clients"] == 0


def test_months_of_a_period():
    months = months_of(dt.date(2026, 1, 20), dt.date(2026, 3, 5))
    assert [(m.key, m.first, m.last) for m in months] == [
        (dt.date(2026, 1, 1), dt.date(2026, 1, 20), dt.date(2026, 1, 31)),
        (dt.date(2026, 2, 1), dt.date(2026, 2, 1), dt.date(2026, 2, 28)),
        (dt.date(2026, 3, 1), dt.date(2026, 3, 1), dt.date(2026, 3, 5)),
    ]
    assert months[0].weight == D(12) / D(31)
    assert months[1].weight == 1


def test_the_api_shape(company):
    result = summary(*NOV, group_by="tariff")
    assert result["group_by"] == "tariff"
    keys = {g["label"]: g["key"] for g in result["groups"]}
    assert keys["Бизнес 3000"] == company.business.pk
    assert summary(*NOV, group_by="month")["groups"][0]["key"] == "2026-11"


def test_closed_months_come_from_the_cache(company, django_assert_num_queries):
    """August…October 2026 are over: computed once, then read from the cache — the same
    figures as computed live."""
    august_to_october = (dt.date(2026, 8, 1), dt.date(2026, 10, 31))
    first = summary_facts(*august_to_october)
    with django_assert_num_queries(0):
        again = summary_facts(*august_to_october)
    assert again.rows == first.rows == summary_facts(*august_to_october,
                                                     opening="prefix").rows
    # A period over closed and open months: the closed ones cached, the rest computed; the
    # same as one live statement over the whole period.
    whole = summary_facts(dt.date(2026, 9, 1), dt.date(2026, 12, 31))
    assert whole.rows == summary_facts(dt.date(2026, 9, 1), dt.date(2026, 12, 31),
                                       opening="suffix").rows


def test_the_nightly_warm_up_leaves_closed_months_to_the_cache(company,
                                                               django_assert_num_queries):
    """Beat's warm-up after midnight: the director's first dashboard reads closed months
    without a query."""
    from reports.tasks import warm_dashboard

    cache.clear()
    assert warm_dashboard.delay().get() > 0
    with django_assert_num_queries(0):
        summary_facts(dt.date(2026, 8, 1), dt.date(2026, 10, 31))


def test_a_late_payment_or_cancellation_forgets_the_cached_months(
        company, django_capture_on_commit_callbacks):
    """A bank statement entered now with a payment dated 30 October, then the accountant
    cancelling it: October's figures follow at once, not tomorrow."""
    from billing.services.payments import payment_cancel
    from tests.reports.summary_data import at, pay

    october = (dt.date(2026, 10, 1), dt.date(2026, 10, 31))
    assert total(summary_facts(*october))["collected_total"] == D("8500.00")
    with django_capture_on_commit_callbacks(execute=True):
        late = pay(company.acc1, 100, at(10, 30))
    assert total(summary_facts(*october))["collected_total"] == D("8600.00")
    with django_capture_on_commit_callbacks(execute=True):
        payment_cancel(payment=late, reason="wrong account", actor=None)
    assert total(summary_facts(*october))["collected_total"] == D("8500.00")


def test_warming_the_cache(company, django_assert_num_queries):
    from reports.selectors.summary import warm_summary_cache

    # all branches and the two branches of the company (and the default one of conftest's
    # users, if any): one statement each
    statements = warm_summary_cache(months=3)
    assert statements >= 3
    last_closed = timezone.localdate().replace(day=1) - dt.timedelta(days=1)
    with django_assert_num_queries(0):
        summary_facts(last_closed.replace(day=1), last_closed, company.tyumen_branch)


@pytest.mark.postgres
def test_the_statements_settings_do_not_outlive_it_in_the_callers_transaction(company):
    """The summary turns nested loops off for its large statements (SET LOCAL); run inside
    a caller's transaction, the caller's next queries must plan as usual."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SHOW enable_nestloop")
        before = cursor.fetchone()[0]
        summary_facts(dt.date(2026, 1, 1), dt.date(2026, 12, 31))
        cursor.execute("SHOW enable_nestloop")
        assert cursor.fetchone()[0] == before == "on"
