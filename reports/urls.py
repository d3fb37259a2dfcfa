"""Reports, under /reports/. Each helper's paths in its own block."""

from django.urls import path

from reports.views import accounting, dashboard, exports, speed
from reports.views import churn as churn_views
from reports.views import employees as employee_views
from reports.views import operations as operation_views
from reports.views import penetration as penetration_views
from reports.views import tariffs as tariff_views

app_name = "reports"

urlpatterns = [
    # Dashboard and the summary (reports.views.dashboard)
    path("", dashboard.dashboard, name="dashboard"),
    path("all/", dashboard.index, name="index"),
    path("connection-speed/", speed.connection_speed, name="connection_speed"),

    # Excel exports and their progress (reports.views.exports)
    path("exports/", exports.export_list, name="export_list"),
    path("exports/start/", exports.export_start_view, name="export_start"),
    path("exports/<uuid:public_id>/", exports.export_detail, name="export_detail"),
    path("exports/<uuid:public_id>/download/", exports.export_download,
         name="export_download"),

    # 1C exchange (reports.views.accounting)
    path("accounting/", accounting.accounting, name="accounting"),
    path("accounting/<uuid:public_id>/download/", accounting.accounting_download,
         name="accounting_download"),
    path("accounting/<uuid:public_id>/rebuild/", accounting.accounting_rebuild,
         name="accounting_rebuild"),

    # Analytic reports: tariffs, penetration, employees, speed, churn, operations
    # Tariffs, penetration and churn (analytics-a: reports.views.tariffs, .penetration, .churn)
    path("tariffs/", tariff_views.tariffs, name="tariffs"),
    path("penetration/", penetration_views.penetration, name="penetration"),
    path("churn/", churn_views.churn, name="churn"),
    path("churn/plan/", churn_views.churn_plan, name="churn_plan"),
    # Employees and operational reports (reports.views.employees, reports.views.operations)
    path("employees/", employee_views.employees, name="employees"),
    path("operations/", operation_views.operations, name="operations"),
    path("operations/managers/", operation_views.managers, name="operations_managers"),
    path("operations/overdue/", operation_views.overdue, name="operations_overdue"),
    path("operations/tickets/", operation_views.tickets, name="operations_tickets"),
    path("operations/hours/", operation_views.hours, name="operations_hours"),
]
