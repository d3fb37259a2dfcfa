"""The account's life and its proration, to the kopeck (SP-6, C5 groundwork, termination)."""

from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from billing.models import Account, AccountService, LedgerEntry, Service
from billing.money import prorate
from billing.services.accounts import (
    account_activate,
    account_block,
    account_close,
    account_open,
    account_unblock,
    tariff_change,
    tariff_change_cancel,
)
from billing.services.charges import charge_run
from billing.services.ledger import balance_mismatches
from billing.services.pauses import pause_resume, pause_start
from ispcrm.errors import RuleViolation
from tests.factories import ClientCardFactory, TariffFactory, make_account

pytestmark = pytest.mark.django_db


def D(value):
    return Decimal(value)


@pytest.fixture(autouse=True)
def ledger_always_agrees():
    yield
    assert not balance_mismatches().exists()


def balance(account):
    account.refresh_from_db()
    return account.balance


def test_prorate_parts_add_up_to_the_whole_month():
    fee = D("1000.00")
    november = date(2026, 11, 1)  # 30 days
    parts = [prorate(fee, november, date(2026, 11, a), date(2026, 11, b))
             for a, b in ((1, 16), (17, 20), (21, 30))]
    assert parts == [D("533.33"), D("133.34"), D("333.33")]
    assert sum(parts) == fee
    # the 31st of a 30-day month is no day at all; a 31-day month has it
    assert prorate(fee, november, date(2026, 11, 30), date(2026, 12, 31)) == D("33.33")
    assert prorate(fee, date(2026, 12, 1), date(2026, 12, 31), date(2026, 12, 31)) == D("32.26")


def test_open_charges_the_connection_fee_and_activation_prorates_the_first_month(manager):
    tariff = TariffFactory(monthly_fee=D("600.00"), connection_fee=D("1500.00"))
    client = ClientCardFactory()
    account = account_open(client=client, tariff=tariff, actor=manager, today=date(2026, 11, 3))
    assert account.status == "pending" and account.number == str(10_000_000 + client.pk)
    assert balance(account) == D("-1500.00")
    account_activate(account=account, actor=manager, on=date(2026, 11, 17))
    # 17th..30th of a 30-day month: 14 days of 600 → 280.00
    assert balance(account) == D("-1780.00")
    assert account.activated_on == date(2026, 11, 17)
    # the run for November skips it (already billed), December is a whole month
    assert charge_run(day=date(2026, 11, 20)).fees == 0
    charge_run(day=date(2026, 12, 1))
    assert balance(account) == D("-2380.00")
    client.refresh_from_db()
    assert account.number in client.search_text


def test_open_with_agreed_connection_fee_and_refuses_a_second_account(manager):
    client = ClientCardFactory()
    account = account_open(client=client, tariff=TariffFactory(), actor=manager,
                           connection_fee=D("0"))
    assert balance(account) == 0 and not account.entries.exists()
    with pytest.raises(RuleViolation):
        account_open(client=client, tariff=TariffFactory(), actor=manager)


def test_tariff_change_from_tomorrow_recalculates_the_rest_of_the_month(manager):
    cheap, fast = TariffFactory(monthly_fee=D("600.00")), TariffFactory(monthly_fee=D("900.00"))
    account = make_account(tariff=cheap)
    charge_run(day=date(2026, 11, 1))
    tariff_change(account=account, tariff=fast, actor=manager, today=date(2026, 11, 14))
    # from the 15th: 16 days; old part 600·30/30−600·14/30 = 320.00, new 900·16/30 = 480.00
    assert balance(account) == D("-600.00") - D("160.00")
    entry = account.entries.get(charge_kind="proration")
    assert entry.amount == D("-160.00") and "15.11.2026" in entry.description
    charge_run(day=date(2026, 12, 1))
    assert account.entries.get(period=date(2026, 12, 1)).amount == D("-900.00")


