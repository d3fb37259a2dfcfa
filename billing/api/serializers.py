from django.utils import timezone
from rest_framework import serializers

from billing.models import Account, LedgerEntry, Payment, Tariff
from billing.money import next_month_start


class MoneyField(serializers.DecimalField):
    """Money as a string with two decimals (API.md)."""

    def __init__(self, **kwargs):
        super().__init__(max_digits=14, decimal_places=2, coerce_to_string=True, **kwargs)


class TariffSerializer(serializers.ModelSerializer):
    monthly_fee = MoneyField(read_only=True)
    connection_fee = MoneyField(read_only=True)
    pause_fee = MoneyField(read_only=True)
    active = serializers.SerializerMethodField()

    class Meta:
        model = Tariff
        fields = ["id", "name", "monthly_fee", "connection_fee", "speed_mbps", "active",
                  "description", "segment", "connection_types", "pause_fee", "valid_from",
                  "valid_to"]

    def get_active(self, tariff) -> bool:
        return tariff.is_open()


class AccountSerializer(serializers.ModelSerializer):
    client = serializers.IntegerField(source="client_id", read_only=True)
    balance = MoneyField(read_only=True)
    tariff = serializers.SerializerMethodField()
    tariff_name = serializers.SerializerMethodField()
    next_charge_at = serializers.SerializerMethodField()

    class Meta:
        model = Account
        fields = ["number", "client", "balance", "status", "tariff", "tariff_name",
                  "next_charge_at", "activated_on", "closed_on", "never_block",
                  "deferred_until", "promised_until", "block_due_on"]

    def _subscription(self, account):
        if not hasattr(account, "_current_subscription"):
            from billing.services.pricing import subscription_on

            account._current_subscription = subscription_on(account, timezone.localdate())
        return account._current_subscription

    def get_tariff(self, account) -> int | None:
        subscription = self._subscription(account)
        return subscription.tariff_id if subscription else None

    def get_tariff_name(self, account) -> str | None:
        subscription = self._subscription(account)
        return subscription.tariff.name if subscription else None

    def get_next_charge_at(self, account) -> str | None:
        """The next monthly charge: the first day of next month, while in service."""
        if account.status not in (Account.Status.ACTIVE, Account.Status.PAUSED):
            return None
        day = next_month_start(timezone.localdate())
        moment = timezone.make_aware(timezone.datetime(day.year, day.month, day.day))
        return moment.isoformat()


class LedgerEntrySerializer(serializers.ModelSerializer):
    at = serializers.DateTimeField(source="created_at")
    amount = MoneyField()
    balance_after = MoneyField()

    class Meta:
        model = LedgerEntry
        fields = ["at", "kind", "amount", "balance_after", "description", "charge_kind",
                  "period"]


class PaymentInSerializer(serializers.Serializer):
    """Input of POST /payments/: the amount is parsed by the service (exactly two decimals,
    positive), so it is taken as text here."""

    account = serializers.CharField(max_length=20)
    amount = serializers.CharField(max_length=32)
    external_id = serializers.CharField(max_length=100)
    channel = serializers.ChoiceField(choices=Payment.Channel.choices)
    paid_at = serializers.DateTimeField(required=False)
    payer = serializers.CharField(max_length=255, required=False, allow_blank=True)

    def to_internal_value(self, data):
        if isinstance(data, dict) and isinstance(data.get("amount"), int | float):
            data = {**data, "amount": str(data["amount"])}  # a JSON number is fine too
        return super().to_internal_value(data)


class PaymentSerializer(serializers.ModelSerializer):
    account = serializers.CharField(source="account.number")
    amount = MoneyField()
    balance = MoneyField(source="account.balance")

    class Meta:
        model = Payment
        fields = ["id", "account", "amount", "balance", "status", "channel", "external_id",
                  "paid_at"]
