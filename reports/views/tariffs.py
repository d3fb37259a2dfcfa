"""Tariff effectiveness (D9) at /reports/tariffs/: per tariff over its whole life (the
default) or a chosen period — subscribers month by month, revenue, ARPU, churn, lifetime
and the promotions' effect (reports.selectors.tariffs). ``?format=xlsx`` downloads the
tables."""

from __future__ import annotations

import datetime as dt
from urllib.parse import urlencode

from django import forms
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from billing.money import month_start
from reports import charts
from reports.access import reports_view
from reports.excel import Column, Sheet, xlsx_response
from reports.selectors.tariffs import first_subscription_day, tariff_report

from .dashboard import PRESETS, Period, PeriodForm, period_label

WHOLE_LIFE = "all"


class TariffPeriodForm(PeriodForm):
    """The dashboard's periods and "the whole life": from the month of the first
    subscription to today."""

    period = forms.ChoiceField(label=gettext_lazy("Period"), required=False,
                               choices=(*PRESETS, (WHOLE_LIFE, gettext_lazy("Whole life"))))
    default_preset = WHOLE_LIFE

    def whole_life(self, today: dt.date | None = None) -> Period:
        if not hasattr(self, "_whole_life"):
            today = today or timezone.localdate()
            first = month_start(min(first_subscription_day() or today, today))
            self._whole_life = Period(first, today, first, first, WHOLE_LIFE)
        return self._whole_life

    def clean(self):
        data = self.cleaned_data
        if data.get("period") == WHOLE_LIFE:
            start, end = data.get("date_from"), data.get("date_to")
            whole = self.whole_life()
            if not (start or end) or (start, end) == (whole.start, whole.end):
                return data
            data["period"] = "custom"  # dates changed by hand
        return super().clean()

    def chosen_period(self, today: dt.date | None = None) -> Period:
        data = self.cleaned_data if self.is_bound and self.is_valid() else {}
        if (data.get("period") or self.default_preset) == WHOLE_LIFE:
            return self.whole_life(today)
        return super().chosen_period(today)


def tariff_links(path: str, form: PeriodForm, current: str) -> list[dict]:
    branch = form.selected_branch()
    links = []
    for value, label in ((WHOLE_LIFE, gettext_lazy("Whole life")), *PRESETS[:-1]):
        query = {"period": value, **({"branch": branch.pk} if branch else {})}
        links.append({"label": label, "url": f"{path}?{urlencode(query)}",
                      "active": value == current})
    return links


# --- Excel ----------------------------------------------------------------------------------

def tariff_sheets(report: dict) -> list[Sheet]:
    totals = [
        [t["name"], t["total"]["at_start"], t["total"]["at_end"], t["total"]["subscriptions"],
         t["total"]["joined"], t["total"]["terminated"], t["total"]["switched"],
         t["total"]["churn"], t["total"]["revenue"], t["total"]["recurring"], t["total"]["arpu"],
         t["total"]["ended"], t["total"]["lifetime_days"], t["total"]["lifetime_months"],
         t["total"]["running"], t["total"]["running_days"]]
        for t in report["tariffs"]]
    if report["no_tariff"]:
        totals.append([_("No tariff"), *[None] * 7, report["no_tariff"], *[None] * 7])
    everything = report["total"]
    totals.append([_("Total"), everything["at_start"], everything["at_end"],
                   everything["subscriptions"], everything["joined"], everything["terminated"],
                   everything["switched"], everything["churn"], everything["revenue"],
                   everything["recurring"], everything["arpu"], everything["ended"],
                   everything["lifetime_days"], everything["lifetime_months"],
                   everything["running"], everything["running_days"]])
    monthly = [[t["name"], m["month"], m["at_start"], m["joined"], m["terminated"],
                m["switched"], m["at_end"], m["served"], m["churn"], m["revenue"],
                m["recurring"], m["arpu"]]
               for t in report["tariffs"] for m in t["months"]]
    promotions = [[t["name"], str(p["label"]), p["subscriptions"], p["served"], p["arpu"],
                   p["start_sum"], p["terminated"], p["churn"], p["ended"], p["lifetime_days"]]
                  for t in report["tariffs"] for p in t["promotions"]]
    return [
        Sheet(_("Tariffs"), [
            Column(_("Tariff"), "text", 28), Column(_("At the start"), "int"),
            Column(_("At the end"), "int"), Column(_("Subscriptions"), "int", 14),
            Column(_("Joined"), "int"), Column(_("Terminated"), "int", 12),
            Column(_("Moved to another tariff"), "int", 16),
            Column(_("Churn, % a month"), "percent", 14), Column(_("Revenue"), "money"),
            Column(_("Without connection fees"), "money", 18), Column(_("ARPU"), "money"),
            Column(_("Ended"), "int"), Column(_("Average lifetime, days"), "decimal", 16),
            Column(_("Average lifetime, months"), "decimal", 16),
            Column(_("Running"), "int"), Column(_("Running so far, days"), "decimal", 16),
        ], totals),
        Sheet(_("By month"), [
            Column(_("Tariff"), "text", 28), Column(_("Month"), "date"),
            Column(_("At the start"), "int"), Column(_("Joined"), "int"),
            Column(_("Terminated"), "int", 12), Column(_("Moved to another tariff"), "int", 16),
            Column(_("At the end"), "int"), Column(_("In service"), "int"),
            Column(_("Churn, %"), "percent"), Column(_("Revenue"), "money"),
            Column(_("Without connection fees"), "money", 18), Column(_("ARPU"), "money"),
        ], monthly),
        Sheet(_("Promotions"), [
            Column(_("Tariff"), "text", 28), Column(_("Promotion"), "text", 24),
            Column(_("Subscriptions"), "int", 14), Column(_("Subscriber-months"), "int", 16),
            Column(_("ARPU"), "money"), Column(_("At the starts of months"), "int", 16),
            Column(_("Terminated"), "int", 12), Column(_("Churn, % a month"), "percent", 14),
            Column(_("Ended"), "int"), Column(_("Average lifetime, days"), "decimal", 16),
        ], promotions),
    ]


# --- the page -------------------------------------------------------------------------------

def _charts(report: dict) -> None:
    """A chart of subscribers at each month's end per tariff (the numbers are in the table
    under it)."""
    labels = [key.strftime("%m.%Y") for key in report["months"]]
    for tariff in report["tariffs"]:
        tariff["chart"] = {"id": f"chart-tariff-{tariff['id']}", "labels": labels, "series": [
            charts.Series(_("Subscribers at the month's end"),
                          [m["at_end"] for m in tariff["months"]], "primary"),
            charts.Series(_("Terminated"), [m["terminated"] for m in tariff["months"]],
                          "danger")]}


@reports_view
def tariffs(request):
    form = TariffPeriodForm(request.GET or None)
    period = form.chosen_period()
    branch = form.selected_branch()
    report = tariff_report(period.start, period.end, branch)
    if request.GET.get("format") == "xlsx":
        return xlsx_response(f"tariffs_{period.start:%Y-%m-%d}_{period.end:%Y-%m-%d}",
                             tariff_sheets(report))
    _charts(report)
    query = request.GET.copy()
    query["format"] = "xlsx"
    return render(request, "reports/tariffs.html", {
        "form": form.for_display(period), "period": period, "branch": branch,
        "period_label": period_label(report["first"], report["last"]) if report["months"]
        else period_label(period.start, period.end),
        "links": tariff_links(request.path, form, period.preset),
        "report": report, "xlsx_query": query.urlencode(),
    })
