"""The ledger proves itself (D6, issue 8): every account's stored balance equals the sum of
its entries, every payment is in the ledger exactly once, and no receipt was taken twice.
Run nightly by beat (``billing.tasks.verify_ledger``) and by hand (``check_balances``);
each check is one set-based query, however many accounts there are."""

import logging
from dataclasses import dataclass, field
from decimal import Decimal

from django.core.mail import mail_admins
from django.db.models import Count, F, Q, Sum
from django.db.models.functions import Coalesce
from django.utils.translation import gettext as _

from billing.models import Account, LedgerEntry, Payment
from billing.money import ZERO
from billing.services.ledger import balance_mismatches

logger = logging.getLogger("billing.verification")

LISTED = 1000  # problems listed per kind; a broken ledger is counted in full below


@dataclass(frozen=True)
class BalanceMismatch:
    number: str
    balance: Decimal
    entries_total: Decimal

    @property
    def difference(self) -> Decimal:
        return self.balance - self.entries_total


@dataclass(frozen=True)
class PaymentMismatch:
    payment_id: int
    account: str
    amount: Decimal
    entries: int  # its "payment" entries on its own account: exactly 1 is right
    credited: Decimal


@dataclass(frozen=True)
class DuplicateReceipt:
    channel: str
    external_id: str
    payments: int


@dataclass
class LedgerReport:
    accounts: int
    balances: list[BalanceMismatch] = field(default_factory=list)
    payments: list[PaymentMismatch] = field(default_factory=list)
    duplicates: list[DuplicateReceipt] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not (self.balances or self.payments or self.duplicates)

    def lines(self) -> list[str]:
        """One line per problem, for the log, the mail and the command's output."""
        lines = [_("Account %(number)s: balance %(balance)s, entries %(total)s, "
                   "difference %(diff)s.")
                 % {"number": m.number, "balance": m.balance, "total": m.entries_total,
                    "diff": m.difference} for m in self.balances]
        lines += [_("Payment %(id)s of %(amount)s to account %(number)s: %(entries)s ledger "
                    "entries crediting %(credited)s (one entry of the amount expected).")
                  % {"id": m.payment_id, "amount": m.amount, "number": m.account,
                     "entries": m.entries, "credited": m.credited} for m in self.payments]
        lines += [_("Receipt %(external_id)s of channel %(channel)s was taken %(n)s times.")
                  % {"external_id": d.external_id, "channel": d.channel, "n": d.payments}
                  for d in self.duplicates]
        return lines


def ledger_verify(limit: int = LISTED) -> LedgerReport:
    """Run the three checks; each lists at most ``limit`` problems."""
    report = LedgerReport(accounts=Account.objects.count())
    report.balances = [
        BalanceMismatch(number, balance, total) for number, balance, total
        in balance_mismatches().values_list("number", "balance", "entries_total")[:limit]]
    report.payments = [PaymentMismatch(*row) for row in payment_mismatches()[:limit]]
    report.duplicates = [DuplicateReceipt(*row) for row in duplicate_receipts()[:limit]]
    return report


def payment_mismatches():
    """Payments (cancelled ones too: the reversal is a separate correction) without exactly
    one "payment" entry of their amount on their own account. One grouped join."""
    credit = Q(entries__kind=LedgerEntry.Kind.PAYMENT, entries__account=F("account"))
    return (Payment.objects
            .annotate(n=Count("entries", filter=credit),
                      credited=Coalesce(Sum("entries__amount", filter=credit), ZERO))
            .exclude(n=1, credited=F("amount"))
            .order_by("pk")
            .values_list("pk", "account__number", "amount", "n", "credited"))


def duplicate_receipts():
    """(channel, external id) taken more than once. The unique constraint forbids it; this
    proves the constraint is still there and was never bypassed."""
    return (Payment.objects.values("channel", "external_id").order_by()
            .annotate(n=Count("pk")).filter(n__gt=1)
            .order_by("channel", "external_id")
            .values_list("channel", "external_id", "n"))


def ledger_verify_and_alert() -> LedgerReport:
    """The nightly job: verify, and on any problem log an error and mail the ADMINS with
    every account and difference found."""
    report = ledger_verify()
    if report.ok:
        logger.info("Ledger verified: %s accounts agree with their entries.", report.accounts)
        return report
    lines = report.lines()
    logger.error("Ledger verification failed:\n%s", "\n".join(lines))
    subject = _("Ledger verification: %(b)s account(s), %(p)s payment(s), %(d)s receipt(s) "
                "wrong") % {"b": len(report.balances), "p": len(report.payments),
                            "d": len(report.duplicates)}
    body = "\n".join([
        _("The nightly check found the ledger inconsistent. Nothing was changed; correct "
          "each account with a correction entry after finding the cause."),
        "", *lines, "",
        _("Run `manage.py check_balances` to repeat the check."),
    ])
    # Not silent: a mail that cannot go out fails the task, which is logged and visible too.
    mail_admins(subject, body)
    return report
