"""The built-in test gateway: it behaves like a real card-payment provider, without a bank.

* ``start`` gives the payment an id of its own (``tg_…``) and returns the address of its
  "bank payment page" (billing.views.gateway). What the page needs — amount, merchant, where
  to send the notification and the client back — travels in a signed ``session`` parameter,
  as a real provider keeps it on its side: the page never reads our database.
* On the page the client types a test card: ``4242 4242 4242 4242`` pays,
  ``4000 0000 0000 0002`` is declined, anything else is not a card. The page then sends a
  notification signed with HMAC-SHA256 over the raw body (header ``X-Test-Gateway-Signature``)
  to our callback handler — through the same view an HTTP POST reaches — and sends the
  browser back to the return address.
* ``parse_callback`` checks that signature in constant time.

It credits money no bank took, so it answers only while ``PAYMENT_GATEWAY`` is ``"test"``
(``manage.py check --deploy`` warns about that)."""

import hashlib
import hmac
import json
import re
import secrets
from decimal import Decimal, InvalidOperation
from urllib.parse import urlencode, urlsplit
from uuid import UUID

from django.conf import settings
from django.core import signing
from django.http import HttpRequest, HttpResponse
from django.urls import resolve, reverse
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext_lazy as _

from . import FAILED, SUCCEEDED, Callback, InvalidCallback, header

SIGNATURE_HEADER = "X-Test-Gateway-Signature"
SESSION_SALT = "billing.gateways.test.session"
SESSION_MAX_AGE = 2 * 3600  # seconds a payment page stays open, like a real bank's
CARD_SUCCEEDS = "4242424242424242"
CARD_DECLINED = "4000000000000002"
AMOUNT = re.compile(r"\d{1,12}\.\d{2}")


class BadSession(Exception):
    """The payment page's link is forged, for another payment, or too old."""


def secret() -> str:
    """``PAYMENT_GATEWAY_SECRET``, or one derived from SECRET_KEY (read now, not at import,
    so production's own SECRET_KEY is the one used)."""
    configured = getattr(settings, "PAYMENT_GATEWAY_SECRET", "")
    if configured:
        return configured
    return salted_hmac("billing.gateways.test", "callback-secret").hexdigest()


def sign(body: bytes) -> str:
    return hmac.new(secret().encode(), body, hashlib.sha256).hexdigest()


class TestGateway:
    name = "test"
    title = _("Test gateway (no real money)")
    test_mode = True

    # --- Our side: the shop asks for a payment ------------------------------------------------

    def start(self, online_payment, *, return_url: str, callback_url: str) -> str:
        from billing.models import BillingSettings

        online_payment.gateway_payment_id = f"tg_{secrets.token_hex(12)}"
        session = signing.dumps({
            "order_id": str(online_payment.public_id),
            "payment_id": online_payment.gateway_payment_id,
            "amount": f"{online_payment.amount:.2f}",
            "merchant": BillingSettings.current().company_name,
            "description": str(online_payment.description),
            "return_url": return_url,
            "callback_url": callback_url,
        }, key=secret(), salt=SESSION_SALT, compress=True)
        page = reverse("billing:gateway_test_pay", args=[online_payment.public_id])
        return f"{page}?{urlencode({'session': session})}"

    def parse_callback(self, body: bytes, headers) -> Callback:
        signature = header(headers, SIGNATURE_HEADER).strip().lower()
        # compare_digest: the time taken does not tell a forger how much of it was right.
        if not signature or not hmac.compare_digest(sign(body), signature):
            raise InvalidCallback("bad signature")
        try:
            data = json.loads(body)
            if not isinstance(data, dict):
                raise ValueError("not an object")
            status = data["status"]
            if status not in (SUCCEEDED, FAILED):
                raise ValueError(f"unknown status {status!r}")
            if data.get("currency") != "RUB":
                raise ValueError("currency is not RUB")
            if not AMOUNT.fullmatch(str(data["amount"])):
                raise ValueError("bad amount")
            payment_id = str(data["payment_id"])
            if not payment_id or len(payment_id) > 64:
                raise ValueError("bad payment_id")
            return Callback(public_id=UUID(str(data["order_id"])), status=status,
                            amount=Decimal(data["amount"]), gateway_payment_id=payment_id,
                            reason=str(data.get("reason", ""))[:200])
        except (ValueError, KeyError, TypeError, InvalidOperation) as exc:
            raise InvalidCallback(f"malformed callback: {exc}") from exc

    # --- The bank's side: its payment page -----------------------------------------------------

    def read_session(self, public_id: UUID, token: str) -> dict:
        try:
            session = signing.loads(token or "", key=secret(), salt=SESSION_SALT,
                                    max_age=SESSION_MAX_AGE)
        except signing.BadSignature as exc:  # SignatureExpired is one too
            raise BadSession(str(exc)) from exc
        if session.get("order_id") != str(public_id):
            raise BadSession("the link is for another payment")
        return session

    def callback(self, session: dict, *, status: str, reason: str = "") -> tuple[bytes, dict]:
        """The signed notification the bank sends about this payment page's outcome."""
        body = json.dumps({
            "event": f"payment.{status}",
            "order_id": session["order_id"],
            "payment_id": session["payment_id"],
            "status": status,
            "amount": session["amount"],
            "currency": "RUB",
            "reason": reason,
            "sent_at": timezone.now().isoformat(),
        }).encode()
        return body, {SIGNATURE_HEADER: sign(body), "Content-Type": "application/json"}

    def deliver(self, callback_url: str, body: bytes, headers: dict) -> HttpResponse:
        """POST the notification to the callback address. The address is ours, so instead of
        a network round trip to itself (which a single-worker server would deadlock on) the
        request is built here and handed to the view the URL resolves to — the same view,
        parsing and signature check an HTTP POST from a bank goes through."""
        path = urlsplit(callback_url).path
        request = HttpRequest()
        request.method = "POST"
        request.path = request.path_info = path
        request.META.update({"REQUEST_METHOD": "POST", "PATH_INFO": path,
                             "CONTENT_LENGTH": str(len(body)), "SERVER_NAME": "testgateway",
                             "SERVER_PORT": "443", "REMOTE_ADDR": "127.0.0.1"})
        for name, value in headers.items():
            key = name.upper().replace("-", "_")
            request.META[key if key in ("CONTENT_TYPE",) else f"HTTP_{key}"] = value
        request._body = body
        match = resolve(path)
        return match.func(request, *match.args, **match.kwargs)
