"""Invoices and acts of services rendered (SP-8, M8): numbering, the monthly issue from the
ledger, and the PDF.

A document is a snapshot of the period's charges: its lines are stored when it is issued, so
it prints the same forever. Numbers run per series and year (``СЧ-2026-000123``), come from a
locked counter row, and are never reused (STYLE 8)."""

import itertools
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.template.loader import render_to_string
from django.utils.translation import gettext as _

from billing import hooks
from billing.documents_text import (
    amount_in_words_ru,
    format_date,
    format_money,
    format_quantity,
    month_year,
)
from billing.models import (
    BillingSettings,
    Document,
    DocumentCounter,
    LedgerEntry,
    Subscription,
    Tariff,
)
from billing.money import KOPECK, ZERO, month_start, next_month_start, to_money
from billing.services.ledger import lock_account, post
from connections.models import ClientCard
from ispcrm.pdf import font_dir as _font_dir
from ispcrm.pdf import html_to_pdf  # shared with the connection documents
from ispcrm.pdf import local_fetcher as _local_fetcher  # noqa: F401 (the fetcher's tests)

SERIES_PREFIX = {Document.Kind.INVOICE: "СЧ", Document.Kind.ACT: "АКТ"}
# Accounts whose documents are written in one transaction: bounds the time the series
# counters stay locked and the memory a run holds.
BATCH_SIZE = 500
# Charges read from the database at a time (a server-side cursor on PostgreSQL).
CHUNK_SIZE = 2000


# --- Numbers ---------------------------------------------------------------------------------

def series_for(kind: str, issued_on: date) -> str:
    """``СЧ-2026``: the series of a kind of document in the year it is issued."""
    return f"{SERIES_PREFIX[kind]}-{issued_on.year}"


def format_number(series: str, number: int) -> str:
    return f"{series}-{number:06d}"


def _lock_counter(series: str) -> DocumentCounter:
    """The series' counter row, locked (SELECT … FOR UPDATE) until the caller's transaction
    ends, so two issuers in one series take turns and neither sees a number the other took.
    The first use of a series creates the row; two first uses at once both try to INSERT,
    the unique constraint refuses the later one (inside a savepoint, so its transaction
    survives) and it then locks the row the other made."""
    for _attempt in range(3):
        counter = DocumentCounter.objects.select_for_update().filter(series=series).first()
        if counter is not None:
            return counter
        try:
            with transaction.atomic():
                DocumentCounter.objects.create(series=series)
        except IntegrityError:
            pass  # created concurrently: lock that one on the next pass
    raise RuntimeError(f"could not lock the document counter {series!r}")


def next_number(series: str) -> int:
    """The next number of ``series``. Call it inside the transaction that saves the document:
    the counter row stays locked until that commits, and a rollback gives the number back
    together with the document (so no number is ever used twice or skipped by a failure)."""
    with transaction.atomic():
        counter = _lock_counter(series)
        counter.last_number += 1
        counter.save(update_fields=["last_number"])
        return counter.last_number


# --- Issuing ---------------------------------------------------------------------------------

_MONTHLY_UNIT = "мес."
_SERVICE_UNIT = "усл."
HOURS_UNIT = "ч"


def _line_name(entry: LedgerEntry, tariff_name: str | None, period: date) -> tuple[str, str]:
    """What a charge is called on the document, and its unit."""
    month = month_year(period)
    kind = entry.charge_kind
    if kind == LedgerEntry.ChargeKind.MONTHLY:
        if tariff_name:
            return (f"Услуги доступа к сети Интернет по тарифу «{tariff_name}» за {month}",
                    _MONTHLY_UNIT)
        return f"Абонентская плата за {month}", _MONTHLY_UNIT
    if kind == LedgerEntry.ChargeKind.SERVICE and entry.service is not None:
        return f"{entry.service.name} за {month}", _MONTHLY_UNIT
    if kind == LedgerEntry.ChargeKind.PAUSE:
        return (f"Абонентская плата в период приостановки обслуживания за {month}",
                _MONTHLY_UNIT)
    if kind == LedgerEntry.ChargeKind.CONNECTION:
        return "Подключение к сети Интернет", _SERVICE_UNIT
    # Recalculations and final settlements: the charge run's own words say what they are.
    return entry.description, _SERVICE_UNIT


