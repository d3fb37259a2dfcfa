"""Excel exports of the staff lists (reports.exports): the four lists with their filters, the
background job with progress and expiry, access, the sweep of a job a killed worker left
running, and the purge of expired files. Celery runs eagerly; the task is queued on commit,
so the tests run the commit callbacks."""

import datetime as dt
import os
from decimal import Decimal

import openpyxl
import pytest
from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation

from billing.services.payments import payment_accept
from ispcrm import roles
from reports import exports
from reports.excel import Column, Sheet
from reports.exports import (
    EXPORTS,
    ExportSpec,
    export_run,
    export_start,
    exports_purge,
    exports_sweep,
)
from reports.models import ExportJob
from tests.factories import (
    BuildingFactory,
    ClientCardFactory,
    TariffFactory,
    UserFactory,
    make_account,
)
from tickets.models import Category, Rating, Ticket

MSK = dt.timezone(dt.timedelta(hours=3))


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.EXPORT_LINK_HOURS = 24
    settings.LANGUAGE_CODE = "en"  # pages read as the code writes them
    cache.clear()
    with translation.override("en"):  # headers as written in the code
        yield


@pytest.fixture
def accountant(make_user):
    return make_user(roles.ACCOUNTANT)


@pytest.fixture
def web(accountant):
    client = Client()
    client.force_login(accountant)
    return client


def start(kind, params, user, capture):
    """export_start and the task it queues on commit, as a worker would run it."""
    with capture(execute=True):
        job = export_start(kind, params, user)
    job.refresh_from_db()
    return job


def sheet_of(job):
    with job.file.open("rb") as handle:
        return openpyxl.load_workbook(handle).worksheets[0]


def rows_of(ws):
    return [[cell.value for cell in row] for row in ws.iter_rows(min_row=2)]


@pytest.fixture
def payments(accountant):
    """Two payments on 05.03.2026 (cash 1 500,00 and a card 250,50) and one in February."""
    card = ClientCardFactory(stage="active", name="Петров Пётр")
    account = make_account(client=card, number="100200")
    march = dt.datetime(2026, 3, 5, 10, 30, tzinfo=MSK)
    payment_accept(account=account, amount="1500.00", channel="cash", external_id="К-1",
                   paid_at=march, actor=accountant)
    payment_accept(account=account, amount="250.50", channel="card", external_id="=CMD|1",
                   paid_at=march + dt.timedelta(hours=1))
    payment_accept(account=account, amount="99.00", channel="cash", external_id="К-2",
                   paid_at=dt.datetime(2026, 2, 10, 12, 0, tzinfo=MSK))
    return account


# --- Payments through the job ---------------------------------------------------------------

def test_payments_export_builds_a_typed_file(accountant, payments,
                                             django_capture_on_commit_callbacks):
    before = timezone.now()
    job = start("payments", {"date_from": "2026-03-01", "date_to": "2026-03-31"}, accountant,
                django_capture_on_commit_callbacks)
    assert job.status == ExportJob.Status.DONE, job.error
    assert (job.progress_done, job.progress_total, job.percent) == (2, 2, 100)
    assert job.file_name.startswith("payments-") and job.file_name.endswith(".xlsx")
    assert str(job.public_id) in job.file.name  # not guessable under MEDIA_ROOT
    # The link works EXPORT_LINK_HOURS (24) from the moment the file was finished.
    assert before + dt.timedelta(hours=24) <= job.expires_at <= timezone.now() + \
        dt.timedelta(hours=24)
    ws = sheet_of(job)
    assert [c.value for c in ws[1]] == ["Paid at", "Account", "Client", "Amount", "Channel",
                                        "Status", "External id", "Taken by"]
    assert ws.freeze_panes == "A2" and ws.auto_filter.ref == "A1:H3"
    # Newest first: the card payment at 11:30 Moscow time, then the cash one at 10:30.
    first, second = rows_of(ws)
    assert first[:7] == [dt.datetime(2026, 3, 5, 11, 30), "100200", "Петров Пётр", 250.5,
                         "Bank card", "Completed", "=CMD|1"]
    assert ws["G2"].data_type == "s"  # a receipt number starting with "=" stays text
    amount = ws["D3"]
    assert (amount.value, amount.data_type, amount.number_format) == (1500, "n",
                                                                      '#,##0.00\\ "₽"')
    assert ws["A3"].is_date and ws["A3"].number_format == "DD.MM.YYYY HH:MM"
    assert second[7] == str(accountant)


