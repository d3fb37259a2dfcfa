"""Reports, under /reports/. Each helper's paths in its own block."""

app_name = "reports"

urlpatterns = [
    # Dashboard and the summary (reports.views.dashboard)

    # Excel exports and their progress (reports.views.exports)

    # 1C exchange (reports.views.accounting)

    # Analytic reports: tariffs, penetration, employees, speed, churn, operations
]
