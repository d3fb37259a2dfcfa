from django.core.management.base import BaseCommand, CommandError

from billing.models import Account
from billing.services.ledger import balance_mismatches


class Command(BaseCommand):
    help = "Prove balance == sum(entries) for every account; list and fail on any that differ."

    def handle(self, *args, **options):
        bad = list(balance_mismatches()[:1000])
        if bad:
            for account in bad:
                self.stderr.write(f"{account.number}: balance {account.balance}, entries "
                                  f"{account.entries_total}")
            raise CommandError(f"{len(bad)} account(s) differ from their ledger.")
        self.stdout.write(f"All {Account.objects.count()} accounts agree with their ledger.")
