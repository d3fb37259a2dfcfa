"""The referral program (C7): bonuses as ledger entries, and what the referrer sees."""

from datetime import date, datetime
from decimal import Decimal

import pytest
from django.utils.timezone import make_aware

from billing.models import Account, BillingSettings
from billing.services.accounts import account_activate, account_open
from billing.services.ledger import balance_mismatches
from billing.services.payments import payment_accept
from billing.services.referrals import referral_summary
from tests.factories import ClientCardFactory, TariffFactory, make_account

pytestmark = pytest.mark.django_db


@pytest.fixture
def referrer():
    return make_account()


def bring_client(referrer: Account, manager, on=date(2026, 11, 10)) -> Account:
    client = ClientCardFactory(referrer=referrer.client)
    account = account_open(client=client, tariff=TariffFactory(), actor=manager,
                           connection_fee=0, today=on)
    return account_activate(account=account, actor=manager, on=on)


def test_fixed_bonus_when_the_referred_client_is_activated(referrer, manager):
    rules = BillingSettings.current()
    rules.referral_mode, rules.referral_fixed_amount = "fixed", Decimal("500.00")
    rules.save()
    referred = bring_client(referrer, manager)
    referrer.refresh_from_db()
    assert referrer.balance == Decimal("500.00")
    assert referrer.entries.get(kind="bonus").idem_key == f"ref:{referred.pk}"
    [row] = referral_summary(referrer.client)
    assert row["client"] == referred.client and row["bonus"] == Decimal("500.00")
    assert not balance_mismatches().exists()


def test_percent_of_payments_for_the_first_months(referrer, manager):
    rules = BillingSettings.current()
    rules.referral_mode, rules.referral_percent, rules.referral_months = "percent", 10, 6
    rules.save()
    referred = bring_client(referrer, manager, on=date(2026, 1, 10))
    payment_accept(account=referred, amount="1000.00", channel="cash", external_id="1",
                   paid_at=make_aware(datetime(2026, 2, 1, 12)))
    payment_accept(account=referred, amount="1000.00", channel="cash", external_id="2",
                   paid_at=make_aware(datetime(2026, 9, 1, 12)))  # after 6 months
    referrer.refresh_from_db()
    assert referrer.balance == Decimal("100.00")
    [row] = referral_summary(referrer.client)
    assert row["paid"] == Decimal("2000.00") and row["bonus"] == Decimal("100.00")
    assert not balance_mismatches().exists()


def test_no_bonus_when_the_program_is_off(referrer, manager):
    rules = BillingSettings.current()
    rules.referral_mode = "off"
    rules.save()
    bring_client(referrer, manager)
    referrer.refresh_from_db()
    assert referrer.balance == 0