def _hours_line(entry: LedgerEntry, hour_price: Decimal | None, period: date) -> dict | None:
    """The extra hours charge as "K h × the hour's price", when the tariff's price still
    divides the amount (else it prints as one service, in the charge's own words)."""
    if entry.idem_key != hours_key(period) or not hour_price:
        return None
    amount = to_money(-entry.amount)
    quantity = (amount / hour_price).quantize(KOPECK)
    if to_money(quantity * hour_price) != amount:
        return None
    return {"name": f"Часы обслуживания сверх включённых в тариф за {month_year(period)}",
            "quantity": str(quantity), "unit": HOURS_UNIT, "price": str(to_money(hour_price)),
            "amount": str(amount)}


def document_lines(entries: list[LedgerEntry], tariff_name: str | None,
                   period: date, hour_price: Decimal | None = None) -> list[dict]:
    """Document lines from charge entries. A charge is negative in the ledger and positive on
    the document; a recalculation in the client's favour is a negative line. Money is stored
    as strings ("1500.00"): JSON has no decimals."""
    lines = []
    for entry in entries:
        hours = _hours_line(entry, hour_price, period)
        if hours is not None:
            lines.append(hours)
            continue
        name, unit = _line_name(entry, tariff_name, period)
        amount = to_money(-entry.amount)
        lines.append({"name": name, "quantity": "1", "unit": unit, "price": str(amount),
                      "amount": str(amount)})
    return lines


@dataclass
class _Plan:
    account_id: int
    lines: list[dict]
    total: Decimal
    hours_included: Decimal | None
    hours_spent: Decimal | None = None


def _tariffs_in_force(account_ids: list[int], period: date) -> dict[int, Tariff]:
    """Per account, the tariff of the subscription in force on the period's first day, else
    of the first one that started within the period. One query."""
    subscriptions = (Subscription.objects.select_related("tariff")
                     .filter(account_id__in=account_ids, start__lt=next_month_start(period))
                     .filter(Q(end__isnull=True) | Q(end__gt=period))
                     .order_by("account_id", "start"))
    chosen: dict[int, Subscription] = {}
    for sub in subscriptions:  # by start: the last one from before the month wins
        if sub.account_id not in chosen or sub.start <= period:
            chosen[sub.account_id] = sub
    return {account_id: sub.tariff for account_id, sub in chosen.items()}


def _plans(batch: list[tuple[int, list[LedgerEntry]]], period: date,
           hours_used: dict[int, Decimal]) -> list[_Plan]:
    tariffs = _tariffs_in_force([account_id for account_id, _entries in batch], period)
    plans = []
    for account_id, entries in batch:
        tariff = tariffs.get(account_id)
        lines = document_lines(entries, tariff.name if tariff else None, period,
                               tariff.hour_price if tariff else None)
        total = sum((Decimal(line["amount"]) for line in lines), ZERO)
        if total <= ZERO:
            continue  # only recalculations in the client's favour: nothing to bill
        hours = tariff.included_hours if tariff is not None else None
        plans.append(_Plan(account_id, lines, total, hours, hours_used.get(account_id)))
    return plans


# --- Hours of hourly subscription service (SP-8) ---------------------------------------------

def hours_key(period: date) -> str:
    """The key of the month's extra hours charge: posted once per account and month."""
    return f"hours:{period:%Y-%m}"


def _hourly_business_tariffs(period: date) -> dict[int, Tariff]:
    """Company accounts whose tariff in force in the month includes service hours, without
    the month's act yet (an issued act is final: nothing more is charged for its month)."""
    with_act = Document.objects.filter(kind=Document.Kind.ACT, period=period)
    candidates = list(
        Subscription.objects.filter(tariff__included_hours__isnull=False,
                                    account__client__kind=ClientCard.Kind.COMPANY,
                                    start__lt=next_month_start(period))
        .filter(Q(end__isnull=True) | Q(end__gt=period))
        .exclude(account_id__in=with_act.values("account_id"))
        .values_list("account_id", flat=True).distinct())
    tariffs = _tariffs_in_force(candidates, period)
    return {account_id: tariff for account_id, tariff in tariffs.items()
            if tariff.included_hours is not None}


def extra_hours(used: Decimal, included: Decimal) -> Decimal:
    return max(used - included, ZERO)


