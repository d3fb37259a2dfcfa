from django.http import Http404
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from billing.models import Account, Payment, Tariff
from billing.selectors import ledger_with_balance
from billing.services.payments import payment_accept
from ispcrm.api.permissions import StaffOrCabinetReading, cabinet_card
from ispcrm.api.schema import ErrorSerializer

from .serializers import (
    AccountSerializer,
    LedgerEntrySerializer,
    PaymentInSerializer,
    PaymentSerializer,
    TariffSerializer,
)


class TariffViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Tariffs, the ones on sale first."""

    serializer_class = TariffSerializer
    queryset = Tariff.objects.order_by("-valid_from", "monthly_fee")


class AccountViewSet(mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """An account and its ledger. A cabinet client sees only his own account."""

    serializer_class = AccountSerializer
    permission_classes = [StaffOrCabinetReading]
    queryset = Account.objects.select_related("client")
    lookup_field = "number"

    def get_queryset(self):
        queryset = super().get_queryset()
        card = cabinet_card(self.request.user)
        if card is not None:
            return queryset.filter(client=card)
        return queryset

    @extend_schema(responses=LedgerEntrySerializer(many=True))
    @action(detail=True, methods=["get"], serializer_class=LedgerEntrySerializer)
    def ledger(self, request, number=None):
        """Every entry, oldest first, with the balance after each (entries sum to it)."""
        entries = ledger_with_balance(self.get_object()).order_by("created_at", "id")
        page = self.paginate_queryset(entries)
        return self.get_paginated_response(LedgerEntrySerializer(page, many=True).data)


# Built once per process: building a serializer's fields costs about a millisecond a call
# (model introspection, deep copies), a tenth of a payment's CPU; run_validation and
# to_representation keep no state on the instance.
_PAYMENT_IN = PaymentInSerializer()
_PAYMENT_OUT = PaymentSerializer()


class PaymentViewSet(mixins.CreateModelMixin, mixins.RetrieveModelMixin,
                     viewsets.GenericViewSet):
    """Payments from cash desks, banks, card gateways and terminals (M3, C3)."""

    queryset = Payment.objects.select_related("account")
    serializer_class = PaymentSerializer

    @extend_schema(request=PaymentInSerializer, responses={
        201: PaymentSerializer,
        200: OpenApiResponse(PaymentSerializer, description="The same payment again: the "
                                                            "first one, no second credit."),
        404: OpenApiResponse(ErrorSerializer, description="Unknown account.")})
    def create(self, request, *args, **kwargs):
        fields = _PAYMENT_IN.run_validation(request.data)  # ValidationError: a 400
        try:
            payment, created = payment_accept(
                account=fields["account"], amount=fields["amount"], channel=fields["channel"],
                external_id=fields["external_id"], paid_at=fields.get("paid_at"),
                payer=fields.get("payer", ""), actor=request.user)
        except Account.DoesNotExist:
            raise Http404 from None  # the same 404 as an unknown number anywhere
        # payment.account carries the committed balance (payment_accept): no re-read.
        return Response(_PAYMENT_OUT.to_representation(payment),
                        status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)
