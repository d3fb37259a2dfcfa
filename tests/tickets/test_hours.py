"""Hours of hourly subscription service (SP-8, SP-10): the time logged on a business
client's tickets goes into the monthly act with the extra hours charged once; the
utilization page shows unused hours and what to propose; beat reads the support mailbox."""

import mailbox
from datetime import date
from decimal import Decimal

import pytest
from django.conf import settings
from django.db import transaction
from django.urls import reverse

from billing.models import Account, Document, LedgerEntry
from billing.services.documents import (
    document_pdf,
    hours_of_the_month,
    monthly_documents_issue,
)
from billing.services.ledger import post
from ispcrm import roles
from tests.billing.test_documents import pdf_text
from tests.factories import ClientCardFactory, TariffFactory, make_account
from tests.tickets.conftest import at
from tickets import tasks
from tickets.models import Ticket
from tickets.services import hours
from tickets.services import tickets as service

NOVEMBER = date(2026, 11, 1)


@pytest.fixture(autouse=True)
def hook_registered():
    """What TicketsConfig.ready() registers: billing reads the hours through the hook."""
    hours.register()


@pytest.fixture
def hourly(db):
    return TariffFactory(name="Бизнес-сервис", included_hours=Decimal("10.00"),
                         hour_price=Decimal("1200.00"), monthly_fee=Decimal("5000.00"))


def company(name="ООО «Ромашка»", tariff=None):
    client = ClientCardFactory(kind="company", name=name, inn="7707083893", stage="active")
    return make_account(client=client, tariff=tariff)


def fee(account, amount="-5000", period=NOVEMBER):
    with transaction.atomic():
        post(account=account, kind="charge", amount=Decimal(amount), period=period,
             charge_kind="monthly_fee", description="fee", idem_key=f"fee:{period:%Y-%m}")


@pytest.fixture
def log(open_ticket, support):
    """log(account, {date: minutes}) → the minutes logged on one ticket of its client."""
    def make(account, entries):
        ticket = open_ticket(at(2, 10), client=account.client)
        for day, minutes in entries.items():
            service.time_log(ticket=ticket, user=support["anna"], minutes=minutes, day=day)
        return ticket
    return make


# --- The monthly act (SP-8) ------------------------------------------------------------------

def test_the_months_hours_are_in_the_act_and_the_extra_hours_charged_once(hourly, log):
    account = company(tariff=hourly)
    fee(account)
    log(account, {date(2026, 11, 10): 600, date(2026, 11, 30): 150,
                  date(2026, 10, 31): 300, date(2026, 12, 1): 300})  # other months: not counted
    person = make_account(tariff=hourly)  # hours for business clients only
    fee(person)
    log(person, {date(2026, 11, 10): 900})

    assert monthly_documents_issue(period=NOVEMBER) == 4

    act = Document.objects.get(kind="act", account=account)
    assert (act.hours_included, act.hours_spent) == (Decimal("10.00"), Decimal("12.50"))
    assert act.lines[-1] == {"name": "Часы обслуживания сверх включённых в тариф за ноябрь 2026",
                             "quantity": "2.50", "unit": "ч", "price": "1200.00",
                             "amount": "3000.00"}
    assert act.total == Decimal("8000.00")
    text = pdf_text(document_pdf(act))
    assert "Часов включено в абонентскую плату: 10" in text
    assert "Часов использовано: 12,5" in text
    assert "Часов сверх включённых: 2,5 × 1 200,00 руб. = 3 000,00 руб." in text
    extra = LedgerEntry.objects.get(account=account, idem_key="hours:2026-11")
    assert (extra.amount, extra.charge_kind, extra.period) == (
        Decimal("-3000.00"), "service_fee", NOVEMBER)
    assert Account.objects.get(pk=account.pk).balance == Decimal("-8000.00")
    person_act = Document.objects.get(kind="act", account=person)
    assert person_act.hours_spent is None and person_act.total == Decimal("5000.00")
    assert not LedgerEntry.objects.filter(account=person, idem_key__startswith="hours:").exists()

    # Issued again, even after more time was logged: the act is final, nothing more charged.
    log(account, {date(2026, 11, 29): 120})
    assert monthly_documents_issue(period=NOVEMBER) == 0
    assert LedgerEntry.objects.filter(account=account, idem_key="hours:2026-11").count() == 1
    assert Account.objects.get(pk=account.pk).balance == Decimal("-8000.00")


def test_within_the_included_hours_nothing_extra_is_charged(hourly, log):
    account = company(tariff=hourly)
    fee(account)
    log(account, {date(2026, 11, 10): 210})

    monthly_documents_issue(period=NOVEMBER)

    act = Document.objects.get(kind="act")
    assert act.hours_spent == Decimal("3.50") and act.total == Decimal("5000.00")
    text = pdf_text(document_pdf(act))
    assert "Часов использовано: 3,5" in text and "сверх включённых" not in text
    assert not LedgerEntry.objects.filter(idem_key__startswith="hours:").exists()


