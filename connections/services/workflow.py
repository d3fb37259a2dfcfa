"""Firing the stage transitions of the connection standard (API.md, CS-1…CS-7).

``fire`` is the one way a card changes stage: it locks the card, checks the role and the
guards (the first unmet one is the refusal's reason), validates the payload, does the
stage's work, moves the stage, writes the stage log and tells the higher apps. Two users
firing at once: the second waits for the lock, then finds the stage moved and gets a 409."""

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_time
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from connections import events
from connections.models import CardDocument, ClientCard, Crew, Stage, StageLog
from connections.models.guards import Extra
from ispcrm.errors import RuleViolation
from ispcrm.workcalendar import WorkCalendar

from . import contracts, installations, surveys

ACTIONS = {
    "request_expertise": gettext_lazy("Request the technical survey"),
    "reopen": gettext_lazy("Survey again"),
    "record_expertise": gettext_lazy("Record the survey result"),
    "sign_contract": gettext_lazy("Sign the contract"),
    "schedule_installation": gettext_lazy("Plan the installation"),
    "complete_installation": gettext_lazy("Complete the installation"),
    "activate": gettext_lazy("Activate"),
    "terminate": gettext_lazy("Terminate the contract"),
    "cancel": gettext_lazy("Cancel"),
}


@dataclass
class Outcome:
    summary: str
    payload: dict = field(default_factory=dict)  # as logged
    args: tuple = ()  # for the FSM method
    moved: bool = False  # the handler already fired the FSM method (before its effects)
    documents: list = field(default_factory=list)  # (kind, title, number)


def _meta(name: str):
    method = getattr(ClientCard, name, None) if name in ACTIONS else None
    if method is None:
        raise LookupError(name)
    return method._django_fsm


def allowed_roles(name: str) -> tuple[str, ...]:
    any_transition = next(iter(_meta(name).transitions.values()))
    return any_transition.permission.roles


def refusal(card: ClientCard, name: str) -> str | None:
    """Why ``name`` cannot be fired on the card now (stage and guards), or None."""
    transition = _meta(name).get_transition(card.stage)
    if transition is None:
        sources = [Stage(s).label for s in _meta(name).transitions]
        return _("the client is at stage «%(stage)s»; this needs «%(needed)s»") % {
            "stage": card.get_stage_display(), "needed": "», «".join(map(str, sources))}
    for condition in transition.conditions:
        if not condition(card):
            return condition.explain(card) if isinstance(condition, Extra) \
                else str(condition.reason)
    return None


def available(card: ClientCard, user) -> list[str]:
    """Transitions the user may fire now, in the order of the standard."""
    names = {t.name for t in card.get_available_user_stage_transitions(user)}
    return [name for name in ACTIONS if name in names]


@transaction.atomic
def fire(*, card: ClientCard, name: str, actor, payload: dict | None = None) -> ClientCard:
    payload = payload if isinstance(payload, dict) else {}
    meta = _meta(name)  # LookupError: no such transition (404 in the API)
    # Only the card row: FOR UPDATE on the joins would also lock the branch and the building,
    # making every transition of the branch wait for each other.
    card = ClientCard.objects.select_for_update(of=("self",)).select_related(
        "branch", "building__street").get(pk=card.pk)
    roles = allowed_roles(name)
    if not next(iter(meta.transitions.values())).has_perm(card, actor):
        raise PermissionDenied(_("Only %(roles)s may do this.") % {"roles": ", ".join(roles)})
    reason = refusal(card, name)
    if reason:
        raise RuleViolation(_("%(action)s is not possible: %(reason)s.") % {
            "action": ACTIONS[name], "reason": reason}, code=f"{name}_refused")
    source = card.stage
    outcome = HANDLERS[name](card, actor, payload)
    if card.stage == source and not outcome.moved:
        getattr(card, name)(*outcome.args)
    now = timezone.now()
    if card.stage != source:
        card.stage_changed_at = now
    card.save()
    log = StageLog.objects.create(card=card, transition=name, source=source, target=card.stage,
                                  actor=actor, at=now, payload=outcome.payload,
                                  summary=outcome.summary[:500])
    CardDocument.objects.bulk_create(
        CardDocument(card=card, kind=kind, title=title, number=number, stage_log=log,
                     created_by=actor, created_at=now)
        for kind, title, number in outcome.documents)
    events.stage_changed.send(sender=ClientCard, card=card, transition=name, actor=actor,
                              payload=outcome.payload, log=log)
    return card


