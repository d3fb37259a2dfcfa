from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from connections.models import Building, ClientCard, ConnectionType, Stage
from connections.services import workflow
from ispcrm.models import Branch, User


class BuildingSerializer(serializers.ModelSerializer):
    """Address as people write it: names in, names out (API.md)."""

    city = serializers.CharField(source="street.city.name", max_length=100)
    district = serializers.CharField(source="district.name", max_length=100)
    street = serializers.CharField(source="street.name", max_length=150)
    households = serializers.IntegerField(min_value=0, max_value=100000, default=0)

    class Meta:
        model = Building
        fields = ["id", "city", "district", "street", "house", "households", "latitude",
                  "longitude"]
        # The uniqueness of (street, house) is checked by the service with a clear message.
        validators = []


class AccountBriefField(serializers.Field):
    """The client's account once billing has opened one, else null. Billing adds
    ``ClientCard.account``; this app reads it without importing billing."""

    def to_representation(self, card):
        account = getattr(card, "account", None)
        if account is None:
            return None
        return {"number": account.number, "status": account.status,
                "balance": f"{account.balance:.2f}"}


ACCOUNT_SCHEMA = {
    "type": "object", "nullable": True,
    "properties": {"number": {"type": "string"}, "status": {"type": "string"},
                   "balance": {"type": "string", "example": "1500.00"}},
}


@extend_schema_field(ACCOUNT_SCHEMA)
class AccountField(AccountBriefField):
    def __init__(self, **kwargs):
        super().__init__(source="*", read_only=True, **kwargs)


class BuildingClientSerializer(serializers.ModelSerializer):
    account = AccountField()

    class Meta:
        model = ClientCard
        fields = ["id", "name", "premises", "stage", "account", "phone"]


class StaffBriefSerializer(serializers.ModelSerializer):
    name = serializers.CharField(source="__str__")

    class Meta:
        model = User
        fields = ["id", "username", "name"]


class ClientSerializer(serializers.ModelSerializer):
    kind = serializers.ChoiceField(choices=ClientCard.Kind.choices)
    # Longer than the stored form: people write "+7 (912) 345-67-89"; the service normalises.
    phone = serializers.CharField(max_length=32)
    connection_type = serializers.ChoiceField(choices=ConnectionType.choices)
    building = serializers.PrimaryKeyRelatedField(queryset=Building.objects.all())
    branch = serializers.PrimaryKeyRelatedField(queryset=Branch.objects.all(), required=False)
    lead_manager = StaffBriefSerializer(read_only=True, allow_null=True)
    lead_manager_id = serializers.PrimaryKeyRelatedField(
        source="lead_manager", queryset=User.objects.filter(is_active=True), required=False,
        write_only=True, help_text=_("Defaults to the manager who opens the card."),
    )
    referrer = serializers.PrimaryKeyRelatedField(queryset=ClientCard.objects.all(),
                                                  required=False, allow_null=True)
    tariff = serializers.IntegerField(
        write_only=True, required=False, min_value=1,
        help_text=_("The tariff agreed in the commercial terms."))
    stage = serializers.ChoiceField(choices=Stage.choices, read_only=True)
    available_transitions = serializers.SerializerMethodField()
    account = AccountField()
    address = serializers.CharField(read_only=True)

    class Meta:
        model = ClientCard
        fields = ["id", "kind", "name", "phone", "email", "inn", "kpp", "building", "address",
                  "premises", "connection_type", "branch", "lead_manager", "lead_manager_id",
                  "referrer", "tariff", "stage", "stage_changed_at", "available_transitions",
                  "account", "fee_paid_at", "activated_at", "notes", "created_at",
                  "updated_at"]
        read_only_fields = ["created_at", "updated_at", "stage_changed_at", "fee_paid_at",
                            "activated_at"]

    def get_available_transitions(self, card) -> list[str]:
        return workflow.available(card, self.context["request"].user)


class HistoryEventSerializer(serializers.Serializer):
    """One item of GET /clients/{id}/history/ (API.md)."""

    at = serializers.DateTimeField()
    kind = serializers.CharField()
    actor = serializers.CharField(allow_null=True)
    summary = serializers.CharField()
