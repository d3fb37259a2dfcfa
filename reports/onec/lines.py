"""An act's lines as 1C sells them: services (Номенклатура) with amounts, credits folded in,
VAT split to the kopeck.

- **Nomenclature.** A line's text names the month ("… за ноябрь 2026"); the item of 1C's
  «Номенклатура» it is sold as must not, or every month would create new items. The item is
  the text without the month: «Услуги доступа к сети Интернет по тарифу «Бизнес 200»»,
  «Статический IP-адрес», «Подключение к сети Интернет», «Часы обслуживания сверх
  включённых в тариф». A recalculation line (its text carries dates) is sold as one item,
  «Услуги связи (перерасчёт)»; the full text of every line goes to «Содержание», which is
  what the printed act in 1C shows.
- **Credits.** An act may hold a negative line — a recalculation in the client's favour —
  that reduces a positive one. 1C's sale lines are not negative (a negative line breaks the
  VAT book and the e-document of the act), so a credit is folded into the act's largest
  positive lines: they are reduced, never below zero, and the act's sum stays the same.
- **VAT.** With a rate, the act's VAT is rounded once (half up, to the kopeck) and split over
  its lines by cumulative rounding — line i gets round(K·(a₁+…+aᵢ)) − round(K·(a₁+…+aᵢ₋₁))
  — so the lines' VAT adds up to the act's VAT exactly and each line is within a kopeck of
  its own rounded VAT. K is r/(100+r) when the amounts include VAT, r/100 when VAT is added
  on top.
"""

import re
from dataclasses import dataclass, replace
from decimal import Decimal
from functools import lru_cache

from billing.money import ZERO, to_money

from .config import OnecConfig

# The units billing writes on document lines (billing.services.documents).
MONTHLY_UNIT = "мес."
SERVICE_UNIT = "усл."
HOURS_UNIT = "ч"
CONNECTION_TEXT = "Подключение к сети Интернет"
RECALCULATION_ITEM = "Услуги связи (перерасчёт)"
OTHER_ITEM = "Услуги связи"
FOLDED_NOTE = " (с учётом перерасчёта)"
# 1C's «Номенклатура.Наименование» is 100 characters; the full name keeps the rest.
NAME_MAX = 100

_MONTH_SUFFIX = re.compile(r"\s+за\s+[А-Яа-яЁё]+\s+\d{4}\s*$")
ONE = Decimal("1")


@dataclass(frozen=True)
class ServiceLine:
    item: str  # the nomenclature item's full name
    content: str  # what the act says («Содержание»)
    quantity: Decimal
    price: Decimal
    amount: Decimal
    vat: Decimal = ZERO


@lru_cache(maxsize=4096)  # a month has a few dozen distinct texts over 100,000 acts
def item_name(text: str, unit: str) -> str:
    """The nomenclature item of a document line (see the module's docstring)."""
    text = " ".join(str(text).split())
    if unit == SERVICE_UNIT:
        return CONNECTION_TEXT if text == CONNECTION_TEXT else RECALCULATION_ITEM
    return _MONTH_SUFFIX.sub("", text).strip() or OTHER_ITEM


def parse_lines(lines: list[dict]) -> list[ServiceLine]:
    """Document lines (money stored as strings) as ServiceLines, in the act's order."""
    out = []
    for line in lines:
        amount = to_money(Decimal(str(line.get("amount", "0"))))
        quantity = Decimal(str(line.get("quantity") or "1"))
        price = to_money(Decimal(str(line.get("price") or amount)))
        name = str(line.get("name", ""))
        out.append(ServiceLine(item_name(name, str(line.get("unit", ""))), name, quantity,
                               price, amount))
    return out


def fold_credits(lines: list[ServiceLine]) -> list[ServiceLine]:
    """Negative lines folded into the largest positive ones (ties: the earlier line first).
    The result has only positive lines, in the act's order, and the same sum unless the act
    sums to zero or less (then it is empty)."""
    credit = -sum((line.amount for line in lines if line.amount < ZERO), ZERO)
    positive = [line for line in lines if line.amount > ZERO]
    if credit == ZERO:
        return positive
    reduced = {}
    order = sorted(range(len(positive)), key=lambda i: (-positive[i].amount, i))
    for index in order:
        if credit == ZERO:
            break
        line = positive[index]
        take = min(line.amount, credit)
        credit -= take
        reduced[index] = line.amount - take
    out = []
    for index, line in enumerate(positive):
        if index not in reduced:
            out.append(line)
        elif reduced[index] > ZERO:
            amount = reduced[index]
            out.append(replace(line, quantity=ONE, price=amount, amount=amount,
                               content=line.content + FOLDED_NOTE))
    return out


def vat_factor(config: OnecConfig) -> Decimal:
    if not config.with_vat:
        return ZERO
    rate = Decimal(config.vat_rate)
    return rate / (100 + rate) if config.prices_include_vat else rate / 100


def with_vat(lines: list[ServiceLine], config: OnecConfig) -> tuple[list[ServiceLine], Decimal]:
    """The lines with their VAT (cumulative rounding), and the document's VAT."""
    factor = vat_factor(config)
    if factor == ZERO:
        return list(lines), ZERO
    out, running, before = [], ZERO, ZERO
    for line in lines:
        running += line.amount
        upto = to_money(running * factor)
        out.append(ServiceLine(line.item, line.content, line.quantity, line.price, line.amount,
                               upto - before))
        before = upto
    return out, before


def act_lines(lines: list[dict]) -> tuple[list[ServiceLine], Decimal]:
    """An act's lines as services, credits folded in, and their sum (before VAT)."""
    folded = fold_credits(parse_lines(lines))
    return folded, sum((line.amount for line in folded), ZERO)


def sale_lines(lines: list[dict], config: OnecConfig) -> tuple[list[ServiceLine], Decimal,
                                                               Decimal]:
    """An act's lines ready for 1C: (lines, sum of the lines, VAT)."""
    folded, amount = act_lines(lines)
    priced, vat = with_vat(folded, config)
    return priced, amount, vat


def document_total(amount: Decimal, vat: Decimal, config: OnecConfig) -> Decimal:
    """What the client owes by the document: the amount, plus VAT when it is on top."""
    return amount if config.prices_include_vat else amount + vat


def short_name(item: str) -> str:
    return item if len(item) <= NAME_MAX else item[:NAME_MAX - 1].rstrip() + "…"
