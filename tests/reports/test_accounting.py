"""The accountant's month (D12): payments and acts selectors, the Excel registers, the
background and automatic 1C files, and the accounting page."""

from datetime import date, datetime
from decimal import Decimal

import pytest
from django.db import transaction
from django.urls import reverse
from openpyxl import load_workbook

from billing.models import Document, LedgerEntry, Payment
from billing.services.documents import monthly_documents_issue
from billing.services.ledger import post
from ispcrm import roles
from ispcrm.models import CalendarDay
from reports.excel import write_xlsx
from reports.exports import EXPORTS, export_run, export_start
from reports.models import ExportJob
from reports.onec import jobs
from reports.onec.config import OnecConfig
from reports.onec.registers import payments_register_sheets, sales_register_sheet
from reports.selectors import accounting
from tests.factories import make_account
from tests.reports.test_onec import (
    MSK,
    NOVEMBER,
    ROMASHKA_INN,
    ROMASHKA_KPP,
    TRADER_INN,
    act_number,
    build_month,
    pay_the_month,
)

D = Decimal


@pytest.fixture
def month(db):
    built = build_month()
    pay_the_month(built)
    monthly_documents_issue(period=NOVEMBER)
    return built


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


def rows_of(path, sheet=0) -> list[list]:
    book = load_workbook(path)
    ws = book.worksheets[sheet]
    return [list(row) for row in ws.iter_rows(values_only=True)]


# --- Payments --------------------------------------------------------------------------------

@pytest.mark.django_db
def test_payments_of_the_month_by_local_time_completed_only(month):
    rows = list(accounting.payments_of_month(NOVEMBER))
    # 5.11 bank 2000, 10.11 cash 700, 30.11 23:30 MSK card 600. Not: 31.10 23:59 MSK,
    # 1.12 00:10 MSK (both UTC-wise inside November's neighbours' edges), the cancelled 999.
    assert [(row["channel"], row["amount"]) for row in rows] == [
        ("bank", D("2000.00")), ("cash", D("700.00")), ("card", D("600.00"))]
    assert rows[0]["payer"] == "ООО «Ромашка»" and rows[0]["inn"] == ROMASHKA_INN
    assert rows[1]["payer"] == "Антонов А. А."  # no payer given: the client
    assert rows[0]["account_number"] == month.romashka.number
    assert rows[0]["external_id"] == "pp-17"

    totals = accounting.payment_totals(NOVEMBER)
    assert totals["count"] == 3 and totals["total"] == D("3300.00")
    by_channel = {row["channel"]: (row["count"], row["total"]) for row in totals["channels"]}
    assert by_channel == {"cash": (1, D("700.00")), "bank": (1, D("2000.00")),
                          "card": (1, D("600.00")), "terminal": (0, D("0.00")),
                          "cabinet": (0, D("0.00"))}
    # The same sum the ledger was credited with for these payments.
    credited = sum(e.amount for e in LedgerEntry.objects.filter(
        kind="payment", payment__status="completed",
        payment__paid_at__gte=datetime(2026, 11, 1, tzinfo=MSK),
        payment__paid_at__lt=datetime(2026, 12, 1, tzinfo=MSK)))
    assert credited == D("3300.00")


@pytest.mark.django_db
def test_totals_by_month_groups_acts_and_payments(month):
    found = accounting.totals_by_month([NOVEMBER, date(2026, 10, 1), date(2026, 12, 1)])
    assert found[NOVEMBER] == {"acts": 5, "acts_amount": D("4599.50"), "payments": 3,
                               "payments_amount": D("3300.00")}
    assert found[date(2026, 10, 1)] == {"acts": 0, "acts_amount": D("0.00"), "payments": 1,
                                        "payments_amount": D("500.00")}
    assert found[date(2026, 12, 1)]["payments_amount"] == D("100.00")


# --- Acts against the ledger ------------------------------------------------------------------

