"""The nightly ledger verification (issue 8): a balance that no longer equals the sum of its
entries, or a payment missing from the ledger, is found by one query and mailed to the
ADMINS naming exactly that account and the difference; a sound ledger sends nothing."""

from decimal import Decimal

import pytest
from django.core import mail
from django.core.management import CommandError, call_command
from django.db import connection

from billing import tasks
from billing.models import Account, LedgerEntry, Payment
from billing.services.payments import payment_accept
from billing.services.verification import ledger_verify
from ispcrm.celery import app
from tests.factories import make_account

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _admins(settings):
    settings.ADMINS = ["ops@example.com"]


@pytest.fixture
def accounts():
    """Three accounts whose balances agree with their ledgers, one with a payment."""
    first, second, third = (make_account(balance=Decimal(b)) for b in ("100.00", "0", "-50.00"))
    payment_accept(account=second, amount="300.00", channel="cash", external_id="R-1")
    return first, second, third


def _corrupt_balance(account: Account, balance: str) -> None:
    # Behind the ORM's back, as a faulty script or a manual UPDATE would.
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE {Account._meta.db_table} SET balance = %s WHERE id = %s",
                       [balance, account.pk])


def test_a_sound_ledger_passes_and_mails_nobody(accounts):
    result = tasks.verify_ledger.delay().get()
    assert result == {"accounts": 3, "balances": 0, "payments": 0, "duplicates": 0}
    assert mail.outbox == []


def test_a_corrupted_balance_is_mailed_with_exactly_that_account(accounts, caplog):
    first, second, third = accounts
    _corrupt_balance(second, "312.50")  # the ledger says 300.00

    result = tasks.verify_ledger.delay().get()

    assert result["balances"] == 1
    [message] = mail.outbox
    assert message.to == ["ops@example.com"]
    assert second.number in message.body
    assert "12.50" in message.body  # the difference
    assert first.number not in message.body and third.number not in message.body
    assert any(r.levelname == "ERROR" and second.number in r.getMessage()
               for r in caplog.records)


def test_the_report_gives_the_stored_and_the_ledger_figures(accounts):
    _corrupt_balance(accounts[0], "90.00")
    [mismatch] = ledger_verify().balances
    assert (mismatch.number, mismatch.balance, mismatch.entries_total, mismatch.difference) == (
        accounts[0].number, Decimal("90.00"), Decimal("100.00"), Decimal("-10.00"))


def test_a_payment_missing_from_the_ledger_is_reported(accounts):
    account = accounts[2]
    # A payment row written without its ledger entry (bypassing payment_accept).
    lost = Payment.objects.create(account=account, amount=Decimal("75.00"), channel="bank",
                                  external_id="B-9")
    report = ledger_verify()
    assert [(p.payment_id, p.account, p.entries) for p in report.payments] == [
        (lost.pk, account.number, 0)]
    assert report.balances == []  # the balance itself still agrees with the entries


def test_a_payment_credited_twice_is_reported(accounts):
    payment = Payment.objects.get(external_id="R-1")
    LedgerEntry.objects.create(account=payment.account, kind="payment", amount=payment.amount,
                               payment=payment, description="again")
    Account.objects.filter(pk=payment.account_id).update(balance=Decimal("600.00"))
    [problem] = ledger_verify().payments
    assert (problem.payment_id, problem.entries, problem.credited) == (
        payment.pk, 2, Decimal("600.00"))


def test_check_balances_runs_the_same_check(accounts, capsys):
    call_command("check_balances")
    assert "All 3 accounts agree" in capsys.readouterr().out
    _corrupt_balance(accounts[1], "0.00")
    with pytest.raises(CommandError, match="1 account"):
        call_command("check_balances")
    assert accounts[1].number in capsys.readouterr().err


def test_beat_runs_it_nightly():
    entry = app.conf.beat_schedule["billing-verify-ledger"]
    assert entry["task"] == "billing.tasks.verify_ledger"
    assert entry["schedule"].hour == {4} and entry["schedule"].minute == {20}
