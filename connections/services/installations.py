"""Installation (CS-4): the crew leader's planning by crews' load, the technical
director's override, the chief engineer's equipment list, completion with the IP."""

import datetime as dt

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import validate_ipv46_address
from django.db import IntegrityError, transaction
from django.db.models import Count
from django.utils import timezone
from django.utils.translation import gettext as _

from connections.models import SLOTS, ClientCard, Crew, Installation, WorkflowSettings
from connections.models.guards import installation_of
from ispcrm import roles
from ispcrm.errors import RuleViolation
from ispcrm.workcalendar import WorkCalendar

from .staff import notify_role, notify_user

LOOK_AHEAD = 30  # working days searched for a free slot


def ensure(card: ClientCard, today: dt.date | None = None) -> Installation:
    """The card's installation row; its guaranteed term runs from the contract (CS-4)."""
    installation = installation_of(card)
    if installation is None:
        today = today or timezone.localdate()
        term = WorkflowSettings.for_branch(card.branch).install_term(card.connection_type)
        installation = Installation.objects.create(
            card=card, due_date=WorkCalendar(card.branch).add_working_days(today, term))
        card.installation = installation
    return installation


def busy(branch, start: dt.date, end: dt.date) -> set[tuple[int, dt.date, dt.time]]:
    return set(Installation.objects.filter(crew__branch=branch, date__range=(start, end))
               .values_list("crew_id", "date", "slot"))


def free_slots(branch, *, after: dt.date, limit: int = 12, crew: Crew | None = None):
    """Free (day, time, crew) after ``after`` in working days, the least loaded crew first
    within a slot; the first is the suggestion."""
    crews = [crew] if crew else list(branch.crews.filter(active=True))
    if not crews:
        return []
    calendar = WorkCalendar(branch)
    end = calendar.add_working_days(after, LOOK_AHEAD)
    taken = busy(branch, after, end)
    load = dict(Installation.objects.filter(crew__in=crews, date__range=(after, end))
                .values("crew").annotate(n=Count("id")).values_list("crew", "n"))
    crews.sort(key=lambda c: (load.get(c.pk, 0), c.name))
    found, day = [], after
    while len(found) < limit and day < end:
        day = calendar.next_working_day(day)
        for slot in SLOTS:
            for each in crews:
                if (each.pk, day, slot) not in taken:
                    found.append((day, slot, each))
                    break
    return found[:limit]


def schedule(*, card: ClientCard, actor, date: dt.date, crew: Crew | None = None,
             slot: dt.time | None = None, priority: int | None = None,
             special_equipment: str | None = None, temporary_modem: bool | None = None,
             today: dt.date | None = None) -> Installation:
    """Plan (or re-plan) the installation. Without a crew or time, the least loaded free
    crew and the first free time of that day are taken."""
    today = today or timezone.localdate()
    calendar = WorkCalendar(card.branch)
    if date < today or not calendar.is_working_day(date):
        raise ValidationError({"date": _("Choose a working day from today on.")})
    if crew is not None and (crew.branch_id != card.branch_id or not crew.active):
        raise ValidationError({"crew": _("Choose an active crew of the client's branch.")})
    if slot is not None and slot not in SLOTS:
        raise ValidationError({"slot": _("Installations start at %(times)s.") % {
            "times": ", ".join(s.strftime("%H:%M") for s in SLOTS)}})
    installation = ensure(card, today)
    options = [(d, s, c) for d, s, c in free_slots(card.branch, after=date - dt.timedelta(1),
                                                   crew=crew, limit=len(SLOTS) * 3)
               if d == date and (slot is None or s == slot)]
    if (installation.date, installation.slot) == (date, slot) and installation.crew == crew:
        options = [(date, slot, crew)]
    if not options:
        suggestion = free_slots(card.branch, after=today, crew=crew, limit=1)
        hint = (_(" The earliest free one: %(day)s %(time)s, %(crew)s.") % {
            "day": suggestion[0][0].strftime("%d.%m.%Y"),
            "time": suggestion[0][1].strftime("%H:%M"), "crew": suggestion[0][2]}
            if suggestion else "")
        raise RuleViolation(_("No free crew slot on %(day)s.") % {
            "day": date.strftime("%d.%m.%Y")} + hint, code="no_free_slot")
    installation.date, installation.slot, installation.crew = options[0]
    installation.planned_by, installation.planned_at = actor, timezone.now()
    installation.confirmed_by = installation.confirmed_at = None
    if priority is not None:
        installation.priority = priority
    if special_equipment is not None:
        installation.special_equipment = special_equipment.strip()
    if temporary_modem is not None:
        installation.temporary_modem = temporary_modem
    try:
        with transaction.atomic():
            installation.save()
    except IntegrityError:
        raise RuleViolation(_("That crew's slot was just taken: pick another."),
                            code="slot_taken") from None
    notify_user(card.lead_manager, _("Installation planned: %(client)s") % {"client": card},
                _("%(day)s %(time)s, %(crew)s. Agree the time with the client and confirm it "
                  "on the card.") % {"day": installation.date.strftime("%d.%m.%Y"),
                                     "time": installation.slot.strftime("%H:%M"),
                                     "crew": installation.crew})
    if installation.special_equipment and not installation.equipment_ordered_at:
        notify_role(roles.CHIEF_ENGINEER, card.branch, _("Special equipment to order"),
                    f"{card}: {installation.special_equipment}")
    return installation


@transaction.atomic
def allow_before_payment(*, card: ClientCard, actor, reason: str) -> Installation:
    """The technical director lets the crew install before the fee is paid (CS-4)."""
    if not actor.has_role(roles.TECHNICAL_DIRECTOR):
        raise PermissionDenied(_("Only the technical director allows installation before "
                                 "payment."))
    reason = reason.strip()
    if not reason:
        raise ValidationError({"reason": _("Say why the installation cannot wait for the "
                                           "payment.")})
    card = ClientCard.objects.select_for_update().get(pk=card.pk)
    installation = ensure(card)
    installation.override_by, installation.override_reason = actor, reason
    installation.save(update_fields=["override_by", "override_reason"])
    return installation


@transaction.atomic
def confirm_with_client(*, card: ClientCard, actor) -> Installation:
    installation = installation_of(card)
    if installation is None or not installation.scheduled:
        raise RuleViolation(_("The installation is not planned yet."), code="not_planned")
    installation.confirmed_by, installation.confirmed_at = actor, timezone.now()
    installation.save(update_fields=["confirmed_by", "confirmed_at"])
    return installation


@transaction.atomic
def equipment_ordered(*, installation: Installation, actor) -> Installation:
    if not actor.has_role(roles.CHIEF_ENGINEER):
        raise PermissionDenied(_("The chief engineer orders special equipment."))
    installation.equipment_ordered_at = timezone.now()
    installation.save(update_fields=["equipment_ordered_at"])
    return installation


def clean_ip(value) -> str:
    value = str(value or "").strip()
    try:
        validate_ipv46_address(value)
    except ValidationError:
        raise ValidationError({"ip_address": _("Enter the client's IP address, e.g. "
                                               "10.20.30.40.")}) from None
    return value


def complete(*, card: ClientCard, actor, ip_address: str) -> Installation:
    installation = installation_of(card)
    installation.ip_address = ip_address
    installation.completed_by, installation.completed_at = actor, timezone.now()
    installation.save(update_fields=["ip_address", "completed_by", "completed_at"])
    return installation
