from django.db import transaction
from django.db.models import Q
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, viewsets
from rest_framework.decorators import action

from connections import hooks, selectors
from connections.models import Building
from connections.services.address import building_create
from connections.services.clients import client_create, client_update

from .serializers import (
    BuildingClientSerializer,
    BuildingSerializer,
    ClientSerializer,
    HistoryEventSerializer,
)


class BuildingViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin,
                      mixins.CreateModelMixin, viewsets.GenericViewSet):
    """The address register. `?search=` matches street and house."""

    serializer_class = BuildingSerializer
    queryset = Building.objects.none()  # for the permission class's model lookup

    def get_queryset(self):
        qs = Building.objects.select_related("street__city", "district").order_by("pk")
        search = self.request.query_params.get("search", "").strip()
        if search:
            qs = selectors.building_search(search)
        return qs

    def perform_create(self, serializer):
        data = serializer.validated_data
        serializer.instance = building_create(
            city=data["street"]["city"]["name"], district=data["district"]["name"],
            street=data["street"]["name"], house=data["house"],
            households=data.get("households", 0), latitude=data.get("latitude"),
            longitude=data.get("longitude"),
        )

    @extend_schema(responses=BuildingClientSerializer(many=True))
    @action(detail=True, methods=["get"], serializer_class=BuildingClientSerializer)
    def clients(self, request, pk=None):
        """Every client card at the building (M6)."""
        building = self.get_object()
        page = self.paginate_queryset(selectors.building_clients(building))
        return self.get_paginated_response(BuildingClientSerializer(page, many=True).data)


class ClientViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin,
                    mixins.UpdateModelMixin, viewsets.GenericViewSet):
    """Client cards. A new card starts in the `commercial` stage."""

    serializer_class = ClientSerializer
    queryset = selectors.client_queryset().none()
    http_method_names = ["get", "post", "patch", "head", "options"]

    def get_queryset(self):
        search = self.request.query_params.get("search", "").strip()
        if search:
            return selectors.client_search(search, limit=None)
        qs = selectors.client_queryset().order_by("-pk")
        stage = self.request.query_params.get("stage")
        return qs.filter(Q(stage=stage)) if stage else qs

    @transaction.atomic
    def perform_create(self, serializer):
        data = dict(serializer.validated_data)
        tariff = data.pop("tariff", None)
        card = client_create(actor=self.request.user, **data)
        if tariff is not None:
            hooks.agree_tariff(card, tariff, self.request.user)
        serializer.instance = card

    def perform_update(self, serializer):
        data = dict(serializer.validated_data)
        data.pop("tariff", None)  # the terms change on the card page, not here
        serializer.instance = client_update(card=serializer.instance, actor=self.request.user,
                                            **data)

    @extend_schema(responses=HistoryEventSerializer(many=True))
    @action(detail=True, methods=["get"], serializer_class=HistoryEventSerializer)
    def history(self, request, pk=None):
        """Everything that happened to the client, newest first."""
        page = self.paginate_queryset(selectors.client_history(self.get_object(),
                                                                  request.user))
        return self.get_paginated_response(HistoryEventSerializer(page, many=True).data)