@pytest.mark.django_db
def test_act_totals_split_companies_and_persons(month):
    assert accounting.act_totals(NOVEMBER) == {
        "count": 5, "amount": D("4599.50"), "companies": 2, "companies_amount": D("2650.00"),
        "persons": 3, "persons_amount": D("1949.50")}


@pytest.mark.django_db
def test_reconciliation_accounts_for_every_kopeck(month):
    # A credit-only account: −30 + 80 = +50 in its favour → no act (nothing to bill).
    refunded = make_account()
    with transaction.atomic():
        post(account=refunded, kind="charge", amount=D("-30"), period=NOVEMBER,
             charge_kind="monthly_fee", description="fee")
        post(account=refunded, kind="charge", amount=D("80"), period=NOVEMBER,
             charge_kind="proration", description="recalculation")
    # A charge posted after Ромашка's act was issued: the act is final.
    with transaction.atomic():
        post(account=month.romashka, kind="charge", amount=D("-12.34"), period=NOVEMBER,
             charge_kind="service_fee", description="late")
    found = accounting.reconciliation(NOVEMBER)
    # ledger 4599.50 − 50 + 12.34 = 4561.84 = acts 4599.50 + (−50.00) + 12.34
    assert found == {"ledger": D("4561.84"), "acts": D("4599.50"), "without_act": D("-50.00"),
                     "after_act": D("12.34"), "unexplained": D("0.00")}


# --- Registers ---------------------------------------------------------------------------------

@pytest.mark.django_db
def test_acts_register_one_row_per_act_and_a_totals_row(month, tmp_path):
    path = tmp_path / "acts.xlsx"
    written = write_xlsx([sales_register_sheet(NOVEMBER, OnecConfig(vat_rate="20"))], path)
    assert written == 6  # 5 acts + the totals row
    header, *rows = rows_of(path)
    assert len(header) == 11
    body, total = rows[:-1], rows[-1]
    by_number = {row[1]: row for row in body}
    romashka = by_number[act_number(month.romashka)]
    # date, number, name, kind, INN, KPP, account, net, VAT, total, 1C document
    assert romashka[2] == "ООО «Ромашка»" and romashka[4:7] == [
        ROMASHKA_INN, ROMASHKA_KPP, month.romashka.number]
    assert romashka[7:10] == [1375, 275, 1650]  # 1650 − 275.00, VAT 1650/6
    assert romashka[10] == act_number(month.romashka)
    trader = by_number[act_number(month.trader)]
    assert trader[4] == TRADER_INN and trader[5] is None  # a sole trader has no KPP
    person = by_number[act_number(month.plain)]
    assert person[10] == "РОЗН-2026-11" and person[9] == 600
    # Totals: 4599.50 in all; VAT per act 275.00 + 166.67 + 108.25 + 116.67 + 100.00.
    assert total[9] == pytest.approx(4599.50)
    assert total[8] == pytest.approx(766.59)
    assert total[7] == pytest.approx(4599.50 - 766.59)
    assert sum(row[9] for row in body) == pytest.approx(total[9])


@pytest.mark.django_db
def test_payments_register_rows_totals_and_channels(month, tmp_path):
    path = tmp_path / "payments.xlsx"
    write_xlsx(payments_register_sheets(NOVEMBER), path)
    _header, *rows = rows_of(path, 0)
    body, total = rows[:-1], rows[-1]
    assert len(body) == 3 and total[5] == 3300
    assert [row[5] for row in body] == [2000, 700, 600]
    assert body[0][0] == datetime(2026, 11, 5, 12, 0)  # local time, as Excel has no zones
    assert body[0][6] == "pp-17" and body[0][3] == ROMASHKA_INN
    _header, *channels = rows_of(path, 1)
    assert channels[-1][1:] == [3, 3300]
    assert {row[0]: row[2] for row in channels[:-1]}[str(Payment.Channel.BANK.label)] == 2000


# --- Background files --------------------------------------------------------------------------

