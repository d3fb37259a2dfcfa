"""seed_demo's billing section: accounts for cards past the contract, a ledger that agrees."""

import pytest
from django.core.management import call_command

from billing.models import Account, LedgerEntry, Tariff
from billing.services.ledger import balance_mismatches
from connections.models import ClientCard, Stage

pytestmark = pytest.mark.django_db


def test_seed_gives_accounts_a_catalog_and_a_consistent_ledger():
    call_command("seed_demo", clients=150, verbosity=0)
    assert Tariff.objects.count() >= 5
    with_account = ClientCard.objects.filter(account__isnull=False)
    assert set(with_account.values_list("stage", flat=True)) <= {
        Stage.INSTALLATION, Stage.ACTIVATION, Stage.ACTIVE, Stage.TERMINATED}
    assert not ClientCard.objects.filter(stage=Stage.ACTIVE, account__isnull=True).exists()
    statuses = set(Account.objects.values_list("status", flat=True))
    assert {"active", "pending", "closed"} <= statuses
    assert LedgerEntry.objects.filter(charge_kind="monthly_fee").exists()
    assert not balance_mismatches().exists()
    account = Account.objects.filter(status="active").first()
    assert account.number in ClientCard.objects.get(pk=account.client_id).search_text
    # running again adds no accounts and no charges
    entries = LedgerEntry.objects.count()
    call_command("seed_demo", clients=150, verbosity=0)
    assert LedgerEntry.objects.count() == entries
