"""Writing an EnterpriseData message — the XML exchange format of 1C's applications
(namespace ``http://v8.1c.ru/edi/edi_stnd/EnterpriseData/<version>``) — object by object.

A message is::

    <Message xmlns:msg="http://www.1c.ru/SSL/Exchange/Message" xmlns:xs=… xmlns:xsi=…>
      <msg:Header>
        <msg:Format>http://v8.1c.ru/edi/edi_stnd/EnterpriseData/1.8</msg:Format>
        <msg:CreationDate>2026-12-01T07:00:00</msg:CreationDate>
        <msg:AvailableVersion>1.8</msg:AvailableVersion>
      </msg:Header>
      <Body xmlns="http://v8.1c.ru/edi/edi_stnd/EnterpriseData/1.8">
        <Справочник.Номенклатура>…</Справочник.Номенклатура>
        <Справочник.Контрагенты>…</Справочник.Контрагенты>
        <Документ.РеализацияТоваровУслуг>…</Документ.РеализацияТоваровУслуг>
      </Body>
    </Message>

The wrapper is written by hand; every object is an ``xml.etree.ElementTree`` element
serialised on its own and written straight to the file, so a message of 100,000 documents
never exists as one tree or one string. Objects carry no namespace of their own: they
inherit the Body's default one.

References between objects are by «КлючевыеСвойства» (key properties): ``Ссылка`` — a UUID —
plus the fields 1C searches by when it does not know the UUID yet (ИНН and КПП of a
counterparty, Наименование of an item). Our UUIDs are ``uuid5`` of our own ids, so the same
object exported again has the same ``Ссылка`` and 1C updates it instead of adding a copy.

The elements and their order follow 1C's published examples of the format (versions 1.6 and
1.8): the part of «Документ.РеализацияТоваровУслуг» used for services —
КлючевыеСвойства, ВидОперации, Валюта, Сумма, СуммаВключаетНДС, Контрагент,
ДанныеВзаиморасчетов, Налогообложение, Услуги.
"""

import re
import uuid
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from xml.sax.saxutils import escape

from .config import OnecConfig
from .lines import ServiceLine, short_name

MESSAGE_NS = "http://www.1c.ru/SSL/Exchange/Message"
XS_NS = "http://www.w3.org/2001/XMLSchema"
XSI_NS = "http://www.w3.org/2001/XMLSchema-instance"

SALE = "Документ.РеализацияТоваровУслуг"
COUNTERPARTY = "Справочник.Контрагенты"
ITEM = "Справочник.Номенклатура"

LEGAL = "ЮридическоеЛицо"
NATURAL = "ФизическоеЛицо"

RUB_CODE, RUB_NAME = "643", "руб."
# Our namespace for uuid5: fixed forever, so references never change between releases.
REF_NAMESPACE = uuid.UUID("8f3c2a9e-4b1d-5c6e-9a7f-1c2b3d4e5f60")
# Characters XML 1.0 cannot hold (a pasted control character in a client's name).
_NOT_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def ref(*parts) -> str:
    """A stable UUID for one of our objects: ``ref(org_inn, "act", 17)``."""
    return str(uuid.uuid5(REF_NAMESPACE, ":".join(str(part) for part in parts)))


@dataclass(frozen=True)
class Party:
    """An organisation or a counterparty as a reference (key properties)."""
    name: str
    inn: str = ""
    kpp: str = ""
    legal: bool = True
    full_name: str = ""
    uuid: str = ""

    @property
    def kind(self) -> str:
        return LEGAL if self.legal else NATURAL


@dataclass(frozen=True)
class Contract:
    uuid: str
    name: str
    number: str = ""
    signed_on: date | None = None


@dataclass
class Sale:
    """One «Реализация товаров и услуг» of services."""
    uuid: str
    number: str
    day: date
    counterparty: Party
    contract: Contract
    lines: list[ServiceLine] = field(default_factory=list)
    amount: Decimal = Decimal("0.00")  # the document's «Сумма»
    includes_vat: bool = True


def money(value: Decimal) -> str:
    return f"{Decimal(value):.2f}"


def quantity(value: Decimal) -> str:
    text = f"{Decimal(value).normalize():f}"
    return text if text not in ("", "-0") else "0"


def moment(day: date | datetime) -> str:
    if isinstance(day, datetime):
        return day.replace(microsecond=0, tzinfo=None).isoformat()
    return f"{day.isoformat()}T00:00:00"


def xml_text(value) -> str:
    return _NOT_XML.sub("", str(value))


def _text(parent: ET.Element, tag: str, value) -> ET.Element:
    child = ET.SubElement(parent, tag)
    child.text = xml_text(value)
    return child


def _optional(parent: ET.Element, tag: str, value) -> None:
    if value not in (None, ""):
        _text(parent, tag, value)


def _party_keys(parent: ET.Element, tag: str, party: Party, *, short: bool = False) -> None:
    """Key properties of an organisation (``short``: with «НаименованиеСокращенное») or a
    counterparty. A person has no KPP; a sole trader has a 12-digit INN and no KPP."""
    node = ET.SubElement(parent, tag)
    _optional(node, "Ссылка", party.uuid)
    _text(node, "Наименование", party.name)
    if short:
        _text(node, "НаименованиеСокращенное", party.name)
    _text(node, "НаименованиеПолное", party.full_name or party.name)
    _optional(node, "ИНН", party.inn)
    _optional(node, "КПП", party.kpp)
    _text(node, "ЮридическоеФизическоеЛицо", party.kind)


