"""What an account pays: the subscription in force on a day and its monthly price."""

from datetime import date
from decimal import Decimal

from django.db.models import Q
from django.utils import formats
from django.utils.translation import gettext as _

from billing.models import Account, Subscription
from billing.money import to_money


def subscription_on(account: Account, day: date) -> Subscription | None:
    return (Subscription.objects.select_related("tariff")
            .filter(account=account, start__lte=day)
            .filter(Q(end__isnull=True) | Q(end__gt=day)).order_by("-start").first())


def monthly_price(subscription: Subscription, period: date) -> Decimal:
    """The tariff's monthly fee for ``period`` after the subscription's promotion discount."""
    fee = subscription.tariff.monthly_fee
    if subscription.discount_percent and (subscription.discount_until is None
                                          or period < subscription.discount_until):
        fee = fee * (100 - subscription.discount_percent) / 100
    return to_money(fee)


def month_name(period: date) -> str:
    """«ноябрь 2026» in the active language."""
    return formats.date_format(period, "F Y").lower()


def fee_description(tariff_name: str, period: date) -> str:
    return _("Monthly fee for %(month)s, tariff «%(tariff)s»") % {
        "month": month_name(period), "tariff": tariff_name}
