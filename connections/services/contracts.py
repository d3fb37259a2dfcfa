"""The contract (CS-3): draft with the agreed terms and a number of the branch's series,
approvals of non-standard terms, the lawyer for disputed clauses."""

from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from connections import hooks
from connections.models import ClientCard, Contract, ContractCounter, Stage, WorkflowSettings
from connections.models.guards import contract_of
from ispcrm import roles
from ispcrm.errors import RuleViolation

from .staff import notify_role


def next_number(branch, year: int) -> str:
    """«<series>-<year>-<n>», gapless per branch and year (the counter row is locked)."""
    counter, _created = ContractCounter.objects.select_for_update().get_or_create(
        branch=branch, year=year)
    counter.last += 1
    counter.save(update_fields=["last"])
    return f"{WorkflowSettings.for_branch(branch).series}-{year}-{counter.last:05d}"


def _terms(card: ClientCard) -> hooks.ContractTerms:
    terms = hooks.contract_terms(card)
    if terms is None:
        raise RuleViolation(_("No tariff is agreed in the commercial terms: choose one on the "
                              "card first."), code="no_terms")
    return terms


@transaction.atomic
def draft(*, card: ClientCard, actor, nonstandard: bool = False,
          connection_fee: Decimal | None = None) -> Contract:
    """Prepare (or re-prepare, before signing) the contract from the commercial terms.
    A connection fee other than the tariff's makes the terms non-standard; changing the
    money terms withdraws approvals already given."""
    card = ClientCard.objects.select_for_update().get(pk=card.pk)
    if card.stage != Stage.CONTRACT:
        raise RuleViolation(_("A contract is drafted at the contract stage."),
                            code="wrong_stage")
    if connection_fee is not None and connection_fee < 0:
        raise ValidationError({"connection_fee": _("The fee cannot be negative.")})
    terms = _terms(card)
    fee = terms.connection_fee if connection_fee is None else connection_fee
    nonstandard = bool(nonstandard or fee != terms.connection_fee)
    values = {"tariff_name": terms.tariff_name, "monthly_fee": terms.monthly_fee,
              "connection_fee": fee, "nonstandard": nonstandard,
              "terms": {"services": terms.services, "payment_order": terms.payment_order,
                        "speed_mbps": terms.speed_mbps}}
    contract = contract_of(card)
    if contract is None:
        contract = Contract(card=card, branch=card.branch, drafted_by=actor,
                            number=next_number(card.branch, timezone.localdate().year))
    elif contract.signed_at:
        raise RuleViolation(_("The contract is already signed."), code="signed")
    changed = any(getattr(contract, key) != value for key, value in values.items()
                  if key != "terms")
    for key, value in values.items():
        setattr(contract, key, value)
    if changed and contract.pk:
        contract.sales_approved_by = contract.director_approved_by = None
        contract.sales_approved_at = contract.director_approved_at = None
    contract.drafted_by, contract.drafted_at = actor, timezone.now()
    contract.save()
    if contract.nonstandard and not contract.approved:
        text = _("Contract %(number)s for %(client)s has non-standard terms to approve.") % {
            "number": contract.number, "client": card}
        for role in (roles.HEAD_OF_SALES, roles.COMMERCIAL_DIRECTOR):
            notify_role(role, card.branch, _("Contract to approve"), text)
    return contract


@transaction.atomic
def approve(*, contract: Contract, actor) -> Contract:
    """One of the two approvals of non-standard terms, each an explicit act of its role."""
    contract = Contract.objects.select_for_update().get(pk=contract.pk)
    if contract.signed_at:
        raise RuleViolation(_("The contract is already signed."), code="signed")
    if not contract.nonstandard:
        raise RuleViolation(_("Standard terms need no approval."), code="standard")
    now = timezone.now()
    if actor.has_role(roles.HEAD_OF_SALES) and not contract.sales_approved_at:
        contract.sales_approved_by, contract.sales_approved_at = actor, now
    elif actor.has_role(roles.COMMERCIAL_DIRECTOR) and not contract.director_approved_at:
        contract.director_approved_by, contract.director_approved_at = actor, now
    elif actor.has_role(roles.HEAD_OF_SALES, roles.COMMERCIAL_DIRECTOR):
        raise RuleViolation(_("You have already approved this contract."), code="approved")
    else:
        raise PermissionDenied(_("Only the head of sales and the commercial director approve "
                                 "non-standard terms."))
    contract.save()
    return contract


@transaction.atomic
def dispute(*, contract: Contract, actor, clause: str) -> Contract:
    """The client disagrees with a standard clause: the contract goes to the lawyer."""
    clause = clause.strip()
    if not clause:
        raise ValidationError({"clause": _("Say which clause the client disputes.")})
    contract = Contract.objects.select_for_update().get(pk=contract.pk)
    if contract.signed_at:
        raise RuleViolation(_("The contract is already signed."), code="signed")
    contract.disputed, contract.dispute = True, clause
    contract.lawyer_resolution, contract.lawyer, contract.resolved_at = "", None, None
    contract.save()
    notify_role(roles.LAWYER, None, _("Disputed contract clause"),
                _("%(number)s, %(client)s: %(clause)s") % {
                    "number": contract.number, "client": contract.card, "clause": clause})
    return contract


@transaction.atomic
def resolve(*, contract: Contract, actor, resolution: str) -> Contract:
    if not actor.has_role(roles.LAWYER):
        raise PermissionDenied(_("Only the lawyer resolves a disputed clause."))
    resolution = resolution.strip()
    if not resolution:
        raise ValidationError({"resolution": _("Write the resolution.")})
    contract = Contract.objects.select_for_update().get(pk=contract.pk)
    if not contract.disputed or contract.resolved_at:
        raise RuleViolation(_("Nothing is disputed in this contract."), code="not_disputed")
    contract.lawyer_resolution, contract.lawyer = resolution, actor
    contract.resolved_at = timezone.now()
    contract.save()
    return contract


def sign(*, card: ClientCard, actor, nonstandard: bool,
         connection_fee: Decimal | None) -> Contract:
    """The workflow's sign_contract: the draft (made now if there is none) is signed.
    Terms in the request that differ from an approved draft are refused, not re-approved."""
    contract = contract_of(card)
    fee_differs = connection_fee is not None and connection_fee != getattr(
        contract, "connection_fee", None)
    if contract is None or fee_differs or (nonstandard and not contract.nonstandard):
        contract = draft(card=card, actor=actor, nonstandard=nonstandard,
                         connection_fee=connection_fee)
        card.contract = contract  # the caller's copy checked "no contract" before
    if contract.nonstandard and not contract.approved:
        missing = [name for name, done in (
            (_("the head of sales"), contract.sales_approved_at),
            (_("the commercial director"), contract.director_approved_at)) if not done]
        raise RuleViolation(_("Non-standard terms need approval by both the head of sales and "
                              "the commercial director; missing: %(who)s.")
                            % {"who": ", ".join(missing)}, code="approval_missing")
    contract.signed_by, contract.signed_at = actor, timezone.now()
    contract.save(update_fields=["signed_by", "signed_at"])
    return contract
