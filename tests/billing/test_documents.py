"""Monthly invoices and acts (SP-8, M8): numbers, lines from the ledger, the printed PDF."""

import shutil
import subprocess
import time
from datetime import date
from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission
from django.core.management import call_command
from django.db import transaction
from django.test import RequestFactory

from billing.documents_text import amount_in_words_ru, format_money, format_quantity
from billing.models import (
    Account,
    AccountService,
    BillingSettings,
    Document,
    DocumentCounter,
    LedgerEntry,
    Service,
)
from billing.services.documents import (
    document_html,
    document_pdf,
    monthly_documents_issue,
    next_number,
)
from billing.services.ledger import post
from billing.tasks import issue_monthly_documents, previous_month
from billing.views.documents import document_pdf_view
from tests.concurrency import run_in_parallel
from tests.factories import ClientCardFactory, TariffFactory, make_account

NOVEMBER = date(2026, 11, 1)
CHARGE = LedgerEntry.Kind.CHARGE


def charge(account, amount, charge_kind, description="", period=NOVEMBER, service=None):
    with transaction.atomic():
        return post(account=account, kind=CHARGE, amount=Decimal(amount), period=period,
                    charge_kind=charge_kind, description=description or charge_kind,
                    service=service)


def pdf_text(pdf: bytes) -> str:
    if shutil.which("pdftotext") is None:
        pytest.skip("needs pdftotext (Debian poppler-utils)")
    out = subprocess.run(["pdftotext", "-layout", "-", "-"], input=pdf, capture_output=True,
                         check=True)
    return " ".join(out.stdout.decode().split())  # one space for any run of whitespace


# --- Amount in words -------------------------------------------------------------------------

@pytest.mark.parametrize(("amount", "words"), [
    ("0", "Ноль рублей 00 копеек"),
    ("1", "Один рубль 00 копеек"),
    ("2", "Два рубля 00 копеек"),
    ("5", "Пять рублей 00 копеек"),
    ("11", "Одиннадцать рублей 00 копеек"),
    ("21", "Двадцать один рубль 00 копеек"),
    ("1000", "Одна тысяча рублей 00 копеек"),
    ("1500.50", "Одна тысяча пятьсот рублей 50 копеек"),
    ("1000000", "Один миллион рублей 00 копеек"),
    ("2000000.01", "Два миллиона рублей 01 копейка"),
    ("2.02", "Два рубля 02 копейки"),
    ("14.11", "Четырнадцать рублей 11 копеек"),
    ("22222.22", "Двадцать две тысячи двести двадцать два рубля 22 копейки"),
    ("115000", "Сто пятнадцать тысяч рублей 00 копеек"),
    ("3004001", "Три миллиона четыре тысячи один рубль 00 копеек"),
])
def test_amount_in_words(amount, words):
    assert amount_in_words_ru(Decimal(amount)) == words


def test_money_and_quantities_as_russian_documents_write_them():
    assert format_money(Decimal("1500")) == "1 500,00"
    assert format_money(Decimal("1234567.5")) == "1 234 567,50"
    assert format_money(Decimal("-80.1")) == "-80,10"
    assert format_money(Decimal("0")) == "0,00"
    assert format_quantity(Decimal("10.00")) == "10"
    assert format_quantity(Decimal("2.50")) == "2,5"


# --- Numbers ---------------------------------------------------------------------------------

@pytest.mark.django_db
def test_numbers_run_per_series_and_are_never_reused():
    assert [next_number("СЧ-2026") for _ in range(3)] == [1, 2, 3]
    assert next_number("АКТ-2026") == 1
    with pytest.raises(RuntimeError), transaction.atomic():
        assert next_number("СЧ-2026") == 4
        raise RuntimeError("the document was not saved")
    # The rolled-back number went back with its document: the next one takes it.
    assert next_number("СЧ-2026") == 4
    assert DocumentCounter.objects.get(series="СЧ-2026").last_number == 4


