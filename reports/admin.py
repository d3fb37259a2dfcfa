"""Reports in the admin: exports are listed for support (who exported what, and why one
failed) and never edited — the app makes them; the churn plan is set here by month; the
summary's rollup is shown read-only."""

from django.contrib import admin
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from .models import ChurnPlan, ExportJob, RollupAccount, RollupMonth, RollupRow


@admin.register(ExportJob)
class ExportJobAdmin(admin.ModelAdmin):
    list_display = ("created_at", "kind", "requested_by", "status", "progress", "automatic",
                    "period", "finished_at", "expires_at")
    list_filter = ("status", "kind", "automatic", "created_at")
    search_fields = ("kind", "file_name", "requested_by__username", "requested_by__last_name",
                     "error")
    date_hierarchy = "created_at"
    list_select_related = ("requested_by",)
    readonly_fields = ("public_id", "kind", "params", "requested_by", "automatic", "period",
                       "status", "progress_done", "progress_total", "download", "file_name",
                       "error", "created_at", "started_at", "finished_at", "expires_at")
    fields = readonly_fields

    @admin.display(description=_("progress"))
    def progress(self, job):
        if job.progress_total:
            return f"{job.progress_done} / {job.progress_total} ({job.percent}%)"
        return job.progress_done

    @admin.display(description=_("file"))
    def download(self, job):
        if not job.file:
            return "—"
        from django.urls import reverse

        return format_html('<a href="{}">{}</a>',
                           reverse("reports:export_download", args=[job.public_id]),
                           job.file_name or job.file.name)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(ChurnPlan)
class ChurnPlanAdmin(admin.ModelAdmin):
    list_display = ("month", "segment", "percent")
    list_filter = ("segment", "month")
    list_editable = ("percent",)
    ordering = ("-month", "segment")
    date_hierarchy = "month"


class _ReadOnly(admin.ModelAdmin):
    """The summary's rollup is made by reports.rollups (beat, ``manage.py summary_rollups``);
    the admin shows it for support and never edits it."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(RollupMonth)
class RollupMonthAdmin(_ReadOnly):
    list_display = ("__str__", "stale", "built_at", "build_seconds", "opening", "grouped_on",
                    "version")
    list_filter = ("stale",)
    date_hierarchy = "month"


@admin.register(RollupAccount)
class RollupAccountAdmin(_ReadOnly):
    """One account's stored month, in kopecks, to answer "why is this figure so" (a million
    rows a year: found by account number, never counted whole)."""

    list_display = ("month", "account", "collected", "debt", "current", "charged", "closing")
    list_select_related = ("account",)
    search_fields = ("=account__number",)
    date_hierarchy = "month"
    show_full_result_count = False


@admin.register(RollupRow)
class RollupRowAdmin(_ReadOnly):
    list_display = ("month", "branch", "district", "connection_type", "tariff", "new_clients",
                    "lost_clients", "active", "collected_total", "charged")
    list_filter = ("connection_type", "branch")
    date_hierarchy = "month"
    show_full_result_count = False
