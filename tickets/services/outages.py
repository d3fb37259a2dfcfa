"""Outages (M5, M6): what is down where, the tickets it explains, telling the clients, and
compensating a long outage once on resolution.

An outage covers buildings, whole districts or whole streets; a client is affected when the
building of his card is among them."""

import math
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from billing.models import Account, LedgerEntry
from billing.money import days_in_month, to_money
from billing.services.ledger import lock_account, post
from billing.services.pricing import monthly_price, subscription_on
from connections.models import ClientCard
from connections.models.clients import Stage
from ispcrm import notifications, roles
from ispcrm.errors import RuleViolation
from tickets.models import Outage, OutageUpdate, Ticket

from .tickets import ticket_resolve

#: Who declares and runs outages (API.md).
OUTAGE_ROLES = (roles.NOC_HEAD, roles.TECHNICAL_DIRECTOR, roles.SUPPORT)
OPEN_STATUSES = (Ticket.Status.NEW, Ticket.Status.OPEN, Ticket.Status.WAITING)


def check_can_manage(actor) -> None:
    if actor is not None and not actor.has_role(*OUTAGE_ROLES):
        raise PermissionDenied(_("Only the NOC head, the technical director or support "
                                 "manage outages."))


def _lock(outage: Outage) -> Outage:
    """Hold the outage's row and refresh the caller's copy: two people resolving at once
    act one after the other, and the second sees the first's result."""
    Outage.objects.select_for_update().filter(pk=outage.pk).values_list("pk").first()
    outage.refresh_from_db(fields=["eta", "resolved_at", "resolution", "compensated_at"])
    return outage


def _check_active(outage: Outage) -> None:
    if not outage.active:
        raise RuleViolation(_("The outage is already resolved."), code="outage_resolved")


def affected_clients(outage: Outage) -> QuerySet:
    """Every client card whose building the outage covers (any stage)."""
    area = (Q(building__in=outage.buildings.values("pk"))
            | Q(building__district__in=outage.districts.values("pk"))
            | Q(building__street__in=outage.streets.values("pk")))
    return ClientCard.objects.filter(area).distinct()


def _active_clients(outage: Outage) -> QuerySet:
    return affected_clients(outage).filter(stage=Stage.ACTIVE)


def active_outages_for_building(building) -> QuerySet:
    """Unresolved outages covering the building, directly or by its district or street."""
    return (Outage.objects.filter(resolved_at__isnull=True)
            .filter(Q(buildings=building) | Q(districts=building.district_id)
                    | Q(streets=building.street_id))
            .distinct().order_by("-started_at"))


def _link(tickets, outage: Outage) -> int:
    # One save per ticket rather than update(): the ticket's history records the link.
    count = 0
    for ticket in tickets:
        ticket.outage = outage
        ticket.save(update_fields=["outage"])
        count += 1
    return count


def link_open_tickets(outage: Outage) -> int:
    """Link the open, not yet linked tickets of the affected clients; returns how many."""
    tickets = Ticket.objects.filter(client__in=affected_clients(outage).values("pk"),
                                    status__in=OPEN_STATUSES, outage__isnull=True)
    return _link(tickets, outage)


def link_to_active_outage(ticket: Ticket) -> Outage | None:
    """A new ticket of a client whose building is down joins the outage (called after
    ticket_open by the API and the pages)."""
    if ticket.client_id is None or ticket.outage_id or not ticket.is_open:
        return None
    outage = active_outages_for_building(ticket.client.building).first()
    if outage is not None:
        _link([ticket], outage)
    return outage


@transaction.atomic
def outage_create(*, actor, description: str, buildings=(), districts=(), streets=(),
                  eta=None, started_at=None) -> Outage:
    check_can_manage(actor)
    if not (description or "").strip():
        raise ValidationError({"description": _("Describe what is down.")})
    if not (buildings or districts or streets):
        raise ValidationError({"buildings": _("Name the buildings, districts or streets "
                                              "that are affected.")})
    outage = Outage.objects.create(description=description.strip(), eta=eta,
                                   started_at=started_at or timezone.now(), created_by=actor)
    outage.buildings.set(buildings)
    outage.districts.set(districts)
    outage.streets.set(streets)
    link_open_tickets(outage)
    return outage


