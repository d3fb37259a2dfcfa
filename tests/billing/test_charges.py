"""The monthly charge run: once per account and month, however it is run (SP-6)."""

from datetime import date
from decimal import Decimal

import pytest

from billing.models import AccountService, LedgerEntry, Service
from billing.services.charges import charge_run
from billing.services.ledger import balance_mismatches
from tests.concurrency import run_in_parallel
from tests.factories import TariffFactory, make_account

pytestmark = pytest.mark.django_db
NOVEMBER = date(2026, 11, 1)


def monthly_charges(period=NOVEMBER):
    return LedgerEntry.objects.filter(period=period, charge_kind="monthly_fee")


def test_active_accounts_are_charged_the_month_in_advance():
    tariff = TariffFactory(monthly_fee=Decimal("650.00"))
    paying = [make_account(tariff=tariff) for _ in range(3)]
    make_account(tariff=tariff, status="blocked")
    make_account(tariff=tariff, status="pending")
    result = charge_run(day=NOVEMBER)
    assert result.fees == 3
    for account in paying:
        account.refresh_from_db()
        assert account.balance == Decimal("-650.00")
    entry = monthly_charges().first()
    assert entry.idem_key == "fee:2026-11" and entry.amount == Decimal("-650.00")
    assert "ноябрь 2026" in entry.description
    assert not balance_mismatches().exists()


def test_running_twice_charges_once():
    accounts = [make_account() for _ in range(4)]
    charge_run(day=NOVEMBER)
    again = charge_run(day=date(2026, 11, 15))
    assert again.total == 0
    assert monthly_charges().count() == len(accounts)
    assert not balance_mismatches().exists()


def test_a_run_killed_half_way_and_run_again_charges_everyone_once():
    accounts = [make_account() for _ in range(7)]
    with pytest.raises(RuntimeError):
        charge_run(day=NOVEMBER, batch_size=2, fail_after_batches=2)
    assert 0 < monthly_charges().count() < len(accounts)
    charge_run(day=NOVEMBER, batch_size=2)
    assert sorted(monthly_charges().values_list("account_id", flat=True)) == sorted(
        a.pk for a in accounts)
    assert not balance_mismatches().exists()


def test_promotion_discount_applies_until_it_ends():
    account = make_account(tariff=TariffFactory(monthly_fee=Decimal("999.00")))
    account.subscriptions.update(discount_percent=Decimal("50"), discount_until=date(2026, 12, 1))
    charge_run(day=NOVEMBER)
    charge_run(day=date(2026, 12, 1))
    amounts = dict(LedgerEntry.objects.filter(charge_kind="monthly_fee")
                   .values_list("period", "amount"))
    assert amounts == {NOVEMBER: Decimal("-499.50"), date(2026, 12, 1): Decimal("-999.00")}


def test_additional_services_are_charged_with_the_tariff():
    account = make_account(tariff=TariffFactory(monthly_fee=Decimal("500.00")))
    ip = Service.objects.create(code="static-ip", name="Статический IP",
                                monthly_fee=Decimal("150.00"))
    AccountService.objects.create(account=account, service=ip, start=date(2026, 1, 1))
    charge_run(day=NOVEMBER)
    charge_run(day=NOVEMBER)
    account.refresh_from_db()
    assert account.balance == Decimal("-650.00")
    assert LedgerEntry.objects.get(charge_kind="service_fee").idem_key == f"svc:{ip.pk}:2026-11"


def test_tariff_of_the_period_start_is_charged():
    old, new = TariffFactory(monthly_fee=Decimal("500")), TariffFactory(monthly_fee=Decimal("800"))
    account = make_account(tariff=old)
    account.subscriptions.update(end=NOVEMBER)
    account.subscriptions.create(tariff=new, start=NOVEMBER)
    charge_run(day=NOVEMBER)
    assert monthly_charges().get().amount == Decimal("-800.00")


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_runs_at_once_in_separate_connections_charge_once():
    accounts = [make_account() for _ in range(30)]
    _, errors = run_in_parallel(lambda _i: charge_run(day=NOVEMBER, batch_size=7), 2)
    assert errors == []
    assert monthly_charges().count() == len(accounts)
    assert not balance_mismatches().exists()
