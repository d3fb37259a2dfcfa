"""Money in the cabinet (C5, C3): top up by card through the payment gateway, see how it
went, and take a promised payment when there is a debt.

The client leaves for the gateway's page and comes back to ``topup_result``, which shows what
the gateway has told us by then; while it is still waiting the page refreshes itself for a
minute. The money is credited by the gateway's notification (billing.services.online), not by
the client's return, so closing the browser on the bank's page loses nothing."""

from datetime import date
from decimal import Decimal

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import formats
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from billing.gateways import online_payments_on
from billing.models import Account, BillingSettings, OnlinePayment, PromisedPayment
from billing.money import month_start, next_month_start
from billing.services.dunning import promised_payment_grant
from billing.services.online import MAX_TOPUP, MIN_TOPUP, topup_start
from billing.views.common import safe_next, summary
from cabinet.access import cabinet_view
from cabinet.forms.money import TopupForm
from ispcrm.errors import RuleViolation
from ispcrm.forms import apply_service_errors

QUICK_AMOUNTS = (Decimal("300"), Decimal("500"), Decimal("1000"), Decimal("2000"))
POLL_SECONDS = 3
POLL_TIMES = 20  # a minute of refreshing while the bank has not answered, then a link
NBSP = "\u00a0"
CAN_OWE = (Account.Status.ACTIVE, Account.Status.BLOCKED)


def _suggestion(facts: dict) -> tuple[Decimal | None, str]:
    """What to pay: the debt, else the next month's charge; and why, in words."""
    if facts["debt"]:
        return max(facts["debt"], MIN_TOPUP), "debt"
    if facts["next_charge"]:
        return max(facts["next_charge"], MIN_TOPUP), "next_charge"
    return None, ""


def _promised(account: Account, today: date) -> dict:
    """Whether the promised-payment offer shows, and in which state (the rules themselves
    are billing.services.dunning.promised_payment_grant's)."""
    has_debt = account.balance < 0 and account.status in CAN_OWE
    running = account.promised_until is not None and account.promised_until >= today
    used = PromisedPayment.objects.filter(account=account, month=month_start(today)).exists()
    return {"offer": has_debt or running, "running": running, "used": used and not running,
            "until": account.promised_until, "next_month": next_month_start(today),
            "days": BillingSettings.current().promised_payment_days}


def _whole_roubles(amount: Decimal) -> str:
    """«1 000 ₽»: a quick-amount button's label, short enough for four in a row."""
    return f"{int(amount):,}".replace(",", NBSP) + f"{NBSP}₽"


def _input_amount(amount: Decimal | None) -> str:
    return formats.number_format(amount, 2) if amount is not None else ""


@cabinet_view
@require_http_methods(["GET", "POST"])
def topup(request):
    account = request.cabinet.account
    if account is None:
        return render(request, "cabinet/money/topup.html", {"account": None})
    facts = summary(account)
    suggested, reason = _suggestion(facts)
    if request.method == "POST":
        data = request.POST.copy()
        if data.get("quick"):  # a quick-amount button pressed without JavaScript
            data["amount"] = data["quick"]
        form = TopupForm(data)
        if form.is_valid():
            try:
                _online, gateway_url = topup_start(
                    account=account, amount=form.cleaned_data["amount"], actor=request.user,
                    site_url=request.build_absolute_uri("/"),
                    return_url=lambda online: request.build_absolute_uri(
                        reverse("cabinet:topup_result", args=[online.public_id])))
            except ValidationError as exc:
                apply_service_errors(form, exc)
            except RuleViolation as exc:
                form.add_error(None, str(exc))
            else:
                return redirect(gateway_url)
    else:
        form = TopupForm(initial={"amount": _input_amount(suggested)})
    return render(request, "cabinet/money/topup.html", {
        "online": online_payments_on(),
        "account": account, "facts": facts, "form": form, "suggested": suggested,
        "reason": reason,
        "quick_amounts": [{"label": _whole_roubles(amount), "input": _input_amount(amount)}
                          for amount in QUICK_AMOUNTS],
        "min_amount": MIN_TOPUP, "max_amount": MAX_TOPUP,
        "promised": _promised(account, facts["today"]),
        "recent": account.online_payments.order_by("-created_at")[:5],
    })


@cabinet_view
@require_safe
def topup_result(request, public_id):
    account = request.cabinet.account
    if account is None:
        raise Http404
    # Through the account: another client's payment is a 404, as an unknown one is.
    online = get_object_or_404(OnlinePayment.objects.select_related("payment"),
                               public_id=public_id, account=account)
    try:
        polls = max(0, int(request.GET.get("poll", "0")))
    except ValueError:
        polls = 0
    waiting = online.status in OnlinePayment.OPEN
    return render(request, "cabinet/money/topup_result.html", {
        "account": account, "online": online, "waiting": waiting,
        "refresh": waiting and polls < POLL_TIMES, "poll_seconds": POLL_SECONDS,
        "next_poll": polls + 1, "retry_amount": _input_amount(online.amount),
    })


@cabinet_view
@require_POST
def promised_payment(request):
    account = request.cabinet.account
    if account is None:
        raise Http404
    try:
        account = promised_payment_grant(account=account, actor=request.user)
    except RuleViolation as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _(
            "The promised payment is on: the service is kept until %(date)s inclusive. "
            "Please top up before then.") % {
            "date": formats.date_format(account.promised_until, "SHORT_DATE_FORMAT")})
    return redirect(safe_next(request) or "cabinet:topup")
