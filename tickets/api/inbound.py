"""Inbound webhooks (SP-2): raw email from a mail gateway, and messenger updates."""

import hmac

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.decorators import (
    api_view,
    authentication_classes,
    permission_classes,
    throttle_classes,
)
from rest_framework.exceptions import ValidationError
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.throttling import AnonRateThrottle

from ispcrm import roles
from tickets.intake import email as intake_email
from tickets.intake import messenger

INBOUND_RESULT = inline_serializer("InboundResult", {
    "ticket": serializers.IntegerField(allow_null=True),
    "created": serializers.BooleanField()})


def _raw_message(request) -> bytes | str:
    """The message as the body (any content type but JSON), or JSON {"message": raw}."""
    if request.content_type.startswith("application/json"):
        data = request.data
        return data.get("message", "") if isinstance(data, dict) else ""
    return request.body


@extend_schema(request={"message/rfc822": bytes}, responses={
    201: OpenApiResponse(INBOUND_RESULT, description="A new ticket."),
    200: OpenApiResponse(INBOUND_RESULT, description="A reply threaded into a ticket, or a "
                                                     "message taken before.")})
@api_view(["POST"])
@permission_classes([IsAuthenticated])
def inbound_email(request):
    """One RFC 822 message from the mail gateway: a new ticket (201) or a reply threaded
    into one (200); a malformed message is 400 and changes nothing."""
    if not request.user.has_role(roles.SUPPORT):
        raise PermissionDenied(_("Only the support role posts inbound mail."))
    outcome = intake_email.receive(_raw_message(request))
    if outcome is None:
        return Response({"detail": _("The message was rejected: see the intake log."),
                         "code": "rejected"}, status=status.HTTP_400_BAD_REQUEST)
    return Response({"ticket": outcome.ticket.pk, "created": outcome.created},
                    status=status.HTTP_201_CREATED if outcome.created else status.HTTP_200_OK)


@extend_schema(request=dict, responses={200: inline_serializer(
    "TelegramResult", {"ticket": serializers.IntegerField(allow_null=True)})})
@api_view(["POST"])
@authentication_classes([])
@permission_classes([AllowAny])
@throttle_classes([AnonRateThrottle])
def inbound_telegram(request, secret: str):
    """Telegram's webhook. The secret in the path is the authentication: a wrong one is 404.
    Always 200 for an update (a JSON object) with the right one (Telegram retries anything
    else); a body that is not an object is not from Telegram: 400."""
    expected = settings.TELEGRAM_WEBHOOK_SECRET
    if not expected or not hmac.compare_digest(secret.encode(), expected.encode()):
        raise Http404
    update = request.data
    if not isinstance(update, dict):
        raise ValidationError(_("A Telegram update is a JSON object."))
    incoming = messenger.TelegramAdapter().parse(update)
    ticket = messenger.receive(incoming) if incoming is not None else None
    return Response({"ticket": ticket.pk if ticket else None})
