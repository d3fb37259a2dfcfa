"""Online top-ups through a payment gateway (C5, C3).

``topup_start`` records the attempt and asks the gateway for its payment page;
``topup_callback`` applies the gateway's signed notification; ``online_payments_expire`` (beat,
every few minutes) gives up on attempts with no word for an hour.

What makes a notification safe to receive any number of times, in any order:

* the signature is checked before anything is read from the database (a forgery changes
  nothing and tells nothing);
* the OnlinePayment row is locked, so two deliveries of one notification run one after the
  other and the second sees what the first did;
* the credit is an ordinary ``payment_accept`` with channel ``cabinet`` and external id
  ``<gateway>:<gateway payment id>``: its unique key credits a payment once even if the lock
  were bypassed;
* ``succeeded`` is final; a success after ``failed``/``expired`` still credits (the bank took
  the money); an amount other than the one we asked for is refused and logged."""

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from urllib.parse import urljoin

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from billing.gateways import (
    SUCCEEDED,
    Callback,
    UnknownGateway,
    get_gateway,
    online_payments_on,
)
from billing.models import Account, OnlinePayment, Payment
from billing.money import to_money
from ispcrm.errors import RuleViolation
from ispcrm.templatetags.ispcrm import money

from .payments import parse_amount, payment_accept

logger = logging.getLogger(__name__)

MIN_TOPUP = Decimal("10.00")
MAX_TOPUP = Decimal("100000.00")
EXPIRE_AFTER = timedelta(hours=1)
Status = OnlinePayment.Status


def topup_amount(value) -> Decimal:
    """The amount of an online top-up, or a ValidationError on ``amount``."""
    try:
        amount = parse_amount(value)
    except ValidationError as exc:
        raise ValidationError({"amount": exc.error_list}) from exc
    if amount < MIN_TOPUP:
        raise ValidationError({"amount": _("At least %(min)s can be paid online.")
                                         % {"min": money(MIN_TOPUP)}}, code="min_value")
    if amount > MAX_TOPUP:
        raise ValidationError({"amount": _("At most %(max)s can be paid online at once.")
                                         % {"max": money(MAX_TOPUP)}}, code="max_value")
    return amount


def topup_start(*, account: Account, amount, actor, site_url: str,
                return_url: Callable[[OnlinePayment], str]) -> tuple[OnlinePayment, str]:
    """Start a top-up: returns the OnlinePayment and the gateway's page to send the client
    to. ``site_url`` is the site's address as the client reached it (the callback address
    is built on it unless ``PAYMENT_GATEWAY_SITE_URL`` says otherwise); ``return_url`` gives
    the address the gateway sends the client back to.

    Not one transaction on purpose: a real gateway is asked over the network, and no row
    lock or open transaction should wait for it. The attempt is committed first (so a
    notification can find it however fast it comes), then marked pending."""
    amount = topup_amount(amount)
    if account.status == Account.Status.CLOSED:
        raise RuleViolation(_("The account is closed: it cannot be topped up."),
                            code="account_closed")
    if not online_payments_on():
        raise RuleViolation(_("Online payment is not available now."), code="gateway_off")
    try:
        gateway = get_gateway()
    except (UnknownGateway, ImportError) as exc:  # a misconfigured PAYMENT_GATEWAY
        logger.exception("No payment gateway to start a top-up with")
        raise RuleViolation(_("Online payment is not available now."),
                            code="gateway_unavailable") from exc
    with transaction.atomic():
        online = OnlinePayment.objects.create(account=account, amount=amount,
                                              gateway=gateway.name, created_by=actor)
    base = getattr(settings, "PAYMENT_GATEWAY_SITE_URL", "") or site_url
    callback_url = urljoin(base, reverse("billing:gateway_callback", args=[gateway.name]))
    try:
        redirect_url = gateway.start(online, return_url=return_url(online),
                                     callback_url=callback_url)
    except Exception as exc:
        logger.exception("Gateway %s refused to start online payment %s", gateway.name,
                         online.public_id)
        OnlinePayment.objects.filter(pk=online.pk, status=Status.CREATED).update(
            status=Status.FAILED, finished_at=timezone.now(), error=str(exc)[:255])
        raise RuleViolation(_("The payment service does not answer. Please try again in a "
                              "few minutes."), code="gateway_unavailable") from exc
    with transaction.atomic():
        # Locked: a notification may already be applying its result to this row.
        locked = OnlinePayment.objects.select_for_update().get(pk=online.pk)
        fields = []
        if locked.status == Status.CREATED:
            locked.status = Status.PENDING
            fields.append("status")
        if online.gateway_payment_id and not locked.gateway_payment_id:
            locked.gateway_payment_id = online.gateway_payment_id
            fields.append("gateway_payment_id")
        if fields:
            locked.save(update_fields=fields)
    logger.info("Online payment %s of %s to %s started at %s", locked.public_id, amount,
                account.number, gateway.name)
    return locked, redirect_url


