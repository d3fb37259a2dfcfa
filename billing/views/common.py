"""What the account pages share: finding the account, the ledger with the balance after each
entry, the account's summary (the card section and the account page show the same facts) and
the way back after an action."""

from datetime import date
from decimal import Decimal

from django.db.models import Q
from django.shortcuts import get_object_or_404, redirect
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme

from billing.models import Account, LedgerEntry, Subscription
from billing.money import month_start, next_month_start
from billing.selectors import ledger_with_balance
from billing.services.pricing import monthly_price, subscription_on

IN_SERVICE = (Account.Status.ACTIVE, Account.Status.PAUSED)
CAN_OWE = (Account.Status.ACTIVE, Account.Status.BLOCKED)


def account_or_404(number: str) -> Account:
    return get_object_or_404(
        Account.objects.select_related("client__building__street__city", "client__branch"),
        number=number)


def latest_entries(account: Account, count: int = 10) -> list[LedgerEntry]:
    # The window is computed over all the account's entries before ORDER BY … LIMIT.
    return list(ledger_with_balance(account).order_by("-created_at", "-id")[:count])


def summary(account: Account, today: date | None = None) -> dict:
    """The facts the card and the account page show at the top."""
    today = today or timezone.localdate()
    current = subscription_on(account, today)
    scheduled = (Subscription.objects.select_related("tariff")
                 .filter(account=account, start__gt=today).order_by("start").first())
    in_service = account.status in IN_SERVICE
    next_charge_on = next_month_start(today) if in_service else None
    next_subscription = None
    if next_charge_on is not None:
        next_subscription = (scheduled if scheduled and scheduled.start <= next_charge_on
                             else current)
    pause = (account.pauses.filter(resumed_on__isnull=True, end__gt=today)
             .order_by("start").first())
    services = list(account.services.select_related("service")
                    .filter(Q(end__isnull=True) | Q(end__gt=today)).order_by("start"))
    next_charge = None
    if next_subscription is not None:
        next_charge = monthly_price(next_subscription, next_charge_on) + sum(
            (item.service.monthly_fee for item in services
             if item.start <= next_charge_on and (item.end is None or item.end > next_charge_on)),
            Decimal("0"))
    return {
        "account": account,
        "today": today,
        "subscription": current,
        "monthly_fee": monthly_price(current, month_start(today)) if current else None,
        "scheduled": scheduled,
        "next_charge_on": next_charge_on,
        "next_charge": next_charge,
        "services": [item for item in services if item.start <= today],
        "debt": -account.balance if account.balance < 0 else None,
        "pause": pause,
        "pause_planned": pause is not None and pause.start > today,
        "deferred": account.deferred_until is not None and account.deferred_until >= today,
        "promised": account.promised_until is not None and account.promised_until >= today,
        "may_owe": account.status in CAN_OWE,
    }


def back_to(request, account: Account):
    """After an action: the page it was started from (``next``), else the client card."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(target, {request.get_host()},
                                                   request.is_secure()):
        return redirect(target)
    return redirect("connections:client_detail", pk=account.client_id)


def safe_next(request) -> str:
    target = request.GET.get("next") or request.POST.get("next") or ""
    if target and url_has_allowed_host_and_scheme(target, {request.get_host()},
                                                   request.is_secure()):
        return target
    return ""
