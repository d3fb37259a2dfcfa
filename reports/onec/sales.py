"""The month's services rendered for 1C:Бухгалтерия (D12): the acts as an EnterpriseData
message of sales («Реализация товаров и услуг», services) with the counterparties and the
services (nomenclature) they need.

Who gets which document
-----------------------
- **Companies and sole traders**: one document per act, with the act's number and date,
  for the counterparty found in 1C by its INN and KPP. This is what 1C needs for the VAT
  books, the reconciliation statements and the e-documents.
- **Individuals** (``ONEC_PERSONS="retail"``, the default): one summary document per month
  for a single counterparty «Физические лица (розница)», a line per service with the month's
  sum over all persons. An individual has no INN to be found by, and 100,000 of them as
  counterparties would make 1C's lists useless and merge namesakes; the settlement with
  each person is kept here, in the billing. The summary's sum is the exact sum of the
  persons' acts. ``ONEC_PERSONS="each"`` writes a document per person instead (for a
  company that keeps individuals as counterparties; they are found in 1C by the reference,
  or by name on the first load — beware of namesakes).

The sums: every document's lines add up to its act's total (credits folded in, see
``lines``), so the message's «Сумма» over all documents equals the acts' total — which was
made from the ledger's charges (``reports.selectors.accounting.reconciliation``).

Memory: the acts are streamed; counterparties and documents go to two temporary files
while the nomenclature (a few dozen services) and the retail sums are collected; then the
message is assembled in the order 1C reads best — services, counterparties, documents.
"""

import tempfile
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

from django.utils import timezone
from django.utils.translation import gettext as _

from billing.money import ZERO, month_start, next_month_start
from connections.models import ClientCard
from ispcrm.pdf import company
from reports.selectors import accounting

from .config import OnecConfig, onec_config
from .enterprise_data import (
    Contract,
    MessageWriter,
    Party,
    Sale,
    counterparty_element,
    item_element,
    ref,
    sale_element,
)
from .lines import ServiceLine, act_lines, document_total, with_vat

PROGRESS_EVERY = 1000
RETAIL_PREFIX = "РОЗН"


class OnecExportError(Exception):
    """The export cannot be made (our requisites are missing)."""


@dataclass
class SalesTotals:
    """What a sales message holds. ``amount`` (the lines' sums) equals the acts' total;
    ``total`` is the documents' «Сумма» (``amount``, plus ``vat`` when VAT is on top)."""
    period: date
    acts: int = 0
    documents: int = 0
    amount: Decimal = ZERO
    vat: Decimal = ZERO
    total: Decimal = ZERO
    companies: int = 0
    companies_amount: Decimal = ZERO
    persons: int = 0
    persons_amount: Decimal = ZERO
    counterparties: int = 0
    items: int = 0
    skipped: list[str] = field(default_factory=list)  # acts summing to zero or less

    def as_dict(self) -> dict:
        """JSON-safe (money as strings), for an ExportJob's stored summary."""
        out = asdict(self)
        out["period"] = self.period.isoformat()
        return {key: str(value) if isinstance(value, Decimal) else value
                for key, value in out.items()}


def organization() -> Party:
    """Our company as 1C knows it («Организация»): the requisites printed on the acts."""
    ours = company()
    if not ours.inn:
        raise OnecExportError(_("Our company's INN is not filled in: enter it in the billing "
                                "settings, 1C finds the organisation by it."))
    return Party(name=ours.name, inn=ours.inn, kpp=ours.kpp, legal=len(ours.inn) != 12)


def _is_company(act: dict) -> bool:
    return act["kind"] == ClientCard.Kind.COMPANY


def act_counterparty(act: dict, org: Party) -> Party:
    """The buyer of an act: a company (a 12-digit INN is a sole trader: a natural person
    with no KPP) or a person."""
    inn = act["inn"].strip()
    legal = _is_company(act) and len(inn) != 12
    return Party(name=act["name"], inn=inn, kpp=act["kpp"].strip() if legal else "",
                 legal=legal, uuid=ref(org.inn, "client", act["client_id"]))


def act_contract(act: dict, org: Party) -> Contract:
    """The contract the act is under: the client's contract, else the account."""
    number = act.get("contract_number") or act["account_number"]
    signed = act.get("contract_signed_at") or act.get("account_opened_at")
    return Contract(uuid=ref(org.inn, "contract", act["account_id"]),
                    name=f"Договор № {number}", number=number,
                    signed_on=timezone.localdate(signed) if signed else None)


def retail_counterparty(org: Party, config: OnecConfig) -> Party:
    return Party(name=config.retail_counterparty, legal=False,
                 uuid=ref(org.inn, "retail-counterparty"))


