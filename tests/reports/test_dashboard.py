"""The director's dashboard page (D8): periods, figures against the previous period, charts,
tables, Excel — in a handful of queries — and the list of reports."""

import datetime as dt
import io
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.db import connection
from django.test import Client
from openpyxl import load_workbook

from ispcrm import roles
from reports import charts
from reports.views.dashboard import PeriodForm, custom_period, preset_period
from tests.reports.summary_data import Company

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("november_2026")]
D = Decimal
NOVEMBER = {"period": "custom", "date_from": "2026-11-01", "date_to": "2026-11-30"}


@pytest.fixture(autouse=True)
def _no_cached_months():
    """Closed months are cached (reports.selectors.summary): each test's data is new."""
    cache.clear()


@pytest.fixture
def director(make_user):
    web = Client()
    web.force_login(make_user(roles.DIRECTOR))
    return web


# --- periods -------------------------------------------------------------------------------

@pytest.mark.parametrize("preset, expected", [
    ("month", ("2026-11-01", "2026-11-30", "2026-10-01", "2026-10-31")),
    ("last_month", ("2026-10-01", "2026-10-31", "2026-09-01", "2026-09-30")),
    ("quarter", ("2026-10-01", "2026-12-31", "2026-07-01", "2026-09-30")),
    ("year", ("2026-01-01", "2026-12-31", "2025-01-01", "2025-12-31")),
])
def test_quick_periods_and_the_ones_before(preset, expected):
    period = preset_period(preset, dt.date(2026, 11, 23))
    assert tuple(d.isoformat() for d in (period.start, period.end, period.previous_start,
                                         period.previous_end)) == expected


def test_january_looks_back_to_december():
    period = preset_period("month", dt.date(2027, 1, 10))
    assert (period.previous_start, period.previous_end) == (dt.date(2026, 12, 1),
                                                            dt.date(2026, 12, 31))


def test_custom_dates_compare_with_as_many_days_before():
    period = custom_period(dt.date(2026, 11, 10), dt.date(2026, 11, 20))  # 11 days
    assert (period.previous_start, period.previous_end) == (dt.date(2026, 10, 30),
                                                            dt.date(2026, 11, 9))


def test_dates_other_than_the_quick_periods_make_it_custom():
    form = PeriodForm({"period": "month", "date_from": "2026-05-01", "date_to": "2026-05-10"})
    assert form.is_valid()
    assert form.chosen_period().preset == "custom"


@pytest.mark.parametrize("data, field", [
    ({"period": "custom", "date_from": "2026-05-10"}, "date_to"),
    ({"period": "custom", "date_to": "2026-05-10"}, "date_from"),
    ({"period": "custom", "date_from": "2026-05-10", "date_to": "2026-05-01"}, "date_to"),
])
def test_wrong_custom_dates(data, field):
    form = PeriodForm(data)
    assert not form.is_valid() and field in form.errors
    assert form.chosen_period(dt.date(2026, 11, 23)).start == dt.date(2026, 11, 1)


# --- the page ------------------------------------------------------------------------------

def test_the_dashboard_in_a_handful_of_queries(director, django_assert_max_num_queries):
    Company()
    # The page's own: the ledger's first moment (cached after), one statement per period
    # (2), whether November's first part is stored (no), the district and tariff names (2),
    # the branch list — 7; the frame: session, user, role names, permissions (2), open
    # outages, the user's branch — 7. On PostgreSQL each statement runs in a savepoint with
    # its settings (SAVEPOINT, set_config, RELEASE; inside the test's transaction a RESET
    # after): 8 more.
    with django_assert_max_num_queries(22 if connection.vendor == "postgresql" else 14):
        response = director.get("/reports/", NOVEMBER)
    assert response.status_code == 200
    html = response.content.decode()
    cards = {card["name"]: card for card in response.context["cards"]}
    # November (test_summary) against 2–31 October (30 days before): collected 8,500
    # (acc1 500 and acc2 8,000), so +300, +3.5 %; new clients 2 against 1 (acc2).
    assert cards["collected_total"]["value"] == D("8800.00")
    assert cards["collected_total"]["previous"] == D("8500.00")
    change = cards["collected_total"]["change"]
    assert (change.delta, change.percent, change.good) == (D("300.00"), D("3.5"), True)
    assert (cards["new_clients"]["value"], cards["new_clients"]["previous"]) == (2, 1)
    # Lost clients rose from 0 to 2: bad news, said in words too.
    lost = cards["lost_clients"]["change"]
    assert (lost.arrow, lost.good) == ("▲", False)
    assert "8\xa0800,00\xa0₽" in html
    # The split as a stacked bar: 1,420 / 1,987.10 / 5,392.90 of 8,800.
    assert [part["percent"] for part in response.context["split"]] == [
        D("16.1"), D("22.6"), D("61.3")]
    assert 'id="chart-clients"' in html and 'id="chart-money"' in html
    assert 'id="table-tariff"' in html and "Бизнес 3000" in html
    assert "Заречный" in html and "Тюмень" in html