def _charge_extra_hours(account_id: int, tariff: Tariff, used: Decimal, period: date) -> None:
    extra = extra_hours(used, tariff.included_hours)
    if extra <= ZERO or not tariff.hour_price:
        return
    with transaction.atomic():
        post(account=lock_account(account_id), kind=LedgerEntry.Kind.CHARGE, period=period,
             # An additional service rendered in the month, billed beside the fee.
             charge_kind=LedgerEntry.ChargeKind.SERVICE,
             amount=-to_money(extra * tariff.hour_price), idem_key=hours_key(period),
             description=_("Service hours over the %(included)s included, %(month)s: "
                           "%(extra)s h × %(price)s") % {
                 "included": format_quantity(tariff.included_hours),
                 "month": f"{period:%m.%Y}", "extra": format_quantity(extra),
                 "price": format_money(tariff.hour_price)})


def hours_of_the_month(period: date) -> dict[int, Decimal]:
    """Hours used in the month per hourly business account (the helpdesk's time entries,
    through ``billing.hooks``), the hours beyond the included ones charged to the ledger at
    the tariff's hour price — once per account and month (``hours:YYYY-MM``)."""
    if hooks.hours_used is None:
        return {}
    tariffs = _hourly_business_tariffs(period)
    if not tariffs:
        return {}
    found = hooks.hours_used(list(tariffs), period, next_month_start(period))
    used = {account_id: Decimal(found.get(account_id, ZERO)).quantize(KOPECK)
            for account_id in tariffs}
    for account_id, tariff in tariffs.items():
        _charge_extra_hours(account_id, tariff, used[account_id], period)
    return used


def _create_numbered(counter: DocumentCounter, fields: dict) -> bool:
    """Insert one document with the counter's next free number, skipping numbers already
    taken (a counter set back by hand). False when the account already has the document."""
    for _attempt in range(100):
        number = counter.last_number + 1
        try:
            with transaction.atomic():  # savepoint: a refused insert leaves the batch alive
                Document.objects.create(number=format_number(counter.series, number), **fields)
        except IntegrityError:
            if Document.objects.filter(account_id=fields["account_id"], kind=fields["kind"],
                                       period=fields["period"]).exists():
                return False
            counter.last_number = number  # the number is taken: never use it again
            continue
        counter.last_number = number
        return True
    raise RuntimeError(f"no free number in the series {counter.series!r}")


def _issue_batch(plans: list[_Plan], period: date, issued_on: date) -> int:
    kinds = sorted(SERIES_PREFIX, key=lambda kind: series_for(kind, issued_on))
    with transaction.atomic():
        # Lock the counters first, always in the same order (no deadlock between two runs).
        # Whoever issues in these series holds these locks until commit, so the check for
        # existing documents below sees everything a concurrent run has written.
        counters = {kind: _lock_counter(series_for(kind, issued_on)) for kind in kinds}
        account_ids = [plan.account_id for plan in plans]
        existing = set(Document.objects.filter(account_id__in=account_ids, period=period)
                       .values_list("account_id", "kind"))
        created = 0
        for kind in kinds:
            counter = counters[kind]
            first = counter.last_number
            new = []
            for plan in plans:
                if (plan.account_id, kind) in existing:
                    continue
                new.append(Document(
                    kind=kind, account_id=plan.account_id, period=period, issued_on=issued_on,
                    total=plan.total, lines=plan.lines, hours_included=plan.hours_included,
                    hours_spent=plan.hours_spent,
                    number=format_number(counter.series, first + len(new) + 1)))
            try:
                with transaction.atomic():  # savepoint for the fallback below
                    Document.objects.bulk_create(new)
                counter.last_number = first + len(new)
                created += len(new)
            except IntegrityError:
                # Someone wrote documents without the counter lock (the admin, a counter set
                # back): one by one, skipping taken numbers and documents that exist.
                counter.last_number = first
                for doc in new:
                    fields = {"kind": kind, "account_id": doc.account_id, "period": period,
                              "issued_on": issued_on, "total": doc.total, "lines": doc.lines,
                              "hours_included": doc.hours_included,
                              "hours_spent": doc.hours_spent}
                    created += _create_numbered(counter, fields)
            counter.save(update_fields=["last_number"])
    return created


