"""Excel from a list in a real browser (D14): the accountant filters the payments, presses
"Excel", the progress page follows the job until it is done, and the download is a real
workbook with the list's header and typed cells. (Celery runs eagerly in tests, so the job is
built as soon as it is committed: here the queueing is held back, so the page is seen waiting
and polling, and the test plays the worker.)"""

import datetime as dt
from decimal import Decimal

import openpyxl
import pytest
from playwright.sync_api import expect

from billing.services.payments import payment_accept
from ispcrm import roles
from reports.models import ExportJob
from tests.e2e.steps import sign_in
from tests.factories import ClientCardFactory, make_account

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_accountant_downloads_the_payments_as_excel(page, make_user, settings, tmp_path,
                                                   monkeypatch):
    from reports import tasks
    from reports.exports import export_run

    monkeypatch.setattr(tasks.build_export, "delay", lambda job_id: None)  # no worker yet
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.EXPORT_INLINE_ROWS = 0  # always through the job and its progress page
    accountant = make_user(roles.ACCOUNTANT)
    account = make_account(client=ClientCardFactory(stage="active", name="Орлова Анна"),
                           number="700100")
    paid = dt.datetime(2026, 3, 5, 10, 30, tzinfo=dt.timezone(dt.timedelta(hours=3)))
    payment_accept(account=account, amount="1234.50", channel="cash", external_id="К-77",
                   paid_at=paid, actor=accountant)

    sign_in(page, accountant)
    page.goto("/billing/payments/?date_from=2026-03-01&date_to=2026-03-31")
    page.locator(".export-button button").click()

    page.wait_for_url("**/reports/exports/*/")
    progress = page.locator("#export-progress")
    expect(progress).to_have_attribute("data-status", "queued")
    expect(progress).to_have_attribute("hx-trigger", "every 1s")
    job = ExportJob.objects.get()
    assert job.params["date_from"] == "2026-03-01" and job.requested_by == accountant

    assert export_run(job.pk) == "done"  # the worker builds it; the page polls and sees it
    expect(progress).to_have_attribute("data-status", "done")
    expect(page.get_by_role("progressbar")).to_have_attribute("aria-valuenow", "100")
    expect(progress).not_to_have_attribute("hx-trigger", "every 1s")  # polling stopped

    with page.expect_download() as info:
        page.locator(".export-download").click()
    download = info.value
    assert download.suggested_filename.startswith("payments-")
    target = tmp_path / download.suggested_filename
    download.save_as(target)

    ws = openpyxl.load_workbook(target).active
    assert ws.freeze_panes == "A2"
    assert ws.max_row == 2  # the header and the one payment of March
    assert ws["B2"].value == "700100" and ws["C2"].value == "Орлова Анна"
    amount = ws["D2"]
    assert amount.data_type == "n" and Decimal(str(amount.value)) == Decimal("1234.50")
    assert "₽" in amount.number_format
    assert ws["A2"].is_date and ws["A2"].value == dt.datetime(2026, 3, 5, 10, 30)