def _race(worker, threads=2):
    results, errors = run_in_parallel(lambda _i: worker(), threads)
    assert errors == []
    return [item for result in results for item in result]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_the_race_exists_without_the_row_lock():
    """Proves the test below can see a race: read-increment-write without the lock loses
    updates and hands out the same number twice."""
    DocumentCounter.objects.create(series="RACE")

    def unlocked():
        with transaction.atomic():
            counter = DocumentCounter.objects.get(series="RACE")
            time.sleep(0.2)
            counter.last_number += 1
            counter.save(update_fields=["last_number"])
            return [counter.last_number]

    assert _race(unlocked) == [1, 1]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_numbers_in_separate_connections_are_unique():
    """Two connections take numbers at once from a series that does not exist yet: both
    create the counter row, one wins, and every number is handed out exactly once."""

    def take():
        numbers = []
        for _ in range(20):
            with transaction.atomic():
                numbers.append(next_number("СЧ-2026"))
                time.sleep(0.005)  # hold the lock a moment: the other waits, not overtakes
        return numbers

    numbers = _race(take)
    assert sorted(numbers) == list(range(1, 41))


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_issue_runs_at_once_make_each_document_once():
    accounts = [make_account() for _ in range(12)]
    for account in accounts:
        charge(account, "-600", "monthly_fee")
    _race(lambda: [monthly_documents_issue(period=NOVEMBER)])
    assert Document.objects.count() == 24
    numbers = sorted(Document.objects.filter(kind="invoice").values_list("number", flat=True))
    assert numbers == [f"СЧ-2026-{n:06d}" for n in range(1, 13)]


# --- Issuing ---------------------------------------------------------------------------------

@pytest.mark.django_db
def test_issue_makes_an_invoice_and_an_act_with_the_months_charges():
    tariff = TariffFactory(name="Бизнес 200", monthly_fee=Decimal("1500.00"))
    account = make_account(tariff=tariff)
    ip = Service.objects.create(code="ip", name="Статический IP-адрес",
                                monthly_fee=Decimal("150.00"))
    AccountService.objects.create(account=account, service=ip, start=date(2026, 1, 1))
    charge(account, "-1500.00", "monthly_fee")
    charge(account, "-150.00", "service_fee", service=ip)
    charge(account, "-100.50", "pause_fee")
    charge(account, "80.10", "proration", "Перерасчёт при смене тарифа с 20.11.2026")
    charge(account, "-700", "monthly_fee", period=date(2026, 10, 1))  # another month
    with transaction.atomic():  # a payment is not a line of the document
        post(account=account, kind="payment", amount=Decimal("5000"), description="Оплата")
    idle = make_account()  # no charges this month: no documents

    assert monthly_documents_issue(period=NOVEMBER) == 2

    invoice = Document.objects.get(kind="invoice")
    act = Document.objects.get(kind="act")
    assert invoice.account == act.account == account
    assert not Document.objects.filter(account=idle).exists()
    assert invoice.number == "СЧ-2026-000001" and act.number == "АКТ-2026-000001"
    assert invoice.period == NOVEMBER and invoice.issued_on == date(2026, 11, 30)
    assert invoice.lines == act.lines == [
        {"name": "Услуги доступа к сети Интернет по тарифу «Бизнес 200» за ноябрь 2026",
         "quantity": "1", "unit": "мес.", "price": "1500.00", "amount": "1500.00"},
        {"name": "Статический IP-адрес за ноябрь 2026", "quantity": "1", "unit": "мес.",
         "price": "150.00", "amount": "150.00"},
        {"name": "Абонентская плата в период приостановки обслуживания за ноябрь 2026",
         "quantity": "1", "unit": "мес.", "price": "100.50", "amount": "100.50"},
        {"name": "Перерасчёт при смене тарифа с 20.11.2026", "quantity": "1", "unit": "усл.",
         "price": "-80.10", "amount": "-80.10"},
    ]
    assert invoice.total == act.total == Decimal("1670.40")
    assert invoice.hours_included is None


@pytest.mark.django_db
def test_issuing_twice_creates_nothing_new_and_numbers_continue():
    first, second = make_account(), make_account()
    charge(first, "-600", "monthly_fee")
    assert monthly_documents_issue(period=NOVEMBER) == 2
    assert monthly_documents_issue(period=date(2026, 11, 17)) == 0  # any day of the month
    charge(second, "-600", "monthly_fee")  # a late charge: only its documents are new
    assert monthly_documents_issue(period=NOVEMBER) == 2
    assert sorted(Document.objects.filter(account=second).values_list("number", flat=True)) \
        == ["АКТ-2026-000002", "СЧ-2026-000002"]


