from django.contrib import admin
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin

from .models import (
    Building,
    CardDocument,
    ClientCard,
    ClientContact,
    ColleagueQuestion,
    Contract,
    ContractCounter,
    Crew,
    District,
    EstimateLine,
    Installation,
    StageLog,
    Street,
    Survey,
    SurveyDayPlan,
    WorkflowSettings,
)


@admin.register(District)
class DistrictAdmin(SimpleHistoryAdmin):
    list_display = ["name", "city"]
    list_filter = ["city"]
    search_fields = ["name"]


@admin.register(Street)
class StreetAdmin(SimpleHistoryAdmin):
    list_display = ["name", "city"]
    list_filter = ["city"]
    search_fields = ["name"]


@admin.register(Building)
class BuildingAdmin(SimpleHistoryAdmin):
    list_display = ["__str__", "district", "city", "households", "latitude", "longitude"]
    list_filter = ["street__city", "district"]
    search_fields = ["street__name", "house", "district__name"]
    list_select_related = ["street__city", "district"]
    autocomplete_fields = ["street", "district"]

    @admin.display(description=_("city"), ordering="street__city__name")
    def city(self, obj: Building) -> str:
        return obj.street.city.name


class ClientContactInline(admin.TabularInline):
    model = ClientContact
    extra = 0


@admin.register(ClientCard)
class ClientCardAdmin(SimpleHistoryAdmin):
    list_display = ["id", "name", "kind", "phone", "building", "connection_type", "stage",
                    "branch", "lead_manager", "created_at"]
    list_filter = ["stage", "kind", "connection_type", "branch"]
    search_fields = ["name", "phone", "inn", "email", "building__street__name"]
    list_select_related = ["building__street", "branch", "lead_manager"]
    autocomplete_fields = ["building", "referrer", "lead_manager"]
    # The stage and what its transitions stamp move only through the workflow (the log
    # says who and why); the fee-paid stamp comes from billing.
    readonly_fields = ["stage", "stage_changed_at", "fee_paid_at", "activated_at",
                       "connection_days", "terminated_at", "termination_reason",
                       "termination_controllable", "created_at", "updated_at"]
    inlines = [ClientContactInline]
    date_hierarchy = "created_at"
    show_full_result_count = False  # no COUNT(*) over every card on each page


@admin.register(ClientContact)
class ClientContactAdmin(SimpleHistoryAdmin):
    list_display = ["name", "role", "phone", "email", "client"]
    search_fields = ["name", "phone", "email", "client__name"]
    list_select_related = ["client"]
    autocomplete_fields = ["client"]


# The connection standard (CS-1…CS-7). Stages move only through the workflow service, so
# what a transition wrote (the log, generated documents, the contract's money) is read-only.

