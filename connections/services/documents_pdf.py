"""The printable documents of the connection standard (M8; UX: print what people sign): the
contract, the survey route list, the expertise act with the estimate, the crew's work order
and the act of completed works. Rendered on demand from the data, so a document always shows
the card as it is (a drafted contract prints as a «Проект»).

These are Russian business documents, so their words are Russian whatever the reader's
interface language is (like billing's invoices), and the values here are already in Russian
document formats. Templates auto-escape everything: a client's name prints as text."""

import datetime as dt
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from django.template.loader import render_to_string
from django.utils import timezone

from connections.models import (
    ClientCard,
    ConnectionType,
    EstimateLine,
    Installation,
    Survey,
    WorkflowSettings,
)
from connections.models.guards import contract_of, installation_of
from ispcrm import pdf, roles
from ispcrm.models import Branch

from .staff import role_members

# The contract states how long a debt notice waits before the block; billing's settings
# say it (ispcrm.pdf.company), this is the standard's default when billing is absent.
DEFAULT_DUNNING_DAYS = 5

CONNECTION_TYPES = {
    ConnectionType.LAN: "локальная сеть (Ethernet)",
    ConnectionType.RADIO: "радиоканал",
    ConnectionType.LEASED_LINE: "выделенная линия",
    ConnectionType.SATELLITE: "спутниковый канал",
}
PRIORITIES = {Installation.Priority.NORMAL: "обычный", Installation.Priority.HIGH: "высокий",
              Installation.Priority.URGENT: "срочно"}
ESTIMATE_KINDS = {EstimateLine.Kind.EQUIPMENT: "Оборудование и материалы",
                  EstimateLine.Kind.WORKS: "Работы"}


class Missing(LookupError):
    """The document does not exist yet (no contract, survey result or installation)."""


@dataclass(frozen=True)
class Printed:
    """A document ready to print: its template, what it shows and the file name."""

    template: str
    context: dict = field(repr=False)
    filename: str

    def html(self) -> str:
        return render_to_string(self.template, {**self.context,
                                                "font_dir": pdf.font_dir().as_uri()})

    def pdf(self) -> bytes:
        return pdf.html_to_pdf(self.html())


# --- Formats ---------------------------------------------------------------------------------

def format_date(value: dt.date | dt.datetime | None) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        value = timezone.localtime(value).date()
    return f"{value:%d.%m.%Y}"


def format_money(amount: Decimal | str | None) -> str:
    """1500 → «1 500,00» (the space separates thousands; templates keep it unbroken)."""
    if amount in (None, ""):
        return "—"
    amount = Decimal(amount).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    whole, cents = f"{abs(amount):.2f}".split(".")
    sign = "-" if amount < 0 else ""
    return f"{sign}{int(whole):,}".replace(",", " ") + f",{cents}"


def format_quantity(value: Decimal) -> str:
    """1.00 → «1», 2.50 → «2,5»."""
    text = f"{value.normalize():f}"
    return text.rstrip("0").rstrip(".").replace(".", ",") if "." in text else text


def working_days(n: int) -> str:
    """«в течение 5 рабочих дней», «… 1 рабочего дня», «… 21 рабочего дня»."""
    return f"{n} рабочего дня" if n % 10 == 1 and n % 100 != 11 else f"{n} рабочих дней"


def _person(user) -> str:
    return str(user) if user is not None else ""


def _role_holder(role: str, branch: Branch) -> str:
    """Who holds a role for the branch: its own member first, else one of all branches."""
    members = role_members(role, branch).order_by("last_name", "first_name", "pk")
    return _person(members.filter(branch=branch).first() or members.first())


def _client(card: ClientCard) -> dict:
    return {"name": card.name, "company": card.kind == ClientCard.Kind.COMPANY,
            "inn": card.inn, "kpp": card.kpp, "address": card.address,
            "phone": card.phone_display, "email": card.email}


def _phones(card: ClientCard) -> list[str]:
    """The card's phone and the contacts' ones, each with whose it is."""
    phones = [card.phone_display]
    for contact in card.contacts.all():
        if contact.phone:
            phones.append(f"{contact.phone_display} — {contact}")
    return phones


