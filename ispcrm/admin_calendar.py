"""Admin for the production calendar (CalendarDay). Registered by ispcrm.admin."""

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.formats import date_format
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin

from ispcrm.models import CalendarDay


class YearListFilter(admin.SimpleListFilter):
    """One choice per year that has rows, so checking a year's seed takes one click."""

    title = _("year")
    parameter_name = "year"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin):
        years = model_admin.get_queryset(request).dates("date", "year", order="DESC")
        return [(str(day.year), str(day.year)) for day in years]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        if self.value() and self.value().isdigit():
            return queryset.filter(date__year=int(self.value()))
        return queryset


class CalendarDayAdmin(SimpleHistoryAdmin):
    list_display = ["date", "weekday", "kind", "branch", "note"]
    # The branch filter offers an empty choice too: the nationwide rows.
    list_filter = ["kind", "branch", YearListFilter]
    list_select_related = ["branch"]
    date_hierarchy = "date"
    search_fields = ["note"]
    ordering = ["date"]

    @admin.display(description=_("weekday"), ordering="date")
    def weekday(self, obj: CalendarDay) -> str:
        return date_format(obj.date, "l")
