"""The connection workflow over the API (API.md): fire a transition, and the actions
around the transitions — contract approvals and disputes, the urgent survey decision, the
installation override and slots, questions to colleagues."""

from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.dateparse import parse_date
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.decorators import api_view, permission_classes
from rest_framework.exceptions import ValidationError
from rest_framework.permissions import BasePermission
from rest_framework.response import Response

from connections import selectors
from connections.models import ClientCard, ColleagueQuestion
from connections.models.guards import contract_of
from connections.services import contracts, installations, questions, surveys, workflow
from connections.standard import role_labels
from ispcrm import roles

from .serializers import ClientSerializer


class CanViewClients(BasePermission):
    """Anyone who may see client cards reaches these endpoints; each action then checks
    the role it needs (403 with the reason)."""

    def has_permission(self, request, view) -> bool:
        return bool(request.user and request.user.is_authenticated
                    and request.user.has_perm("connections.view_clientcard"))


def _require(user, *role_names: str) -> None:
    """403 naming the roles, for actions whose service leaves the role to the caller."""
    if not user.has_role(*role_names):
        raise PermissionDenied(_("Only %(roles)s may do this.") % {
            "roles": role_labels(role_names)})


def _card(pk) -> ClientCard:
    return get_object_or_404(selectors.client_queryset(), pk=pk)


def _body(request) -> dict:
    if not isinstance(request.data, dict):
        raise ValidationError({"detail": "A JSON object is expected."})
    return request.data


def _card_response(request, card) -> Response:
    card = selectors.client_queryset().get(pk=card.pk)
    return Response(ClientSerializer(card, context={"request": request}).data)


@extend_schema(
    request=inline_serializer("TransitionPayload", {"payload": serializers.DictField(
        required=False, help_text="The transition's fields (API.md), at the top level.")}),
    responses=ClientSerializer,
    description="Fire one stage transition; the body is its payload (API.md).")
@api_view(["POST"])
@permission_classes([CanViewClients])
def transition(request, pk: int, name: str):
    card = _card(pk)
    try:
        card = workflow.fire(card=card, name=name, actor=request.user, payload=_body(request))
    except LookupError:
        raise Http404 from None
    return _card_response(request, card)


MESSAGE = inline_serializer("Message", {"detail": serializers.CharField()})


@extend_schema(request=inline_serializer("ContractDraft", {
    "nonstandard": serializers.BooleanField(required=False),
    "connection_fee": serializers.DecimalField(14, 2, required=False)}),
    responses=ClientSerializer)
@api_view(["POST"])
@permission_classes([CanViewClients])
def contract_draft(request, pk: int):
    """Prepare the contract from the commercial terms (a fee other than the tariff's makes
    the terms non-standard)."""
    card = _card(pk)
    body = _body(request)
    if not request.user.has_role(roles.MANAGER):
        raise PermissionDenied(_("Only a manager drafts the contract."))
    contracts.draft(card=card, actor=request.user,
                    nonstandard=workflow.payload_bool(body, "nonstandard"),
                    connection_fee=workflow.payload_money(body, "connection_fee"))
    return _card_response(request, card)


def _contract(card):
    contract = contract_of(card)
    if contract is None:
        from django.utils.translation import gettext as _

        from ispcrm.errors import RuleViolation
        raise RuleViolation(_("The contract is not drafted yet."), code="no_contract")
    return contract


@extend_schema(request=None, responses=ClientSerializer)
@api_view(["POST"])
@permission_classes([CanViewClients])
def contract_approve(request, pk: int):
    """Approve non-standard terms: the head of sales and the commercial director, each."""
    card = _card(pk)
    contracts.approve(contract=_contract(card), actor=request.user)
    return _card_response(request, card)


@extend_schema(request=inline_serializer("ContractDispute", {"clause": serializers.CharField()}),
               responses=ClientSerializer)
@api_view(["POST"])
@permission_classes([CanViewClients])
def contract_dispute(request, pk: int):
    """The client disputes a clause: the contract goes to the lawyer's queue."""
    card = _card(pk)
    _require(request.user, roles.MANAGER)  # as on the card page
    contracts.dispute(contract=_contract(card), actor=request.user,
                      clause=workflow.payload_text(_body(request), "clause", required=True))
    return _card_response(request, card)


@extend_schema(request=inline_serializer("ContractResolve",
                                         {"resolution": serializers.CharField()}),
               responses=ClientSerializer)
@api_view(["POST"])
@permission_classes([CanViewClients])
def contract_resolve(request, pk: int):
    card = _card(pk)
    contracts.resolve(contract=_contract(card), actor=request.user,
                      resolution=workflow.payload_text(_body(request), "resolution", required=True))
    return _card_response(request, card)


@extend_schema(request=inline_serializer("UrgentDecision", {
    "approve": serializers.BooleanField(), "date": serializers.DateField(required=False)}),
    responses=ClientSerializer)
@api_view(["POST"])
@permission_classes([CanViewClients])
def survey_decide(request, pk: int):
    """The technical director approves an urgent survey (on any working day) or declines
    it (the next regular survey day)."""
    card = _card(pk)
    body = _body(request)
    survey = surveys.current(card)
    if survey is None:
        raise Http404
    date = parse_date(str(body.get("date"))) if body.get("date") else None
    if body.get("date") and date is None:
        raise ValidationError({"date": "Enter the date as YYYY-MM-DD."})
    surveys.decide_urgent(survey=survey, actor=request.user,
                          approve=workflow.payload_bool(body, "approve", default=True), date=date)
    return _card_response(request, card)


@extend_schema(request=inline_serializer("InstallationOverride",
                                         {"reason": serializers.CharField()}),
               responses=ClientSerializer)
@api_view(["POST"])
@permission_classes([CanViewClients])
def installation_override(request, pk: int):
    """The technical director allows installation before the connection fee is paid."""
    card = _card(pk)
    installations.allow_before_payment(card=card, actor=request.user,
                                       reason=workflow.payload_text(_body(request), "reason"))
    return _card_response(request, card)


@extend_schema(responses=inline_serializer("FreeSlot", {
    "date": serializers.DateField(), "time": serializers.TimeField(),
    "crew": serializers.IntegerField(), "crew_name": serializers.CharField()}, many=True),
    parameters=[OpenApiParameter("after", str, description="YYYY-MM-DD; default today")])
@api_view(["GET"])
@permission_classes([CanViewClients])
def installation_slots(request, pk: int):
    """Free crew slots for the client's branch, the earliest (suggested) first."""
    card = _card(pk)
    after = parse_date(request.query_params.get("after", "")) or timezone.localdate()
    slots = installations.free_slots(card.branch, after=after)
    return Response([{"date": day, "time": slot.strftime("%H:%M"), "crew": crew.pk,
                      "crew_name": crew.name} for day, slot, crew in slots])


@extend_schema(request=inline_serializer("Question", {
    "role": serializers.ChoiceField(choices=ColleagueQuestion.ROLE_CHOICES),
    "question": serializers.CharField()}), responses=ClientSerializer)
@api_view(["POST"])
@permission_classes([CanViewClients])
def question_ask(request, pk: int):
    """Ask the chief engineer, the NOC head, the head of sales or the commercial director."""
    card = _card(pk)
    body = _body(request)
    _require(request.user, *roles.SALES)  # as on the card page
    questions.ask(card=card, actor=request.user, role=str(body.get("role", "")),
                  question=workflow.payload_text(body, "question", required=True))
    return _card_response(request, card)