def test_tariff_change_from_next_period_is_scheduled_and_can_be_cancelled(manager):
    cheap, fast = TariffFactory(monthly_fee=D("600.00")), TariffFactory(monthly_fee=D("900.00"))
    account = make_account(tariff=cheap)
    charge_run(day=date(2026, 11, 1))
    scheduled = tariff_change(account=account, tariff=fast, actor=manager,
                              from_next_period=True, today=date(2026, 11, 14))
    assert scheduled.start == date(2026, 12, 1)
    assert balance(account) == D("-600.00")  # nothing changes this month
    tariff_change_cancel(account=account, actor=manager, today=date(2026, 11, 20))
    charge_run(day=date(2026, 12, 1))
    assert account.entries.get(period=date(2026, 12, 1)).amount == D("-600.00")


def test_cancelling_a_change_from_tomorrow_reverses_its_recalculation(manager):
    """The client who changes his mind pays for the tariff he keeps, nothing more."""
    cheap, fast = TariffFactory(monthly_fee=D("600.00")), TariffFactory(monthly_fee=D("900.00"))
    account = make_account(tariff=cheap)
    charge_run(day=date(2026, 11, 1))
    tariff_change(account=account, tariff=fast, actor=manager, today=date(2026, 11, 14))
    assert balance(account) == D("-760.00")  # 160.00 for 16 days on the faster tariff
    tariff_change_cancel(account=account, actor=manager, today=date(2026, 11, 14))
    assert balance(account) == D("-600.00")
    charge_run(day=date(2026, 12, 1))
    assert account.entries.get(period=date(2026, 12, 1), charge_kind="monthly_fee").amount \
        == D("-600.00")


def test_replacing_a_change_from_tomorrow_counts_only_the_last_one(manager):
    cheap = TariffFactory(monthly_fee=D("600.00"))
    fast = TariffFactory(monthly_fee=D("900.00"))
    faster = TariffFactory(monthly_fee=D("1200.00"))
    account = make_account(tariff=cheap)
    charge_run(day=date(2026, 11, 1))
    tariff_change(account=account, tariff=fast, actor=manager, today=date(2026, 11, 14))
    tariff_change(account=account, tariff=faster, actor=manager, today=date(2026, 11, 14))
    # from the 15th, 16 days: (1200 − 600)·16/30 = 320.00 on top of the month's 600.00
    assert balance(account) == D("-920.00")


def test_pause_returns_the_unused_fee_charges_the_pause_fee_and_resume_charges_again(manager):
    tariff = TariffFactory(monthly_fee=D("600.00"), pause_fee=D("60.00"))
    account = make_account(tariff=tariff)
    charge_run(day=date(2026, 11, 1))
    pause_start(account=account, start=date(2026, 11, 11), end=date(2026, 12, 11),
                actor=manager, today=date(2026, 11, 11))
    account.refresh_from_db()
    assert account.status == "paused"
    # back 600·20/30 = 400.00; pause fee 60·20/30 = 40.00
    assert balance(account) == D("-600.00") + D("400.00") - D("40.00")
    charge_run(day=date(2026, 12, 1))  # paused on the 1st: pause fee for 1..10 Dec only
    assert account.entries.get(charge_kind="pause_fee", period=date(2026, 12, 1)).amount == \
        D("-19.35")  # 60·10/31
    assert not account.entries.filter(charge_kind="monthly_fee",
                                      period=date(2026, 12, 1)).exists()
    pause_resume(account=account, actor=manager, today=date(2026, 12, 11))
    # 11..31 December: 600·31/31 − 600·10/31 = 600.00 − 193.55 = 406.45
    assert account.entries.get(idem_key="fee:2026-12").amount == D("-406.45")
    account.refresh_from_db()
    assert account.status == "active"
    assert charge_run(day=date(2026, 12, 15)).fees == 0  # December is billed


def test_early_resume_in_the_same_month_returns_the_unused_pause_fee(manager):
    tariff = TariffFactory(monthly_fee=D("600.00"), pause_fee=D("60.00"))
    account = make_account(tariff=tariff)
    charge_run(day=date(2026, 11, 1))
    pause_start(account=account, start=date(2026, 11, 11), end=date(2026, 11, 21),
                actor=manager, today=date(2026, 11, 11))
    pause_resume(account=account, actor=manager, today=date(2026, 11, 16))
    # paused 11..15: the month costs 600·25/30 = 500.00 and 60·5/30 = 10.00
    assert balance(account) == D("-510.00")