@pytest.mark.django_db(transaction=True)
def test_batches_committed_while_the_charges_stream_in(monkeypatch):
    """Outside a test transaction, as in production: each batch commits while the cursor
    over the month's charges is still open."""
    from billing.services import documents

    monkeypatch.setattr(documents, "BATCH_SIZE", 3)
    monkeypatch.setattr(documents, "CHUNK_SIZE", 4)
    accounts = [make_account() for _ in range(10)]
    for account in accounts:
        charge(account, "-600", "monthly_fee")
        charge(account, "-150", "service_fee", "Статический IP-адрес")
    assert monthly_documents_issue(period=NOVEMBER) == 20
    assert monthly_documents_issue(period=NOVEMBER) == 0
    for document in Document.objects.all():
        assert document.total == Decimal("750.00") and len(document.lines) == 2
    assert sorted(Document.objects.filter(kind="act").values_list("number", flat=True)) == [
        f"АКТ-2026-{n:06d}" for n in range(1, 11)]


@pytest.mark.django_db
def test_a_taken_number_is_skipped_not_reused():
    account = make_account()
    charge(account, "-600", "monthly_fee")
    other = make_account()
    # A document made by hand outside the counter took the next number.
    Document.objects.create(kind="invoice", number="СЧ-2026-000001", account=other,
                            period=date(2026, 10, 1), issued_on=date(2026, 10, 31),
                            total=Decimal("1"))
    assert monthly_documents_issue(period=NOVEMBER) == 2
    assert Document.objects.get(account=account, kind="invoice").number == "СЧ-2026-000002"
    assert DocumentCounter.objects.get(series="СЧ-2026").last_number == 2


@pytest.mark.django_db
def test_hourly_business_service_carries_the_included_hours():
    tariff = TariffFactory(included_hours=Decimal("10.00"), hour_price=Decimal("1200"))
    account = make_account(tariff=tariff)
    charge(account, "-600", "monthly_fee")
    monthly_documents_issue(period=NOVEMBER)
    act = Document.objects.get(kind="act")
    assert act.hours_included == Decimal("10.00") and act.hours_spent is None
    html = document_html(act)
    assert "Часов включено в абонентскую плату" in html and "Часов использовано" not in html
    act.hours_spent = Decimal("3.50")
    html = document_html(act)
    assert "Часов использовано" in html and "3,5" in html


@pytest.mark.django_db
def test_task_and_command_issue_the_previous_month():
    assert previous_month(date(2026, 1, 15)) == date(2025, 12, 1)
    account = make_account()
    charge(account, "-600", "monthly_fee")
    assert issue_monthly_documents.delay("2026-11").get() == 2
    charge(make_account(), "-600", "monthly_fee")
    call_command("issue_documents", "--period", "2026-11")
    assert Document.objects.count() == 4


# --- The PDF ---------------------------------------------------------------------------------

def _company_account(name="ООО «Ромашка»"):
    client = ClientCardFactory(kind="company", name=name, inn="7707083893", kpp="770701001")
    return make_account(client=client)


@pytest.mark.django_db
def test_pdf_is_a_russian_invoice_with_requisites_and_the_amount_in_words():
    settings = BillingSettings.current()
    settings.company_name = "ООО «Городская сеть»"
    settings.save()
    account = _company_account()
    charge(account, "-1500", "monthly_fee")
    monthly_documents_issue(period=NOVEMBER)
    invoice = Document.objects.get(kind="invoice")

    pdf = document_pdf(invoice)
    assert pdf.startswith(b"%PDF")
    text = pdf_text(pdf)
    assert "Счёт на оплату № СЧ-2026-000001 от 30.11.2026" in text
    assert "ООО «Городская сеть»" in text
    assert "ИНН 7708123450" in text and "БИК 044525225" in text
    assert "ООО «Ромашка», ИНН 7707083893, КПП 770701001" in text
    assert "1 500,00" in text
    assert "Одна тысяча пятьсот рублей 00 копеек" in text
    assert "Руководитель" in text and "Бухгалтер" in text