def test_one_branch_on_the_page(director):
    company = Company()
    response = director.get("/reports/", {**NOVEMBER, "branch": company.tyumen_branch.pk})
    assert response.context["total"]["collected_total"] == D("1000.00")
    # The quick periods keep the branch.
    assert all(f"branch={company.tyumen_branch.pk}" in link["url"]
               for link in response.context["links"])


def test_wrong_dates_show_the_error_and_this_month(director):
    response = director.get("/reports/", {"period": "custom", "date_from": "2026-11-30",
                                          "date_to": "2026-11-01"})
    assert response.status_code == 200
    assert response.context["form"].errors
    assert response.context["period"].preset == "month"


def test_the_whole_dashboard_as_excel(director):
    Company()
    response = director.get("/reports/", {**NOVEMBER, "format": "xlsx"})
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment")
    book = load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    assert len(book.sheetnames) == 4
    summary = book.worksheets[0]
    rows = {row[0]: row for row in summary.iter_rows(min_row=2, values_only=True)}
    assert len(rows) == 10  # seven figures and the three parts of the money collected
    tariffs = list(book.worksheets[2].iter_rows(min_row=2, values_only=True))
    business = next(row for row in tariffs if row[0] == "Бизнес 3000")
    assert business[5] == 5000  # collected, a number cell
    districts = list(book.worksheets[3].iter_rows(min_row=2, values_only=True))
    assert ("Тюмень", "Заречный") in {(row[0], row[1]) for row in districts}


def test_one_table_as_excel(director):
    Company()
    response = director.get("/reports/", {**NOVEMBER, "format": "xlsx", "table": "month"})
    book = load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    assert len(book.sheetnames) == 1
    (month_row,) = list(book.worksheets[0].iter_rows(min_row=2, values_only=True))
    assert month_row[0] == dt.datetime(2026, 11, 1)  # a date cell
    assert month_row[1:5] == (2, 2, 1, 1)


@pytest.mark.parametrize("role", [roles.MANAGER, roles.SUPPORT])
def test_other_roles_are_refused(client, make_user, role):
    client.force_login(make_user(role))
    assert client.get("/reports/").status_code == 403
    assert client.get("/reports/connection-speed/").status_code == 403


def test_anonymous_is_sent_to_sign_in(client):
    response = client.get("/reports/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_the_list_of_reports(director):
    response = director.get("/reports/all/")
    titles = [str(r["title"]) for r in response.context["reports"]]
    assert len(titles) >= 2
    html = response.content.decode()
    assert 'href="/reports/"' in html and 'href="/reports/connection-speed/"' in html


# --- the pieces ----------------------------------------------------------------------------

def test_a_change_says_whether_it_is_good():
    assert charts.Change(D("120"), D("100")).percent == D("20.0")
    assert charts.Change(5, 3, higher_is_better=False).good is False
    assert charts.Change(3, 3).verdict  # "unchanged"
    assert charts.Change(3, 0).percent is None  # from nothing: no percent
    assert charts.Change(None, D("1")).direction == "none"


def test_stacked_parts_add_up_to_a_hundred():
    parts = charts.stacked([("a", D("1"), "x"), ("b", D("1"), "y"), ("c", D("1"), "z")])
    assert [p["percent"] for p in parts] == [D("33.3"), D("33.3"), D("33.4")]
    assert [p["percent"] for p in charts.stacked([("a", D("0"), "x")])] == [D("0")]


def test_a_bar_chart_escapes_and_describes():
    svg = charts.bar_chart(["<b>"], [charts.Series("x&y", [D("12.5")])], title="T<",
                           kind="money", chart_id="c")
    assert "<b>" not in svg and "&lt;b&gt;" in svg and "x&amp;y" in svg
    assert 'role="img"' in svg and "<title" in svg and "12,50" in svg