def _access(survey: Survey | None) -> dict:
    if survey is None:
        return {"items": [], "notes": ""}
    items = [(label, agreed) for label, agreed in (
        ("помещение", survey.access_premises),
        ("технический этаж", survey.access_technical_floor),
        ("крыша", survey.access_roof))]
    return {"items": [{"label": label, "agreed": agreed} for label, agreed in items],
            "notes": survey.access_notes}


def _done_survey(card: ClientCard) -> Survey | None:
    """The latest recorded survey (a reopened card is surveyed again)."""
    return card.surveys.filter(status=Survey.Status.DONE).order_by(
        "-recorded_at", "-id").prefetch_related("estimate").first()


def _estimate(survey: Survey) -> dict:
    lines, totals = [], {kind: Decimal("0.00") for kind in ESTIMATE_KINDS}
    for index, line in enumerate(survey.estimate.all(), start=1):
        totals[line.kind] += line.total
        lines.append({"index": index, "item": line.item, "kind": ESTIMATE_KINDS[line.kind],
                      "unit": line.unit, "quantity": format_quantity(line.quantity),
                      "price": format_money(line.unit_price), "total": format_money(line.total)})
    return {"lines": lines,
            "totals": [{"kind": ESTIMATE_KINDS[kind], "total": format_money(amount)}
                       for kind, amount in totals.items()],
            "grand_total": format_money(sum(totals.values(), Decimal("0.00")))}


def _card_queryset():
    return ClientCard.objects.select_related("building__street__city", "branch__city",
                                             "lead_manager")


def load_card(pk: int) -> ClientCard | None:
    return _card_queryset().filter(pk=pk).first()


# --- The contract (CS-3) ---------------------------------------------------------------------

def contract(card: ClientCard) -> Printed:
    contract = contract_of(card)
    if contract is None:
        raise Missing("no contract")
    branch = contract.branch
    company = pdf.company(branch)
    terms = contract.terms or {}
    approvals = [
        {"role": "Руководитель отдела продаж", "who": _person(contract.sales_approved_by),
         "date": format_date(contract.sales_approved_at)},
        {"role": "Коммерческий директор", "who": _person(contract.director_approved_by),
         "date": format_date(contract.director_approved_at)},
    ]
    return Printed("connections/pdf/contract.html", {
        "number": contract.number,
        "date": format_date(contract.signed_at or contract.drafted_at),
        "draft": contract.signed_at is None,
        "city": branch.city.name,
        "company": company,
        "client": _client(card),
        "connection_type": CONNECTION_TYPES.get(card.connection_type, card.connection_type),
        "speed": terms.get("speed_mbps"),
        "tariff_name": contract.tariff_name,
        "monthly_fee": format_money(contract.monthly_fee),
        "connection_fee": format_money(contract.connection_fee),
        "services": [{"name": s.get("name", ""), "monthly_fee": format_money(
            s.get("monthly_fee"))} for s in terms.get("services") or []],
        "payment_order": terms.get("payment_order") or "",
        "dunning_days": working_days(company.dunning_days or DEFAULT_DUNNING_DAYS),
        "nonstandard": contract.nonstandard,
        "approvals": approvals,
        "dispute": contract.dispute if contract.disputed else "",
        "resolution": contract.lawyer_resolution,
        "lawyer": _person(contract.lawyer),
        "resolved_on": format_date(contract.resolved_at),
        "technical_director": _role_holder(roles.TECHNICAL_DIRECTOR, branch),
    }, f"contract-{contract.number}.pdf")


# --- The survey route list (CS-2) ------------------------------------------------------------

def survey_route(branch: Branch, day: dt.date) -> Printed:
    """The survey day's route list: the visits in the order of the day plan."""
    surveys = (Survey.objects.filter(branch=branch, date=day,
                                     status__in=(Survey.Status.SCHEDULED, Survey.Status.DONE))
               .select_related("card__building__street__city", "card__lead_manager")
               .prefetch_related("card__contacts").order_by("requested_at", "id"))
    rows = [{"index": index, "address": survey.card.address, "client": _client(survey.card),
             "phones": _phones(survey.card), "access": _access(survey),
             "urgent": survey.urgent, "manager": _person(survey.card.lead_manager),
             "manager_phone": getattr(survey.card.lead_manager, "phone", "")}
            for index, survey in enumerate(surveys, start=1)]
    series = WorkflowSettings.for_branch(branch).series
    return Printed("connections/pdf/survey_route.html", {
        "number": f"МЛ-{series}-{day:%Y%m%d}",
        "date": format_date(day),
        "weekday": ("понедельник", "вторник", "среда", "четверг", "пятница", "суббота",
                    "воскресенье")[day.weekday()],
        "branch": branch,
        "company": pdf.company(branch),
        "noc_head": _role_holder(roles.NOC_HEAD, branch),
        "rows": rows,
    }, f"survey-route-{day.isoformat()}.pdf")


