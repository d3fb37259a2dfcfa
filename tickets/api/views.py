"""Tickets, categories and outages over the API (API.md). Staff act by their role's model
permissions; a cabinet client (a user with ``client_card``) sees and opens only his own
tickets, comments on them and rates them."""

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from ispcrm.api.permissions import StaffOrCabinet, cabinet_card
from tickets.models import Category, Outage, Ticket
from tickets.services import outages, tickets

from .serializers import (
    CategorySerializer,
    CommentInSerializer,
    CommentSerializer,
    OutageNotifySerializer,
    OutageResolveSerializer,
    OutageSerializer,
    OutageUpdateSerializer,
    RatingInSerializer,
    TicketCreateSerializer,
    TicketSerializer,
)


def _valid(serializer_class, request, **kwargs) -> dict:
    serializer = serializer_class(data=request.data, **kwargs)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


class CategoryViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """The routing tree (active nodes), for pickers."""

    serializer_class = CategorySerializer
    permission_classes = [StaffOrCabinet]
    queryset = Category.objects.filter(active=True).select_related("parent", "group")
    pagination_class = None


class TicketViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Tickets: `?status=`, `?assignee=` (user id), `?client=` (card id) filter the list."""

    serializer_class = TicketSerializer
    permission_classes = [StaffOrCabinet]
    queryset = Ticket.objects.none()  # for the permission class's model lookup

    def get_queryset(self):
        qs = Ticket.objects.select_related("category", "group", "assignee").order_by("-pk")
        card = cabinet_card(self.request.user)
        if card is not None:
            return qs.filter(client=card)
        params = self.request.query_params
        for name in ("status", "assignee", "client"):
            value = params.get(name, "").strip()
            if name != "status" and value and not value.isdigit():
                raise ValidationError({name: _("Give the id as a number.")})
            if value:
                qs = qs.filter(**{name: value})
        return qs

    def get_serializer_context(self):
        context = super().get_serializer_context()
        context["client_view"] = cabinet_card(self.request.user) is not None
        return context

    def _out(self, ticket, code=status.HTTP_200_OK) -> Response:
        return Response(self.get_serializer(Ticket.objects.get(pk=ticket.pk)).data, status=code)

    @extend_schema(request=TicketCreateSerializer, responses={201: TicketSerializer})
    def create(self, request):
        """Open a ticket: routed by category, SLA deadlines in working time."""
        data = _valid(TicketCreateSerializer, request)
        card = cabinet_card(request.user)
        if card is not None:
            if data.get("client") not in (None, card):
                raise PermissionDenied(_("You may open tickets only for yourself."))
            data["client"] = card
        with transaction.atomic():
            ticket = tickets.ticket_open(actor=request.user, **data)
            outages.link_to_active_outage(ticket)
        return self._out(ticket, status.HTTP_201_CREATED)

    @extend_schema(request=CommentInSerializer, responses={201: CommentSerializer})
    @action(detail=True, methods=["post"])
    def comments(self, request, pk=None):
        """Add to the thread: a client's message, a staff reply or an internal note."""
        ticket = self.get_object()
        data = _valid(CommentInSerializer, request)
        if cabinet_card(request.user) is not None:
            kind, internal = "client", False
        else:
            if not request.user.has_perm("tickets.add_comment"):
                raise PermissionDenied(_("Your role may not write in tickets."))
            internal = data["internal"]
            kind = "note" if internal else "reply"
        comment = tickets.comment_add(ticket=ticket, author=request.user, body=data["body"],
                                      kind=kind, internal=internal)
        return Response(CommentSerializer(comment).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=RatingInSerializer, responses={201: RatingInSerializer})
    @action(detail=True, methods=["post"])
    def rating(self, request, pk=None):
        """The client rates his resolved ticket, once."""
        ticket = self.get_object()
        if cabinet_card(request.user) is None:
            raise PermissionDenied(_("Only the ticket's client rates it."))
        data = _valid(RatingInSerializer, request)
        rating = tickets.rate(ticket=ticket, user=request.user, score=data["score"],
                              comment=data["comment"])
        return Response({"score": rating.score, "comment": rating.comment,
                         "created_at": rating.created_at}, status=status.HTTP_201_CREATED)


class OutageViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin,
                    viewsets.GenericViewSet):
    """Outages; `?active=1` lists the unresolved ones."""

    serializer_class = OutageSerializer
    queryset = Outage.objects.none()

    def get_queryset(self):
        qs = Outage.objects.prefetch_related("buildings", "districts", "streets",
                                             "updates__author").order_by("-started_at", "-pk")
        active = self.request.query_params.get("active")
        if active is not None:
            try:
                active = serializers.BooleanField().to_internal_value(active)
            except ValidationError as exc:
                raise ValidationError({"active": exc.detail}) from None
        if active:
            qs = qs.filter(resolved_at__isnull=True)
        return qs

    @extend_schema(parameters=[OpenApiParameter("active", bool)])
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    def perform_create(self, serializer):
        data = serializer.validated_data
        serializer.instance = outages.outage_create(
            actor=self.request.user, description=data["description"],
            buildings=data.get("buildings", ()), districts=data.get("districts", ()),
            streets=data.get("streets", ()), eta=data.get("eta"),
            started_at=data.get("started_at"))

    def _out(self, outage, code=status.HTTP_200_OK) -> Response:
        return Response(self.get_serializer(self.get_queryset().get(pk=outage.pk)).data,
                        status=code)

    @extend_schema(request=OutageUpdateSerializer, responses={201: OutageSerializer})
    @action(detail=True, methods=["post"])
    def updates(self, request, pk=None):
        """A progress note, optionally with a new expected repair time."""
        outage = self.get_object()
        data = _valid(OutageUpdateSerializer, request)
        outages.outage_update(outage=outage, actor=request.user, text=data["text"],
                              eta=data.get("eta"))
        return self._out(outage, status.HTTP_201_CREATED)

    @extend_schema(request=OutageResolveSerializer, responses=OutageSerializer)
    @action(detail=True, methods=["post"])
    def resolve(self, request, pk=None):
        """Repaired: optionally resolves the linked tickets; compensates a long outage."""
        outage = self.get_object()
        data = _valid(OutageResolveSerializer, request)
        outages.outage_resolve(outage=outage, actor=request.user, **data)
        return self._out(outage)

    @extend_schema(request=OutageNotifySerializer, responses={200: dict})
    @action(detail=True, methods=["post"])
    def notify(self, request, pk=None):
        """Tell the affected active clients; answers how many messages went out."""
        outage = self.get_object()
        outages.check_can_manage(request.user)
        data = _valid(OutageNotifySerializer, request)
        return Response(outages.notify_affected(outage, data["text"], data["subject"]))
