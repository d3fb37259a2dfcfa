"""Read-side queries shared by pages and the API."""

import re
from itertools import chain
from typing import NamedTuple

from django.db.models import Case, Count, Q, QuerySet, When
from django.utils import timezone
from django.utils.translation import gettext as _

from connections import queues
from connections.models import OPEN_STAGES, Building, ClientCard, Stage
from ispcrm import roles
from ispcrm.audit import ChangeEvent, change_events

# One-to-one relations higher apps add to the card that every list shows (billing: the
# account), joined in the same query instead of one query per card.
card_related: list[str] = []


def client_queryset() -> QuerySet[ClientCard]:
    """Cards with what every list shows, in one query."""
    return ClientCard.objects.select_related(
        "building__street__city", "building__district", "branch", "lead_manager",
        *card_related)


def _phone_digits(query: str) -> str | None:
    """The digits of a phone-like query ("8 (912) 345" → "8912345"), else None."""
    digits = re.sub(r"\D", "", query)
    if len(digits) < 4 or len(digits) < len(re.sub(r"[\s()+\-]", "", query)):
        return None  # letters mixed in, or too short to be useful
    return digits


def client_search(query: str, *, limit: int | None = 10) -> QuerySet[ClientCard]:
    """Find clients by name, phone, INN, email or address as the user types (UX: search
    everywhere). Every word must occur in the card's search text; a phone-like query is
    matched as one run of digits; a short number is also tried as the card number."""
    query = " ".join(query.split()).casefold()
    if not query:
        return client_queryset().none()
    digits = _phone_digits(query)
    terms = [digits] if digits else query.split(" ")
    condition = Q(*(Q(search_text__contains=term) for term in terms))
    if query.isdigit() and len(query) < 10:
        condition |= Q(pk=int(query))
    results = client_queryset().filter(condition).order_by("name")
    return results[:limit] if limit else results


def building_search(query: str, *, city_first: int | None = None) -> QuerySet[Building]:
    """Buildings whose street, house, district or city match every word of the query;
    with ``city_first`` (a city id) that city's buildings come first."""
    qs = Building.objects.select_related("street__city", "district")
    for word in query.split():
        qs = qs.filter(Q(street__name__icontains=word) | Q(house__istartswith=word)
                       | Q(district__name__icontains=word) | Q(street__city__name__iexact=word))
    order = ["street__name", "house"]
    if city_first:
        qs = qs.annotate(other_city=Case(When(street__city_id=city_first, then=0), default=1))
        order.insert(0, "other_city")
    return qs.order_by(*order)


def buildings_with_counts() -> QuerySet[Building]:
    return Building.objects.select_related("street__city", "district").annotate(
        client_count=Count("clients", filter=Q(clients__stage=Stage.ACTIVE)),
    )


def building_clients(building: Building) -> list[ClientCard]:
    """Every card at the building (the API's list), flats in number order (кв. 2 before
    кв. 10)."""
    cards = ClientCard.objects.filter(building=building).select_related(
        *card_related).defer("search_text", "notes")
    return sorted(cards, key=lambda card: (_natural_key(card.premises), card.name))


class BuildingRow(NamedTuple):
    """A client as the building page and the card's neighbours show him."""

    pk: int
    premises: str
    name: str
    phone: str
    stage: str
    connection_type: str

    def get_stage_display(self) -> str:
        return Stage(self.stage).label


def building_rows(building_id: int) -> list[BuildingRow]:
    """Every card at the building for first outage diagnosis (M6), flats in number order.
    Plain rows, not models: a 500-flat building must open in under 50 ms, and building 500
    cards with their accounts cost more than the query."""
    rows = ClientCard.objects.filter(building_id=building_id).values_list(*BuildingRow._fields)
    return sorted(map(BuildingRow._make, rows),
                  key=lambda row: (_natural_key(row.premises), row.name))


def _natural_key(text: str) -> tuple:
    return tuple(int(part) if part.isdigit() else part.casefold()
                 for part in re.split(r"(\d+)", text))


