from django.contrib import admin
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin

from .models import Building, ClientCard, ClientContact, District, Street


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
    # The stage moves only through workflow transitions, which log who and why.
    readonly_fields = ["stage", "created_at", "updated_at"]
    inlines = [ClientContactInline]
    date_hierarchy = "created_at"
    show_full_result_count = False  # no COUNT(*) over every card on each page


@admin.register(ClientContact)
class ClientContactAdmin(SimpleHistoryAdmin):
    list_display = ["name", "role", "phone", "email", "client"]
    search_fields = ["name", "phone", "email", "client__name"]
    list_select_related = ["client"]
    autocomplete_fields = ["client"]
