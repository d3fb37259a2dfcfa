"""The 1C exchange (D12): the month's acts as an EnterpriseData message for 1C:Бухгалтерия.

The proof the issue asks for: on a hand-built month the message's sums equal the acts'
totals, which equal minus the ledger's charges of the month (ledger → acts → XML)."""

import io
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.db import transaction
from django.db.models import Sum

from billing.models import AccountService, BillingSettings, Document, LedgerEntry, Service
from billing.services.accounts import service_add, service_remove, tariff_change
from billing.services.charges import charge_run
from billing.services.documents import monthly_documents_issue
from billing.services.ledger import post
from billing.services.payments import payment_accept, payment_cancel
from reports.onec.config import OnecConfig
from reports.onec.enterprise_data import MESSAGE_NS, ref
from reports.onec.lines import (
    RECALCULATION_ITEM,
    ServiceLine,
    fold_credits,
    item_name,
    parse_lines,
    sale_lines,
    with_vat,
)
from reports.onec.sales import OnecExportError, sales_filename, write_sales_xml
from reports.selectors import accounting
from tests.factories import ClientCardFactory, TariffFactory, UserFactory, make_account

NOVEMBER = date(2026, 11, 1)
MSK = ZoneInfo("Europe/Moscow")
D = Decimal

ROMASHKA_INN, ROMASHKA_KPP = "7707083893", "770701001"
TRADER_INN = "500100732259"  # a sole trader: 12 digits, no KPP

HOME_ITEM = "Услуги доступа к сети Интернет по тарифу «Домашний»"
BUSINESS_ITEM = "Услуги доступа к сети Интернет по тарифу «Бизнес 200»"
OFFICE_ITEM = "Услуги доступа к сети Интернет по тарифу «Офис 50»"


@dataclass
class Month:
    romashka: object  # company: tariff 1500 + static IP 150
    trader: object  # sole trader: tariff 900, changed to 1200 from the 21st
    antivirus: object  # person: tariff 600 + antivirus added on the 16th
    credit: object  # person: tariff 600 + static IP 150 stopped on the 21st
    plain: object  # person: tariff 600
    cashier: object


def build_month() -> Month:
    """November 2026, by the billing's own services. Worked out by hand (30 days):

    ООО «Ромашка» (company)   monthly 1500.00 + static IP 150.00           = 1650.00
    ИП Петров (sole trader)   monthly 900.00; from the 21st «Офис 100» 1200:
                              old part 900·30/30 − 900·20/30 = 300.00,
                              new part 1200 − 800 = 400.00 → +100.00 charged = 1000.00
    Антонов (person)          monthly 600.00 + antivirus 99.00 from the 16th:
                              99 − round(99·15/30) = 99 − 49.50 = 49.50  = 649.50
    Кредитов (person)         monthly 600.00 + static IP 150.00, IP stopped on the 21st:
                              150 − 150·20/30 = 50.00 back (a credit)    = 700.00
    Простов (person)          monthly 600.00                             = 600.00
                                                                  total  = 4599.50
    Not services of November: Ромашка's October fee (700.00), Кредитов's outage
    compensation (+20.00, a correction, not a charge), payments."""
    home = TariffFactory(name="Домашний", monthly_fee=D("600.00"))
    business = TariffFactory(name="Бизнес 200", monthly_fee=D("1500.00"))
    office = TariffFactory(name="Офис 50", monthly_fee=D("900.00"))
    office_plus = TariffFactory(name="Офис 100", monthly_fee=D("1200.00"))
    ip = Service.objects.create(code="ip", name="Статический IP-адрес",
                                monthly_fee=D("150.00"))
    antivirus = Service.objects.create(code="av", name="Антивирус", monthly_fee=D("99.00"))
    cashier = UserFactory(username="cashier")

    romashka = make_account(tariff=business, client=ClientCardFactory(
        kind="company", name="ООО «Ромашка»", inn=ROMASHKA_INN, kpp=ROMASHKA_KPP,
        stage="active"))
    trader = make_account(tariff=office, client=ClientCardFactory(
        kind="company", name="ИП Петров Пётр Петрович", inn=TRADER_INN, stage="active"))
    person_av = make_account(tariff=home, client=ClientCardFactory(name="Антонов А. А.",
                                                                    stage="active"))
    person_credit = make_account(tariff=home, client=ClientCardFactory(name="Кредитов К. К.",
                                                                        stage="active"))
    person_plain = make_account(tariff=home, client=ClientCardFactory(name="Простов П. П.",
                                                                       stage="active"))
    AccountService.objects.create(account=romashka, service=ip, start=date(2026, 1, 1))
    ip_item = AccountService.objects.create(account=person_credit, service=ip,
                                            start=date(2026, 1, 1))

    with transaction.atomic():  # another month: not in November's figures
        post(account=romashka, kind="charge", amount=D("-700"), period=date(2026, 10, 1),
             charge_kind="monthly_fee", description="October", idem_key="fee:2026-10")
    run = charge_run(day=NOVEMBER)
    assert (run.fees, run.services) == (5, 2)
    tariff_change(account=trader, tariff=office_plus, actor=cashier, today=date(2026, 11, 20))
    service_add(account=person_av, service=antivirus, actor=cashier, today=date(2026, 11, 16))
    service_remove(account=person_credit, item=ip_item, actor=cashier,
                   today=date(2026, 11, 21))
    with transaction.atomic():  # an outage compensation: a correction, not a charge
        post(account=person_credit, kind="correction", amount=D("20.00"),
             description="Compensation for the outage", idem_key="outage:1")
    return Month(romashka, trader, person_av, person_credit, person_plain, cashier)


