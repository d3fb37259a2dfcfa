from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin

from .admin_calendar import CalendarDayAdmin
from .models import Branch, CalendarDay, City, User

admin.site.site_header = _("ispcrm administration")
admin.site.site_title = "ispcrm"


@admin.register(City)
class CityAdmin(SimpleHistoryAdmin):
    list_display = ["name"]
    search_fields = ["name"]


@admin.register(Branch)
class BranchAdmin(SimpleHistoryAdmin):
    list_display = ["name", "city", "time_zone", "work_start", "work_end", "phone"]
    list_filter = ["city"]
    search_fields = ["name", "city__name", "address"]


@admin.register(User)
class UserAdmin(DjangoUserAdmin, SimpleHistoryAdmin):
    list_display = ["username", "last_name", "first_name", "branch", "roles", "is_active",
                    "last_login"]
    list_filter = ["branch", "groups", "is_active", "is_staff", "is_superuser"]
    search_fields = ["username", "first_name", "last_name", "email", "phone"]
    fieldsets = [
        *DjangoUserAdmin.fieldsets,
        (_("Work"), {"fields": ["branch", "position", "phone"]}),
    ]
    add_fieldsets = [
        *DjangoUserAdmin.add_fieldsets,
        (_("Work"), {"fields": ["branch", "position", "groups"]}),
    ]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("branch").prefetch_related("groups")

    @admin.display(description=_("roles"))
    def roles(self, obj: User) -> str:
        return ", ".join(group.name for group in obj.groups.all())


admin.site.register(CalendarDay, CalendarDayAdmin)
