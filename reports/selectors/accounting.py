"""What the accountant closes a month with (D12): the month's acts of services rendered, the
month's payments, and the reconciliation of the acts with the ledger.

Pure selectors: a month in, plain rows and Decimals out. Sums are SQL aggregates; the row
streams (acts, payments) are server-side cursors read in chunks, so an export of 100,000
rows holds one chunk in memory.

- **A month's acts** are the ``billing.Document`` rows of kind act whose ``period`` is the
  month; their lines and totals were frozen from the ledger's charges when they were issued.
- **The ledger's charges of a month** are the charge entries with that ``period``, signed as
  the ledger stores them (negative); as money rendered they are minus that sum.
- **A month's payments** are completed payments whose ``paid_at`` falls in the month in the
  local time zone (settings.TIME_ZONE) — the day a cashier and a bank statement call it.
"""

from collections.abc import Iterator
from datetime import date, datetime, time
from decimal import Decimal

from django.db.models import Count, Exists, OuterRef, Q, Sum
from django.db.models.functions import Coalesce, TruncMonth
from django.utils import timezone

from billing.models import Document, LedgerEntry, Payment
from billing.money import ZERO, month_start, next_month_start
from connections.models import ClientCard

CHUNK = 2000

ACT_FIELDS = (
    "pk", "number", "issued_on", "total", "lines",
    "account_id", "account__number", "account__opened_at",
    "account__client_id", "account__client__kind", "account__client__name",
    "account__client__inn", "account__client__kpp",
    "account__client__contract__number", "account__client__contract__signed_at",
)

PAYMENT_FIELDS = (
    "pk", "paid_at", "amount", "channel", "external_id", "payer",
    "account__number", "account__client__name", "account__client__inn",
    "account__client__kind",
)


def _money(value) -> Decimal:
    return Decimal(value if value is not None else ZERO).quantize(Decimal("0.01"))


def month_bounds(period: date) -> tuple[datetime, datetime]:
    """The month as aware instants [start, end) in the local time zone."""
    zone = timezone.get_current_timezone()
    start = datetime.combine(month_start(period), time.min, tzinfo=zone)
    end = datetime.combine(next_month_start(period), time.min, tzinfo=zone)
    return start, end


def _acts(period: date, branch=None):
    acts = Document.objects.filter(kind=Document.Kind.ACT, period=month_start(period))
    if branch is not None:
        acts = acts.filter(account__client__branch=branch)
    return acts


def acts_of_month(period: date, branch=None) -> Iterator[dict]:
    """The month's acts with their client's requisites, by date and number, streamed."""
    rows = (_acts(period, branch).order_by("issued_on", "number", "pk")
            .values(*ACT_FIELDS).iterator(chunk_size=CHUNK))
    for row in rows:
        yield {
            "id": row["pk"], "number": row["number"], "issued_on": row["issued_on"],
            "total": _money(row["total"]), "lines": row["lines"] or [],
            "account_id": row["account_id"], "account_number": row["account__number"],
            # Instants, not dates: turned into local dates only where needed (a few).
            "account_opened_at": row["account__opened_at"],
            "client_id": row["account__client_id"], "kind": row["account__client__kind"],
            "name": row["account__client__name"], "inn": row["account__client__inn"] or "",
            "kpp": row["account__client__kpp"] or "",
            "contract_number": row["account__client__contract__number"] or "",
            "contract_signed_at": row["account__client__contract__signed_at"],
        }


def act_totals(period: date, branch=None) -> dict:
    """Number and sum of the month's acts, in all and for companies and persons."""
    company = Q(account__client__kind=ClientCard.Kind.COMPANY)
    found = _acts(period, branch).aggregate(
        count=Count("pk"), amount=Coalesce(Sum("total"), ZERO),
        companies=Count("pk", filter=company),
        companies_amount=Coalesce(Sum("total", filter=company), ZERO),
        persons=Count("pk", filter=~company),
        persons_amount=Coalesce(Sum("total", filter=~company), ZERO),
    )
    return {key: _money(value) if isinstance(value, Decimal) else value
            for key, value in found.items()}


def ledger_charges(period: date, branch=None) -> Decimal:
    """Services rendered in the month by the ledger: minus the sum of its charge entries."""
    charges = LedgerEntry.objects.filter(kind=LedgerEntry.Kind.CHARGE, period=month_start(period))
    if branch is not None:
        charges = charges.filter(account__client__branch=branch)
    return _money(-charges.aggregate(total=Coalesce(Sum("amount"), ZERO))["total"])