@dataclass(frozen=True)
class CallbackOutcome:
    online_payment: OnlinePayment
    accepted: bool  # False: refused (answered 409), nothing changed but the error note
    credited: bool = False  # this delivery credited the money
    code: str = "ok"
    detail: str = ""


def topup_callback(*, gateway_name: str, body: bytes, headers) -> CallbackOutcome:
    """Apply a gateway's notification. Raises UnknownGateway, InvalidCallback (bad
    signature, malformed: nothing read or changed) and OnlinePayment.DoesNotExist (an
    unknown payment)."""
    gateway = get_gateway(gateway_name)
    callback = gateway.parse_callback(body, headers)  # the signature first, before any query
    with transaction.atomic():
        # The row lock serialises deliveries of one payment's notifications (a gateway
        # retries, and may send two at once): each sees the previous one's result.
        online = (OnlinePayment.objects.select_for_update(of=("self",))
                  .select_related("account__client")
                  .get(public_id=callback.public_id, gateway=gateway.name))
        refusal = _refusal(online, callback)
        if refusal is not None:
            code, detail = refusal
            logger.warning("Online payment %s: %s callback refused: %s", online.public_id,
                           gateway.name, detail)
            online.error = detail[:255]
            online.save(update_fields=["error"])
            return CallbackOutcome(online, accepted=False, code=code, detail=detail)
        if callback.status == SUCCEEDED:
            return _succeed(online, callback)
        return _fail(online, callback)


def _refusal(online: OnlinePayment, callback: Callback) -> tuple[str, str] | None:
    if to_money(callback.amount) != online.amount:
        return "amount_mismatch", (f"the gateway reports {callback.amount}, the payment was "
                                   f"started for {online.amount}; nothing credited")
    if online.gateway_payment_id and callback.gateway_payment_id != online.gateway_payment_id:
        return "payment_id_mismatch", (f"the gateway reports payment "
                                       f"{callback.gateway_payment_id}, expected "
                                       f"{online.gateway_payment_id}; nothing credited")
    return None


def _succeed(online: OnlinePayment, callback: Callback) -> CallbackOutcome:
    if online.payment_id is not None:
        return CallbackOutcome(online, accepted=True, code="duplicate")  # credited before
    was = online.status
    try:
        payment, created = payment_accept(
            account=online.account, amount=online.amount, channel=Payment.Channel.CABINET,
            external_id=f"{online.gateway}:{callback.gateway_payment_id}",
            payer=online.account.client.name,
            comment=_("Online payment %(id)s") % {"id": online.public_id})
    except (RuleViolation, ValidationError) as exc:
        # The bank took the money but it cannot be credited (the account was closed
        # meanwhile…): staff must sort it out. Answered 409 so the gateway retries.
        detail = f"cannot credit: {exc}"
        logger.error("Online payment %s: %s", online.public_id, detail)
        online.error = detail[:255]
        online.save(update_fields=["error"])
        return CallbackOutcome(online, accepted=False, code="not_credited", detail=detail)
    online.payment = payment
    online.status = Status.SUCCEEDED
    online.gateway_payment_id = callback.gateway_payment_id
    online.finished_at = timezone.now()
    online.error = "" if was in OnlinePayment.OPEN else f"paid after it was {was}"
    online.save(update_fields=["payment", "status", "gateway_payment_id", "finished_at",
                               "error"])
    logger.info("Online payment %s succeeded: %s credited to %s%s", online.public_id,
                online.amount, online.account.number, "" if created else " (payment existed)")
    return CallbackOutcome(online, accepted=True, credited=created, code="credited")


def _fail(online: OnlinePayment, callback: Callback) -> CallbackOutcome:
    if not online.can_become(Status.FAILED):  # succeeded is final; failed twice is once
        return CallbackOutcome(online, accepted=True, code="ignored")
    online.status = Status.FAILED
    online.gateway_payment_id = online.gateway_payment_id or callback.gateway_payment_id
    online.finished_at = timezone.now()
    online.error = (callback.reason or "declined")[:255]
    online.save(update_fields=["status", "gateway_payment_id", "finished_at", "error"])
    logger.info("Online payment %s failed: %s", online.public_id, online.error)
    return CallbackOutcome(online, accepted=True, code="failed")


def online_payments_expire(*, now=None) -> int:
    """Mark attempts with no word from the gateway for EXPIRE_AFTER ``expired``. One
    conditional UPDATE: a notification holding a row's lock makes it wait, and the row is
    then no longer open, so it is skipped. A success arriving later still credits."""
    now = now or timezone.now()
    count = OnlinePayment.objects.filter(
        status__in=OnlinePayment.OPEN, created_at__lt=now - EXPIRE_AFTER,
    ).update(status=Status.EXPIRED, finished_at=now,
             error="no answer from the gateway in time")
    if count:
        logger.info("%s online payments expired", count)
    return count