def pay_the_month(month: Month) -> None:
    """Payments around November (Moscow time). In November and completed:
    bank 2000.00 + cash 700.00 + card 600.00 = 3300.00."""
    payment_accept(account=month.romashka, amount="2000.00", channel="bank",
                   external_id="pp-17", paid_at=datetime(2026, 11, 5, 12, 0, tzinfo=MSK),
                   payer="ООО «Ромашка»")
    payment_accept(account=month.antivirus, amount="700.00", channel="cash",
                   external_id="cash-1", paid_at=datetime(2026, 11, 10, 10, 0, tzinfo=MSK),
                   actor=month.cashier)
    payment_accept(account=month.plain, amount="600.00", channel="card", external_id="card-1",
                   paid_at=datetime(2026, 11, 30, 23, 30, tzinfo=MSK))
    # Not November: the day before and the day after (Moscow), and a cancelled one.
    payment_accept(account=month.credit, amount="500.00", channel="terminal",
                   external_id="t-1", paid_at=datetime(2026, 10, 31, 23, 59, tzinfo=MSK))
    payment_accept(account=month.plain, amount="100.00", channel="cash", external_id="cash-2",
                   paid_at=datetime(2026, 12, 1, 0, 10, tzinfo=MSK), actor=month.cashier)
    mistaken, _created = payment_accept(
        account=month.trader, amount="999.00", channel="cash", external_id="cash-3",
        paid_at=datetime(2026, 11, 15, 12, 0, tzinfo=MSK), actor=month.cashier)
    payment_cancel(payment=mistaken, reason="wrong account", actor=month.cashier)


@pytest.fixture
def month(db):
    built = build_month()
    assert monthly_documents_issue(period=NOVEMBER) == 10  # an invoice and an act each
    return built


def export(period=NOVEMBER, **config) -> tuple[ET.Element, object, bytes]:
    out = io.BytesIO()
    totals = write_sales_xml(period, out, config=OnecConfig(**config))
    data = out.getvalue()
    return ET.fromstring(data), totals, data


def ns(config=None) -> dict:
    return {"ed": (config or OnecConfig()).namespace, "msg": MESSAGE_NS}


def documents(root, config=None):
    return root.findall("ed:Body/ed:Документ.РеализацияТоваровУслуг", ns(config))


def by_number(root, config=None) -> dict:
    return {doc.findtext("ed:КлючевыеСвойства/ed:Номер", namespaces=ns(config)): doc
            for doc in documents(root, config)}