# Functions (card, user) -> iterable of ChangeEvent that higher apps register (billing: money
# and tariff events) so the client's history is one list (M2). A source shows only what the
# user may see.
history_sources: list = []


def client_history(card: ClientCard, user=None) -> list[ChangeEvent]:
    """Everything that happened to the client, newest first (M2): edits of the card and its
    contacts here, and what the registered sources add (payments, charges, tariffs…)."""
    contact_history = chain.from_iterable(
        change_events(contact_history_rows, _("Contact %(name)s") % {"name": name})
        for name, contact_history_rows in _contact_histories(card)
    )
    events = chain(change_events(card.history.select_related("history_user"), _("Card")),
                   contact_history, workflow_events(card),
                   *(source(card, user) for source in history_sources))
    return sorted(events, key=lambda event: event.at, reverse=True)


def workflow_events(card: ClientCard) -> list[ChangeEvent]:
    """Stage moves, documents and questions to colleagues, for the client's history."""
    events = [ChangeEvent(at=row.at, kind="stage", actor=_name(row.actor),
                          summary=f"{Stage(row.source).label} → {Stage(row.target).label}: "
                                  f"{row.summary}")
              for row in card.stage_log.select_related("actor")]
    events += [ChangeEvent(at=doc.created_at, kind="document", actor=_name(doc.created_by),
                           summary=f"{doc.get_kind_display()} {doc.number}".strip())
               for doc in card.documents.select_related("created_by")]
    for question in card.questions.select_related("asked_by", "answered_by"):
        events.append(ChangeEvent(at=question.asked_at, kind="question",
                                  actor=_name(question.asked_by),
                                  summary=_("Question to %(role)s: %(text)s") % {
                                      "role": question.get_role_display(),
                                      "text": question.question}))
        if question.answered_at:
            events.append(ChangeEvent(at=question.answered_at, kind="answer",
                                      actor=_name(question.answered_by),
                                      summary=_("Answer: %(text)s") % {"text": question.answer}))
    return events


def _name(user) -> str | None:
    return str(user) if user is not None else None


def _contact_histories(card: ClientCard):
    model = card.contacts.model.history.model
    rows = model.objects.filter(client_id=card.pk).select_related("history_user")
    by_contact: dict[int, list] = {}
    for row in rows.order_by("-history_date"):
        by_contact.setdefault(row.id, []).append(row)
    return ((rows_[0].name, rows_) for rows_ in by_contact.values())


def unassigned_leads(user, limit: int = 20) -> list[ClientCard]:
    """New requests nobody leads yet (from the referral page, the API, the website), oldest
    first, of the user's branch: the first thing a manager takes."""
    leads = client_queryset().filter(stage=Stage.COMMERCIAL, lead_manager__isnull=True)
    if user.branch_id:
        leads = leads.filter(branch_id=user.branch_id)
    return list(leads.order_by("created_at")[:limit])


def work_queue(user) -> dict:
    """What the user should look at first when he signs in (UX: work queues, not menus):
    the queue page of his role, or, for a manager, his clients in progress and those whose
    survey or installation is overdue."""
    page = queues.landing_page(user)
    if page is not None:
        return {"page": page.url_name, "title": page.label}
    cards = client_queryset()
    if user.has_role(*roles.SALES) and not user.is_superuser:
        mine = cards.filter(lead_manager=user, stage__in=OPEN_STAGES).order_by("updated_at")
        return {"title": _("My clients in progress"), "cards": mine[:50],
                "total": mine.count(), "unassigned": unassigned_leads(user),
                "overdue": queues.overdue_of_manager(user, timezone.localdate())}
    recent = cards.order_by("-created_at")
    if user.branch_id:
        recent = recent.filter(branch_id=user.branch_id)
    return {"title": _("Newest clients of my branch") if user.branch_id
            else _("Newest clients"), "cards": recent[:50], "total": None}
