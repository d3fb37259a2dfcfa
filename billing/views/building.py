"""Billing's column on the building page (M6): is the client blocked for debt? Registered in
billing.apps.BillingConfig.ready() through connections.buildings."""

from django.utils.formats import get_format
from django.utils.html import format_html
from django.utils.translation import gettext as _

from billing.models import Account


def account_column(request, building, clients) -> dict | None:
    """Account status and balance: the first question when a client says it does not
    work — is he blocked for debt? The accounts came with the cards (one query)."""
    if not request.user.has_perm("billing.view_account"):
        return None
    money = _money_formatter()
    badges = {status: format_html(
        '<span class="badge text-bg-{}">{}</span>',
        "success" if status == Account.Status.ACTIVE else
        "danger" if status == Account.Status.BLOCKED else "secondary", label)
        for status, label in Account.Status.choices}
    values = {}
    for card in clients:
        account = getattr(card, "account", None)
        if account is None:
            continue
        values[card.pk] = format_html(
            '{} <span class="{}">{}</span>', badges[account.status],
            "text-danger" if account.balance < 0 else "", money(account.balance))
    return {"label": _("Account, balance"), "values": values}


def _money_formatter():
    """number_format's output (1 500,00) without its per-call locale lookups: 500 rows."""
    separators = str.maketrans({",": get_format("THOUSAND_SEPARATOR"),
                                ".": get_format("DECIMAL_SEPARATOR")})

    def money(amount) -> str:
        return f"{amount:,.2f}".translate(separators)
    return money