def lines_of(doc, config=None) -> list[dict]:
    out = []
    for row in doc.findall("ed:Услуги/ed:Строка", ns(config)):
        out.append({
            "item": row.findtext("ed:Номенклатура/ed:НаименованиеПолное", namespaces=ns(config)),
            "quantity": D(row.findtext("ed:Количество", namespaces=ns(config))),
            "price": D(row.findtext("ed:Цена", namespaces=ns(config))),
            "amount": D(row.findtext("ed:Сумма", namespaces=ns(config))),
            "rate": row.findtext("ed:СтавкаНДС", namespaces=ns(config)),
            "vat": D(row.findtext("ed:СуммаНДС", namespaces=ns(config))),
            "content": row.findtext("ed:Содержание", namespaces=ns(config)),
        })
    return out


def act_number(account) -> str:
    return Document.objects.get(account=account, kind="act", period=NOVEMBER).number


# --- The proof: ledger → acts → XML -------------------------------------------------------

@pytest.mark.django_db
def test_the_message_sums_equal_the_acts_which_equal_the_ledger(month):
    # Link 1: the ledger's November charges, minus, are the services rendered: 4599.50.
    charges = LedgerEntry.objects.filter(kind="charge", period=NOVEMBER)
    assert -charges.aggregate(s=Sum("amount"))["s"] == D("4599.50")
    assert accounting.ledger_charges(NOVEMBER) == D("4599.50")

    # Link 2: the acts are made from them — one per account, totals by hand.
    acts = {doc.account_id: doc.total for doc in Document.objects.filter(kind="act")}
    assert acts == {month.romashka.pk: D("1650.00"), month.trader.pk: D("1000.00"),
                    month.antivirus.pk: D("649.50"), month.credit.pk: D("700.00"),
                    month.plain.pk: D("600.00")}
    assert sum(acts.values()) == D("4599.50")
    assert accounting.reconciliation(NOVEMBER) == {
        "ledger": D("4599.50"), "acts": D("4599.50"), "without_act": D("0.00"),
        "after_act": D("0.00"), "unexplained": D("0.00")}

    # Link 3: the message. Two company documents and the individuals' summary.
    root, totals, _data = export()
    docs = documents(root)
    sums = [D(doc.findtext("ed:Сумма", namespaces=ns())) for doc in docs]
    assert sorted(sums) == [D("1000.00"), D("1650.00"), D("1949.50")]  # 649.50+700+600
    assert sum(sums) == D("4599.50") == -charges.aggregate(s=Sum("amount"))["s"]
    # Each document's lines add up to its «Сумма».
    for doc, total in zip(docs, sums, strict=True):
        assert sum(line["amount"] for line in lines_of(doc)) == total
    assert (totals.acts, totals.documents, totals.amount, totals.total) == (
        5, 3, D("4599.50"), D("4599.50"))
    assert (totals.companies, totals.companies_amount) == (2, D("2650.00"))
    assert (totals.persons, totals.persons_amount) == (3, D("1949.50"))
    assert totals.vat == D("0.00") and totals.skipped == []
    assert (totals.counterparties, totals.items) == (3, 6)


@pytest.mark.django_db
def test_message_structure_header_and_namespaces(month):
    root, _totals, data = export()
    assert data.startswith(b'<?xml version="1.0" encoding="UTF-8"?>')
    assert root.tag == "Message"
    header = root.find("msg:Header", ns())
    assert header.findtext("msg:Format", namespaces=ns()) == (
        "http://v8.1c.ru/edi/edi_stnd/EnterpriseData/1.8")
    assert header.findtext("msg:AvailableVersion", namespaces=ns()) == "1.8"
    datetime.fromisoformat(header.findtext("msg:CreationDate", namespaces=ns()))
    body = root.find("ed:Body", ns())
    # Services first, then counterparties, then documents: what a document refers to is
    # already known when 1C reads it.
    tags = [child.tag.split("}")[1] for child in body]
    assert tags == (["Справочник.Номенклатура"] * 6 + ["Справочник.Контрагенты"] * 3
                    + ["Документ.РеализацияТоваровУслуг"] * 3)
    items = {el.findtext("ed:КлючевыеСвойства/ed:НаименованиеПолное", namespaces=ns())
             for el in body.findall("ed:Справочник.Номенклатура", ns())}
    assert items == {BUSINESS_ITEM, OFFICE_ITEM, HOME_ITEM, "Статический IP-адрес",
                     "Антивирус", RECALCULATION_ITEM}
    for item in body.findall("ed:Справочник.Номенклатура", ns()):
        assert item.findtext("ed:ТипНоменклатуры", namespaces=ns()) == "Услуга"