# Payload parsing --------------------------------------------------------------------------

def payload_bool(payload: dict, key: str, default: bool | None = False) -> bool:
    value = payload.get(key, default)
    if isinstance(value, bool):
        return value
    if value in ("true", "1", "on", 1):
        return True
    if value in ("false", "0", "off", 0):
        return False
    if value in ("", None) and default is not None:
        return default
    raise ValidationError({key: _("Must be true or false.")})


def payload_text(payload: dict, key: str, *, required: bool = False,
                 limit: int = 2000) -> str:
    value = payload.get(key, "")
    value = value.strip() if isinstance(value, str) else ""
    if required and not value:
        raise ValidationError({key: _("This field is required.")})
    if len(value) > limit:
        raise ValidationError({key: _("At most %(n)s characters.") % {"n": limit}})
    return value


def payload_money(payload: dict, key: str) -> Decimal | None:
    value = payload.get(key)
    if value in (None, ""):
        return None
    try:
        amount = Decimal(str(value).replace(",", ".").replace(" ", ""))
    except InvalidOperation:
        amount = Decimal("NaN")
    if not amount.is_finite() or amount < 0 or amount >= Decimal("1e9") \
            or amount != amount.quantize(Decimal("0.01")):
        raise ValidationError({key: _("Enter an amount in roubles, e.g. 1500.00.")})
    return amount


# The stages' work -------------------------------------------------------------------------

ACCESS_FIELDS = ("access_premises", "access_technical_floor", "access_roof")


def _request_expertise(card, actor, payload) -> Outcome:
    urgent = payload_bool(payload, "urgent")
    access = {key: payload_bool(payload, key) for key in ACCESS_FIELDS}
    access["access_notes"] = payload_text(payload, "access_notes")
    survey = surveys.place(card=card, actor=actor, urgent=urgent, access=access)
    if urgent:
        summary = _("Urgent survey requested: waits for the technical director's approval")
    else:
        summary = _("Survey booked for %(day)s") % {"day": survey.date.strftime("%d.%m.%Y")}
    return Outcome(summary, {"urgent": urgent, "survey": survey.pk,
                             "date": survey.date.isoformat() if survey.date else None,
                             **access})


def _record_expertise(card, actor, payload) -> Outcome:
    if "possible" not in payload:
        raise ValidationError({"possible": _("Say whether the connection is possible.")})
    possible = payload_bool(payload, "possible", default=None)
    estimate = surveys.parse_estimate(payload.get("estimate"))
    notes = payload_text(payload, "notes", limit=5000)
    card.record_expertise(possible)  # while the survey is still "scheduled" (the guard)
    survey = surveys.record(card=card, actor=actor, possible=possible, estimate=estimate,
                            notes=notes, nonstandard=payload_bool(payload, "nonstandard"))
    total = sum((line.total for line in estimate), Decimal("0.00"))
    documents = [(CardDocument.Kind.EXPERTISE_ACT, _("Expertise act"), f"Э-{survey.pk}")]
    if estimate:
        documents.append((CardDocument.Kind.ESTIMATE, _("Estimate"), f"С-{survey.pk}"))
    if possible:
        summary = _("Connection possible, estimate %(total)s ₽") % {"total": total}
    else:
        summary = _("No technical possibility: on the network development agenda")
    return Outcome(summary, {"possible": possible, "survey": survey.pk,
                             "estimate_total": str(total), "notes": notes},
                   documents=documents, moved=True)


def _sign_contract(card, actor, payload) -> Outcome:
    contract = contracts.sign(card=card, actor=actor,
                              nonstandard=payload_bool(payload, "nonstandard"),
                              connection_fee=payload_money(payload, "connection_fee"))
    installations.ensure(card)
    return Outcome(_("Contract %(number)s signed") % {"number": contract.number},
                   {"contract": contract.number, "nonstandard": contract.nonstandard,
                    "connection_fee": str(contract.connection_fee)},
                   documents=[(CardDocument.Kind.CONTRACT, _("Contract"), contract.number)])


