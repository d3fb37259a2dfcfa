"""Utilization of included service hours (SP-10): for a month, the business clients on
hourly tariffs with their included, used and unused hours and what to propose. For sales,
the director and the helpdesk's group heads; the figures come from tickets.services.hours."""

from datetime import date

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import render
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext as _

from billing.money import month_start, next_month_start
from ispcrm import roles
from tickets.models import Category
from tickets.services import hours as service

ROLES = (*roles.SALES, roles.DIRECTOR)


def may_see_hours(user) -> bool:
    """Sales and the director sell the tariffs; a group head sees whose hours his people
    spend (the head of any helpdesk category)."""
    return (user.is_authenticated and user.has_role(*ROLES)) or (
        user.is_authenticated and Category.objects.filter(head=user).exists())


def _month(value: str) -> date:
    """``2026-11`` from the month picker; anything else: this month."""
    try:
        return date.fromisoformat(f"{value}-01")
    except ValueError:
        return month_start(timezone.localdate())


@login_required
def utilization(request):
    if not may_see_hours(request.user):
        raise PermissionDenied(_("This page is for sales, the director and support heads."))
    period = _month(request.GET.get("month", ""))
    return render(request, "tickets/hours.html", {
        "title": _("Service hours utilization"), "period": period,
        "previous": service.previous_month(period), "next": next_month_start(period),
        "rows": service.utilization(period), "low_percent": service.LOW_PERCENT,
    })


urlpatterns = [path("hours/", utilization, name="hours")]