def monthly_documents_issue(*, period: date, issued_on: date | None = None) -> int:
    """An invoice and an act for every account charged for ``period`` (a month), dated its
    last day unless ``issued_on`` is given. Idempotent: documents an account already has for
    the month are skipped, so a run can be repeated or resumed. Returns how many were made.

    One query streams the month's charges ordered by account; per batch of accounts one
    query reads their tariffs and one the documents they already have. Before that, hourly
    business accounts get the month's hours used and their extra hours charged (SP-8)."""
    period = month_start(period)
    issued_on = issued_on or next_month_start(period) - timedelta(days=1)
    hours_used = hours_of_the_month(period)
    charges = (LedgerEntry.objects.filter(kind=LedgerEntry.Kind.CHARGE, period=period)
               .select_related("service").order_by("account_id", "created_at", "id")
               .iterator(chunk_size=CHUNK_SIZE))
    by_account = ((account_id, list(entries)) for account_id, entries
                  in itertools.groupby(charges, key=lambda entry: entry.account_id))
    created = 0
    while batch := list(itertools.islice(by_account, BATCH_SIZE)):
        plans = _plans(batch, period, hours_used)
        if plans:
            created += _issue_batch(plans, period, issued_on)
    return created


# --- PDF -------------------------------------------------------------------------------------

def _party(name: str, inn: str = "", kpp: str = "", address: str = "") -> dict:
    return {"name": name, "inn": inn, "kpp": kpp, "address": address}


def document_context(document: Document) -> dict:
    """Everything a document template prints, already in Russian document formats."""
    company = BillingSettings.current()
    client = document.account.client
    lines = [
        {"index": index, "name": line["name"], "unit": line["unit"],
         "quantity": format_quantity(Decimal(line["quantity"])),
         "price": format_money(Decimal(line["price"])),
         "amount": format_money(Decimal(line["amount"]))}
        for index, line in enumerate(document.lines, start=1)
    ]
    hours = _hours_context(document)
    return {
        "document": document,
        "number": document.number,
        "date": format_date(document.issued_on),
        "month": month_year(document.period),
        "company": company,
        "supplier": _party(company.company_name, company.company_inn, company.company_kpp,
                           company.company_address),
        "buyer": _party(client.name, client.inn, client.kpp, client.address),
        "account_number": document.account.number,
        "lines": lines,
        "count": len(lines),
        "total": format_money(document.total),
        "total_in_words": amount_in_words_ru(document.total),
        "hours": hours,
        "font_dir": _font_dir().as_uri(),
    }


def _hours_context(document: Document) -> dict | None:
    """Included, used and extra hours as the act prints them; the extra hours' price is the
    one their line was charged at."""
    if document.hours_included is None:
        return None
    hours = {"included": format_quantity(document.hours_included), "spent": None,
             "extra": None}
    if document.hours_spent is None:
        return hours
    hours["spent"] = format_quantity(document.hours_spent)
    extra = extra_hours(document.hours_spent, document.hours_included)
    if extra > ZERO:
        line = next((line for line in document.lines if line["unit"] == HOURS_UNIT), None)
        hours["extra"] = format_quantity(extra)
        hours["price"] = format_money(Decimal(line["price"])) if line else None
        hours["amount"] = format_money(Decimal(line["amount"])) if line else None
    return hours


TEMPLATES = {
    Document.Kind.INVOICE: "billing/documents/invoice.html",
    Document.Kind.ACT: "billing/documents/act.html",
}


def document_html(document: Document) -> str:
    return render_to_string(TEMPLATES[document.kind], document_context(document))


def document_pdf(document: Document) -> bytes:
    """The document as a PDF (A4, the Russian form of an invoice or act)."""
    return html_to_pdf(document_html(document))


def claim_pdf(claim) -> bytes:
    """The official claim (претензия) for a debt, SP-7."""
    company = BillingSettings.current()
    client = claim.account.client
    return html_to_pdf(render_to_string("billing/documents/claim.html", {
        "number": claim.number,
        "date": format_date(claim.created_on),
        "company": company,
        "supplier": _party(company.company_name, company.company_inn, company.company_kpp,
                           company.company_address),
        "buyer": _party(client.name, client.inn, client.kpp, client.address),
        "account_number": claim.account.number,
        "debt": format_money(claim.debt),
        "debt_in_words": amount_in_words_ru(claim.debt),
        "blocked_on": format_date(claim.account.blocked_on) if claim.account.blocked_on
        else None,
        "font_dir": _font_dir().as_uri(),
    }))


def document_filename(document: Document) -> str:
    """``invoice-СЧ-2026-000123.pdf``"""
    return f"{document.kind}-{document.number}.pdf"
