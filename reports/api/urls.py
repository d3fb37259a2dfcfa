"""The reports part of API.md, mounted under /api/v1/."""

from django.urls import path

from .views import SummaryView

urlpatterns = [
    # Dashboard and the summary (dashboard helper)
    path("reports/summary/", SummaryView.as_view(), name="reports-summary"),
]
