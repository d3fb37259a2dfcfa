"""Payments: POST /api/v1/payments/ (API.md), idempotency, cancellation, concurrency (M3, C3)."""

from datetime import date
from decimal import Decimal

import pytest
from django.db import connection, transaction

from billing.models import Account, LedgerEntry, Payment
from billing.services import ledger as ledger_service
from billing.services.charges import charge_run
from billing.services.ledger import balance_mismatches
from billing.services.payments import payment_accept, payment_cancel
from ispcrm import roles
from tests.concurrency import run_in_parallel
from tests.factories import make_account

pytestmark = pytest.mark.django_db


@pytest.fixture
def cashier(api, manager):
    return api.as_user(manager)


def pay(client, account, amount="500.00", external_id="t-1", channel="terminal", **extra):
    return client.post("/api/v1/payments/", {"account": account.number, "amount": amount,
                                             "external_id": external_id, "channel": channel,
                                             **extra}, format="json")


def test_payment_is_credited_and_the_new_balance_returned(cashier):
    account = make_account(balance=Decimal("-200.00"))
    response = pay(cashier, account)
    assert response.status_code == 201
    body = response.json()
    assert body["amount"] == "500.00" and body["balance"] == "300.00"
    assert body["account"] == account.number and body["status"] == "completed"
    assert not balance_mismatches().exists()


def test_the_same_payment_again_is_200_with_the_first_and_no_second_credit(cashier):
    account = make_account()
    first = pay(cashier, account).json()
    again = pay(cashier, account)
    assert again.status_code == 200 and again.json()["id"] == first["id"]
    account.refresh_from_db()
    assert account.balance == Decimal("500.00")
    assert Payment.objects.count() == 1


def test_same_key_with_another_amount_is_409(cashier):
    account = make_account()
    pay(cashier, account)
    response = pay(cashier, account, amount="600.00")
    assert response.status_code == 409 and response.json()["code"] == "payment_conflict"


def test_same_external_id_in_another_channel_is_another_payment(cashier):
    account = make_account()
    pay(cashier, account, channel="terminal")
    assert pay(cashier, account, channel="card").status_code == 201


@pytest.mark.parametrize("amount", ["0", "-5", "10.005", "abc", "", "1e3", "NaN", 0, -1.5])
def test_bad_amounts_are_400_and_change_nothing(cashier, amount):
    account = make_account()
    response = pay(cashier, account, amount=amount)
    assert response.status_code == 400, response.content
    assert "amount" in response.json()
    assert not Payment.objects.exists() and not LedgerEntry.objects.exists()


def test_a_json_number_amount_is_accepted(cashier):
    assert pay(cashier, make_account(), amount=250.5).json()["amount"] == "250.50"


def test_unknown_account_is_404(cashier):
    response = cashier.post("/api/v1/payments/", {"account": "99999999", "amount": "1.00",
                                                  "external_id": "x", "channel": "cash"},
                            format="json")
    assert response.status_code == 404


def test_missing_fields_are_400(cashier):
    response = cashier.post("/api/v1/payments/", {"amount": "1.00"}, format="json")
    assert response.status_code == 400
    assert {"account", "external_id", "channel"} <= set(response.json())


def test_roles_without_payment_rights_get_403(api, make_user):
    account = make_account()
    response = pay(api.as_user(make_user(roles.NOC_HEAD)), account)
    assert response.status_code == 403


def test_a_payment_that_covers_the_debt_unblocks_at_once(cashier):
    account = make_account(balance=Decimal("-600.00"), status="blocked")
    pay(cashier, account, amount="300.00", external_id="a")
    assert Account.objects.get(pk=account.pk).status == "blocked"
    pay(cashier, account, amount="300.00", external_id="b")
    assert Account.objects.get(pk=account.pk).status == "active"


def test_account_and_ledger_api_agree(cashier):
    account = make_account()
    charge_run(day=date(2026, 11, 1))
    pay(cashier, account, amount="1000.00")
    body = cashier.get(f"/api/v1/accounts/{account.number}/").json()
    assert body["balance"] == "400.00" and body["status"] == "active"
    assert body["client"] == account.client_id and body["tariff"]
    assert body["next_charge_at"].endswith("+03:00")
    entries = cashier.get(f"/api/v1/accounts/{account.number}/ledger/").json()["results"]
    assert [e["amount"] for e in entries] == ["-600.00", "1000.00"]
    assert [e["balance_after"] for e in entries] == ["-600.00", "400.00"]
    assert entries[-1]["balance_after"] == body["balance"]


