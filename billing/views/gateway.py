"""Payment gateways' side of the site: the callback every gateway posts its notifications to,
and the test gateway's "bank payment page".

The callback is anonymous and CSRF-exempt — the gateway is not a browser with our cookie;
the signature over the body is what proves who sent it. It answers JSON: 200 applied (or
already applied), 400 bad signature or body, 404 unknown gateway or payment, 409 refused
(amount mismatch…), so a gateway retries what was not applied."""

import logging

from django.http import Http404, JsonResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from billing.gateways import FAILED, SUCCEEDED, InvalidCallback, UnknownGateway, get_gateway
from billing.gateways.test import CARD_DECLINED, CARD_SUCCEEDS, BadSession
from billing.models import OnlinePayment
from billing.services.online import topup_callback

logger = logging.getLogger(__name__)


def _error(status: int, detail: str, code: str) -> JsonResponse:
    return JsonResponse({"detail": detail, "code": code}, status=status)


@csrf_exempt
@require_POST
def gateway_callback(request, name: str):
    try:
        outcome = topup_callback(gateway_name=name, body=request.body, headers=request.headers)
    except UnknownGateway:
        return _error(404, "Unknown payment gateway.", "unknown_gateway")
    except InvalidCallback as exc:
        logger.warning("Refused a %s callback from %s: %s", name, request.META.get("REMOTE_ADDR"),
                       exc)
        return _error(400, str(exc), "invalid_callback")
    except OnlinePayment.DoesNotExist:
        return _error(404, "Unknown payment.", "not_found")
    online = outcome.online_payment
    if not outcome.accepted:
        return _error(409, outcome.detail, outcome.code)
    return JsonResponse({"payment": str(online.public_id), "status": online.status,
                         "credited": outcome.credited, "code": outcome.code})


# --- The test gateway's payment page (what a bank shows) -------------------------------------

def _card_digits(value: str) -> str:
    return "".join(ch for ch in value if not ch.isspace() and ch != "-")


@never_cache
@require_http_methods(["GET", "POST"])
def test_gateway_pay(request, public_id):
    """The test bank's page for one payment: anonymous (the client is on the bank's site),
    everything it shows comes from the signed ``session`` the shop's redirect carried."""
    try:
        gateway = get_gateway("test")
    except UnknownGateway:
        raise Http404("The test gateway is off.") from None
    token = request.POST.get("session") or request.GET.get("session", "")
    try:
        session = gateway.read_session(public_id, token)
    except BadSession:
        return render(request, "billing/gateway/test_invalid.html", status=400)
    context = {"session": session, "token": token, "card": "", "error": "",
               "test_cards": {"succeeds": CARD_SUCCEEDS, "declined": CARD_DECLINED}}
    if request.method == "POST":
        if request.POST.get("action") == "cancel":
            return _finish(gateway, session, FAILED, _("Cancelled by the payer"))
        card = _card_digits(request.POST.get("card", ""))
        if card == CARD_SUCCEEDS:
            return _finish(gateway, session, SUCCEEDED)
        if card == CARD_DECLINED:
            return _finish(gateway, session, FAILED, _("The card was declined by its bank"))
        context.update(card=request.POST.get("card", ""),
                       error=_("This is not a test card. Use 4242 4242 4242 4242 (paid) or "
                               "4000 0000 0000 0002 (declined)."))
    return render(request, "billing/gateway/test_pay.html", context,
                  status=400 if context["error"] else 200)


def _finish(gateway, session: dict, status: str, reason: str = ""):
    """Notify the shop, then send the browser back to it — in that order, as most banks do
    (the shop's result page still copes with a notification that comes later)."""
    body, headers = gateway.callback(session, status=status, reason=str(reason))
    response = gateway.deliver(session["callback_url"], body, headers)
    if response.status_code != 200:
        logger.warning("The shop answered %s to the test gateway's notification for %s",
                       response.status_code, session["order_id"])
    return redirect(session["return_url"])
