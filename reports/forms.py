"""Forms of the report pages that change something: the churn plan (R1)."""

from __future__ import annotations

from decimal import Decimal

from django import forms
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from billing.money import month_start
from ispcrm import roles
from reports.models import ChurnPlan

PLAN_ROLES = (roles.DIRECTOR, roles.COMMERCIAL_DIRECTOR)


def can_set_churn_plan(user) -> bool:
    """The director and the commercial director set the churn plan (R1)."""
    return user.is_authenticated and (user.is_superuser or user.has_role(*PLAN_ROLES))


class ChurnPlanForm(forms.Form):
    """The planned churn of a month for a segment; setting it again replaces it."""

    month = forms.DateField(
        label=_("Month"), input_formats=["%Y-%m"],
        widget=forms.DateInput(attrs={"type": "month", "class": "form-control"},
                               format="%Y-%m"))
    segment = forms.ChoiceField(label=_("Segment"), choices=ChurnPlan.Segment.choices,
                                widget=forms.Select(attrs={"class": "form-select"}))
    percent = forms.DecimalField(
        label=_("Planned churn, %"), min_value=Decimal(0), max_value=Decimal(100),
        max_digits=5, decimal_places=2,
        widget=forms.NumberInput(attrs={"class": "form-control", "step": "0.01",
                                        "min": "0", "max": "100"}))

    def clean_month(self):
        return month_start(self.cleaned_data["month"])

    @transaction.atomic
    def save(self) -> ChurnPlan:
        # One row per month and segment (a unique constraint): an update, or a new row.
        plan, _created = ChurnPlan.objects.update_or_create(
            month=self.cleaned_data["month"], segment=self.cleaned_data["segment"],
            defaults={"percent": self.cleaned_data["percent"]})
        return plan
