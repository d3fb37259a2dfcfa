"""Read-side queries of billing that pages and the API share."""

from django.db.models import F, QuerySet, Sum, Window

from billing.models import Account, LedgerEntry


def ledger_with_balance(account: Account) -> QuerySet[LedgerEntry]:
    """Every entry of the account with ``balance_after``: the running sum in entry order,
    computed by the database (a window function), so the last one is the balance."""
    running = Window(Sum("amount"), order_by=[F("created_at").asc(), F("id").asc()])
    return (LedgerEntry.objects.filter(account=account).select_related("created_by")
            .annotate(balance_after=running))


def set_balance_after(account: Account, entries) -> None:
    """Give a page of the account's entries (newest first, any filter) ``balance_after``:
    the running sum over all the account's entries, whatever the filter hides. The window
    runs up to the page's newest entry — a prefix of the ledger in its order, so each sum is
    the same as over the whole ledger."""
    if not entries:
        return
    newest = entries[0].created_at
    balances = dict(ledger_with_balance(account).filter(created_at__lte=newest)
                    .values_list("pk", "balance_after"))
    for entry in entries:
        entry.balance_after = balances.get(entry.pk)


def account_of(card) -> Account | None:
    """The client's account, or None. No query when the card came with it (the card page and
    lists read cards through ``connections.selectors.client_queryset``, which joins it)."""
    try:
        return card.account
    except Account.DoesNotExist:
        return None