@transaction.atomic
def outage_update(*, outage: Outage, actor, text: str, eta=None) -> OutageUpdate:
    """A progress note, optionally with a new expected repair time."""
    check_can_manage(actor)
    _check_active(_lock(outage))
    if not (text or "").strip():
        raise ValidationError({"text": _("Write what changed.")})
    if eta is not None:
        outage.eta = eta
        outage.save(update_fields=["eta"])
    return OutageUpdate.objects.create(outage=outage, text=text.strip(), eta=eta, author=actor)


@transaction.atomic
def outage_resolve(*, outage: Outage, actor, resolution: str, close_tickets: bool = False,
                   now=None) -> Outage:
    """Mark it repaired; optionally resolve its open tickets with the same note; then
    compensate the affected accounts if it lasted long enough."""
    check_can_manage(actor)
    _check_active(_lock(outage))
    if not (resolution or "").strip():
        raise ValidationError({"resolution": _("Write what was done.")})
    outage.resolved_at = now or timezone.now()
    outage.resolution = resolution.strip()
    outage.save(update_fields=["resolved_at", "resolution"])
    if close_tickets:
        for ticket in outage.tickets.filter(status__in=OPEN_STATUSES):
            ticket_resolve(ticket=ticket, actor=actor, note=outage.resolution)
    compensate(outage)
    return outage


def outage_days(outage: Outage) -> int:
    """Started days of the outage (25 hours count as 2)."""
    seconds = (outage.resolved_at - outage.started_at).total_seconds()
    return max(1, math.ceil(seconds / 86400))


@transaction.atomic
def compensate(outage: Outage) -> int:
    """Credit each affected active account the tariff's daily share for the outage's days,
    once per outage (ledger idempotency key, then ``compensated_at``), when the outage lasted
    longer than his tariff promises (``Tariff.outage_compensation_hours``, else the general
    OUTAGE_COMPENSATION_HOURS). Returns how many accounts were credited now."""
    _lock(outage)
    if outage.resolved_at is None or outage.compensated_at is not None:
        return 0
    lasted = outage.resolved_at - outage.started_at
    general = settings.OUTAGE_COMPENSATION_HOURS
    days = outage_days(outage)
    day = timezone.localdate(outage.started_at)
    credited = owed = 0
    accounts = Account.objects.filter(client__in=_active_clients(outage).values("pk"),
                                      status=Account.Status.ACTIVE).order_by("pk")
    for pk in accounts.values_list("pk", flat=True):
        account = lock_account(pk)
        subscription = subscription_on(account, day)
        if subscription is None:
            continue
        promised = subscription.tariff.outage_compensation_hours
        if lasted <= timedelta(hours=general if promised is None else promised):
            continue
        owed += 1
        share = monthly_price(subscription, day.replace(day=1)) / days_in_month(day)
        entry = post(account=account, kind=LedgerEntry.Kind.CORRECTION,
                     amount=to_money(share * days), idem_key=f"outage:{outage.pk}",
                     description=_("Compensation for the outage of %(date)s: %(days)s day(s)")
                     % {"date": day.strftime("%d.%m.%Y"), "days": days})
        credited += entry is not None
    if owed:  # a short outage owes nobody anything: it is not marked compensated
        outage.compensated_at = timezone.now()
        outage.save(update_fields=["compensated_at"])
    return credited


def _route(card: ClientCard) -> tuple[str, str] | None:
    """(channel, recipient) by the channel agreed with the client: email when agreed or when
    nothing is agreed and he has one; the messenger when agreed; otherwise SMS."""
    if card.email and card.support_channel in ("email", ""):
        return notifications.EMAIL, card.email
    if card.support_channel == "messenger" and (card.messenger_id or card.phone):
        return notifications.MESSENGER, card.messenger_id or card.phone
    if card.phone:
        return notifications.SMS, card.phone
    if card.email:
        return notifications.EMAIL, card.email
    return None


def notify_affected(outage: Outage, text: str, subject: str = "") -> dict:
    """Tell every affected active client; returns {"sent", "failed", "skipped"} counts."""
    subject = subject or _("Service interruption")
    counts = {"sent": 0, "failed": 0, "skipped": 0}
    for card in _active_clients(outage).order_by("pk").iterator():
        route = _route(card)
        if route is None:
            counts["skipped"] += 1
            continue
        result = notifications.send(channel=route[0], recipient=route[1], subject=subject,
                                    text=text)
        counts["sent" if result.ok else "failed"] += 1
    return counts