@pytest.mark.django_db
def test_the_kinds_are_registered_for_accountant_and_director(make_user):
    assert set(jobs.KINDS) <= set(EXPORTS)
    assert EXPORTS[jobs.SALES].write is not None
    assert EXPORTS[jobs.SALES].can_use(make_user(roles.ACCOUNTANT))
    assert EXPORTS[jobs.SALES].can_use(make_user(roles.DIRECTOR))
    assert not EXPORTS[jobs.SALES].can_use(make_user(roles.MANAGER))
    assert not EXPORTS[jobs.SALES].can_use(make_user(roles.COMMERCIAL_DIRECTOR))


@pytest.mark.django_db
def test_a_job_builds_the_xml_and_both_registers(month, media, make_user):
    accountant = make_user(roles.ACCOUNTANT)
    built = {}
    for kind in jobs.KINDS:
        job = export_start(kind, {"period": "2026-11"}, accountant)
        assert job.params["period"] == "2026-11-01"
        assert export_run(job.pk) == ExportJob.Status.DONE
        job.refresh_from_db()
        built[kind] = job
    sales = built[jobs.SALES]
    assert sales.file_name == "1c-sales-2026-11-ED1.8.xml" and sales.progress_done == 5
    assert sales.file.read().startswith(b'<?xml version="1.0" encoding="UTF-8"?>')
    assert built[jobs.SALES_REGISTER].file_name == "1c-acts-register-2026-11.xlsx"
    assert built[jobs.PAYMENTS].file_name == "1c-payments-register-2026-11.xlsx"
    assert built[jobs.PAYMENTS].progress_done == 3 + 1 + 6  # rows, totals, channels sheet


@pytest.mark.django_db
def test_a_future_or_missing_month_is_refused(make_user):
    from django.core.exceptions import ValidationError

    accountant = make_user(roles.ACCOUNTANT)
    for params in ({"period": "2999-01"}, {"period": "soon"}, {}):
        with pytest.raises(ValidationError):
            export_start(jobs.SALES, params, accountant)


# --- Automatically on the first working day ----------------------------------------------------

@pytest.mark.django_db
def test_first_working_day_follows_the_production_calendar():
    # January 2027: 1–8 are holidays (seeded calendar), 9–10 a weekend → Monday the 11th.
    assert jobs.first_working_day(date(2027, 1, 20)) == date(2027, 1, 11)
    assert jobs.first_working_day(date(2026, 8, 15)) == date(2026, 8, 3)  # 1.08 is a Saturday
    assert jobs.first_working_day(date(2026, 12, 31)) == date(2026, 12, 1)
    CalendarDay.objects.create(date=date(2026, 12, 1), kind=CalendarDay.Kind.HOLIDAY)
    assert jobs.first_working_day(date(2026, 12, 31)) == date(2026, 12, 2)


@pytest.mark.django_db
def test_monthly_exports_once_on_the_first_working_day_after_the_acts(db):
    account = make_account()
    december = date(2026, 12, 1)
    with transaction.atomic():
        post(account=account, kind="charge", amount=D("-600"), period=december,
             charge_kind="monthly_fee", description="fee")
    assert jobs.monthly_exports(date(2027, 1, 8)) == []  # a holiday: not yet
    assert not Document.objects.exists()

    created = jobs.monthly_exports(date(2027, 1, 11))
    assert sorted(job.kind for job in created) == sorted(jobs.KINDS)
    assert all(job.automatic and job.period == december and job.requested_by is None
               for job in created)
    # The acts were made first (the billing job normally did it on the 1st).
    assert Document.objects.filter(kind="act", period=december).count() == 1

    assert jobs.monthly_exports(date(2027, 1, 11)) == []  # beat fires again: nothing new
    assert jobs.monthly_exports(date(2027, 1, 12)) == []
    assert ExportJob.objects.filter(automatic=True).count() == 3


@pytest.mark.django_db
def test_a_missed_first_working_day_is_caught_up_and_a_made_kind_is_kept(db):
    ExportJob.objects.create(kind=jobs.SALES, automatic=True, period=date(2026, 11, 1))
    created = jobs.monthly_exports(date(2026, 12, 3))  # workers were down on the 1st
    assert sorted(job.kind for job in created) == sorted([jobs.SALES_REGISTER, jobs.PAYMENTS])
    assert ExportJob.objects.filter(automatic=True, period=date(2026, 11, 1)).count() == 3


