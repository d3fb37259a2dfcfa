"""The client's history and documents (C6): the ledger with filters and the period's totals,
and his contract, invoices, acts and claims as PDFs — never another client's."""

import datetime as dt
from decimal import Decimal
from urllib.parse import quote
from zoneinfo import ZoneInfo

import pytest
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format

from billing.models import Claim, Document, Payment
from billing.money import month_start
from billing.services.ledger import lock_account, post
from connections.models import Contract
from tests.factories import ClientCardFactory, UserFactory

pytestmark = pytest.mark.django_db

MSK = ZoneInfo("Europe/Moscow")
HISTORY = reverse("cabinet:history")


@pytest.fixture(autouse=True)
def english(settings):
    """Pages read as the code writes them (English msgids)."""
    from django.utils import translation

    settings.LANGUAGE_CODE = "en"
    with translation.override("en"):
        yield


def at(month: int, day: int, hour: int = 12) -> dt.datetime:
    return dt.datetime(2026, month, day, hour, tzinfo=MSK)


def entry(account, kind, amount, when, description, payment=None, **fields):
    with transaction.atomic():
        return post(account=lock_account(account.pk), kind=kind, amount=Decimal(amount),
                    description=description, at=when, payment=payment, **fields)


def paid(account, amount, when, channel="cash", external_id=None):
    payment = Payment.objects.create(account=account, amount=Decimal(amount), channel=channel,
                                     external_id=external_id or f"t-{when:%m%d%H}",
                                     paid_at=when)
    entry(account, "payment", amount, when, f"Payment {amount}", payment=payment)
    return payment


@pytest.fixture
def ledger(subscriber):
    """Hand-built entries of spring 2026 (the fixture's opening 900,00 is posted today):
    balances after them −600, 400, −200, 300, 200, 0."""
    entry(subscriber, "charge", "-600", at(2, 5), "Monthly fee, February",
          period=dt.date(2026, 2, 1), charge_kind="monthly_fee")
    paid(subscriber, "1000", at(2, 10), channel="cash")
    entry(subscriber, "charge", "-600", at(3, 1), "Monthly fee, March",
          period=dt.date(2026, 3, 1), charge_kind="monthly_fee")
    entry(subscriber, "bonus", "500", at(3, 15), "Referral bonus")
    entry(subscriber, "correction", "-100", at(4, 1), "Recount of a mistake")
    entry(subscriber, "refund", "-200", at(4, 5), "Money returned")
    return subscriber


def rows(response) -> list[str]:
    """The ledger rows as text, newest first, whitespace collapsed."""
    html = response.content.decode()
    start = html.index('id="ledger"')
    chunks = html[start:].split('class="list-group-item d-flex gap-2 ledger-entry"')[1:]
    return [" ".join(strip_tags(chunk).split()) for chunk in chunks]


def strip_tags(html: str) -> str:
    from django.utils.html import strip_tags as strip

    return strip(html.split("</li>")[0]).replace("\xa0", " ")


def test_the_whole_ledger_newest_first_with_the_balance_after_each(cabinet_web, ledger):
    response = cabinet_web.get(HISTORY)
    assert response.status_code == 200
    found = rows(response)
    assert len(found) == 7
    assert "opening balance" in found[0] and "+900,00 ₽" in found[0]
    assert "balance 900,00 ₽" in found[0]
    assert "Money returned" in found[1] and "−200,00 ₽" in found[1]
    assert "balance 0,00 ₽" in found[1]
    assert "Referral bonus" in found[3] and "balance 300,00 ₽" in found[3]
    assert "Monthly fee, February" in found[6] and "balance −600,00 ₽" in found[6]
    assert "Cash desk" in found[5]  # the payment's channel in plain words
    assert 'class="fw-semibold text-danger ledger-amount">−200,00' in response.content.decode()
    # The way to the tariff history and the documents.
    assert reverse("cabinet:tariff") in response.content.decode()
    assert reverse("cabinet:documents") in response.content.decode()


def test_filter_by_kind_keeps_the_true_balance_after(cabinet_web, ledger):
    payments = rows(cabinet_web.get(HISTORY, {"kind": "payments"}))
    assert len(payments) == 1
    assert "+1 000,00 ₽" in payments[0] and "balance 400,00 ₽" in payments[0]
    bonuses = rows(cabinet_web.get(HISTORY, {"kind": "bonuses"}))
    assert len(bonuses) == 1 and "Referral bonus" in bonuses[0]
    corrections = rows(cabinet_web.get(HISTORY, {"kind": "corrections"}))
    assert [("Money returned" in r, "Recount" in r) for r in corrections[1:]] == [
        (True, False), (False, True)]
    assert "opening balance" in corrections[0]
    charges = rows(cabinet_web.get(HISTORY, {"kind": "charges"}))
    assert len(charges) == 2 and all("Monthly fee" in r for r in charges)
    # An unknown kind shows everything.
    assert len(rows(cabinet_web.get(HISTORY, {"kind": "everything?"}))) == 7