@pytest.mark.django_db
def test_company_document_has_the_counterparty_with_inn_kpp_and_our_requisites(month):
    requisites = BillingSettings.current()
    root, _totals, _data = export()
    doc = by_number(root)[act_number(month.romashka)]
    q = ns()
    keys = doc.find("ed:КлючевыеСвойства", q)
    assert keys.findtext("ed:Дата", namespaces=q) == "2026-11-30T00:00:00"
    assert keys.findtext("ed:Ссылка", namespaces=q) == ref(
        requisites.company_inn, "act", Document.objects.get(account=month.romashka,
                                                            kind="act").pk)
    org = keys.find("ed:Организация", q)
    assert org.findtext("ed:ИНН", namespaces=q) == requisites.company_inn
    assert org.findtext("ed:КПП", namespaces=q) == requisites.company_kpp
    assert org.findtext("ed:Наименование", namespaces=q) == requisites.company_name
    assert doc.findtext("ed:ВидОперации", namespaces=q) == "РеализацияКлиенту"
    assert doc.findtext("ed:Валюта/ed:Код", namespaces=q) == "643"
    assert doc.findtext("ed:СуммаВключаетНДС", namespaces=q) == "true"
    assert doc.findtext("ed:Налогообложение", namespaces=q) == "ПродажаНеОблагаетсяНДС"
    buyer = doc.find("ed:Контрагент", q)
    assert buyer.findtext("ed:Наименование", namespaces=q) == "ООО «Ромашка»"
    assert buyer.findtext("ed:ИНН", namespaces=q) == ROMASHKA_INN
    assert buyer.findtext("ed:КПП", namespaces=q) == ROMASHKA_KPP
    assert buyer.findtext("ed:ЮридическоеФизическоеЛицо", namespaces=q) == "ЮридическоеЛицо"
    contract = doc.find("ed:ДанныеВзаиморасчетов/ed:Договор", q)
    assert contract.findtext("ed:ВидДоговора", namespaces=q) == "СПокупателем"
    assert contract.findtext("ed:Номер", namespaces=q) == month.romashka.number
    assert contract.findtext("ed:Контрагент/ed:ИНН", namespaces=q) == ROMASHKA_INN
    assert lines_of(doc) == [
        {"item": BUSINESS_ITEM, "quantity": D("1"), "price": D("1500.00"),
         "amount": D("1500.00"), "rate": "БезНДС", "vat": D("0.00"),
         "content": f"{BUSINESS_ITEM} за ноябрь 2026"},
        {"item": "Статический IP-адрес", "quantity": D("1"), "price": D("150.00"),
         "amount": D("150.00"), "rate": "БезНДС", "vat": D("0.00"),
         "content": "Статический IP-адрес за ноябрь 2026"},
    ]
    # The same counterparty is also a catalogue object of its own.
    parties = {el.findtext("ed:КлючевыеСвойства/ed:ИНН", namespaces=q): el
               for el in root.findall("ed:Body/ed:Справочник.Контрагенты", q)}
    assert parties[ROMASHKA_INN].findtext("ed:КлючевыеСвойства/ed:КПП", namespaces=q) == (
        ROMASHKA_KPP)