def test_resume_in_a_billed_month_does_not_charge_services_again(manager):
    """Additional services run on through a pause (the router is still rented): they were
    charged for the whole month on the 1st and are not charged a second time on resume."""
    tariff = TariffFactory(monthly_fee=D("600.00"), pause_fee=D("60.00"))
    account = make_account(tariff=tariff)
    ip = Service.objects.create(name="Static IP", monthly_fee=D("150.00"))
    AccountService.objects.create(account=account, service=ip, start=date(2026, 1, 1))
    charge_run(day=date(2026, 11, 1))
    assert balance(account) == D("-750.00")
    pause_start(account=account, start=date(2026, 11, 11), end=date(2026, 11, 21),
                actor=manager, today=date(2026, 11, 11))
    pause_resume(account=account, actor=manager, today=date(2026, 11, 16))
    # the tariff for 25 of 30 days (500.00), the pause fee for 5 (10.00), the IP whole (150)
    assert balance(account) == D("-660.00")
    assert account.entries.filter(service=ip).count() == 1


def test_pause_limits(manager):
    account = make_account()
    with pytest.raises(ValidationError, match=r"1 (до|to) 90"):
        pause_start(account=account, start=date(2026, 11, 1), end=date(2027, 3, 1),
                    actor=manager, today=date(2026, 11, 1))


def test_block_keeps_the_charge_and_unblock_in_a_new_month_charges_the_rest(manager):
    account = make_account(tariff=TariffFactory(monthly_fee=D("600.00")))
    charge_run(day=date(2026, 11, 1))
    account_block(account=account, today=date(2026, 11, 20))
    assert charge_run(day=date(2026, 12, 1)).fees == 0  # blocked: no December charge
    account_unblock(account=account, today=date(2026, 12, 21))
    # 21..31 December of 600: 600 − 600·20/31 = 600 − 387.10 = 212.90
    assert account.entries.get(idem_key="fee:2026-12").amount == D("-212.90")
    assert Account.objects.get(pk=account.pk).status == "active"


def test_never_block_is_respected():
    account = make_account()
    account.never_block = True
    account.save()
    with pytest.raises(RuleViolation):
        account_block(account=account, today=date(2026, 11, 20))


def test_close_returns_the_rest_of_the_month_and_books_the_credit_as_a_refund(manager):
    account = make_account(tariff=TariffFactory(monthly_fee=D("600.00")), balance=D("1000.00"))
    charge_run(day=date(2026, 11, 1))
    account_close(account=account, actor=manager, on=date(2026, 11, 21))
    # back 600·10/30 = 200.00 → 600.00 left, booked as a refund to pay out
    final = account.entries.get(charge_kind="final")
    assert final.amount == D("200.00")
    assert account.entries.get(kind="refund").amount == D("-600.00")
    assert balance(account) == 0
    assert charge_run(day=date(2026, 12, 1)).total == 0  # never charged after closing


def test_close_with_debt_keeps_the_debt(manager):
    account = make_account(tariff=TariffFactory(monthly_fee=D("600.00")))
    charge_run(day=date(2026, 11, 1))
    account_close(account=account, actor=manager, on=date(2026, 11, 16))
    assert balance(account) == D("-300.00")  # 15 days used
    assert not account.entries.filter(kind="refund").exists()
    assert LedgerEntry.objects.filter(account=account).count() == 2


def test_service_added_mid_month_is_charged_once_and_returned_when_stopped(manager):
    from billing.models import Service
    from billing.services.accounts import service_add, service_remove

    account = make_account(tariff=TariffFactory(monthly_fee=D("600.00")))
    charge_run(day=date(2026, 11, 1))
    ip = Service.objects.create(code="ip", name="Статический IP", monthly_fee=D("150.00"))
    item = service_add(account=account, service=ip, actor=manager, today=date(2026, 11, 16))
    assert balance(account) == D("-675.00")  # 15 days of 150
    assert charge_run(day=date(2026, 11, 20)).services == 0  # the month is charged
    charge_run(day=date(2026, 12, 1))
    assert balance(account) == D("-1425.00")  # December: 600 + 150
    service_remove(account=account, item=item, actor=manager, today=date(2026, 12, 11))
    assert balance(account) == D("-1425.00") + D("101.61")  # 150·21/31 back
    assert charge_run(day=date(2027, 1, 1)).services == 0
