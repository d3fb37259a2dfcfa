from django.core.management.base import BaseCommand, CommandError

from billing.services.verification import ledger_verify


class Command(BaseCommand):
    help = ("Prove balance == sum(entries) for every account and that each payment is in the "
            "ledger exactly once; list and fail on anything that differs.")

    def handle(self, *args, **options):
        report = ledger_verify()  # the same check as the nightly billing.tasks.verify_ledger
        if not report.ok:
            for line in report.lines():
                self.stderr.write(line)
            raise CommandError(f"{len(report.balances)} account(s), {len(report.payments)} "
                               f"payment(s), {len(report.duplicates)} receipt(s) differ from "
                               "the ledger.")
        self.stdout.write(f"All {report.accounts} accounts agree with their ledger.")