@pytest.mark.django_db
def test_sole_trader_is_a_natural_person_without_kpp_and_the_recalculation_is_a_line(month):
    root, _totals, _data = export()
    q = ns()
    doc = by_number(root)[act_number(month.trader)]
    buyer = doc.find("ed:Контрагент", q)
    assert buyer.findtext("ed:ИНН", namespaces=q) == TRADER_INN
    assert buyer.find("ed:КПП", q) is None
    assert buyer.findtext("ed:ЮридическоеФизическоеЛицо", namespaces=q) == "ФизическоеЛицо"
    lines = lines_of(doc)
    assert [(line["item"], line["amount"]) for line in lines] == [
        (OFFICE_ITEM, D("900.00")), (RECALCULATION_ITEM, D("100.00"))]
    assert "21.11.2026" in lines[1]["content"]  # the act's own words stay in «Содержание»


@pytest.mark.django_db
def test_individuals_are_one_monthly_summary_per_service(month):
    root, _totals, _data = export()
    q = ns()
    doc = by_number(root)["РОЗН-2026-11"]
    assert doc.findtext("ed:КлючевыеСвойства/ed:Дата", namespaces=q) == "2026-11-30T00:00:00"
    buyer = doc.find("ed:Контрагент", q)
    assert buyer.findtext("ed:Наименование", namespaces=q) == "Физические лица (розница)"
    assert buyer.find("ed:ИНН", q) is None
    assert buyer.findtext("ed:ЮридическоеФизическоеЛицо", namespaces=q) == "ФизическоеЛицо"
    # Кредитов's 50.00 credit is folded into his largest line: 600 → 550.
    # Home internet 600 + 550 + 600 = 1750; static IP 150 (Кредитов); antivirus 49.50.
    assert [(line["item"], line["quantity"], line["price"], line["amount"])
            for line in lines_of(doc)] == [
        ("Антивирус", D("1"), D("49.50"), D("49.50")),
        ("Статический IP-адрес", D("1"), D("150.00"), D("150.00")),
        (HOME_ITEM, D("1"), D("1750.00"), D("1750.00")),
    ]
    assert D(doc.findtext("ed:Сумма", namespaces=q)) == D("1949.50")


@pytest.mark.django_db
def test_each_person_mode_writes_a_document_per_person(month):
    config = {"persons": "each"}
    root, totals, _data = export(**config)
    q = ns()
    docs = by_number(root)
    assert set(docs) == {act_number(a) for a in (month.romashka, month.trader, month.antivirus,
                                                 month.credit, month.plain)}
    credit = docs[act_number(month.credit)]
    assert lines_of(credit)[0]["amount"] == D("550.00")
    assert lines_of(credit)[0]["content"].endswith("(с учётом перерасчёта)")
    assert credit.findtext("ed:Контрагент/ed:Наименование", namespaces=q) == "Кредитов К. К."
    assert (totals.documents, totals.amount, totals.total) == (5, D("4599.50"), D("4599.50"))


# --- VAT ------------------------------------------------------------------------------------

@pytest.mark.django_db
def test_vat_included_is_split_per_line_and_adds_up(month):
    config = OnecConfig(vat_rate="20")
    root, totals, _data = export(vat_rate="20")
    q = ns(config)
    docs = by_number(root, config)
    romashka = docs[act_number(month.romashka)]
    assert romashka.findtext("ed:Налогообложение", namespaces=q) == "ПродажаОблагаетсяНДС"
    # 1650 · 20/120 = 275.00: 1500/6 = 250.00, then 275.00 − 250.00 = 25.00.
    assert [(line["rate"], line["vat"]) for line in lines_of(romashka, config)] == [
        ("НДС20", D("250.00")), ("НДС20", D("25.00"))]
    # 1000/6 = 166.67: 900/6 = 150.00, then 16.67.
    assert [line["vat"] for line in lines_of(docs[act_number(month.trader)], config)] == [
        D("150.00"), D("16.67")]
    # Summary 49.50, 150, 1750: cumulative 49.50/6 = 8.25; 199.50/6 = 33.25 → 25.00;
    # 1949.50/6 = 324.9166… → 324.92 → 291.67.
    assert [line["vat"] for line in lines_of(docs["РОЗН-2026-11"], config)] == [
        D("8.25"), D("25.00"), D("291.67")]
    assert totals.vat == D("766.59")  # 275.00 + 166.67 + 324.92
    # Included: the documents' sums are still the acts' sums.
    assert totals.total == totals.amount == D("4599.50")
    all_vat = sum(line["vat"] for doc in documents(root, config)
                  for line in lines_of(doc, config))
    assert all_vat == totals.vat


