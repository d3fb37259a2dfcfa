"""The cabinet's records in the admin: read-only logs (they are written only by
cabinet.services.auth). Codes themselves are never shown — only their hash is stored."""

from django.contrib import admin

from .models import OneTimeCode, SeeAsLog


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(OneTimeCode)
class OneTimeCodeAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "card", "identifier", "channel", "delivered",
                    "requested_by", "attempts", "expires_at", "used_at"]
    list_filter = ["channel", "delivered", ("used_at", admin.EmptyFieldListFilter),
                   ("card", admin.EmptyFieldListFilter), "created_at"]
    search_fields = ["identifier", "card__name", "card__phone", "card__account__number"]
    list_select_related = ["card", "requested_by"]
    date_hierarchy = "created_at"
    exclude = ["code_hash"]
    readonly_fields = ["card", "identifier", "channel", "delivered", "requested_by",
                       "created_at", "expires_at", "attempts", "used_at"]


@admin.register(SeeAsLog)
class SeeAsLogAdmin(ReadOnlyAdmin):
    list_display = ["at", "staff", "card", "reason"]
    list_filter = ["at", "staff"]
    search_fields = ["reason", "card__name", "card__account__number", "staff__username",
                     "staff__last_name"]
    list_select_related = ["card", "staff"]
    date_hierarchy = "at"
    readonly_fields = ["staff", "card", "reason", "at"]

    def has_delete_permission(self, request, obj=None):
        return False  # an audit trail
