"""Chasing debts (SP-7): notice, block after N working days, claim, and lifting it all when
the client pays."""

from django.utils import timezone

from billing.models import Account

from .accounts import account_unblock


def on_payment_received(sender, payment, account: Account, **kwargs) -> None:
    """A payment that covers the debt ends the dunning at once: a blocked account is
    unblocked and a running notice term is dropped (C3: the balance is right immediately)."""
    if account.balance < 0:
        return
    if account.status == Account.Status.BLOCKED:
        account_unblock(account=account, actor=payment.taken_by, today=timezone.localdate())
    elif account.debt_notice_on or account.block_due_on:
        Account.objects.filter(pk=account.pk).update(debt_notice_on=None, block_due_on=None)