@pytest.mark.django_db
def test_vat_on_top_adds_to_the_documents(month):
    config = OnecConfig(vat_rate="20", prices_include_vat=False)
    root, totals, _data = export(vat_rate="20", prices_include_vat=False)
    q = ns(config)
    romashka = by_number(root, config)[act_number(month.romashka)]
    assert romashka.findtext("ed:СуммаВключаетНДС", namespaces=q) == "false"
    # 1500·0.2 = 300.00; 1650·0.2 = 330.00 → 30.00; the document is 1650 + 330 = 1980.00.
    assert [line["vat"] for line in lines_of(romashka, config)] == [D("300.00"), D("30.00")]
    assert D(romashka.findtext("ed:Сумма", namespaces=q)) == D("1980.00")
    # The lines (net) still equal the acts; the documents add the VAT.
    assert totals.amount == D("4599.50")
    assert totals.total == totals.amount + totals.vat


# --- Re-export, version, edge cases ---------------------------------------------------------

@pytest.mark.django_db
def test_re_export_gives_the_same_references(month):
    first, _t1, data1 = export()
    second, _t2, data2 = export()

    def refs(root):
        return [el.text for el in root.iter(f"{{{OnecConfig().namespace}}}Ссылка")]

    assert refs(first) == refs(second) and len(set(refs(first))) > 10
    # Everything but the creation time is byte-for-byte the same.
    strip = [line for line in data1.splitlines() if b"CreationDate" not in line]
    assert strip == [line for line in data2.splitlines() if b"CreationDate" not in line]


@pytest.mark.django_db
def test_the_format_version_is_configurable(month):
    config = OnecConfig(version="1.11")
    root, _totals, _data = export(version="1.11")
    assert root.find("msg:Header", ns(config)).findtext("msg:Format", namespaces=ns(config)) \
        == "http://v8.1c.ru/edi/edi_stnd/EnterpriseData/1.11"
    assert len(documents(root, config)) == 3
    assert sales_filename(NOVEMBER, config) == "1c-sales-2026-11-ED1.11.xml"


def test_bad_settings_are_refused():
    from django.core.exceptions import ImproperlyConfigured

    for bad in ({"version": "2"}, {"vat_rate": "19"}, {"persons": "some"},
                {"retail_counterparty": " "}):
        with pytest.raises(ImproperlyConfigured):
            OnecConfig(**bad)


@pytest.mark.django_db
def test_an_empty_month_is_a_valid_empty_message():
    root, totals, _data = export(period=date(2026, 5, 1))
    assert root.find("ed:Body", ns()) is not None and documents(root) == []
    assert (totals.acts, totals.documents, totals.amount) == (0, 0, D("0.00"))


@pytest.mark.django_db
def test_hostile_and_control_characters_in_names_stay_valid_xml():
    client = ClientCardFactory(kind="company", name="ООО <Рога & Копыта>\x01 \"Ъ\"",
                               inn=ROMASHKA_INN, kpp=ROMASHKA_KPP, stage="active")
    account = make_account(client=client)
    with transaction.atomic():
        post(account=account, kind="charge", amount=D("-100"), period=NOVEMBER,
             charge_kind="monthly_fee", description="fee")
    monthly_documents_issue(period=NOVEMBER)
    root, _totals, _data = export()
    name = documents(root)[0].findtext("ed:Контрагент/ed:Наименование", namespaces=ns())
    assert name == "ООО <Рога & Копыта> \"Ъ\""


@pytest.mark.django_db
def test_without_our_inn_there_is_no_export(month):
    requisites = BillingSettings.current()
    BillingSettings.objects.filter(pk=requisites.pk).update(company_inn="")
    with pytest.raises(OnecExportError):
        export()


@pytest.mark.django_db
def test_written_to_a_path(month, tmp_path):
    target = tmp_path / "sales.xml"
    totals = write_sales_xml(NOVEMBER, target, config=OnecConfig())
    assert ET.parse(target).getroot().tag == "Message" and totals.documents == 3


