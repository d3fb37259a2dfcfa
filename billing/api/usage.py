"""POST /api/v1/usage/ (API.md, Billing): daily traffic per account from the NetFlow/RADIUS
collector, for the "usage dropped" retention signal (R5)."""

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.parsers import JSONParser
from rest_framework.response import Response
from rest_framework.views import APIView

from billing.models import Usage
from billing.services.usage import MAX_API_ROWS, usage_import


class UsageRowSerializer(serializers.Serializer):
    """One row (for the schema; the service checks the rows itself, all of them at once)."""

    account = serializers.CharField(help_text="Account number.")
    day = serializers.DateField(help_text="The day the traffic was counted, not in the future.")
    bytes_in = serializers.IntegerField(min_value=0, help_text="Bytes to the client that day.")
    bytes_out = serializers.IntegerField(min_value=0, help_text="Bytes from the client that day.")


class UsageResultSerializer(serializers.Serializer):
    imported = serializers.IntegerField(help_text="Rows recorded (new or replacing a day).")


class UsageErrorSerializer(serializers.Serializer):
    detail = serializers.CharField()
    code = serializers.CharField()
    errors = serializers.ListField(child=serializers.CharField(), required=False,
                                   help_text="One message per bad row: «Row N: …».")


class UsageImportView(APIView):
    """Record daily traffic per account: a JSON list of at most 10,000 rows. All or nothing:
    any bad row (unknown account, bad or future date, negative or non-integer bytes, the same
    account and day twice) → 400 listing the rows, and nothing is recorded. A day sent again
    replaces what was sent before."""

    parser_classes = [JSONParser]
    queryset = Usage.objects.none()  # RolePermissions: POST needs billing.add_usage

    @extend_schema(
        operation_id="usage_create",
        request=UsageRowSerializer(many=True),
        responses={
            201: UsageResultSerializer,
            400: OpenApiResponse(UsageErrorSerializer,
                                 description="Not a list, more than 10,000 rows, or bad rows "
                                             "(each named in ``errors``); nothing recorded."),
            401: OpenApiResponse(UsageErrorSerializer, description="No credentials."),
            403: OpenApiResponse(UsageErrorSerializer,
                                 description="The role may not import usage."),
        },
        examples=[
            OpenApiExample("Two days", request_only=True, value=[
                {"account": "10000042", "day": "2026-11-22", "bytes_in": 2147483648,
                 "bytes_out": 104857600},
                {"account": "10000043", "day": "2026-11-22", "bytes_in": 0, "bytes_out": 0}]),
            OpenApiExample("Imported", response_only=True, status_codes=["201"],
                           value={"imported": 2}),
            OpenApiExample("Refused", response_only=True, status_codes=["400"], value={
                "detail": "Rows with errors: 1; nothing was imported.", "code": "invalid_usage",
                "errors": ["Row 2: unknown account 10000043."]}),
        ],
    )
    def post(self, request):
        rows = request.data
        if not isinstance(rows, list):
            return self.refused(_("Send a JSON list of rows."), "not_a_list")
        if len(rows) > MAX_API_ROWS:
            return self.refused(_("At most %(max)s rows per request, %(n)s sent.")
                                % {"max": MAX_API_ROWS, "n": len(rows)}, "too_many_rows")
        try:
            imported = usage_import(rows)
        except ValidationError as exc:
            bad = getattr(exc, "bad_rows", len(exc.messages))
            return self.refused(_("Rows with errors: %(n)s; nothing was imported.") % {"n": bad},
                                "invalid_usage", [str(message) for message in exc.messages])
        return Response({"imported": imported}, status=status.HTTP_201_CREATED)

    @staticmethod
    def refused(detail: str, code: str, errors: list[str] | None = None) -> Response:
        return Response({"detail": detail, "code": code, "errors": errors or []},
                        status=status.HTTP_400_BAD_REQUEST)
