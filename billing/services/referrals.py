"""The referral program (C7): a client who brought another earns a bonus, credited to his
account as ledger entries, by the rule of the billing settings: a fixed sum when the
referred client is activated, or a share of the referred client's payments for N months."""

from datetime import timedelta
from decimal import Decimal

from django.db.models import Q, Sum
from django.utils.translation import gettext as _

from billing.models import Account, BillingSettings, LedgerEntry, Payment
from billing.money import to_money

from .ledger import lock_account, post

Mode = BillingSettings.ReferralMode


def _referrer_account(account: Account) -> Account | None:
    referrer_id = account.client.referrer_id
    if referrer_id is None:
        return None
    referrer = Account.objects.filter(client_id=referrer_id).exclude(
        status=Account.Status.CLOSED).first()
    return lock_account(referrer.pk) if referrer else None


def on_account_activated(sender, account: Account, **kwargs) -> None:
    rules = BillingSettings.current()
    if rules.referral_mode != Mode.FIXED or not rules.referral_fixed_amount:
        return
    referrer = _referrer_account(account)
    if referrer is not None:
        post(account=referrer, kind=LedgerEntry.Kind.BONUS, amount=rules.referral_fixed_amount,
             description=_("Referral bonus: %(name)s connected") % {"name": account.client.name},
             idem_key=f"ref:{account.pk}")


def on_payment_received(sender, payment: Payment, account: Account, **kwargs) -> None:
    if account.client.referrer_id is None or account.activated_on is None:
        return  # the common case, decided without a query (lock_account loads the client)
    rules = BillingSettings.current()
    if rules.referral_mode != Mode.PERCENT:
        return
    if payment.paid_at.date() >= account.activated_on + timedelta(days=31 * rules.referral_months):
        return
    referrer = _referrer_account(account)
    if referrer is not None:
        post(account=referrer, kind=LedgerEntry.Kind.BONUS,
             amount=to_money(payment.amount * rules.referral_percent / Decimal(100)),
             description=_("Referral bonus: %(percent)s%% of a payment by %(name)s")
             % {"percent": rules.referral_percent.normalize(), "name": account.client.name},
             idem_key=f"ref:pay:{payment.pk}")


def referral_summary(client) -> list[dict]:
    """The clients this client brought, their account status, the sums paid through them and
    the bonus he got for each (for his cabinet and the card)."""
    referred = list(
        Account.objects.filter(client__referrer=client).select_related("client")
        .annotate(paid=Sum("payments__amount",
                           filter=Q(payments__status=Payment.Status.COMPLETED)))
        .order_by("client__name"))
    bonus_by_account: dict[int, Decimal] = {}
    own = Account.objects.filter(client=client).first()
    if own is not None and referred:
        bonuses = dict(own.entries.filter(kind=LedgerEntry.Kind.BONUS, idem_key__startswith="ref:")
                       .values_list("idem_key", "amount"))
        paid_by = dict(Payment.objects.filter(account__in=referred).values_list("pk", "account"))
        for key, amount in bonuses.items():
            parts = key.split(":")  # "ref:<account>" or "ref:pay:<payment>"
            account_id = paid_by.get(int(parts[2])) if parts[1] == "pay" else int(parts[1])
            if account_id is not None:
                bonus_by_account[account_id] = bonus_by_account.get(account_id, 0) + amount
    return [{"client": account.client, "account": account, "status": account.status,
             "paid": account.paid or Decimal("0.00"),
             "bonus": bonus_by_account.get(account.pk, Decimal("0.00"))}
            for account in referred]