@pytest.mark.django_db
def test_the_beat_task_runs_the_job(db):
    from ispcrm.celery import app
    from reports.onec.tasks import monthly_onec_exports

    entry = app.conf.beat_schedule["reports-1c-monthly"]
    assert entry["task"] == "reports.onec.tasks.monthly_onec_exports"
    assert monthly_onec_exports("2027-01-08") == 0
    assert monthly_onec_exports("2027-01-11") == 3


# --- The page ----------------------------------------------------------------------------------

@pytest.mark.django_db
def test_page_access(client, make_user):
    url = reverse("reports:accounting")
    assert client.get(url).status_code == 302  # sign in first
    for role, status in ((roles.ACCOUNTANT, 200), (roles.DIRECTOR, 200),
                         (roles.MANAGER, 403), (roles.HEAD_OF_SALES, 403)):
        client.force_login(make_user(role))
        assert client.get(url).status_code == status, role


@pytest.mark.django_db
def test_page_shows_the_month_its_files_and_the_automatic_ones(client, month, media,
                                                               make_user):
    accountant = make_user(roles.ACCOUNTANT)
    job = export_start(jobs.SALES, {"period": "2026-11-01"}, None, automatic=True,
                       period=NOVEMBER)
    assert export_run(job.pk) == ExportJob.Status.DONE
    failed = ExportJob.objects.create(kind=jobs.PAYMENTS, automatic=True, period=NOVEMBER,
                                      status=ExportJob.Status.FAILED, error="boom")
    client.force_login(accountant)
    response = client.get(reverse("reports:accounting"), {"month": "2026-11"})
    assert response.status_code == 200
    text = response.content.decode()
    # Acts and payments of November (money with non-breaking spaces).
    assert "4\u00a0599,50" in text and "3\u00a0300,00" in text
    for kind in jobs.KINDS:
        assert f'value="{kind}"' in text
    job.refresh_from_db()
    download = reverse("reports:accounting_download", args=[job.public_id])
    assert download in text
    assert reverse("reports:accounting_rebuild", args=[failed.public_id]) in text

    # Another accountant downloads the automatic file (it is nobody's own).
    client.force_login(make_user(roles.ACCOUNTANT, username="accountant2"))
    response = client.get(download)
    assert response.status_code == 200
    assert b"".join(response.streaming_content).startswith(b"<?xml")
    client.force_login(make_user(roles.MANAGER))
    assert client.get(download).status_code == 403


@pytest.mark.django_db
def test_rebuild_queues_a_failed_automatic_file_again(client, month, media, make_user,
                                                      django_capture_on_commit_callbacks):
    failed = ExportJob.objects.create(kind=jobs.PAYMENTS, automatic=True, period=NOVEMBER,
                                      params={"period": "2026-11-01"},
                                      status=ExportJob.Status.FAILED, error="boom")
    client.force_login(make_user(roles.ACCOUNTANT))
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("reports:accounting_rebuild", args=[failed.public_id]))
    assert response.status_code == 302
    failed.refresh_from_db()
    assert failed.status == ExportJob.Status.DONE and failed.file_name.endswith(".xlsx")


@pytest.mark.django_db
def test_start_button_goes_through_the_export_flow(client, month, media, make_user,
                                                   django_capture_on_commit_callbacks):
    client.force_login(make_user(roles.ACCOUNTANT))
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("reports:export_start"),
                               {"kind": jobs.SALES, "period": "2026-11-01"})
    job = ExportJob.objects.get(kind=jobs.SALES)
    assert response.status_code == 302 and str(job.public_id) in response["Location"]
    job.refresh_from_db()
    assert job.status == ExportJob.Status.DONE and not job.automatic
    # A small register comes back at once as the file.
    response = client.post(reverse("reports:export_start"),
                           {"kind": jobs.SALES_REGISTER, "period": "2026-11"})
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment")