def test_tariffs_api(cashier):
    make_account()
    tariff = cashier.get("/api/v1/tariffs/").json()["results"][0]
    assert {"id", "name", "monthly_fee", "connection_fee", "speed_mbps", "active"} <= set(tariff)
    assert tariff["monthly_fee"] == "600.00" and tariff["active"] is True


def test_cancellation_reverses_with_a_new_entry_and_keeps_the_original(manager, make_user):
    account = make_account()
    payment, _ = payment_accept(account=account, amount="700", channel="cash",
                                external_id="c-1", actor=manager)
    accountant = make_user(roles.ACCOUNTANT)
    payment_cancel(payment=payment, reason="Ошибка кассира", actor=accountant)
    payment_cancel(payment=payment, reason="Ошибка кассира", actor=accountant)  # no-op
    account.refresh_from_db()
    assert account.balance == 0
    assert list(account.entries.order_by("id").values_list("amount", flat=True)) == [
        Decimal("700.00"), Decimal("-700.00")]
    assert "Ошибка кассира" in account.entries.last().description


def test_the_database_refuses_to_edit_or_delete_an_entry():
    from django.db import IntegrityError

    account = make_account(balance=Decimal("10.00"))
    entry = account.entries.get()
    with pytest.raises(IntegrityError, match="append-only"), transaction.atomic():
        LedgerEntry.objects.filter(pk=entry.pk).update(amount=Decimal("20.00"))
    if connection.vendor == "postgresql":
        with pytest.raises(IntegrityError, match="append-only"), transaction.atomic():
            LedgerEntry.objects.filter(pk=entry.pk).delete()


def test_the_database_refuses_a_zero_entry():
    from django.db import IntegrityError

    account = make_account()
    with pytest.raises(IntegrityError), transaction.atomic():
        LedgerEntry.objects.create(account=account, kind="correction", amount=0,
                                   description="zero")


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_the_same_payment_delivered_ten_times_at_once_credits_once():
    account = make_account()
    results, errors = run_in_parallel(
        lambda i: payment_accept(account=account, amount="100.00", channel="card",
                                 external_id="gw-1"), 10)
    assert errors == []
    assert sum(created for _, created in results) == 1
    account.refresh_from_db()
    assert account.balance == Decimal("100.00")
    assert not balance_mismatches().exists()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_different_payments_to_one_account_are_all_counted():
    account = make_account()
    _, errors = run_in_parallel(
        lambda i: payment_accept(account=account, amount="10.00", channel="terminal",
                                 external_id=f"t-{i}"), 8)
    assert errors == []
    account.refresh_from_db()
    assert account.balance == Decimal("80.00")
    assert not balance_mismatches().exists()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_without_the_account_lock_concurrent_payments_lose_money(monkeypatch):
    """Proves the race the lock prevents: read-modify-write of the balance without
    SELECT … FOR UPDATE loses updates under concurrency."""
    import time

    account = make_account()

    def unlocked_post(*, account, amount, **kwargs):
        stale = Account.objects.get(pk=account.pk).balance  # no lock
        LedgerEntry.objects.create(account=account, amount=amount,
                                   **{k: v for k, v in kwargs.items() if k in (
                                       "kind", "description", "idem_key", "payment")})
        time.sleep(0.05)  # widen the window between read and write
        Account.objects.filter(pk=account.pk).update(balance=stale + Decimal(amount))

    monkeypatch.setattr("billing.services.payments.lock_account",
                        lambda pk: Account.objects.get(pk=pk))
    monkeypatch.setattr("billing.services.payments.post", unlocked_post)
    run_in_parallel(lambda i: payment_accept(account=account, amount="10.00", channel="terminal",
                                          external_id=f"race-{i}"), 6)
    account.refresh_from_db()
    assert account.balance < Decimal("60.00")  # updates were lost
    assert balance_mismatches().exists()


def test_lock_account_is_what_the_services_use():
    assert ledger_service.lock_account.__module__ == "billing.services.ledger"


def test_client_history_shows_money_and_tariff_events(cashier, api, manager):
    account = make_account()
    pay(cashier, account, amount="250.00")
    history = api.as_user(manager).get(f"/api/v1/clients/{account.client_id}/history/").json()
    kinds = {item["kind"] for item in history["results"]}
    assert {"payment", "tariff", "account_opened"} <= kinds
    payment = next(item for item in history["results"] if item["kind"] == "payment")
    assert "250,00" in payment["summary"] and payment["actor"] == str(manager)
