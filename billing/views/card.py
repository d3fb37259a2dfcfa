"""The account's section of the client card (UX: one window per client): balance and status,
debt and when the block is due, the tariff and the next charge, the latest ledger entries,
payments, documents, notices and referrals, the traffic of the last 30 days (when the
collector sends it), and the actions the user may take.

Registered in ``BillingConfig.ready()`` through ``connections.cards``."""

from datetime import timedelta

from django.db.models import Count, F, Sum
from django.utils import timezone

from billing.models import Account
from billing.selectors import account_of
from billing.services.referrals import referral_summary

from .accounts import PROMISED_INTRO, action_forms
from .common import latest_entries, summary

TRAFFIC_DAYS = 30


def account_section(request, card) -> dict | None:
    user = request.user
    if not user.has_perm("billing.view_account"):
        return None
    account = account_of(card)
    if account is None:
        return None
    return {
        "template": "billing/partials/account_section.html",
        **summary(account),
        "entries": latest_entries(account, 10) if user.has_perm("billing.view_ledgerentry")
        else None,
        "payments": (list(account.payments.select_related("taken_by").order_by("-paid_at")[:5])
                     if user.has_perm("billing.view_payment") else None),
        "documents": (list(account.documents.order_by("-period", "kind")[:6])
                      if user.has_perm("billing.view_document") else None),
        "notices": (list(account.notices.order_by("-sent_at")[:5])
                    if user.has_perm("billing.view_notice") else None),
        "referrals": referral_summary(card),
        "traffic_gb": traffic_gb(account),
        "promised_intro": PROMISED_INTRO,
        **action_forms(request, account),
    }


def traffic_gb(account: Account):
    """GB (decimal) in and out over the last 30 days, today included; None without any data
    for them (no collector sends this account's usage)."""
    since = timezone.localdate() - timedelta(days=TRAFFIC_DAYS - 1)
    totals = account.usage.filter(day__gte=since).aggregate(
        days=Count("pk"), total=Sum(F("bytes_in") + F("bytes_out")))
    if not totals["days"]:
        return None
    return totals["total"] / 1_000_000_000