def _schedule_installation(card, actor, payload) -> Outcome:
    day = payload.get("date")
    day = parse_date(day) if isinstance(day, str) else None
    if day is None:
        raise ValidationError({"date": _("Enter the date as YYYY-MM-DD.")})
    crew = None
    if payload.get("crew") not in (None, ""):
        crew = Crew.objects.filter(pk=payload["crew"]).first() \
            if str(payload["crew"]).isdigit() else None
        if crew is None:
            raise ValidationError({"crew": _("No such crew.")})
    slot = payload.get("time") or payload.get("slot")
    slot = parse_time(slot) if isinstance(slot, str) else None
    if (payload.get("time") or payload.get("slot")) and slot is None:
        raise ValidationError({"time": _("Enter the time as HH:MM.")})
    priority = payload.get("priority")
    if priority not in (None, "", 0, 1, 2, "0", "1", "2"):
        raise ValidationError({"priority": _("Priority is 0, 1 or 2.")})
    installation = installations.schedule(
        card=card, actor=actor, date=day, crew=crew, slot=slot,
        priority=int(priority) if priority not in (None, "") else None,
        special_equipment=payload_text(payload, "special_equipment")
        if "special_equipment" in payload else None,
        temporary_modem=payload_bool(payload, "temporary_modem") if "temporary_modem" in payload
        else None)
    return Outcome(_("Installation planned for %(day)s %(time)s, %(crew)s") % {
        "day": installation.date.strftime("%d.%m.%Y"),
        "time": installation.slot.strftime("%H:%M"), "crew": installation.crew},
        {"date": installation.date.isoformat(), "time": installation.slot.strftime("%H:%M"),
         "crew": installation.crew_id, "override": bool(installation.override_by_id
                                                        and not card.fee_paid_at)},
        documents=[(CardDocument.Kind.WORK_ORDER, _("Work order"), f"Н-{installation.pk}")])


def _complete_installation(card, actor, payload) -> Outcome:
    ip = installations.clean_ip(payload.get("ip_address"))
    installation = installations.complete(card=card, actor=actor, ip_address=ip)
    return Outcome(_("Installation completed, IP %(ip)s") % {"ip": ip}, {"ip_address": ip},
                   documents=[(CardDocument.Kind.WORKS_ACT, _("Act of completed works"),
                               f"А-{installation.pk}")])


def connection_days(card: ClientCard, activated: dt.datetime) -> Decimal | None:
    """CS-6: working days from the fee payment to activation, in working time (a day is
    the branch's working hours)."""
    if card.fee_paid_at is None:
        return None
    calendar = WorkCalendar(card.branch)
    start, end = card.fee_paid_at, max(activated, card.fee_paid_at)
    worked = calendar.working_time_between(start, end)
    day = dt.datetime.combine(dt.date.today(), calendar.work_end) - \
        dt.datetime.combine(dt.date.today(), calendar.work_start)
    return (Decimal(worked.total_seconds()) / Decimal(day.total_seconds())).quantize(
        Decimal("0.01"))


def _activate(card, actor, payload) -> Outcome:
    now = timezone.now()
    card.activated_at = now
    card.connection_days = connection_days(card, now)
    return Outcome(_("Activated: billing started, the client is in support"))


def _terminate(card, actor, payload) -> Outcome:
    reason = payload_text(payload, "reason", required=True, limit=255)
    controllable = payload_bool(payload, "controllable")
    card.terminated_at = timezone.now()
    card.termination_reason, card.termination_controllable = reason, controllable
    kind = _("controllable") if controllable else _("uncontrollable")
    return Outcome(_("Contract terminated (%(kind)s): %(reason)s") % {
        "kind": kind, "reason": reason}, {"reason": reason, "controllable": controllable})


def _cancel(card, actor, payload) -> Outcome:
    reason = payload_text(payload, "reason", required=True, limit=255)
    surveys.cancel_open(card)
    installation = installations.installation_of(card)
    if installation is not None and installation.completed_at is None:
        installation.crew = installation.date = installation.slot = None  # frees the slot
        installation.save(update_fields=["crew", "date", "slot"])
    return Outcome(_("Cancelled: %(reason)s") % {"reason": reason}, {"reason": reason})


HANDLERS = {
    "request_expertise": _request_expertise,
    "reopen": _request_expertise,
    "record_expertise": _record_expertise,
    "sign_contract": _sign_contract,
    "schedule_installation": _schedule_installation,
    "complete_installation": _complete_installation,
    "activate": _activate,
    "terminate": _terminate,
    "cancel": _cancel,
}
