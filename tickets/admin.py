"""The helpdesk in the admin: the routing tree and the SLA policies are configuration admins
edit here (Q1, SP-3); tickets and outages are worked on their pages, so their clocks and the
records of what was sent are read-only here."""

from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from .models import (
    CallScript,
    Category,
    ChecklistItem,
    Comment,
    Outage,
    OutageUpdate,
    Rating,
    RetentionCall,
    ReviewTask,
    SlaNotice,
    SlaPolicy,
    Ticket,
    TimeEntry,
)


class ServiceWritten(admin.ModelAdmin):
    """Rows the services write (notices sent, ratings given): read, never edited here."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Category)
class CategoryAdmin(SimpleHistoryAdmin):
    list_display = ["name", "code", "parent", "group", "person", "head", "active", "order"]
    list_filter = ["active", "group", "parent"]
    search_fields = ["name", "code", "client_name"]
    list_select_related = ["parent__parent", "group", "person", "head"]
    autocomplete_fields = ["parent", "person", "head"]
    prepopulated_fields = {"code": ["name"]}


@admin.register(SlaPolicy)
class SlaPolicyAdmin(SimpleHistoryAdmin):
    list_display = ["order", "name", "segment", "min_arpu", "category", "priority",
                    "first_response_hours", "update_hours", "resolution_hours",
                    "warn_percent", "active"]
    list_display_links = ["name"]
    list_filter = ["active", "segment", "priority"]
    search_fields = ["name", "client__name", "category__name"]
    list_select_related = ["category", "client"]
    autocomplete_fields = ["client", "category"]


class CommentInline(admin.TabularInline):
    model = Comment
    extra = 0
    fields = ["created_at", "kind", "author", "internal", "body"]
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Ticket)
class TicketAdmin(SimpleHistoryAdmin):
    list_display = ["id", "subject", "client", "category", "status", "priority", "assignee",
                    "created_at", "resolution_due", "first_response_breached",
                    "resolution_breached"]
    list_filter = ["status", "priority", "channel", "branch", "first_response_breached",
                   "resolution_breached", "category"]
    search_fields = ["=id", "subject", "client__name", "client__phone", "external_ref"]
    list_select_related = ["client", "category__parent", "assignee"]
    autocomplete_fields = ["client", "category", "assignee", "outage"]
    # The status and the SLA clock move only through the services (they pause and recompute).
    readonly_fields = ["status", "policy", "created_at", "first_response_due",
                       "next_update_due", "resolution_due", "first_response_at",
                       "resolved_at", "closed_at", "paused_since", "paused_for",
                       "first_response_breached", "resolution_breached",
                       "formal_confirmed_at"]
    inlines = [CommentInline]
    date_hierarchy = "created_at"
    show_full_result_count = False


@admin.register(Comment)
class CommentAdmin(ServiceWritten):
    list_display = ["created_at", "ticket", "kind", "author", "internal"]
    list_filter = ["kind", "internal"]
    search_fields = ["body", "ticket__subject"]
    list_select_related = ["ticket", "author"]


@admin.register(SlaNotice)
class SlaNoticeAdmin(ServiceWritten):
    list_display = ["sent_at", "ticket", "kind", "due", "recipient"]
    list_filter = ["kind"]
    search_fields = ["ticket__subject", "=ticket__id"]
    list_select_related = ["ticket", "recipient"]


@admin.register(Rating)
class RatingAdmin(ServiceWritten):
    list_display = ["created_at", "ticket", "score", "assignee", "comment"]
    list_filter = ["score"]
    search_fields = ["comment", "ticket__subject", "assignee__last_name"]
    list_select_related = ["ticket", "assignee"]


@admin.register(ReviewTask)
class ReviewTaskAdmin(admin.ModelAdmin):
    list_display = ["created_at", "rating", "head", "done_at"]
    list_filter = ["done_at"]
    search_fields = ["findings", "rating__ticket__subject"]
    list_select_related = ["rating__ticket", "head"]
    readonly_fields = ["rating", "created_at"]


@admin.register(TimeEntry)
class TimeEntryAdmin(admin.ModelAdmin):
    list_display = ["day", "ticket", "user", "minutes", "note"]
    list_filter = ["day"]
    search_fields = ["note", "ticket__subject", "user__last_name"]
    list_select_related = ["ticket", "user"]
    autocomplete_fields = ["ticket"]


class OutageUpdateInline(admin.TabularInline):
    model = OutageUpdate
    extra = 0
    fields = ["created_at", "author", "text", "eta"]
    readonly_fields = ["created_at", "author"]


@admin.register(Outage)
class OutageAdmin(SimpleHistoryAdmin):
    list_display = ["started_at", "description", "eta", "resolved_at", "compensated_at"]
    list_filter = ["resolved_at"]
    search_fields = ["description", "buildings__street__name"]
    filter_horizontal = ["buildings", "districts", "streets"]
    readonly_fields = ["compensated_at"]
    inlines = [OutageUpdateInline]
    date_hierarchy = "started_at"


@admin.register(OutageUpdate)
class OutageUpdateAdmin(admin.ModelAdmin):
    list_display = ["created_at", "outage", "author", "eta"]
    search_fields = ["text", "outage__description"]
    list_select_related = ["outage", "author"]


# --- Retention (R2, R5): the scripts and checklists are edited here; calls are worked on
# their page, so what the manager recorded is read-only.


class ChecklistItemInline(admin.TabularInline):
    model = ChecklistItem
    extra = 1
    fields = ["order", "text"]


@admin.register(CallScript)
class CallScriptAdmin(admin.ModelAdmin):
    list_display = ["title", "situation", "order", "active"]
    list_filter = ["situation", "active"]
    list_editable = ["order", "active"]
    search_fields = ["title", "text"]
    inlines = [ChecklistItemInline]


@admin.register(RetentionCall)
class RetentionCallAdmin(admin.ModelAdmin):
    list_display = ["due", "client", "manager", "status", "outcome", "reason_text"]
    list_filter = ["status", "outcome", "due"]
    search_fields = ["client__name", "client__phone", "manager__last_name"]
    list_select_related = ["client", "manager"]
    raw_id_fields = ["client", "manager"]
    readonly_fields = ["reasons", "reason_text", "answers", "called_at", "called_by",
                       "created_at"]
    date_hierarchy = "due"


@admin.register(ChecklistItem)
class ChecklistItemAdmin(admin.ModelAdmin):
    list_display = ["script", "order", "text"]
    list_filter = ["script"]
    search_fields = ["text", "script__title"]
    list_select_related = ["script"]