def retail_contract(org: Party, config: OnecConfig) -> Contract:
    return Contract(uuid=ref(org.inn, "retail-contract"),
                    name=f"{config.retail_counterparty}: договоры с абонентами")


def retail_number(period: date) -> str:
    return f"{RETAIL_PREFIX}-{period:%Y-%m}"


def month_end(period: date) -> date:
    return next_month_start(period) - timedelta(days=1)


class _Retail:
    """The individuals' month summed per service."""

    def __init__(self):
        self.sums: dict[str, Decimal] = {}
        self.counts: dict[str, int] = {}
        self.acts = 0

    def add(self, lines: list[ServiceLine]) -> None:
        self.acts += 1
        for line in lines:
            self.sums[line.item] = self.sums.get(line.item, ZERO) + line.amount
            self.counts[line.item] = self.counts.get(line.item, 0) + 1

    def lines(self, period: date) -> list[ServiceLine]:
        month = f"{period:%m.%Y}"
        return [ServiceLine(item=item, content=f"{item} за {month} ({self.counts[item]} усл.)",
                            quantity=Decimal("1"), price=amount, amount=amount)
                for item, amount in sorted(self.sums.items())]


def write_sales_xml(period: date, target, *, config: OnecConfig | None = None,
                    on_progress: Callable[[int], None] | None = None) -> SalesTotals:
    """Write the month's sales message to ``target`` (a path or a binary file) and return
    what it holds. ``on_progress(acts done)`` is called every PROGRESS_EVERY acts."""
    period = month_start(period)
    config = config or onec_config()
    org = organization()
    totals = SalesTotals(period=period)
    items: set[str] = set()
    retail = _Retail()
    created_at = timezone.localtime().replace(tzinfo=None)
    with (tempfile.TemporaryFile() as parties_file, tempfile.TemporaryFile() as sales_file):
        parties = MessageWriter(parties_file, config, created_at)
        sales = MessageWriter(sales_file, config, created_at)
        for act in accounting.acts_of_month(period):
            totals.acts += 1
            lines, amount = act_lines(act["lines"])
            if amount <= ZERO:
                totals.skipped.append(act["number"])
            elif _is_company(act) or config.persons == "each":
                lines, vat = with_vat(lines, config)
                counterparty = act_counterparty(act, org)
                sale = Sale(uuid=ref(org.inn, "act", act["id"]), number=act["number"],
                            day=act["issued_on"], counterparty=counterparty,
                            contract=act_contract(act, org), lines=lines,
                            amount=document_total(amount, vat, config),
                            includes_vat=config.prices_include_vat)
                parties.write(counterparty_element(counterparty))
                sales.write(sale_element(sale, org, config))
                totals.documents += 1
                totals.vat += vat
                totals.total += sale.amount
            else:
                retail.add(lines)  # VAT of the summary is on the month's sums
            if amount > ZERO:
                items.update(line.item for line in lines)
                totals.amount += amount
                if _is_company(act):
                    totals.companies += 1
                    totals.companies_amount += amount
                else:
                    totals.persons += 1
                    totals.persons_amount += amount
            if on_progress is not None and totals.acts % PROGRESS_EVERY == 0:
                on_progress(totals.acts)
        if retail.acts:
            lines, vat = with_vat(retail.lines(period), config)
            amount = sum((line.amount for line in lines), ZERO)
            counterparty = retail_counterparty(org, config)
            sale = Sale(uuid=ref(org.inn, "retail", f"{period:%Y-%m}"),
                        number=retail_number(period), day=month_end(period),
                        counterparty=counterparty, contract=retail_contract(org, config),
                        lines=lines, amount=document_total(amount, vat, config),
                        includes_vat=config.prices_include_vat)
            parties.write(counterparty_element(counterparty))
            sales.write(sale_element(sale, org, config))
            totals.documents += 1
            totals.vat += vat
            totals.total += sale.amount
        totals.counterparties = parties.objects
        totals.items = len(items)
        _assemble(target, config, created_at, org, sorted(items), parties_file, sales_file)
    if on_progress is not None:
        on_progress(totals.acts)
    return totals


def _assemble(target, config, created_at, org, items, parties_file, sales_file) -> None:
    if isinstance(target, (str, Path)):
        with open(target, "wb") as out:
            _assemble(out, config, created_at, org, items, parties_file, sales_file)
        return
    message = MessageWriter(target, config, created_at)
    message.open()
    for item in items:
        message.write(item_element(item, org.inn))
    message.copy(parties_file)
    message.copy(sales_file)
    message.close()


def sales_filename(period: date, config: OnecConfig | None = None) -> str:
    config = config or onec_config()
    return f"1c-sales-{month_start(period):%Y-%m}-ED{config.version}.xml"
