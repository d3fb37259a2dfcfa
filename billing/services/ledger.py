"""Posting to the ledger: the only code that changes an account's balance.

Callers run inside ``transaction.atomic()`` and hold the account's row lock (``lock_account``)
so that concurrent postings to one account serialise and the stored balance stays equal to the
sum of the entries."""

from datetime import date
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.db.models import F, OuterRef, Subquery, Sum
from django.db.models.functions import Coalesce

from billing.models import Account, LedgerEntry
from billing.money import ZERO, to_money


def lock_account(pk: int) -> Account:
    """Re-read the account under a row lock (SELECT … FOR UPDATE) for the rest of the
    transaction: the balance we add to is then the committed one, not a stale copy. The
    client card comes along (not locked) since most callers read it."""
    return (Account.objects.select_for_update(of=("self",)).select_related("client")
            .get(pk=pk))


def post(*, account: Account, kind: str, amount: Decimal, description: str,
         idem_key: str = "", period: date | None = None, charge_kind: str = "",
         service=None, payment=None, actor=None, at=None,
         new_key: bool = False) -> LedgerEntry | None:
    """Append an entry and move the balance by its amount. Returns None (and changes
    nothing) for a zero amount or when an entry with the same ``idem_key`` already exists.
    ``new_key``: the key names a row created in this transaction (a new payment), so it
    cannot exist yet and the checks are skipped (the unique constraint still guards)."""
    amount = to_money(amount)
    if amount == ZERO:
        return None
    fields = {"account": account, "kind": kind, "amount": amount, "description": description[:255],
              "idem_key": idem_key, "period": period, "charge_kind": charge_kind,
              "service": service, "payment": payment, "created_by": actor}
    if at is not None:
        fields["created_at"] = at
    if new_key:
        entry = LedgerEntry.objects.create(**fields)
        _move_balance(account, amount)
        return entry
    if idem_key and LedgerEntry.objects.filter(account=account, idem_key=idem_key).exists():
        return None
    try:
        # A savepoint: a charge run may insert the same key between our check and insert
        # (it does not take account locks); then the database refuses ours and we skip.
        with transaction.atomic():
            entry = LedgerEntry.objects.create(**fields)
    except IntegrityError:
        if idem_key and LedgerEntry.objects.filter(account=account, idem_key=idem_key).exists():
            return None
        raise
    _move_balance(account, amount)
    return entry


def _move_balance(account: Account, amount: Decimal) -> None:
    Account.objects.filter(pk=account.pk).update(balance=F("balance") + amount)
    account.balance += amount


def balance_mismatches():
    """Accounts whose stored balance differs from the sum of their entries, with
    ``entries_total`` annotated. One query, done by the database."""
    total = (LedgerEntry.objects.filter(account=OuterRef("pk")).order_by()
             .values("account").annotate(total=Sum("amount")).values("total"))
    return (Account.objects.annotate(entries_total=Coalesce(Subquery(total), ZERO))
            .exclude(balance=F("entries_total")).order_by("number"))