def test_a_run_stopped_before_the_act_and_repeated_charges_the_hours_once(hourly, log):
    """A run that stopped after posting (before its documents) and is run again."""
    account = company(tariff=hourly)
    fee(account)
    log(account, {date(2026, 11, 10): 720})

    hours_of_the_month(NOVEMBER)
    monthly_documents_issue(period=NOVEMBER)

    assert LedgerEntry.objects.filter(idem_key="hours:2026-11").count() == 1
    assert Document.objects.get(kind="act").total == Decimal("7400.00")


# --- Utilization (SP-10) ---------------------------------------------------------------------

@pytest.fixture
def clients(hourly, log):
    """Four business clients on 10 h a month, and two who are not on the page."""
    monthly = {
        "Low for long": (60, 60, 60),  # Sep, Oct, Nov
        "Low this month": (480, 480, 120),
        "Over": (0, 0, 720),
        "Just right": (0, 0, 420),
    }
    for name, minutes in monthly.items():
        log(company(name, tariff=hourly), {date(2026, month, 15): m
                                           for month, m in zip((9, 10, 11), minutes, strict=True)
                                           if m})
    log(make_account(tariff=hourly), {date(2026, 11, 15): 60})  # a person
    log(company("No hours in the tariff"), {date(2026, 11, 15): 60})


def test_utilization_lists_included_used_unused_and_what_to_propose(
        client, make_user, clients, django_assert_num_queries):
    with django_assert_num_queries(2):  # the subscriptions, the grouped hours
        rows = hours.utilization(NOVEMBER)
    figures = {row.client.name: (row.used, row.unused, row.percent, row.hint) for row in rows}
    assert figures == {
        "Low for long": (Decimal("1.00"), Decimal("9.00"), 10, "propose a smaller tariff"),
        "Low this month": (Decimal("2.00"), Decimal("8.00"), 20, "propose development work"),
        "Just right": (Decimal("7.00"), Decimal("3.00"), 70, ""),
        "Over": (Decimal("12.00"), Decimal("0.00"), 120, "over: propose a bigger tariff"),
    }

    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    client.force_login(make_user(roles.MANAGER))
    page = client.get(reverse("tickets:hours"), {"month": "2026-11"})
    assert page.status_code == 200
    html = page.content.decode()
    assert "No hours in the tariff" not in html
    for hint in ("propose a smaller tariff", "propose development work",
                 "over: propose a bigger tariff"):
        assert hint in html
    assert "120%" in html and "10%" in html
    low = next(row for row in rows if row.client.name == "Low for long")
    assert reverse("connections:client_detail", args=[low.client.pk]) in html
    # October: 80 % used is fine; no hours in August, September and October is too big.
    october = {row.client.name: row.hint for row in hours.utilization(date(2026, 10, 1))}
    assert october["Low this month"] == "" and october["Over"] == "propose a smaller tariff"


def test_the_utilization_page_is_for_sales_the_director_and_support_heads(
        client, make_user, support, categories):
    url = reverse("tickets:hours")
    client.force_login(support["anna"])
    assert client.get(url).status_code == 403
    for user in (support["head"], make_user(roles.DIRECTOR, username="boss"),
                 make_user(roles.HEAD_OF_SALES, username="sales")):
        client.force_login(user)
        assert client.get(url).status_code == 200


# --- The support mailbox on beat -------------------------------------------------------------

def test_the_mailbox_task_reads_only_a_configured_maildir(tmp_path, settings, make_user):
    from django.contrib.auth.models import Group

    from tickets.models import Category

    make_user(roles.SUPPORT)
    Category.objects.create(code="general", name="General",
                            group=Group.objects.get(name=roles.SUPPORT))
    ClientCardFactory(stage="active", email="anna@example.com")
    box = mailbox.Maildir(tmp_path / "support", create=True)
    box.add(mailbox.MaildirMessage(
        b"From: anna@example.com\nSubject: No internet\nMessage-ID: <m1@example.com>\n"
        b"Content-Type: text/plain; charset=utf-8\n\nSince 9am.\n"))

    settings.SUPPORT_MAILDIR = ""
    assert tasks.read_support_mailbox.delay().get() == ""
    assert not Ticket.objects.exists()
    assert len(list((tmp_path / "support" / "new").iterdir())) == 1

    settings.SUPPORT_MAILDIR = str(tmp_path / "support")
    assert "tickets: 1" in tasks.read_support_mailbox.delay().get()
    assert Ticket.objects.get().subject == "No internet"
    assert not list((tmp_path / "support" / "new").iterdir())