@pytest.mark.django_db
def test_act_pdf_has_both_signatures_and_no_claims_sentence():
    account = _company_account()
    charge(account, "-2000000.01", "monthly_fee")
    monthly_documents_issue(period=NOVEMBER)
    text = pdf_text(document_pdf(Document.objects.get(kind="act")))
    assert "Акт об оказании услуг № АКТ-2026-000001 от 30.11.2026" in text
    assert "Два миллиона рублей 01 копейка" in text
    assert "2 000 000,01" in text
    assert "Заказчик претензий по объёму, качеству и срокам оказания услуг не имеет" in text
    assert "ИСПОЛНИТЕЛЬ" in text and "ЗАКАЗЧИК" in text


@pytest.mark.django_db
def test_hostile_names_are_printed_as_text():
    hostile = '<script>alert(1)</script> <b>ООО</b> "Рога & Копыта" <img src="http://x/y.png">'
    account = _company_account(name=hostile)
    charge(account, "-600", "proration", "<i>Перерасчёт</i>")
    monthly_documents_issue(period=NOVEMBER)
    invoice = Document.objects.get(kind="invoice")
    html = document_html(invoice)
    assert "<script>" not in html and "<img" not in html and "<i>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    text = pdf_text(document_pdf(invoice))
    assert "<script>alert(1)</script> <b>ООО</b>" in text
    assert "<i>Перерасчёт</i>" in text


@pytest.mark.django_db
def test_the_pdf_loads_no_network_urls():
    from billing.services.documents import _local_fetcher

    fetcher = _local_fetcher()
    for url in ("http://example.com/a.png", "https://example.com/a.css",
                "file:///etc/passwd", "ftp://example.com/x"):
        with pytest.raises(ValueError):
            fetcher.fetch(url)
    font = fetcher.fetch("file:///usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")
    assert font.read(4) == b"\x00\x01\x00\x00"
    font.close()


# --- The staff view --------------------------------------------------------------------------

@pytest.mark.django_db
def test_pdf_view_needs_the_permission_and_serves_an_inline_pdf(make_user):
    account = make_account()
    charge(account, "-600", "monthly_fee")
    monthly_documents_issue(period=NOVEMBER)
    invoice = Document.objects.get(kind="invoice")
    request = RequestFactory().get("/")

    request.user = make_user()
    from django.core.exceptions import PermissionDenied
    with pytest.raises(PermissionDenied):
        document_pdf_view(request, pk=invoice.pk)

    request.user.user_permissions.add(Permission.objects.get(codename="view_document"))
    request.user = type(request.user).objects.get(pk=request.user.pk)  # fresh perm cache
    response = document_pdf_view(request, pk=invoice.pk)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
    assert response["Content-Disposition"] == (
        'inline; filename="invoice-2026-000001.pdf"; '
        "filename*=UTF-8''invoice-%D0%A1%D0%A7-2026-000001.pdf")


@pytest.mark.django_db
def test_account_created_directly_gets_documents():
    """Documents need only an account and its charges (no subscription: no tariff name)."""
    account = Account.objects.create(number="10000001", client=ClientCardFactory(),
                                     status="active")
    charge(account, "-350", "monthly_fee")
    assert monthly_documents_issue(period=NOVEMBER) == 2
    assert Document.objects.get(kind="act").lines[0]["name"] == "Абонентская плата за ноябрь 2026"


def test_claim_prints_as_a_pdf_with_the_debt_in_words(client, make_user):
    from billing.models import Claim
    from ispcrm import roles

    account = make_account(balance=Decimal("-1500.00"))
    claim = Claim.objects.create(account=account, number="ПР-2026-000001",
                                 created_on=date(2026, 12, 14), debt=Decimal("1500.00"))
    client.force_login(make_user(roles.ACCOUNTANT))
    response = client.get(f"/billing/claims/{claim.pk}/pdf/")
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    text = pdf_text(response.content)
    assert "Претензия № ПР-2026-000001 от 14.12.2026" in text
    assert "Одна тысяча пятьсот рублей 00 копеек" in text
    assert account.number in text