def reconciliation(period: date, branch=None) -> dict:
    """The month's acts against the ledger, every kopeck accounted for:

    ``ledger = acts + without_act + after_act + unexplained``

    - ``without_act``: charges of accounts that have no act for the month (their charges net
      to nothing or less — only recalculations in their favour — or the acts are not issued);
    - ``after_act``: charges posted after the account's act was issued (an act is final: a
      later correction of the month belongs to the next documents);
    - ``unexplained`` should be zero; anything else is worth a look.
    One query per figure."""
    period = month_start(period)
    charges = LedgerEntry.objects.filter(kind=LedgerEntry.Kind.CHARGE, period=period)
    if branch is not None:
        charges = charges.filter(account__client__branch=branch)
    act = Document.objects.filter(kind=Document.Kind.ACT, period=period,
                                  account_id=OuterRef("account_id"))
    act_issued_before = act.filter(created_at__lt=OuterRef("created_at"))
    without = charges.exclude(Exists(act)).aggregate(total=Coalesce(Sum("amount"), ZERO))
    after = charges.filter(Exists(act_issued_before)).aggregate(total=Coalesce(Sum("amount"), ZERO))
    ledger = ledger_charges(period, branch)
    acts = act_totals(period, branch)["amount"]
    without_act, after_act = _money(-without["total"]), _money(-after["total"])
    return {
        "ledger": ledger, "acts": acts, "without_act": without_act, "after_act": after_act,
        "unexplained": ledger - acts - without_act - after_act,
    }


def _payments(period: date, branch=None):
    start, end = month_bounds(period)
    payments = Payment.objects.filter(status=Payment.Status.COMPLETED, paid_at__gte=start,
                                      paid_at__lt=end)
    if branch is not None:
        payments = payments.filter(account__client__branch=branch)
    return payments


def payments_of_month(period: date, branch=None) -> Iterator[dict]:
    """The month's completed payments, by time, streamed."""
    rows = (_payments(period, branch).order_by("paid_at", "pk")
            .values(*PAYMENT_FIELDS).iterator(chunk_size=CHUNK))
    for row in rows:
        yield {
            "id": row["pk"], "paid_at": row["paid_at"], "amount": _money(row["amount"]),
            "channel": row["channel"], "external_id": row["external_id"],
            "account_number": row["account__number"],
            "payer": row["payer"] or row["account__client__name"],
            "client": row["account__client__name"], "inn": row["account__client__inn"] or "",
            "kind": row["account__client__kind"],
        }


def payment_totals(period: date, branch=None) -> dict:
    """The month's completed payments: count and sum in all and per channel (every channel
    listed, in the order of ``Payment.Channel``, zero where nothing came)."""
    found = {row["channel"]: row for row in
             _payments(period, branch).order_by().values("channel")
             .annotate(count=Count("pk"), total=Sum("amount"))}
    channels = [
        {"channel": value, "label": label,
         "count": found.get(value, {}).get("count", 0),
         "total": _money(found.get(value, {}).get("total"))}
        for value, label in Payment.Channel.choices
    ]
    return {"count": sum(row["count"] for row in channels),
            "total": sum((row["total"] for row in channels), ZERO),
            "channels": channels}


def totals_by_month(periods: list[date]) -> dict[date, dict]:
    """For each month: its acts (count, sum) and completed payments (count, sum) — two
    grouped queries for all the months together."""
    periods = sorted({month_start(period) for period in periods})
    out = {period: {"acts": 0, "acts_amount": ZERO, "payments": 0, "payments_amount": ZERO}
           for period in periods}
    if not periods:
        return out
    acts = (Document.objects.filter(kind=Document.Kind.ACT, period__in=periods)
            .order_by().values("period").annotate(count=Count("pk"), amount=Sum("total")))
    for row in acts:
        out[row["period"]].update(acts=row["count"], acts_amount=_money(row["amount"]))
    start, _end = month_bounds(periods[0])
    _start, end = month_bounds(periods[-1])
    payments = (Payment.objects.filter(status=Payment.Status.COMPLETED, paid_at__gte=start,
                                       paid_at__lt=end)
                .annotate(month=TruncMonth("paid_at")).order_by().values("month")
                .annotate(count=Count("pk"), amount=Sum("amount")))
    for row in payments:
        month = row["month"]
        month = month.date() if isinstance(month, datetime) else month
        if month in out:
            out[month].update(payments=row["count"], payments_amount=_money(row["amount"]))
    return out


def months_with_acts(limit: int = 24) -> list[date]:
    """The latest months that have acts, newest first (for the month picker's hints)."""
    return list(Document.objects.filter(kind=Document.Kind.ACT).order_by("-period")
                .values_list("period", flat=True).distinct()[:limit])


__all__ = [
    "act_totals", "acts_of_month", "ledger_charges", "month_bounds", "months_with_acts",
    "payment_totals", "payments_of_month", "reconciliation", "totals_by_month",
]
