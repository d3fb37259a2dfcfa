"""POST /api/v1/bank-statements/ (API.md, Billing): upload a 1CClientBankExchange statement."""

from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from billing.models import BankStatement
from billing.services.bank import check_statement_size, statement_import


class BankStatementUploadSerializer(serializers.Serializer):
    file = serializers.FileField(
        allow_empty_file=False,
        help_text="The statement as the bank client exported it (1CClientBankExchange, "
                  "Кодировка=Windows or DOS), at most 5 MB.")


class BankStatementResultSerializer(serializers.ModelSerializer):
    class Meta:
        model = BankStatement
        fields = ["id", "imported", "duplicates", "unmatched"]
        extra_kwargs = {
            "imported": {"help_text": "New incoming documents recorded (credited or queued)."},
            "duplicates": {"help_text": "Incoming documents already imported before."},
            "unmatched": {"help_text": "Of the new ones, those waiting for the accountant."},
        }


class BankStatementErrorSerializer(serializers.Serializer):
    """The API's error shape (for the schema); 400s also carry ``file``."""

    detail = serializers.CharField()
    code = serializers.CharField()


class BankStatementImportView(APIView):
    """Import a bank statement: incoming documents (recipient = the statement's own account)
    are credited to the account named in the purpose or found by the payer's INN, the rest
    wait in the accountant's queue. Idempotent per document. A malformed file → 400 naming
    the line; nothing from it is imported."""

    parser_classes = [MultiPartParser, FormParser]
    queryset = BankStatement.objects.none()  # RolePermissions: POST needs add_bankstatement

    @extend_schema(
        operation_id="bank_statements_create",
        request={"multipart/form-data": BankStatementUploadSerializer},
        responses={
            201: BankStatementResultSerializer,
            400: OpenApiResponse(BankStatementErrorSerializer,
                                 description="Malformed, empty or too large file; the detail "
                                             "names the line."),
            401: OpenApiResponse(BankStatementErrorSerializer, description="No credentials."),
            403: OpenApiResponse(BankStatementErrorSerializer,
                                 description="The role may not import statements."),
        },
        examples=[OpenApiExample("Imported", response_only=True, status_codes=["201"],
                                 value={"id": 7, "imported": 3, "duplicates": 0,
                                        "unmatched": 1})],
    )
    def post(self, request):
        form = BankStatementUploadSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        upload = form.validated_data["file"]
        check_statement_size(upload.size)  # before reading it into memory
        statement = statement_import(data=upload.read(), file_name=upload.name,
                                     actor=request.user)
        return Response(BankStatementResultSerializer(statement).data,
                        status=status.HTTP_201_CREATED)