# --- Lines: items, credits, VAT (no database) -----------------------------------------------

def line(amount, item="x", quantity="1", price=None):
    return ServiceLine(item=item, content=item, quantity=D(quantity),
                       price=D(price or amount), amount=D(amount))


@pytest.mark.parametrize(("text", "unit", "item"), [
    ("Услуги доступа к сети Интернет по тарифу «Бизнес 200» за ноябрь 2026", "мес.",
     BUSINESS_ITEM),
    ("Статический IP-адрес за май 2027", "мес.", "Статический IP-адрес"),
    ("Абонентская плата в период приостановки обслуживания за ноябрь 2026", "мес.",
     "Абонентская плата в период приостановки обслуживания"),
    ("Часы обслуживания сверх включённых в тариф за ноябрь 2026", "ч",
     "Часы обслуживания сверх включённых в тариф"),
    ("Подключение к сети Интернет", "усл.", "Подключение к сети Интернет"),
    ("Тариф изменён на «Офис 100» с 21.11.2026: перерасчёт", "усл.", RECALCULATION_ITEM),
])
def test_item_names_drop_the_month(text, unit, item):
    assert item_name(text, unit) == item


def test_credits_fold_into_the_largest_lines_and_keep_the_sum():
    # 600 + 150 + 300, credits 50 + 700 = 750: the largest line (600) goes whole, the 150
    # left come off the next largest (300 → 150); the 150 line is untouched. 300 in all.
    lines = [line("600"), line("150"), line("-50"), line("300"), line("-700")]
    folded = fold_credits(lines)
    assert [x.amount for x in folded] == [D("150"), D("150")]
    assert sum(x.amount for x in folded) == sum(x.amount for x in lines)

    lines = [line("150"), line("600"), line("-50.10")]
    folded = fold_credits(lines)
    assert [(x.amount, x.price, x.quantity) for x in folded] == [
        (D("150"), D("150"), D("1")), (D("549.90"), D("549.90"), D("1"))]
    # A partly reduced hours line becomes one service at its new sum.
    folded = fold_credits([line("3600.00", quantity="3", price="1200.00"), line("-100")])
    assert [(x.quantity, x.price, x.amount) for x in folded] == [
        (D("1"), D("3500.00"), D("3500.00"))]
    assert fold_credits([line("100"), line("-100")]) == []


def test_vat_split_is_remainder_aware():
    config = OnecConfig(vat_rate="20")
    # Three lines of 0.10: each alone is 0.0166… → 0.02 (0.06 in all), but the document's
    # VAT is round(0.30/6) = 0.05: cumulative rounding gives 0.02, 0.01, 0.02.
    lines, vat = with_vat([line("0.10"), line("0.10"), line("0.10")], config)
    assert [x.vat for x in lines] == [D("0.02"), D("0.01"), D("0.02")] and vat == D("0.05")
    lines, vat = with_vat([line("100.00")], OnecConfig(vat_rate="0"))
    assert vat == D("0.00") and lines[0].vat == D("0.00")
    lines, vat = with_vat([line("100.00")], OnecConfig(vat_rate="5", prices_include_vat=False))
    assert vat == D("5.00")


def test_sale_lines_from_stored_document_lines():
    stored = [{"name": "Услуги доступа к сети Интернет по тарифу «Бизнес 200» за ноябрь 2026",
               "quantity": "1", "unit": "мес.", "price": "1500.00", "amount": "1500.00"},
              {"name": "Перерасчёт", "quantity": "1", "unit": "усл.", "price": "-80.10",
               "amount": "-80.10"}]
    assert [x.amount for x in parse_lines(stored)] == [D("1500.00"), D("-80.10")]
    lines, amount, vat = sale_lines(stored, OnecConfig(vat_rate="22"))
    assert amount == D("1419.90") and [x.amount for x in lines] == [D("1419.90")]
    assert vat == D("256.05")  # 1419.90 · 22/122 = 256.047… → 256.05