def test_filter_by_period_and_its_totals(cabinet_web, ledger):
    february = cabinet_web.get(HISTORY, {"date_from": "2026-02-01", "date_to": "2026-02-28"})
    found = rows(february)
    assert len(found) == 2
    html = february.content.decode().replace("\xa0", " ")
    assert 'id="total-paid">1 000,00 ₽' in html
    assert 'id="total-charged">600,00 ₽' in html
    start, end = (date_format(day, "SHORT_DATE_FORMAT")
                  for day in (dt.date(2026, 2, 1), dt.date(2026, 2, 28)))
    assert f"From {start} to {end}" in html
    # Both filters at once; the period's totals stay those of every kind.
    march = cabinet_web.get(HISTORY, {"date_from": "2026-03-01", "date_to": "2026-03-31",
                                      "kind": "bonuses"})
    html = march.content.decode().replace("\xa0", " ")
    assert len(rows(march)) == 1
    assert 'id="total-paid">0,00 ₽' in html and 'id="total-charged">600,00 ₽' in html
    # The last day is included whole: an entry at 23:30 Moscow time of 28.02.
    entry(ledger, "charge", "-50", at(2, 28, 23).replace(minute=30), "Late charge",
          period=dt.date(2026, 2, 1), charge_kind="service_fee")
    assert len(rows(cabinet_web.get(HISTORY, {"date_from": "2026-02-01",
                                              "date_to": "2026-02-28"}))) == 3


def test_a_cancelled_payment_is_not_counted_as_paid_in(cabinet_web, ledger):
    payment = paid(ledger, "300", at(3, 20), external_id="cancel-me")
    entry(ledger, "correction", "-300", at(3, 21), "Payment cancelled", payment=payment)
    html = cabinet_web.get(HISTORY, {"date_from": "2026-03-01", "date_to": "2026-03-31"}
                           ).content.decode().replace("\xa0", " ")
    assert 'id="total-paid">0,00 ₽' in html


@pytest.mark.parametrize("params, message", [
    ({"date_from": "2026-02-30"}, "Enter a date like 31.12.2026."),
    ({"date_to": "yesterday"}, "Enter a date like 31.12.2026."),
    ({"date_from": "2026-03-01", "date_to": "2026-02-01"},
     "The end of the period is before its start."),
])
def test_a_bad_date_is_a_message_not_an_error(cabinet_web, ledger, params, message):
    response = cabinet_web.get(HISTORY, params)
    assert response.status_code == 200
    assert message in response.content.decode()
    assert 'id="history-errors"' in response.content.decode()


def test_quick_periods_this_month_last_month_this_year(cabinet_web, ledger):
    today = timezone.localdate()
    this_month = month_start(today)
    last_month = month_start(this_month - dt.timedelta(days=1))
    html = cabinet_web.get(HISTORY, {"kind": "payments"}).content.decode()
    assert f"kind=payments&amp;date_from={this_month:%Y-%m-%d}" in html
    last_day = this_month - dt.timedelta(days=1)
    assert f"date_from={last_month:%Y-%m-%d}&amp;date_to={last_day:%Y-%m-%d}" in html
    assert f"date_from={today:%Y}-01-01&amp;date_to={today:%Y}-12-31" in html
    # This month holds only the opening balance posted today.
    found = rows(cabinet_web.get(HISTORY, {"date_from": f"{this_month:%Y-%m-%d}",
                                           "date_to": f"{today:%Y-%m-%d}"}))
    assert len(found) == 1 and "opening balance" in found[0]


def test_pages_of_fifty(cabinet_web, subscriber):
    for day in range(60):
        entry(subscriber, "bonus", "1", at(1, 1) + dt.timedelta(hours=day), f"Bonus {day}")
    first = rows(cabinet_web.get(HISTORY))
    second = rows(cabinet_web.get(HISTORY, {"page": 2}))
    assert len(first) == 50 and len(second) == 11
    assert "Bonus 0" in second[-1] and "balance 1,00 ₽" in second[-1]


def test_a_card_without_an_account_sees_a_word_not_an_error(db):
    from django.test import Client

    card = ClientCardFactory(stage="contract", cabinet_user=UserFactory(username="noacc"))
    web = Client()
    web.force_login(card.cabinet_user)
    response = web.get(HISTORY)
    assert response.status_code == 200
    assert "Your account is opened when the contract is signed" in response.content.decode()
    documents = web.get(reverse("cabinet:documents"))
    assert documents.status_code == 200
    assert "There is no contract yet" in documents.content.decode()


