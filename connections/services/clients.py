"""Client card operations (M1: a new card in under a minute)."""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from connections.models import ClientCard, ClientContact
from ispcrm import roles
from ispcrm.models import Branch
from ispcrm.validators import normalize_phone, validate_inn, validate_kpp

# Fields a staff member may edit on a card; the stage moves only by workflow transitions.
EDITABLE_FIELDS = ("kind", "name", "phone", "email", "inn", "kpp", "building", "premises",
                   "connection_type", "branch", "lead_manager", "referrer", "notes")


def _normalize(card: ClientCard) -> None:
    """Clean and check the requisites; collect every problem, then raise once."""
    errors: dict[str, ValidationError | str] = {}
    card.name = " ".join(card.name.split())
    if not card.name:
        errors["name"] = _("This field is required.")
    try:
        card.phone = normalize_phone(card.phone or "")
    except ValidationError as exc:
        errors["phone"] = exc
    card.inn = (card.inn or "").strip()
    card.kpp = (card.kpp or "").strip()
    if card.kind == ClientCard.Kind.COMPANY and not card.inn:
        errors["inn"] = _("A company needs its INN.")
    elif card.inn:
        try:
            validate_inn(card.inn)
        except ValidationError as exc:
            errors["inn"] = exc
    if card.kpp:
        try:
            validate_kpp(card.kpp)
        except ValidationError as exc:
            errors["kpp"] = exc
    if card.referrer_id and card.pk and card.referrer_id == card.pk:
        errors["referrer"] = _("A client cannot refer himself.")
    if errors:
        raise ValidationError(errors)


def _default_branch(actor, building) -> Branch | None:
    if actor is not None and getattr(actor, "branch_id", None):
        return actor.branch
    return Branch.objects.filter(city_id=building.street.city_id).order_by("pk").first()


@transaction.atomic
def client_create(*, actor, kind: str, name: str, phone: str, building, connection_type: str,
                  email: str = "", inn: str = "", kpp: str = "", premises: str = "",
                  branch: Branch | None = None, lead_manager=None, referrer=None,
                  notes: str = "") -> ClientCard:
    """Open a client card in the commercial stage. Branch and lead manager default to the
    actor's (a manager opening a card leads it)."""
    if lead_manager is None and actor is not None and actor.has_role(*roles.SALES) \
            and not actor.is_superuser:
        lead_manager = actor
    card = ClientCard(
        kind=kind, name=name, phone=phone, email=email.strip(), inn=inn, kpp=kpp,
        building=building, premises=premises.strip(), connection_type=connection_type,
        branch=branch or _default_branch(actor, building), lead_manager=lead_manager,
        referrer=referrer, notes=notes,
    )
    _normalize(card)
    if card.branch is None:
        raise ValidationError({"branch": _("No branch serves this city: choose a branch.")})
    card.full_clean(exclude=["stage"])  # protected: moves only by transitions
    card.save()
    return card


@transaction.atomic
def client_update(*, card: ClientCard, actor, **changes) -> ClientCard:
    """Edit the card's details. History (who, when, what) is kept by the audit."""
    unknown = set(changes) - set(EDITABLE_FIELDS)
    if unknown:
        raise ValueError(f"Not editable: {', '.join(sorted(unknown))}")
    # Lock so two people editing the same card cannot interleave half of each other's change.
    card = ClientCard.objects.select_for_update().get(pk=card.pk)
    for field, value in changes.items():
        setattr(card, field, value)
    _normalize(card)
    card.full_clean(exclude=["stage"])  # protected: moves only by transitions
    card.save()
    return card


@transaction.atomic
def contact_create(*, card: ClientCard, name: str, role: str = "", phone: str = "",
                   email: str = "") -> ClientContact:
    name = " ".join(name.split())
    if not name:
        raise ValidationError({"name": _("This field is required.")})
    if phone:
        try:
            phone = normalize_phone(phone)
        except ValidationError as exc:
            raise ValidationError({"phone": exc.messages[0]}) from exc
    contact = ClientContact(client=card, name=name, role=role.strip(), phone=phone,
                            email=email.strip())
    contact.full_clean()
    contact.save()
    return contact
