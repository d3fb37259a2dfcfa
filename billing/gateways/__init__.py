"""Online payment gateways (C5): what billing needs from a card-payment provider, and the
registry that picks one by name.

A gateway does two things for us:

* ``start(online_payment, return_url=…, callback_url=…)`` — register the payment with the
  provider and return the address of its payment page, where the client's browser goes next.
  It may set ``online_payment.gateway_payment_id`` when the provider assigns its id now (the
  service stores it); a provider that only tells its id in the callback leaves it empty.
* ``parse_callback(body, headers)`` — check the provider's signature over the raw request
  body and turn the notification into a :class:`Callback`, or raise :class:`InvalidCallback`
  (bad signature, malformed body). It must not touch the database: the service
  (``billing.services.online.topup_callback``) decides what the callback changes.

A real provider (YooKassa, CloudPayments, Tinkoff…) is one adapter module away: a class with
``name``, ``title``, ``test_mode = False`` and these two methods, listed in the
``PAYMENT_GATEWAYS`` setting (``{"yookassa": "myisp.gateways.YooKassa"}``) and chosen with
``PAYMENT_GATEWAY=yookassa``. Its callback address is ``/billing/gateway/<name>/callback/``.
"""

from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Protocol
from uuid import UUID

from django.conf import settings
from django.utils.module_loading import import_string

if TYPE_CHECKING:
    from billing.models import OnlinePayment

SUCCEEDED = "succeeded"
FAILED = "failed"

BUILTIN = {"test": "billing.gateways.test.TestGateway"}


class InvalidCallback(Exception):
    """The notification is not from the gateway or cannot be read: answered 400, ignored."""


class UnknownGateway(LookupError):
    """No gateway of this name is registered (or it is the test gateway, switched off)."""


@dataclass(frozen=True)
class Callback:
    """What a gateway's notification says about one payment."""

    public_id: UUID  # our OnlinePayment.public_id, sent to the gateway at the start
    status: str  # SUCCEEDED or FAILED
    amount: Decimal  # what the bank took (or tried to), in roubles
    gateway_payment_id: str  # the payment's id at the gateway
    reason: str = ""  # why it failed, in the gateway's words


class Gateway(Protocol):
    name: str  # the registry name, in URLs and in Payment.external_id ("test:tg_…")
    title: str  # shown to staff
    test_mode: bool  # True: credits money no bank took — never in production

    def start(self, online_payment: "OnlinePayment", *, return_url: str,
              callback_url: str) -> str: ...

    def parse_callback(self, body: bytes, headers) -> Callback: ...


def registry() -> dict[str, str]:
    """Gateway name → dotted path of its class: the built-in test gateway and the adapters
    an installation adds with the ``PAYMENT_GATEWAYS`` setting."""
    return {**BUILTIN, **getattr(settings, "PAYMENT_GATEWAYS", {})}


def active_name() -> str:
    """The chosen gateway; empty: online payment is off (production's default until a real
    provider is set up — clients then pay at the office or by bank transfer)."""
    return getattr(settings, "PAYMENT_GATEWAY", "test")


def online_payments_on() -> bool:
    return bool(active_name())


def get_gateway(name: str | None = None) -> Gateway:
    """The gateway called ``name`` (default: the one ``PAYMENT_GATEWAY`` chooses). The test
    gateway answers only while it is the chosen one: after a switch to a real provider no
    one can pay with a test card."""
    name = name or active_name()
    path = registry().get(name)
    if path is None:
        raise UnknownGateway(name)
    gateway = import_string(path)()
    if gateway.test_mode and name != active_name():
        raise UnknownGateway(name)
    return gateway


def header(headers, name: str) -> str:
    """A request header by name, whatever the case: ``request.headers`` or a plain dict."""
    wanted = name.lower()
    for key, value in dict(headers or {}).items():
        if key.lower() == wanted:
            return value
    return ""