def _currency(parent: ET.Element, tag: str) -> None:
    node = ET.SubElement(parent, tag)
    _text(node, "Код", RUB_CODE)
    _text(node, "Наименование", RUB_NAME)


def _item_keys(parent: ET.Element, tag: str, item: str, org_inn: str) -> None:
    node = ET.SubElement(parent, tag)
    _text(node, "Ссылка", ref(org_inn, "item", item))
    _text(node, "Наименование", short_name(item))
    _text(node, "НаименованиеПолное", item)


def item_element(item: str, org_inn: str) -> ET.Element:
    """«Справочник.Номенклатура»: a service we sell."""
    element = ET.Element(ITEM)
    _item_keys(element, "КлючевыеСвойства", item, org_inn)
    _text(element, "ТипНоменклатуры", "Услуга")
    return element


def counterparty_element(party: Party) -> ET.Element:
    """«Справочник.Контрагенты»: the buyer, found in 1C by Ссылка, else by ИНН and КПП."""
    element = ET.Element(COUNTERPARTY)
    _party_keys(element, "КлючевыеСвойства", party)
    return element


def sale_element(sale: Sale, organization: Party, config: OnecConfig) -> ET.Element:
    """«Документ.РеализацияТоваровУслуг» of services (table «Услуги»)."""
    element = ET.Element(SALE)
    keys = ET.SubElement(element, "КлючевыеСвойства")
    _text(keys, "Ссылка", sale.uuid)
    _text(keys, "Дата", moment(sale.day))
    _text(keys, "Номер", sale.number)
    _party_keys(keys, "Организация", organization, short=True)
    _text(element, "ВидОперации", "РеализацияКлиенту")
    _currency(element, "Валюта")
    _text(element, "Сумма", money(sale.amount))
    _text(element, "СуммаВключаетНДС", "true" if sale.includes_vat else "false")
    _party_keys(element, "Контрагент", sale.counterparty)

    settlement = ET.SubElement(element, "ДанныеВзаиморасчетов")
    contract = ET.SubElement(settlement, "Договор")
    _text(contract, "Ссылка", sale.contract.uuid)
    _text(contract, "ВидДоговора", "СПокупателем")
    _party_keys(contract, "Организация", organization, short=True)
    _party_keys(contract, "Контрагент", sale.counterparty)
    _currency(contract, "ВалютаВзаиморасчетов")
    _text(contract, "РасчетыВУсловныхЕдиницах", "false")
    _text(contract, "Наименование", sale.contract.name)
    if sale.contract.signed_on is not None:
        _text(contract, "Дата", sale.contract.signed_on.isoformat())
    _optional(contract, "Номер", sale.contract.number)
    _currency(settlement, "ВалютаВзаиморасчетов")
    _text(settlement, "КурсВзаиморасчетов", "1")
    _text(settlement, "КратностьВзаиморасчетов", "1")
    _text(settlement, "РасчетыВУсловныхЕдиницах", "false")

    _text(element, "Налогообложение", config.taxation)
    services = ET.SubElement(element, "Услуги")
    for line in sale.lines:
        row = ET.SubElement(services, "Строка")
        _item_keys(row, "Номенклатура", line.item, organization.inn)
        _text(row, "Количество", quantity(line.quantity))
        _text(row, "Сумма", money(line.amount))
        _text(row, "Цена", money(line.price))
        _text(row, "СтавкаНДС", config.vat_enum)
        _text(row, "СуммаНДС", money(line.vat))
        _text(row, "Содержание", line.content)
    return element


def serialize(element: ET.Element, level: int = 0) -> str:
    """An object element as indented XML text. Our objects are plain — no attributes, no
    namespaces, text only in leaves — so this is all ``ET.tostring`` + ``ET.indent`` would
    do for them, at a third of the cost (it counts at 100,000 documents)."""
    parts: list[str] = []

    def walk(node: ET.Element, depth: int) -> None:
        pad = "  " * depth
        if len(node):
            parts.append(f"{pad}<{node.tag}>\n")
            for child in node:
                walk(child, depth + 1)
            parts.append(f"{pad}</{node.tag}>\n")
        else:
            parts.append(f"{pad}<{node.tag}>{escape(node.text or '')}</{node.tag}>\n")

    walk(element, level)
    return "".join(parts)


class MessageWriter:
    """Writes one message to a binary file: ``open()``, ``write(element)`` per object,
    ``close()``. UTF-8, indented for people who open it."""

    def __init__(self, out, config: OnecConfig, created_at: datetime):
        self.out = out
        self.config = config
        self.created_at = created_at
        self.objects = 0

    def _raw(self, text: str) -> None:
        self.out.write(text.encode("utf-8"))

    def open(self) -> None:
        ns = self.config.namespace
        self._raw(
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            f'<Message xmlns:msg="{MESSAGE_NS}" xmlns:xs="{XS_NS}" xmlns:xsi="{XSI_NS}">\n'
            "  <msg:Header>\n"
            f"    <msg:Format>{escape(ns)}</msg:Format>\n"
            f"    <msg:CreationDate>{moment(self.created_at)}</msg:CreationDate>\n"
            f"    <msg:AvailableVersion>{escape(self.config.version)}</msg:AvailableVersion>\n"
            "  </msg:Header>\n"
            f'  <Body xmlns="{escape(ns)}">\n')

    def write(self, element: ET.Element) -> None:
        self._raw(serialize(element, level=2))
        self.objects += 1

    def copy(self, source) -> None:
        """Append objects already serialised by another writer (a temporary file)."""
        source.seek(0)
        while chunk := source.read(1 << 20):
            self.out.write(chunk)

    def close(self) -> None:
        self._raw("  </Body>\n</Message>\n")