# --- The expertise act and the estimate (CS-2) -----------------------------------------------

def expertise(card: ClientCard) -> Printed:
    survey = _done_survey(card)
    if survey is None:
        raise Missing("no survey result")
    return Printed("connections/pdf/expertise.html", {
        "number": f"Э-{survey.pk}",
        "estimate_number": f"С-{survey.pk}",
        "date": format_date(survey.recorded_at),
        "survey_date": format_date(survey.date),
        "company": pdf.company(card.branch),
        "client": _client(card),
        "connection_type": CONNECTION_TYPES.get(card.connection_type, card.connection_type),
        "possible": survey.possible,
        "nonstandard": survey.nonstandard,
        "notes": survey.notes,
        "access": _access(survey),
        "estimate": _estimate(survey),
        "recorded_by": _person(survey.recorded_by),
    }, f"expertise-Э-{survey.pk}.pdf")


# --- The installation: the crew's work order and the act of completed works (CS-4) -----------

def work_order(card: ClientCard) -> Printed:
    installation = installation_of(card)
    if installation is None or not installation.scheduled:
        raise Missing("installation not planned")
    crew = installation.crew
    signed = contract_of(card)
    terms = signed.terms if signed is not None else {}
    survey = _done_survey(card)
    return Printed("connections/pdf/work_order.html", {
        "number": f"Н-{installation.pk}",
        "date": format_date(installation.planned_at or installation.created_at),
        "company": pdf.company(card.branch),
        "crew": {"name": crew.name, "members": crew.members, "phone": crew.phone},
        "day": format_date(installation.date),
        "time": installation.slot.strftime("%H:%M"),
        "priority": PRIORITIES.get(installation.priority, ""),
        "client": _client(card),
        "phones": _phones(card),
        "connection_type": CONNECTION_TYPES.get(card.connection_type, card.connection_type),
        "contract_number": signed.number if signed else "",
        "tariff_name": signed.tariff_name if signed else "",
        "speed": (terms or {}).get("speed_mbps"),
        "special_equipment": installation.special_equipment,
        "equipment_ordered": format_date(installation.equipment_ordered_at),
        "temporary_modem": installation.temporary_modem,
        "fee_paid": format_date(card.fee_paid_at),
        "override_by": _person(installation.override_by),
        "override_reason": installation.override_reason,
        "access": _access(survey),
        "estimate": _estimate(survey) if survey else None,
        "planned_by": _person(installation.planned_by),
        "manager": _person(card.lead_manager),
    }, f"work-order-Н-{installation.pk}.pdf")


def works_act(card: ClientCard) -> Printed:
    installation = installation_of(card)
    if installation is None or installation.completed_at is None:
        raise Missing("installation not completed")
    survey = _done_survey(card)
    kind = CONNECTION_TYPES.get(card.connection_type, card.connection_type)
    works = [{"item": f"Монтаж и подключение абонента к сети Интернет, способ подключения: "
                      f"{kind}",
              "unit": "усл.", "quantity": "1"}]
    if survey is not None:
        works += [{"item": line.item, "unit": line.unit,
                   "quantity": format_quantity(line.quantity)}
                  for line in survey.estimate.all()]
    crew = installation.crew
    return Printed("connections/pdf/works_act.html", {
        "number": f"А-{installation.pk}",
        "date": format_date(installation.completed_at),
        "company": pdf.company(card.branch),
        "client": _client(card),
        "works": [{"index": index, **work} for index, work in enumerate(works, start=1)],
        "ip_address": installation.ip_address,
        "temporary_modem": installation.temporary_modem,
        "crew": {"name": crew.name if crew else "", "members": crew.members if crew else ""},
        "completed_by": _person(installation.completed_by),
        "work_order": f"Н-{installation.pk}",
    }, f"works-act-А-{installation.pk}.pdf")