class ReadOnlyAdmin(admin.ModelAdmin):
    """Rows only services write: listed and searchable, never edited here."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(WorkflowSettings)
class WorkflowSettingsAdmin(admin.ModelAdmin):
    list_display = ["branch", "survey_weekdays", "survey_capacity", "survey_term_days",
                    "install_term_lan", "install_term_radio", "install_term_leased_line",
                    "install_term_satellite", "contract_series"]
    search_fields = ["branch__name", "contract_series"]
    list_select_related = ["branch"]


@admin.register(StageLog)
class StageLogAdmin(admin.ModelAdmin):
    list_display = ["at", "card", "transition", "source", "target", "actor", "summary"]
    list_filter = ["transition", "target", "card__branch"]
    search_fields = ["card__name", "card__phone", "summary"]
    list_select_related = ["card", "actor"]
    date_hierarchy = "at"
    show_full_result_count = False

    # The log is the record of what happened: it is read, never written or removed here.
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(CardDocument)
class CardDocumentAdmin(admin.ModelAdmin):
    list_display = ["created_at", "card", "kind", "title", "number", "file", "created_by"]
    list_filter = ["kind"]
    search_fields = ["card__name", "title", "number"]
    list_select_related = ["card", "created_by"]
    autocomplete_fields = ["card"]
    readonly_fields = ["stage_log", "created_by", "created_at"]
    date_hierarchy = "created_at"
    show_full_result_count = False


@admin.register(ColleagueQuestion)
class ColleagueQuestionAdmin(admin.ModelAdmin):
    list_display = ["asked_at", "card", "role", "short_question", "asked_by", "answered_at",
                    "answered_by"]
    list_filter = ["role", ("answered_at", admin.EmptyFieldListFilter)]
    search_fields = ["card__name", "question", "answer"]
    list_select_related = ["card", "asked_by", "answered_by"]
    autocomplete_fields = ["card"]
    readonly_fields = ["asked_by", "asked_at", "answered_by", "answered_at"]

    @admin.display(description=_("question"))
    def short_question(self, obj: ColleagueQuestion) -> str:
        return str(obj)


class EstimateLineInline(admin.TabularInline):
    model = EstimateLine
    fields = ["kind", "item", "unit", "quantity", "unit_price"]
    extra = 0


@admin.register(Survey)
class SurveyAdmin(admin.ModelAdmin):
    list_display = ["card", "branch", "status", "urgent", "date", "due_date", "possible",
                    "nonstandard", "recorded_by"]
    list_filter = ["status", "urgent", "possible", "nonstandard", "branch"]
    search_fields = ["card__name", "card__phone", "notes", "access_notes"]
    list_select_related = ["card", "branch", "recorded_by"]
    autocomplete_fields = ["card"]
    readonly_fields = ["requested_by", "requested_at", "approved_by", "approved_at",
                       "recorded_by", "recorded_at"]
    date_hierarchy = "date"
    inlines = [EstimateLineInline]


@admin.register(EstimateLine)
class EstimateLineAdmin(admin.ModelAdmin):
    """Lines across all estimates, e.g. to see what equipment surveys ask for."""

    list_display = ["item", "kind", "unit", "quantity", "unit_price", "survey"]
    list_filter = ["kind"]
    search_fields = ["item", "survey__card__name"]
    list_select_related = ["survey__card"]
    raw_id_fields = ["survey"]


@admin.register(SurveyDayPlan)
class SurveyDayPlanAdmin(ReadOnlyAdmin):
    list_display = ["date", "branch", "surveys", "built_at"]
    list_filter = ["branch"]
    search_fields = ["branch__name"]
    date_hierarchy = "date"


@admin.register(Contract)
class ContractAdmin(admin.ModelAdmin):
    list_display = ["number", "card", "branch", "tariff_name", "connection_fee", "monthly_fee",
                    "nonstandard", "disputed", "signed_at"]
    list_filter = ["nonstandard", "disputed", "branch"]
    search_fields = ["number", "card__name", "card__inn", "tariff_name"]
    list_select_related = ["card", "branch"]
    # The money and the number are what billing charged and what was signed: read-only.
    readonly_fields = ["number", "card", "branch", "tariff_name", "monthly_fee",
                       "connection_fee", "terms", "drafted_by", "drafted_at",
                       "sales_approved_by", "sales_approved_at", "director_approved_by",
                       "director_approved_at", "lawyer", "resolved_at", "signed_by",
                       "signed_at"]
    date_hierarchy = "drafted_at"
    show_full_result_count = False

    def has_add_permission(self, request):
        return False  # drafted on the card (connections.services.contracts)

    def has_delete_permission(self, request, obj=None):
        return False  # contract numbers are never reused


@admin.register(ContractCounter)
class ContractCounterAdmin(ReadOnlyAdmin):
    list_display = ["branch", "year", "last"]
    list_filter = ["year"]
    search_fields = ["branch__name"]


@admin.register(Crew)
class CrewAdmin(admin.ModelAdmin):
    list_display = ["name", "branch", "members", "phone", "active"]
    list_filter = ["active", "branch"]
    search_fields = ["name", "members", "phone"]
    list_select_related = ["branch"]


@admin.register(Installation)
class InstallationAdmin(admin.ModelAdmin):
    list_display = ["card", "due_date", "date", "slot", "crew", "priority", "confirmed_at",
                    "override_by", "ip_address", "completed_at"]
    list_filter = ["priority", "crew", "temporary_modem",
                   ("completed_at", admin.EmptyFieldListFilter)]
    search_fields = ["card__name", "card__phone", "ip_address", "special_equipment"]
    list_select_related = ["card", "crew", "override_by"]
    autocomplete_fields = ["card"]
    readonly_fields = ["planned_by", "planned_at", "confirmed_by", "confirmed_at",
                       "override_by", "completed_by", "completed_at", "created_at"]
    date_hierarchy = "date"
    show_full_result_count = False