# --- Documents -------------------------------------------------------------------------------

def make_document(account, kind="invoice", number="СЧ-2026-000001", period=dt.date(2026, 10, 1)):
    return Document.objects.create(
        kind=kind, number=number, account=account, period=period,
        issued_on=dt.date(2026, 10, 31), total=Decimal("600.00"),
        lines=[{"name": "Абонентская плата за октябрь 2026", "quantity": "1", "unit": "мес.",
                "price": "600.00", "amount": "600.00"}])


def make_contract(card, number):
    return Contract.objects.create(card=card, branch=card.branch, number=number,
                                   tariff_name="Домашний", monthly_fee=Decimal("600.00"),
                                   connection_fee=Decimal("1000.00"),
                                   signed_at=timezone.now())


def assert_pdf(response, filename: str):
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert f"filename*=UTF-8''{quote(filename, safe='')}" in response["Content-Disposition"]
    assert response["Cache-Control"] == "private, no-store"
    assert response.content.startswith(b"%PDF")


def test_documents_page_groups_invoices_and_acts_by_month(cabinet_web, subscriber):
    make_document(subscriber, "invoice", "СЧ-2026-000001", dt.date(2026, 9, 1))
    make_document(subscriber, "act", "АКТ-2026-000001", dt.date(2026, 9, 1))
    make_document(subscriber, "invoice", "СЧ-2026-000002", dt.date(2026, 10, 1))
    html = cabinet_web.get(reverse("cabinet:documents")).content.decode()
    october, september = html.index("October 2026"), html.index("September 2026")
    assert october < html.index("СЧ-2026-000002") < september < html.index("СЧ-2026-000001")
    assert html.index("СЧ-2026-000001") < html.index("АКТ-2026-000001")


def test_the_owner_downloads_his_invoice(cabinet_web, subscriber):
    document = make_document(subscriber)
    response = cabinet_web.get(reverse("cabinet:document_pdf", args=[document.pk]))
    assert_pdf(response, "invoice-СЧ-2026-000001.pdf")


def test_the_owner_downloads_his_contract(cabinet_web, subscriber):
    make_contract(subscriber.client, "01-2026-00042")
    html = cabinet_web.get(reverse("cabinet:documents")).content.decode()
    assert "Contract № 01-2026-00042" in html
    assert_pdf(cabinet_web.get(reverse("cabinet:contract_pdf")), "contract-01-2026-00042.pdf")


def test_the_owner_downloads_his_claim(cabinet_web, subscriber):
    claim = Claim.objects.create(account=subscriber, number="ПР-2026-000001",
                                 created_on=dt.date(2026, 11, 2), debt=Decimal("1200.00"))
    assert "ПР-2026-000001" in cabinet_web.get(reverse("cabinet:documents")).content.decode()
    assert_pdf(cabinet_web.get(reverse("cabinet:claim_pdf", args=[claim.pk])),
               "claim-ПР-2026-000001.pdf")


def test_another_clients_documents_are_404(cabinet_web, subscriber, stranger):
    """Each object type the pages take: a document id, a claim id; and the contract, which
    is always his own (a stranger's contract does not make his appear)."""
    theirs = make_document(stranger, number="СЧ-2026-000099")
    claim = Claim.objects.create(account=stranger, number="ПР-2026-000099",
                                 created_on=dt.date(2026, 11, 2), debt=Decimal("100.00"))
    make_contract(stranger.client, "01-2026-00099")
    assert cabinet_web.get(reverse("cabinet:document_pdf", args=[theirs.pk])).status_code == 404
    assert cabinet_web.get(reverse("cabinet:claim_pdf", args=[claim.pk])).status_code == 404
    assert cabinet_web.get(reverse("cabinet:contract_pdf")).status_code == 404
    html = cabinet_web.get(reverse("cabinet:documents")).content.decode()
    assert "СЧ-2026-000099" not in html and "01-2026-00099" not in html
    # Another client's entries are not in his history either.
    entry(stranger, "bonus", "77", at(3, 3), "Bonus of the stranger")
    assert "Bonus of the stranger" not in cabinet_web.get(HISTORY).content.decode()


def test_signed_out_visitors_go_to_the_sign_in(subscriber):
    from django.test import Client

    document = make_document(subscriber)
    for url in (HISTORY, reverse("cabinet:documents"), reverse("cabinet:contract_pdf"),
                reverse("cabinet:document_pdf", args=[document.pk])):
        response = Client().get(url)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("cabinet:login"))

