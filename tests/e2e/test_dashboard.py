"""The director's dashboard in a real browser (D8: how the company did, in under a minute):
the director signs in, opens the dashboard, picks October then November and sees the figures
change, and downloads the dashboard as Excel."""

import os

import pytest
from django.core.cache import cache
from openpyxl import load_workbook
from playwright.sync_api import expect

from ispcrm import roles
from tests.e2e.steps import sign_in
from tests.reports.summary_data import Company

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _no_cached_months():
    """Closed months are cached (reports.selectors.summary): each test's data is new."""
    cache.clear()


def show(page, first: str, last: str) -> None:
    page.locator("#id_date_from").fill(first)
    page.locator("#id_date_to").fill(last)
    page.locator("#period-show").click()
    page.wait_for_url(f"**date_from={first}**")


def test_director_reads_the_dashboard_and_downloads_it(page, make_user, tmp_path):
    Company()
    director = make_user(roles.DIRECTOR)
    sign_in(page, director)
    page.goto("/reports/")
    expect(page.locator("h1")).to_be_visible()
    expect(page.locator("#figure-collected_total")).to_be_visible()

    show(page, "2026-10-01", "2026-10-31")
    collected = page.locator("#figure-collected_total .figure-value")
    # October: acc1's 500 and acc2's 8,000 (tests/reports/test_summary.py).
    expect(collected).to_have_text("8\u00a0500,00\u00a0₽")
    expect(page.locator("#figure-new_clients .figure-value")).to_have_text("1")
    expect(page.locator("#dashboard-period")).to_contain_text("2026")

    show(page, "2026-11-01", "2026-11-30")
    expect(collected).to_have_text("8\u00a0800,00\u00a0₽")
    expect(page.locator("#figure-new_clients .figure-value")).to_have_text("2")
    # Compared with 30 days before (2–31 October): 8,500 → +300, said with an arrow.
    expect(page.locator("#figure-collected_total .change")).to_contain_text("▲")
    expect(page.locator("#table-tariff")).to_contain_text("Бизнес 3000")
    expect(page.locator("#chart-money")).to_be_visible()
    if os.environ.get("SCREENSHOTS"):
        page.screenshot(path=os.path.join(os.environ["SCREENSHOTS"], "dashboard.png"),
                        full_page=True)

    with page.expect_download() as download_info:
        page.locator("#dashboard-xlsx").click()
    download = download_info.value
    assert download.suggested_filename == "dashboard_2026-11-01_2026-11-30.xlsx"
    path = tmp_path / download.suggested_filename
    download.save_as(path)
    book = load_workbook(path)
    summary = {row[0]: row[1] for row in book.worksheets[0].iter_rows(min_row=2,
                                                                      values_only=True)}
    assert 8800 in summary.values()
