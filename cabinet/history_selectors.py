"""Read side of the client's history, documents and referrals (C6, C7). Every function
takes the client's own card or account, so nothing here can reach another client's data."""

import datetime as dt
import itertools
from dataclasses import dataclass, field
from decimal import Decimal

from django.core.paginator import Page, Paginator
from django.db.models import Q, QuerySet, Sum
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from billing.models import Account, Claim, Document, LedgerEntry, Payment
from billing.money import ZERO
from billing.selectors import set_balance_after
from billing.services.referrals import referral_summary
from connections.models import ClientCard, Stage
from connections.models.guards import contract_of

PAGE_SIZE = 50

# How a payment came in, in the client's words ("paid … by bank transfer").
CHANNELS = {
    Payment.Channel.CASH: pgettext_lazy("paid", "cash desk"),
    Payment.Channel.BANK: pgettext_lazy("paid", "bank transfer"),
    Payment.Channel.CARD: pgettext_lazy("paid", "bank card"),
    Payment.Channel.TERMINAL: pgettext_lazy("paid", "payment terminal"),
    Payment.Channel.CABINET: pgettext_lazy("paid", "card online"),
}

KIND_LABELS = {
    LedgerEntry.Kind.PAYMENT: _("Payment"),
    LedgerEntry.Kind.CHARGE: _("Charge"),
    LedgerEntry.Kind.BONUS: _("Bonus"),
    LedgerEntry.Kind.CORRECTION: _("Correction"),
    LedgerEntry.Kind.REFUND: _("Refund"),
}


# --- History ---------------------------------------------------------------------------------

def _bounds(date_from: dt.date | None, date_to: dt.date | None) -> Q:
    """Entries posted within the days (inclusive, the local time zone): a range on the
    indexed ``created_at``, not a date conversion of every row."""
    condition = Q()
    tz = timezone.get_current_timezone()
    if date_from:
        condition &= Q(created_at__gte=dt.datetime.combine(date_from, dt.time.min, tz))
    if date_to:
        next_day = date_to + dt.timedelta(days=1)
        condition &= Q(created_at__lt=dt.datetime.combine(next_day, dt.time.min, tz))
    return condition


def ledger_entries(account: Account, *, kinds=None, date_from=None,
                   date_to=None) -> QuerySet[LedgerEntry]:
    """The account's entries under the filter, newest first."""
    entries = account.entries.select_related("payment").filter(_bounds(date_from, date_to))
    if kinds:
        entries = entries.filter(kind__in=kinds)
    return entries.order_by("-created_at", "-id")


def ledger_page(account: Account, *, number=None, page_size: int = PAGE_SIZE,
                **filters) -> Page:
    """One page of the filtered ledger; each entry gets ``balance_after``, ``sign``,
    ``kind_label`` and ``channel`` (a payment's, in plain words)."""
    page = Paginator(ledger_entries(account, **filters), page_size).get_page(number)
    set_balance_after(account, page.object_list)
    for entry in page.object_list:
        entry.sign = "+" if entry.amount > 0 else "−"
        entry.kind_label = KIND_LABELS.get(entry.kind, entry.get_kind_display())
        entry.channel = (CHANNELS.get(entry.payment.channel, "")
                         if entry.payment_id and entry.kind == LedgerEntry.Kind.PAYMENT
                         else "")
    return page


@dataclass(frozen=True)
class Totals:
    paid_in: Decimal
    charged: Decimal


def period_totals(account: Account, *, date_from=None, date_to=None) -> Totals:
    """Money paid in (payments, less cancelled ones) and charged over the days, whatever kind
    the list shows. One aggregate query."""
    paid = Q(kind=LedgerEntry.Kind.PAYMENT) | Q(kind=LedgerEntry.Kind.CORRECTION,
                                                payment__isnull=False)
    sums = account.entries.filter(_bounds(date_from, date_to)).aggregate(
        paid=Sum("amount", filter=paid),
        charged=Sum("amount", filter=Q(kind=LedgerEntry.Kind.CHARGE)))
    return Totals(paid_in=sums["paid"] or ZERO, charged=-(sums["charged"] or ZERO))


# --- Documents -------------------------------------------------------------------------------

@dataclass
class Month:
    period: dt.date
    documents: list[Document] = field(default_factory=list)


def documents_by_month(account: Account | None) -> list[Month]:
    """Invoices and acts of the account by month, newest first (the invoice before the act)."""
    if account is None:
        return []
    documents = Document.objects.filter(account=account).order_by("-period", "-kind")
    return [Month(period, list(group))
            for period, group in itertools.groupby(documents, key=lambda d: d.period)]


def claims(account: Account | None) -> list[Claim]:
    return list(account.claims.order_by("-created_on")) if account is not None else []


def contract(card: ClientCard):
    """The card's connection contract, or None before it is drafted."""
    return contract_of(card)


# --- Referrals -------------------------------------------------------------------------------

def short_name(name: str) -> str:
    """«Белова Ольга Петровна» → «Ольга Б.»: whom he brought, without the full name (the
    card is written surname first)."""
    words = name.split()
    if len(words) >= 2:
        return f"{words[1]} {words[0][0]}."
    return words[0] if words else ""


def first_name(card: ClientCard) -> str:
    """The first name of a person's card (written surname first), or "" for a company or a
    one-word name (a surname alone would say too much and nothing friendly)."""
    words = card.name.split()
    if card.kind != ClientCard.Kind.PERSON or len(words) < 2:
        return ""
    return words[1]


def _status(stage: str, account_status: str | None) -> tuple[str, str]:
    """A referred client's state as its code (for the colour) and plain words. Deliberately
    coarse: a blocked or paused account reads «connected» — another client's debt is none of
    the referrer's business."""
    if account_status == Account.Status.CLOSED or stage == Stage.TERMINATED:
        return "closed", _("Disconnected")
    if account_status in (Account.Status.ACTIVE, Account.Status.BLOCKED, Account.Status.PAUSED):
        return "active", _("Connected")
    if stage == Stage.CANCELLED:
        return "cancelled", _("Did not connect")
    if stage == Stage.NETWORK_DEVELOPMENT:
        return "network_development", _("Waiting for our network to reach the building")
    return "pending", _("Being connected")


@dataclass(frozen=True)
class Referred:
    name: str
    since: dt.datetime
    status: str
    status_label: str
    paid: Decimal
    bonus: Decimal
    has_account: bool = True


def referred_clients(card: ClientCard) -> list[Referred]:
    """The clients this card brought, newest first: billing's summary for those with an
    account (paid, bonus), and the cards still on their way to a contract."""
    rows = [Referred(short_name(row["client"].name), row["client"].created_at,
                     *_status(row["client"].stage, row["status"]), row["paid"], row["bonus"])
            for row in referral_summary(card)]
    without_account = ClientCard.objects.filter(referrer=card, account__isnull=True)
    rows += [Referred(short_name(other.name), other.created_at, *_status(other.stage, None),
                      ZERO, ZERO, has_account=False) for other in without_account]
    return sorted(rows, key=lambda row: row.since, reverse=True)


def bonus_total(account: Account | None) -> Decimal:
    """All bonuses credited to the account (the ledger's bonus entries)."""
    if account is None:
        return ZERO
    total = account.entries.filter(kind=LedgerEntry.Kind.BONUS).aggregate(s=Sum("amount"))["s"]
    return total or ZERO