def test_payments_filters_are_the_pages(accountant, payments,
                                        django_capture_on_commit_callbacks):
    job = start("payments", {"date_from": "2026-02-01", "channel": "cash"}, accountant,
                django_capture_on_commit_callbacks)
    # Cash since 1 February: 1 500,00 in March and 99,00 in February; not the card payment.
    assert sorted(row[3] for row in rows_of(sheet_of(job))) == [99, 1500]
    assert job.params == {"date_from": "2026-02-01", "channel": "cash", "lang": "en"}


def test_payments_without_filters_are_this_months(accountant):
    # As the page opened from the menu: from the 1st of the current month.
    spec = EXPORTS["payments"]
    cleaned = spec.clean({}, accountant)
    assert cleaned == {"date_from": timezone.localdate().replace(day=1).isoformat()}


def test_bad_parameters_are_refused(accountant):
    with pytest.raises(ValidationError):
        export_start("payments", {"date_from": "yesterday"}, accountant)
    with pytest.raises(ValidationError):
        export_start("clients", {"stage": "nonsense"}, accountant)
    with pytest.raises(ValidationError):
        export_start("no-such-list", {}, accountant)
    assert not ExportJob.objects.exists()


def test_queued_on_commit_not_before(accountant, payments, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        job = export_start("payments", {}, accountant)
    job.refresh_from_db()
    assert job.status == ExportJob.Status.QUEUED and len(callbacks) == 1


def test_a_second_delivery_builds_nothing(accountant, payments,
                                          django_capture_on_commit_callbacks):
    job = start("payments", {}, accountant, django_capture_on_commit_callbacks)
    name = job.file.name
    assert export_run(job.pk) == ExportJob.Status.DONE  # claimed already: left as it is
    job.refresh_from_db()
    assert job.file.name == name


# --- The other lists ------------------------------------------------------------------------

def test_clients_export_has_the_card_fields(make_user, django_capture_on_commit_callbacks):
    head = make_user(roles.HEAD_OF_SALES, first_name="Анна", last_name="Смирнова")
    building = BuildingFactory(house="7к1")
    card = ClientCardFactory(name="ООО Ромашка", kind="company", inn="7701234567",
                             email="a@example.ru", building=building, premises="офис 3",
                             stage="contract", connection_type="radio", lead_manager=head)
    ClientCardFactory(name="Другой", stage="active")
    job = start("clients", {"stage": "contract"}, head, django_capture_on_commit_callbacks)
    ws = sheet_of(job)
    assert ws.max_column == 15
    (row,) = rows_of(ws)
    street = building.street
    assert row[:12] == [card.pk, "ООО Ромашка", "Company", card.phone, "a@example.ru",
                        "7701234567", f"{street.name}, 7к1, офис 3", building.district.name,
                        street.city.name, "Contract", "Radio", "Анна Смирнова"]
    assert ws["M2"].is_date and row[13] is None and row[14] is None


def test_clients_mine_is_the_requesters(make_user, django_capture_on_commit_callbacks):
    mine, other = make_user(roles.MANAGER), make_user(roles.MANAGER, username="other")
    ClientCardFactory(name="Мой", lead_manager=mine)
    ClientCardFactory(name="Чужой", lead_manager=other)
    job = start("clients", {"mine": "1"}, mine, django_capture_on_commit_callbacks)
    assert [row[1] for row in rows_of(sheet_of(job))] == ["Мой"]
    assert job.params["lead_manager"] == mine.pk


def test_accounts_export(accountant, django_capture_on_commit_callbacks):
    tariff = TariffFactory(name="Экспортный 100")
    account = make_account(tariff=tariff, balance=Decimal("-350.25"), number="555001",
                           activated_on=dt.date(2026, 1, 15))
    account.never_block = True
    account.save(update_fields=["never_block"])
    make_account(status="closed", number="555002")
    job = start("accounts", {"status": "active"}, accountant, django_capture_on_commit_callbacks)
    ws = sheet_of(job)
    (row,) = rows_of(ws)
    assert row[:5] == ["555001", account.client.name, "Active", "Экспортный 100", -350.25]
    assert ws["E2"].number_format == '#,##0.00\\ "₽"'
    assert ws["F2"].value.date() == dt.date(2026, 1, 15) and ws["F2"].number_format == \
        "DD.MM.YYYY"
    assert (row[6], row[7]) == (None, True)


def test_accounts_by_current_tariff(accountant, django_capture_on_commit_callbacks):
    wanted = TariffFactory(name="Бизнес 200")
    make_account(tariff=wanted, number="600001")
    make_account(number="600002")
    job = start("accounts", {"tariff": str(wanted.pk), "q": "6000"}, accountant,
                django_capture_on_commit_callbacks)
    assert [(row[0], row[3]) for row in rows_of(sheet_of(job))] == [("600001", "Бизнес 200")]


def test_tickets_export(make_user, django_capture_on_commit_callbacks):
    support = make_user(roles.SUPPORT)
    parent = Category.objects.create(code="net", name="Сеть")
    child = Category.objects.create(code="net-slow", name="Медленно", parent=parent)
    card = ClientCardFactory(name="Сидоров")
    ticket = Ticket.objects.create(client=card, branch=support.branch, category=child,
                                   channel="phone", subject="Скорость", assignee=support,
                                   resolution_breached=True)
    Rating.objects.create(ticket=ticket, score=4)
    job = start("tickets", {"view": "all"}, support, django_capture_on_commit_callbacks)
    ws = sheet_of(job)
    (row,) = rows_of(ws)
    assert row[0] == ticket.pk and row[2:8] == ["Скорость", "Сидоров", "Сеть / Медленно",
                                                "Phone", "Normal", "New"]
    assert row[8] == str(support)
    assert (row[13], row[14]) == (True, 4)  # SLA breached, rated 4
    assert job.params["user"] == support.pk and job.params["view"] == "all"


# --- Access -------------------------------------------------------------------------------

def test_lists_follow_the_datas_permissions(make_user):
    crew = make_user(roles.CREW_LEADER)  # sees clients and tickets, not payments
    with pytest.raises(PermissionDenied):
        export_start("payments", {}, crew)
    with pytest.raises(PermissionDenied):
        export_start("accounts", {}, crew)
    assert EXPORTS["clients"].can_use(crew) and EXPORTS["tickets"].can_use(crew)
    nobody = UserFactory(username="nobody")
    assert not any(spec.can_use(nobody) for spec in EXPORTS.values())


def test_start_view_403_without_permission(make_user):
    client = Client()
    client.force_login(make_user(roles.CREW_LEADER))
    response = client.post(reverse("reports:export_start"), {"kind": "payments"})
    assert response.status_code == 403


def test_another_users_job_is_404(accountant, make_user, payments, web,
                                  django_capture_on_commit_callbacks):
    job = start("payments", {}, accountant, django_capture_on_commit_callbacks)
    other = Client()
    other.force_login(make_user(roles.ACCOUNTANT, username="other_accountant"))
    for name in ("reports:export_detail", "reports:export_download"):
        assert other.get(reverse(name, args=[job.public_id])).status_code == 404
        assert web.get(reverse(name, args=[job.public_id])).status_code == 200
    boss = Client()
    boss.force_login(UserFactory(username="root", is_superuser=True, is_staff=True))
    assert boss.get(reverse("reports:export_download", args=[job.public_id])).status_code == 200
    # "My exports" lists one's own only.
    assert job.file_name in web.get(reverse("reports:export_list")).content.decode()
    assert job.file_name not in other.get(reverse("reports:export_list")).content.decode()


def test_download_after_expiry_is_404(accountant, payments, web,
                                      django_capture_on_commit_callbacks):
    job = start("payments", {}, accountant, django_capture_on_commit_callbacks)
    url = reverse("reports:export_download", args=[job.public_id])
    response = web.get(url)
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment")
    b"".join(response.streaming_content)  # not response.close(): it ends the DB session
    ExportJob.objects.filter(pk=job.pk).update(expires_at=timezone.now() - dt.timedelta(
        seconds=1))
    assert web.get(url).status_code == 404
    page = web.get(reverse("reports:export_detail", args=[job.public_id])).content.decode()
    assert "The link has expired: build the export again." in page
    assert "export-retry" in page


# --- Pages --------------------------------------------------------------------------------

def test_small_list_downloads_at_once(settings, payments, web):
    settings.EXPORT_INLINE_ROWS = 5000
    response = web.post(reverse("reports:export_start"),
                        {"kind": "payments", "date_from": "2026-03-01", "page": "2"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    assert not ExportJob.objects.exists()


def test_big_list_goes_to_the_progress_page(settings, payments, web,
                                            django_capture_on_commit_callbacks):
    settings.EXPORT_INLINE_ROWS = 1  # two payments are "big" here
    with django_capture_on_commit_callbacks(execute=False):
        response = web.post(reverse("reports:export_start"),
                            {"kind": "payments", "date_from": "2026-03-01"})
    job = ExportJob.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("reports:export_detail", args=[job.public_id])
    # While queued the part polls itself every second…
    page = web.get(response["Location"]).content.decode()
    assert 'hx-trigger="every 1s"' in page and "progressbar" in page
    export_run(job.pk)
    # …and when done it stops polling and offers the download with the link's end.
    part = web.get(response["Location"], headers={"HX-Request": "true"}).content.decode()
    assert "every 1s" not in part
    assert reverse("reports:export_download", args=[job.public_id]) in part
    job.refresh_from_db()
    assert timezone.localtime(job.expires_at).strftime("%H:%M") in part


def test_failure_is_shown_with_a_retry(settings, accountant, web, monkeypatch,
                                       django_capture_on_commit_callbacks):
    def broken(params):
        raise RuntimeError("the database went away")

    monkeypatch.setitem(EXPORTS, "broken", ExportSpec("Broken", broken,
                                                      permission=("billing.view_payment",)))
    job = start("broken", {}, accountant, django_capture_on_commit_callbacks)
    assert job.status == ExportJob.Status.FAILED
    assert job.error == "the database went away"
    page = web.get(reverse("reports:export_detail", args=[job.public_id])).content.decode()
    assert "the database went away" in page and "export-retry" in page
    assert web.get(reverse("reports:export_download",
                           args=[job.public_id])).status_code == 404


def test_progress_moves_every_1000_rows(accountant, monkeypatch,
                                        django_capture_on_commit_callbacks):
    seen = []
    real = exports._set_progress
    monkeypatch.setattr(exports, "_set_progress",
                        lambda job_id, done: (seen.append(done), real(job_id, done)))

    def big(params):
        rows = ((i, Decimal(i)) for i in range(2500))
        return "big.xlsx", [Sheet("Big", [Column("N", "int"), Column("Sum", "money")],
                                  rows)], 2500

    monkeypatch.setitem(EXPORTS, "big", ExportSpec("Big", big))
    job = start("big", {}, accountant, django_capture_on_commit_callbacks)
    assert seen == [1000, 2000, 2500]
    assert (job.status, job.progress_done, job.progress_total) == ("done", 2500, 2500)


# --- Killed workers and expired files -------------------------------------------------------

def test_a_killed_job_is_swept(accountant, payments, settings,
                               django_capture_on_commit_callbacks):
    settings.EXPORT_STALL_MINUTES = 10
    settings.EXPORT_MAX_TRIES = 2
    now = timezone.now()
    # A worker died at row 1,000 half an hour ago: the job still says "running".
    job = ExportJob.objects.create(kind="payments", params={"date_from": "2026-03-01"},
                                   requested_by=accountant, status="running",
                                   started_at=now - dt.timedelta(minutes=30),
                                   progress_done=1000)
    # The first sweep only notes the progress; a live job would have moved by the next one.
    assert exports_sweep(now) == {"requeued": 0, "failed": 0}
    with django_capture_on_commit_callbacks(execute=True):
        assert exports_sweep(now + dt.timedelta(minutes=11)) == {"requeued": 1, "failed": 0}
    job.refresh_from_db()
    # Queued again and built from the start by the task queued on commit.
    assert job.status == ExportJob.Status.DONE and job.progress_done == 2
    assert job.params["_tries"] == 2

    # It dies a second time: no third try, the job fails with a word for the user.
    ExportJob.objects.filter(pk=job.pk).update(status="running", started_at=now,
                                               progress_done=0)
    later = now + dt.timedelta(minutes=20)
    exports_sweep(later)
    assert exports_sweep(later + dt.timedelta(minutes=10)) == {"requeued": 0, "failed": 1}
    job.refresh_from_db()
    assert job.status == ExportJob.Status.FAILED and "Build it again" in job.error


def test_a_moving_job_is_left_alone(accountant):
    now = timezone.now()
    job = ExportJob.objects.create(kind="payments", requested_by=accountant, status="running",
                                   started_at=now - dt.timedelta(minutes=30), progress_done=1000)
    exports_sweep(now)
    ExportJob.objects.filter(pk=job.pk).update(progress_done=2000)
    assert exports_sweep(now + dt.timedelta(minutes=11)) == {"requeued": 0, "failed": 0}
    assert ExportJob.objects.get(pk=job.pk).status == "running"


def test_expired_files_are_purged(accountant, payments, django_capture_on_commit_callbacks):
    job = start("payments", {}, accountant, django_capture_on_commit_callbacks)
    fresh = start("payments", {}, accountant, django_capture_on_commit_callbacks)
    ExportJob.objects.filter(pk=fresh.pk).update(expires_at=job.expires_at
                                                 + dt.timedelta(hours=24))
    path = job.file.path
    assert os.path.exists(path)
    assert exports_purge(job.expires_at - dt.timedelta(minutes=1)) == 0
    assert exports_purge(job.expires_at + dt.timedelta(minutes=1)) == 1
    job.refresh_from_db()
    assert not job.file and job.file_name  # the row stays as the history
    assert not os.path.exists(path)
    fresh.refresh_from_db()
    assert fresh.file and os.path.exists(fresh.file.path)
