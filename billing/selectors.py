"""Read-side queries of billing that pages and the API share."""

from django.db.models import F, QuerySet, Sum, Window

from billing.models import Account, LedgerEntry


def ledger_with_balance(account: Account) -> QuerySet[LedgerEntry]:
    """Every entry of the account with ``balance_after``: the running sum in entry order,
    computed by the database (a window function), so the last one is the balance."""
    running = Window(Sum("amount"), order_by=[F("created_at").asc(), F("id").asc()])
    return (LedgerEntry.objects.filter(account=account).select_related("created_by")
            .annotate(balance_after=running))
