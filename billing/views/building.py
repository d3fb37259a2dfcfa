"""Billing's column on the building page (M6): is the client blocked for debt? Registered in
billing.apps.BillingConfig.ready() through connections.buildings."""

from django.utils.formats import get_format
from django.utils.html import format_html
from django.utils.translation import gettext as _

from billing.models import Account


def account_column(request, building, clients) -> dict | None:
    """Account status and balance: the first question when a client says it does not
    work — is he blocked for debt? One query for the whole building."""
    if not request.user.has_perm("billing.view_account"):
        return None
    money = _money_formatter()
    badges = {status: format_html(
        '<span class="badge text-bg-{}">{}</span>',
        "success" if status == Account.Status.ACTIVE else
        "danger" if status == Account.Status.BLOCKED else "secondary", label)
        for status, label in Account.Status.choices}
    accounts = Account.objects.filter(client__building=building).values_list(
        "client_id", "status", "balance")
    values = {client: format_html('{} <span class="{}">{}</span>', badges[status],
                                  "text-danger" if balance < 0 else "", money(balance))
              for client, status, balance in accounts}
    return {"label": _("Account, balance"), "values": values}


def _money_formatter():
    """number_format's output (1 500,00) without its per-call locale lookups: 500 rows."""
    separators = str.maketrans({",": get_format("THOUSAND_SEPARATOR"),
                                ".": get_format("DECIMAL_SEPARATOR")})

    def money(amount) -> str:
        return f"{amount:,.2f}".translate(separators)
    return money
