"""Billing in the admin. Money is read-only everywhere: balances and entries change only
through the services (payments, corrections), which keep the ledger and balance together."""

from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from .models import (
    Account,
    AccountService,
    BankStatement,
    BankTransfer,
    BillingSettings,
    Claim,
    Document,
    DocumentCounter,
    LedgerEntry,
    Notice,
    OnlinePayment,
    Pause,
    Payment,
    PromisedPayment,
    Promotion,
    Service,
    Subscription,
    Tariff,
    Terms,
    Usage,
)


class ReadOnlyAdmin(admin.ModelAdmin):
    """Records written only by services: listed and searchable, never edited here."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Tariff)
class TariffAdmin(SimpleHistoryAdmin):
    list_display = ["name", "segment", "monthly_fee", "connection_fee", "speed_mbps",
                    "valid_from", "valid_to"]
    list_filter = ["segment", "valid_to"]
    search_fields = ["name"]

    def has_delete_permission(self, request, obj=None):
        return False  # a tariff is closed (valid until), never deleted


@admin.register(Service)
class ServiceAdmin(SimpleHistoryAdmin):
    list_display = ["name", "code", "monthly_fee", "active"]
    list_filter = ["active"]
    search_fields = ["name", "code"]


@admin.register(Promotion)
class PromotionAdmin(SimpleHistoryAdmin):
    list_display = ["name", "tariff", "discount_percent", "months", "new_clients_only",
                    "valid_from", "valid_to"]
    list_filter = ["new_clients_only", "tariff"]
    search_fields = ["name"]
    filter_horizontal = ["districts"]


class SubscriptionInline(admin.TabularInline):
    model = Subscription
    fields = ["tariff", "start", "end", "promotion", "discount_percent", "discount_until"]
    readonly_fields = fields
    extra = 0
    can_delete = False


class LedgerInline(admin.TabularInline):
    model = LedgerEntry
    fields = ["created_at", "kind", "amount", "description"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    ordering = ["-created_at", "-id"]
    max_num = 0


@admin.register(Account)
class AccountAdmin(SimpleHistoryAdmin):
    list_display = ["number", "client", "status", "balance", "activated_on", "never_block",
                    "block_due_on"]
    list_filter = ["status", "never_block"]
    search_fields = ["number", "client__name", "client__phone", "client__inn"]
    list_select_related = ["client"]
    readonly_fields = ["number", "client", "status", "balance", "opened_at", "activated_on",
                       "closed_on", "debt_notice_on", "block_due_on", "blocked_on",
                       "promised_until"]
    fields = [*readonly_fields, "never_block", "never_block_reason", "deferred_until",
              "deferral_reason"]
    inlines = [SubscriptionInline, LedgerInline]
    show_full_result_count = False

    def has_add_permission(self, request):
        return False  # accounts open with the contract (billing.services.accounts)

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Subscription)
class SubscriptionAdmin(ReadOnlyAdmin):
    list_display = ["account", "tariff", "start", "end", "promotion", "discount_percent"]
    list_filter = ["tariff"]
    search_fields = ["account__number"]
    list_select_related = ["account", "tariff", "promotion"]


@admin.register(AccountService)
class AccountServiceAdmin(ReadOnlyAdmin):
    list_display = ["account", "service", "start", "end"]
    list_filter = ["service"]
    search_fields = ["account__number"]


@admin.register(Pause)
class PauseAdmin(ReadOnlyAdmin):
    list_display = ["account", "start", "end", "resumed_on", "created_by"]
    search_fields = ["account__number"]


@admin.register(LedgerEntry)
class LedgerEntryAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "account", "kind", "charge_kind", "amount", "period",
                    "description", "created_by"]
    list_filter = ["kind", "charge_kind", "period"]
    search_fields = ["account__number", "description", "idem_key"]
    list_select_related = ["account", "created_by"]
    date_hierarchy = "created_at"
    show_full_result_count = False


@admin.register(Payment)
class PaymentAdmin(ReadOnlyAdmin):
    list_display = ["paid_at", "account", "amount", "channel", "external_id", "status",
                    "taken_by"]
    list_filter = ["channel", "status"]
    search_fields = ["account__number", "external_id", "payer"]
    list_select_related = ["account", "taken_by"]
    date_hierarchy = "paid_at"
    show_full_result_count = False


@admin.register(Notice)
class NoticeAdmin(ReadOnlyAdmin):
    list_display = ["sent_at", "account", "kind", "channel", "recipient", "status"]
    list_filter = ["kind", "channel", "status"]
    search_fields = ["account__number", "recipient", "text"]


@admin.register(PromisedPayment)
class PromisedPaymentAdmin(ReadOnlyAdmin):
    list_display = ["account", "granted_on", "until", "granted_by"]
    search_fields = ["account__number"]


@admin.register(Claim)
class ClaimAdmin(ReadOnlyAdmin):
    list_display = ["number", "account", "created_on", "debt", "paid_on"]
    search_fields = ["number", "account__number"]


@admin.register(Document)
class DocumentAdmin(ReadOnlyAdmin):
    list_display = ["number", "kind", "account", "period", "issued_on", "total"]
    list_filter = ["kind", "period"]
    search_fields = ["number", "account__number"]


@admin.register(DocumentCounter)
class DocumentCounterAdmin(ReadOnlyAdmin):
    list_display = ["series", "last_number"]


@admin.register(BankStatement)
class BankStatementAdmin(ReadOnlyAdmin):
    list_display = ["uploaded_at", "file_name", "our_account", "imported", "duplicates",
                    "unmatched", "uploaded_by"]
    search_fields = ["file_name"]


@admin.register(BankTransfer)
class BankTransferAdmin(ReadOnlyAdmin):
    list_display = ["doc_date", "doc_number", "amount", "payer_name", "payer_inn", "status",
                    "account"]
    list_filter = ["status"]
    search_fields = ["doc_number", "payer_name", "payer_inn", "purpose"]


@admin.register(BillingSettings)
class BillingSettingsAdmin(SimpleHistoryAdmin):
    list_display = ["__str__", "dunning_days", "claim_after_days", "referral_mode"]

    def has_add_permission(self, request):
        return not BillingSettings.objects.exists()  # one row

    def has_delete_permission(self, request, obj=None):
        return False



@admin.register(Terms)
class TermsAdmin(SimpleHistoryAdmin):
    """The preliminary commercial terms (CS-1); staff agree them on the client card."""

    list_display = ["client", "tariff", "payment_order", "volume", "updated_by"]
    list_filter = ["payment_order", "tariff"]
    search_fields = ["client__name", "client__phone", "volume", "notes"]
    list_select_related = ["client", "tariff", "updated_by"]
    autocomplete_fields = ["client"]
    filter_horizontal = ["services"]
    readonly_fields = ["updated_by"]


@admin.register(OnlinePayment)
class OnlinePaymentAdmin(ReadOnlyAdmin):
    """Card top-ups from the cabinet (billing.services.online): only the gateway's
    notifications change them. A succeeded one links to the payment it credited."""

    list_display = ["created_at", "account", "amount", "gateway", "status",
                    "gateway_payment_id", "payment", "finished_at", "error"]
    list_filter = ["status", "gateway"]
    search_fields = ["account__number", "gateway_payment_id", "public_id"]
    list_select_related = ["account", "payment"]
    readonly_fields = ["public_id", "account", "amount", "gateway", "status",
                       "gateway_payment_id", "payment", "created_by", "created_at",
                       "finished_at", "error"]
    date_hierarchy = "created_at"
    show_full_result_count = False


@admin.register(Usage)
class UsageAdmin(ReadOnlyAdmin):
    """Daily traffic per account from the collector (billing.services.usage): imported only,
    never edited here."""

    list_display = ["day", "account", "bytes_in", "bytes_out"]
    search_fields = ["account__number"]
    list_select_related = ["account"]
    readonly_fields = ["account", "day", "bytes_in", "bytes_out"]
    date_hierarchy = "day"
    show_full_result_count = False
