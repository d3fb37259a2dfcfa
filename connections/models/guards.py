"""Conditions of the stage transitions (API.md's "rule" column). Each is a function of the
card with a ``reason`` naming what is missing; the workflow service reports the first unmet
one as a 409 / a message, and ``available_transitions`` leaves out what they forbid."""

from django.core.exceptions import ObjectDoesNotExist
from django.utils.translation import gettext_lazy as _

from connections import hooks


def condition(reason):
    def wrap(func):
        func.reason = reason
        return func
    return wrap


def contract_of(card):
    try:
        return card.contract
    except ObjectDoesNotExist:
        return None


def installation_of(card):
    try:
        return card.installation
    except ObjectDoesNotExist:
        return None


@condition(_("no survey is scheduled yet (an urgent one waits for the technical director's "
             "approval)"))
def survey_scheduled(card) -> bool:
    return card.surveys.filter(status="scheduled", date__isnull=False).exists()


@condition(_("there is no positive expertise act: the NOC head records the survey result"))
def positive_expertise(card) -> bool:
    return card.surveys.filter(status="done", possible=True).exists()


@condition(_("non-standard terms need approval by both the head of sales and the commercial "
             "director"))
def nonstandard_approved(card) -> bool:
    contract = contract_of(card)
    return contract is None or not contract.nonstandard or contract.approved


@condition(_("a contract clause is disputed: the lawyer must resolve it first"))
def no_open_dispute(card) -> bool:
    contract = contract_of(card)
    return contract is None or not contract.disputed or contract.resolved_at is not None


@condition(_("the contract is not signed"))
def contract_signed(card) -> bool:
    contract = contract_of(card)
    return contract is not None and contract.signed_at is not None


@condition(_("connection fee not paid (the technical director may allow installation before "
             "payment)"))
def paid_or_override(card) -> bool:
    if card.fee_paid_at:
        return True
    installation = installation_of(card)
    return installation is not None and installation.override_by_id is not None


@condition(_("connection fee not paid"))
def fee_paid(card) -> bool:
    return card.fee_paid_at is not None


@condition(_("the installation is not scheduled: the crew leader plans a crew and a date"))
def installation_scheduled(card) -> bool:
    installation = installation_of(card)
    return installation is not None and installation.scheduled


@condition(_("no act of completed works with the client's IP address"))
def works_act_with_ip(card) -> bool:
    installation = installation_of(card)
    return installation is not None and bool(installation.completed_at
                                             and installation.ip_address)


class Extra:
    """The conditions higher apps register for one transition (``hooks.guards``); billing's
    "a tariff is agreed" for ``sign_contract``, for example."""

    def __init__(self, transition: str):
        self.transition = transition
        self.reason = ""

    def explain(self, card) -> str | None:
        for check in hooks.guards.get(self.transition, ()):
            reason = check(card)
            if reason:
                return reason
        return None

    def __call__(self, card) -> bool:
        return self.explain(card) is None
