"""Taking and cancelling payments (M3, C3): idempotent per channel and external id."""

import re
from datetime import datetime
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from billing import events
from billing.models import Account, LedgerEntry, Payment
from billing.money import to_money
from ispcrm.errors import RuleViolation

from .ledger import lock_account, post

MAX_PAYMENT = Decimal("10000000.00")
AMOUNT = re.compile(r"-?\d{1,12}(\.\d+)?")


def parse_amount(value) -> Decimal:
    """A positive sum in roubles with at most two decimals ("1500", "1 500,50"), or a
    ValidationError naming the problem. No exponents, no infinities."""
    text = str(value).strip().replace("\u00a0", "").replace(" ", "").replace(",", ".")
    if not AMOUNT.fullmatch(text):
        raise ValidationError(_("Not an amount: %(value)s."), params={"value": value},
                              code="invalid")
    amount = Decimal(text)
    if amount <= 0:
        raise ValidationError(_("The amount must be more than zero."), code="min_value")
    if amount.as_tuple().exponent < -2:
        raise ValidationError(_("At most two decimals (kopecks)."), code="max_decimal_places")
    if amount > MAX_PAYMENT:
        raise ValidationError(_("The amount is too large."), code="max_value")
    return to_money(amount)


def payment_accept(*, account: Account | str, amount, channel: str, external_id: str,
                   paid_at: datetime | None = None, payer: str = "", comment: str = "",
                   actor=None) -> tuple[Payment, bool]:
    """Credit a payment. Returns (payment, created): the same channel and external id again
    returns the first payment and credits nothing; with another amount or account it is a
    RuleViolation (409). ``account`` may be its number (the API): found and locked in one
    read, ``Account.DoesNotExist`` when there is none. On return ``payment.account`` holds
    the balance as committed, handlers' postings included."""
    amount, external_id = _checked(amount, channel, external_id)
    locked = None
    try:
        with transaction.atomic():
            # The account lock serialises payments to one account: each adds to the
            # committed balance.
            locked = _lock(account)
            if locked.status == Account.Status.CLOSED:
                return _closed(locked, channel, external_id, amount), False
            # No look for an earlier delivery first: the unique key answers that for free
            # in the common case (a new payment), and a repeat lands in the except below.
            payment = Payment.objects.create(
                account=locked, amount=amount, channel=channel, external_id=external_id,
                paid_at=paid_at or timezone.now(), payer=payer[:255], comment=comment[:255],
                taken_by=actor)
            post(account=locked, kind=LedgerEntry.Kind.PAYMENT, amount=amount,
                 description=_("Payment: %(channel)s")
                 % {"channel": payment.get_channel_display()},
                 idem_key=f"pay:{payment.pk}", payment=payment, actor=actor, new_key=True)
            events.payment_received.send(sender=Payment, payment=payment, account=locked)
    except IntegrityError:
        # A repeated delivery (or two at once): the unique key refused this one and the
        # whole transaction rolled back, no savepoint needed (one round trip less each).
        existing = _earlier(channel, external_id)
        if existing is None or locked is None:
            raise
        return _same_payment(existing, locked, amount), False
    return payment, True


def _checked(amount, channel: str, external_id: str) -> tuple[Decimal, str]:
    try:
        amount = parse_amount(amount)
    except ValidationError as exc:
        raise ValidationError({"amount": exc.error_list}) from exc
    if channel not in Payment.Channel.values:
        raise ValidationError({"channel": _("Unknown channel.")})
    external_id = external_id.strip()
    if not external_id:
        raise ValidationError({"external_id": _("This field is required.")})
    return amount, external_id


def _lock(account: Account | str) -> Account:
    if isinstance(account, Account):
        return lock_account(account.pk)
    # lock_account's read, by the number: the API does not read the account twice.
    return (Account.objects.select_for_update(of=("self",)).select_related("client")
            .get(number=account.strip()))


def _earlier(channel: str, external_id: str) -> Payment | None:
    return (Payment.objects.select_related("account").order_by()
            .filter(channel=channel, external_id=external_id).first())


def _closed(account: Account, channel: str, external_id: str, amount: Decimal) -> Payment:
    """A closed account takes no payment, but a repeated delivery of one it took before is
    still answered with that payment."""
    existing = _earlier(channel, external_id)
    if existing is None:
        raise RuleViolation(_("The account is closed."), code="account_closed")
    return _same_payment(existing, account, amount)


def _same_payment(existing: Payment, account: Account, amount: Decimal) -> Payment:
    if existing.amount != amount or existing.account_id != account.pk:
        raise RuleViolation(
            _("This payment id was already used for %(amount)s to account %(number)s.")
            % {"amount": existing.amount, "number": existing.account.number},
            code="payment_conflict")
    return existing


def payment_cancel(*, payment: Payment, reason: str, actor) -> Payment:
    """Cancel a mistaken payment with a reversing entry (the original entry stays)."""
    reason = reason.strip()
    if not reason:
        raise ValidationError({"reason": _("Say why the payment is cancelled.")})
    with transaction.atomic():
        account = lock_account(payment.account_id)
        payment = Payment.objects.select_for_update().get(pk=payment.pk)
        if payment.status == Payment.Status.CANCELLED:
            return payment  # already done: cancelling twice changes nothing
        post(account=account, kind=LedgerEntry.Kind.CORRECTION, amount=-payment.amount,
             description=_("Payment of %(date)s cancelled: %(reason)s")
             % {"date": timezone.localtime(payment.paid_at).strftime("%d.%m.%Y"),
                "reason": reason},
             idem_key=f"pay:{payment.pk}:cancel", payment=payment, actor=actor)
        payment.status = Payment.Status.CANCELLED
        payment.cancelled_at = timezone.now()
        payment.cancelled_by = actor
        payment.cancel_reason = reason[:255]
        payment.save(update_fields=["status", "cancelled_at", "cancelled_by", "cancel_reason"])
        events.payment_cancelled.send(sender=Payment, payment=payment, account=account)
    return payment
