"""Retention calls (R2, R3, R5): who gets on the daily call list and why, who calls them,
what a call records, and the pages managers work from."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from billing.models import Account, LedgerEntry, Payment
from ispcrm import roles
from tests.factories import ClientCardFactory, TariffFactory, make_account
from tickets.models import CallScript, Category, ChecklistItem, Rating, RetentionCall, Ticket
from tickets.services import retention

Reason = RetentionCall.Reason


def ago(days: int) -> dt.datetime:
    return timezone.now() - dt.timedelta(days=days)


@pytest.fixture
def account_of(branch):
    """account_of(name, kind="person", fee=600) → an active account in the default branch,
    with a recent payment so it shows no signal of its own."""
    count = iter(range(1, 1000))

    def make(name, kind="person", fee="600", paid_days_ago=5):
        n = next(count)
        card = ClientCardFactory(stage="active", branch=branch, name=name, kind=kind,
                                 inn=f"77000000{n:02d}" if kind == "company" else "")
        account = make_account(client=card, tariff=TariffFactory(monthly_fee=Decimal(fee)))
        if paid_days_ago is not None:
            pay(account, "600", paid_days_ago)
        return account

    return make


def pay(account, amount, days_ago):
    Payment.objects.create(account=account, amount=Decimal(amount), channel="cash",
                           external_id=f"r-{account.pk}-{days_ago}", paid_at=ago(days_ago))


def post(account, amount, days_ago):
    """A ledger entry in the past, with the balance moved as the ledger service does."""
    LedgerEntry.objects.create(account=account, kind="correction", amount=Decimal(amount),
                               description="test", created_at=ago(days_ago))
    Account.objects.filter(pk=account.pk).update(balance=account.balance + Decimal(amount))
    account.refresh_from_db()


def tickets_for(card, branch, n, rating=None):
    category = Category.objects.get_or_create(code="internet", defaults={"name": "Internet"})[0]
    made = [Ticket.objects.create(client=card, branch=branch, category=category,
                                  channel="phone", subject=f"Нет связи {i}",
                                  created_at=ago(2 + i)) for i in range(n)]
    if rating is not None:
        Rating.objects.create(ticket=made[0], score=rating)
    return made


@pytest.fixture
def managers(make_user):
    """A lead, a senior and a plain manager of the default branch, and the head of sales."""
    return {
        "lead": make_user(roles.MANAGER, username="lead", position="Ведущий менеджер"),
        "senior": make_user(roles.MANAGER, username="senior", position="Senior manager"),
        "plain": make_user(roles.MANAGER, username="plain", position="Менеджер"),
        "head": make_user(roles.HEAD_OF_SALES, username="head"),
    }


@pytest.fixture
def debtor(account_of):
    """Owed 300 a month ago, 900 now: the debt grows."""
    account = account_of("Должник")
    post(account, "-300", 40)
    post(account, "-600", 3)
    return account


@pytest.fixture
def script(db):
    script = CallScript.objects.create(situation="debt", title="Задолженность растёт",
                                       text="1. Назовите сумму долга.")
    items = [ChecklistItem.objects.create(script=script, text=text, order=n)
             for n, text in enumerate(("Назвал сумму долга", "Согласовал дату оплаты"))]
    return script, items


def listed(day=None) -> dict[str, RetentionCall]:
    retention.build_call_list(day)
    return {call.client.name: call for call in RetentionCall.objects.select_related("client")}


# --- Who is on the list --------------------------------------------------------------------


def test_each_pre_churn_signal_lists_the_client_and_a_healthy_one_is_not(
        account_of, debtor, branch, managers):
    account_of("Здоровый")
    stable = account_of("Старый долг")
    post(stable, "-300", 40)  # a debt that does not grow is not a new signal
    account_of("Перестал платить", paid_days_ago=60)
    account_of("Никогда не платил", paid_days_ago=None)  # paid never: not "stopped"
    post(account_of("Предоплатил на год", paid_days_ago=60), "7200", 60)  # covered
    tickets_for(account_of("Жалобщик").client, branch, 3)
    tickets_for(account_of("Недоволен").client, branch, 1, rating=2)
    tickets_for(account_of("Доволен").client, branch, 1, rating=5)
    closed = account_of("Ушёл", paid_days_ago=60)
    Account.objects.filter(pk=closed.pk).update(status="closed")

    calls = listed()

    assert set(calls) == {"Должник", "Перестал платить", "Жалобщик", "Недоволен"}
    assert calls["Должник"].reasons == [Reason.DEBT_GROWING]
    assert "900" in calls["Должник"].reason_text
    assert calls["Перестал платить"].reasons == [Reason.PAYMENTS_STOPPED]
    assert calls["Жалобщик"].reasons == [Reason.REPEATED_TICKETS]
    assert calls["Недоволен"].reasons == [Reason.LOW_RATING]


def test_the_no_payment_period_is_a_setting(account_of, managers, settings):
    account_of("Платил 20 дней назад", paid_days_ago=20)
    settings.RETENTION_NO_PAYMENT_DAYS = 14
    assert set(listed()) == {"Платил 20 дней назад"}


def test_the_daily_job_is_idempotent(debtor, account_of, managers):
    account_of("Перестал платить", paid_days_ago=60)
    first = listed()
    second = retention.build_call_list()
    assert second["listed"] == 0
    assert {c.pk for c in RetentionCall.objects.all()} == {c.pk for c in first.values()}


def test_yesterdays_call_not_made_is_skipped_and_the_client_listed_again(debtor, managers):
    today = timezone.localdate()
    retention.build_call_list(today - dt.timedelta(days=1))
    retention.build_call_list(today)
    statuses = dict(RetentionCall.objects.values_list("due", "status"))
    assert statuses == {today - dt.timedelta(days=1): "skipped", today: "open"}


def test_a_client_just_called_is_left_alone_for_a_week(debtor, managers):
    call = listed()["Должник"]
    retention.record_call(call, managers["plain"], "promised_to_pay")
    assert retention.build_call_list(timezone.localdate() + dt.timedelta(days=1))["listed"] == 0


# --- Who calls (R3) ------------------------------------------------------------------------


def test_business_clients_go_to_the_lead_manager_persons_to_the_managers(
        account_of, managers):
    big = account_of("ООО Крупный", kind="company", fee="12000", paid_days_ago=60)
    person = account_of("Иванов", paid_days_ago=60)
    calls = listed()
    assert calls[big.client.name].manager == managers["lead"]
    assert calls[person.client.name].manager == managers["plain"]


def test_without_a_lead_the_senior_manager_takes_business_and_load_is_spread(
        account_of, managers, make_user):
    managers["lead"].is_active = False
    managers["lead"].save()
    make_user(roles.MANAGER, username="plain2")
    account_of("ООО Первый", kind="company", fee="12000", paid_days_ago=60)
    for name in ("Петров", "Сидоров"):
        account_of(name, paid_days_ago=60)
    calls = listed()
    assert calls["ООО Первый"].manager == managers["senior"]
    assert {calls["Петров"].manager.username, calls["Сидоров"].manager.username} == {
        "plain", "plain2"}


# --- Recording a call ----------------------------------------------------------------------


def test_recording_a_call_keeps_the_checklist_and_the_outcome(debtor, managers, script):
    script, (named, agreed) = script
    call = listed()["Должник"]
    assert call.script == script  # the debt script, chosen for a debt signal
    retention.record_call(call, call.manager, "promised_to_pay", "Оплатит в пятницу",
                          {str(named.pk): True, "999": True})
    call.refresh_from_db()
    assert call.status == "done" and call.outcome == "promised_to_pay"
    assert call.answers == {str(named.pk): True, str(agreed.pk): False}
    assert call.called_by == managers["plain"] and call.called_at is not None
    with pytest.raises(Exception, match="already"):
        retention.record_call(call, call.manager, "stays")


def test_leaving_needs_the_reason_and_another_manager_may_not_record(debtor, managers):
    call = listed()["Должник"]
    with pytest.raises(ValidationError) as caught:
        retention.record_call(call, call.manager, "leaving_controllable", "")
    assert "notes" in caught.value.message_dict
    with pytest.raises(PermissionDenied):
        retention.record_call(call, managers["senior"], "stays")
    retention.record_call(call, managers["head"], "leaving_uncontrollable", "Переезжает")
    assert RetentionCall.objects.get().outcome == "leaving_uncontrollable"


# --- Pages ---------------------------------------------------------------------------------


def test_the_manager_sees_his_calls_with_the_reasons_and_the_head_sees_all(
        client, debtor, account_of, managers):
    account_of("ООО Крупный", kind="company", fee="12000", paid_days_ago=60)
    listed()
    client.force_login(managers["plain"])
    page = client.get(reverse("tickets:retention")).content.decode()
    assert "Должник" in page and "Debt growing" in page and "-900" in page
    assert "ООО Крупный" not in page  # the lead's call
    client.force_login(managers["head"])
    page = client.get(reverse("tickets:retention")).content.decode()
    assert "Должник" in page and "ООО Крупный" in page


def test_the_call_page_shows_the_script_and_records_the_call(client, debtor, managers,
                                                             script):
    script, (_named, agreed) = script
    call = listed()["Должник"]
    client.force_login(managers["plain"])
    url = reverse("tickets:retention_call", args=[call.pk])
    page = client.get(url).content.decode()
    assert "Назовите сумму долга" in page and "Согласовал дату оплаты" in page
    assert "Debt growing" in page
    response = client.post(url, {"outcome": "promised_to_pay", "notes": "В пятницу",
                                 f"item-{agreed.pk}": "1"})
    assert response.status_code == 302
    call.refresh_from_db()
    assert call.outcome == "promised_to_pay" and call.answers[str(agreed.pk)] is True


def test_the_call_page_switches_the_script_by_situation(client, debtor, managers, script):
    CallScript.objects.create(situation="moving", title="Переезд", text="Уточните адрес.")
    call = listed()["Должник"]
    client.force_login(managers["plain"])
    page = client.get(reverse("tickets:retention_call", args=[call.pk]),
                      {"situation": "moving"}).content.decode()
    assert "Уточните адрес." in page


def test_pages_refuse_other_roles_and_other_managers_calls(client, debtor, managers,
                                                           make_user):
    call = listed()["Должник"]
    client.force_login(make_user(roles.SUPPORT))
    assert client.get(reverse("tickets:retention")).status_code == 403
    assert client.get(reverse("tickets:retention_call", args=[call.pk])).status_code == 403
    client.force_login(managers["senior"])
    assert client.get(reverse("tickets:retention_call", args=[call.pk])).status_code == 403
    response = client.post(reverse("tickets:retention_call", args=[call.pk]),
                           {"outcome": "stays"})
    assert response.status_code == 403
    assert RetentionCall.objects.get().status == "open"


def test_the_management_command_builds_the_list(debtor, managers):
    from django.core.management import call_command

    call_command("build_retention_calls")
    call_command("build_retention_calls")
    assert RetentionCall.objects.count() == 1


def test_the_morning_job_lists_nobody_on_a_day_off(debtor, managers):
    from ispcrm import workcalendar
    from tickets.tasks import build_retention_calls

    today = timezone.localdate()
    sunday = today + dt.timedelta(days=6 - today.weekday())
    assert build_retention_calls(sunday.isoformat())["day_off"] is True
    assert not RetentionCall.objects.exists()
    workday = workcalendar.next_working_day(sunday)
    assert build_retention_calls(workday.isoformat())["listed"] == 1


def test_the_list_costs_the_same_queries_for_more_calls(client, account_of, managers,
                                                         django_assert_max_num_queries):
    account_of("Первый", paid_days_ago=60)
    listed()
    client.force_login(managers["head"])
    with CaptureQueriesContext(connection) as one:
        client.get(reverse("tickets:retention"))
    for name in ("Второй", "Третий", "Четвёртый"):
        account_of(name, paid_days_ago=60)
    RetentionCall.objects.all().delete()
    listed()
    with django_assert_max_num_queries(len(one.captured_queries)):
        page = client.get(reverse("tickets:retention")).content.decode()
    assert "Четвёртый" in page
