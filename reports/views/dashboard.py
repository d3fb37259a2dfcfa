"""The director's dashboard (D8) at /reports/ and the list of reports.

For a period and, optionally, a branch: the summary figures (reports.selectors.summary) as
big numbers against the previous period of the same length, money collected split into debt,
current and prepaid, the months of the period as charts, and tables by tariff and by
geography (city, district). ``?format=xlsx`` downloads the whole dashboard as a workbook,
``&table=month|tariff|geography|summary`` one table of it.

The figures are one SQL statement per period (months that are over come from the cache)
plus the look-ups of district and tariff names, whatever the size of the base.

``PeriodForm`` (quick periods, custom dates, branch) is shared by other report pages."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from urllib.parse import urlencode

from django import forms
from django.shortcuts import render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from billing.money import month_start, next_month_start
from ispcrm.models import Branch
from reports import charts
from reports.access import reports_view
from reports.catalog import REPORTS
from reports.excel import Column, Sheet, xlsx_response
from reports.selectors.summary import MAX_DAYS, rollup, summary_facts, total

PRESETS = (
    ("month", gettext_lazy("This month")),
    ("last_month", gettext_lazy("Last month")),
    ("quarter", gettext_lazy("This quarter")),
    ("year", gettext_lazy("This year")),
    ("custom", gettext_lazy("Custom")),
)


@dataclass(frozen=True)
class Period:
    start: dt.date
    end: dt.date
    previous_start: dt.date
    previous_end: dt.date
    preset: str

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1


def _quarter_start(day: dt.date) -> dt.date:
    return dt.date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)


def _add_months(day: dt.date, months: int) -> dt.date:
    index = day.year * 12 + day.month - 1 + months
    return dt.date(index // 12, index % 12 + 1, 1)


def _last_day(first: dt.date, months: int) -> dt.date:
    return _add_months(first, months) - dt.timedelta(days=1)


def preset_period(preset: str, today: dt.date) -> Period:
    """A quick period and the one before it: the previous month, quarter or year."""
    if preset == "last_month":
        start = _add_months(month_start(today), -1)
        span = 1
    elif preset == "quarter":
        start, span = _quarter_start(today), 3
    elif preset == "year":
        start, span = dt.date(today.year, 1, 1), 12
    else:  # this month
        start, span = month_start(today), 1
    previous = _add_months(start, -span)
    return Period(start, _last_day(start, span), previous, start - dt.timedelta(days=1), preset)


def custom_period(start: dt.date, end: dt.date) -> Period:
    """Dates chosen by hand, and as many days just before them."""
    days = (end - start).days + 1
    return Period(start, end, start - dt.timedelta(days=days), start - dt.timedelta(days=1),
                  "custom")


class PeriodForm(forms.Form):
    """A quick period (``period``) or dates chosen by hand, and a branch. The date fields
    show the period in force; dates that differ from the quick period's make it custom."""

    period = forms.ChoiceField(label=gettext_lazy("Period"), choices=PRESETS, required=False)
    date_from = forms.DateField(
        label=gettext_lazy("From"), required=False,
        widget=forms.DateInput(attrs={"type": "date", "class": "form-control"},
                               format="%Y-%m-%d"))
    date_to = forms.DateField(
        label=gettext_lazy("To"), required=False,
        widget=forms.DateInput(attrs={"type": "date", "class": "form-control"},
                               format="%Y-%m-%d"))
    branch = forms.ModelChoiceField(
        label=gettext_lazy("Branch"), required=False,
        queryset=Branch.objects.select_related("city"),
        empty_label=gettext_lazy("All branches"),
        widget=forms.Select(attrs={"class": "form-select"}))

    default_preset = "month"

    def clean(self):
        data = super().clean()
        start, end = data.get("date_from"), data.get("date_to")
        preset = data.get("period") or self.default_preset
        if preset != "custom" and (start or end):
            quick = preset_period(preset, timezone.localdate())
            if (start, end) != (quick.start, quick.end):
                preset = "custom"
        data["period"] = preset
        if preset == "custom":
            if not start:
                self.add_error("date_from", _("Choose the first day."))
            if not end:
                self.add_error("date_to", _("Choose the last day."))
            if start and end and start > end:
                self.add_error("date_to", _("The period ends before it starts."))
            elif start and end and (end - start).days >= MAX_DAYS:
                self.add_error("date_to", _("The period is longer than ten years."))
        return data

    def chosen_period(self, today: dt.date | None = None) -> Period:
        """The chosen period; the default quick one when the form is empty or wrong."""
        today = today or timezone.localdate()
        data = self.cleaned_data if self.is_bound and self.is_valid() else {}
        if data.get("period") == "custom":
            return custom_period(data["date_from"], data["date_to"])
        return preset_period(data.get("period") or self.default_preset, today)

    def selected_branch(self):
        return self.cleaned_data.get("branch") if self.is_bound and self.is_valid() else None

    def for_display(self, period: Period) -> PeriodForm:
        """The form to show: this one with its errors, else one filled with the period."""
        if self.is_bound and not self.is_valid():
            return self
        return type(self)(initial={"period": period.preset, "date_from": period.start,
                                   "date_to": period.end, "branch": self.selected_branch()})


def period_links(path: str, form: PeriodForm, current: str) -> list[dict]:
    """The quick-period buttons, keeping the chosen branch."""
    branch = form.selected_branch()
    links = []
    for value, label in PRESETS[:-1]:
        query = {"period": value, **({"branch": branch.pk} if branch else {})}
        links.append({"label": label, "url": f"{path}?{urlencode(query)}",
                      "active": value == current})
    return links


def period_label(start: dt.date, end: dt.date) -> str:
    if start == month_start(start) and end == next_month_start(start) - dt.timedelta(days=1):
        return date_format(start, "F Y")
    return f"{start:%d.%m.%Y} – {end:%d.%m.%Y}"


# --- the figures ----------------------------------------------------------------------------

# name, label, kind, a rise is good, what it counts
CARDS = (
    ("new_clients", gettext_lazy("New clients"), "count", True,
     gettext_lazy("contracts signed")),
    ("lost_clients", gettext_lazy("Lost clients"), "count", False,
     gettext_lazy("contracts ended")),
    ("connected", gettext_lazy("Connected"), "count", True, gettext_lazy("clients activated")),
    ("disconnected", gettext_lazy("Disconnected"), "count", False,
     gettext_lazy("terminated after service")),
    ("collected_total", gettext_lazy("Collected"), "money", True,
     gettext_lazy("payments received")),
    ("charged", gettext_lazy("Charged"), "money", True, gettext_lazy("charges posted")),
    ("arpu", gettext_lazy("ARPU"), "money", True,
     gettext_lazy("monthly charges per account in service")),
)

SPLIT = (
    ("collected_debt", gettext_lazy("Debt (earlier months)"), "danger"),
    ("collected_current", gettext_lazy("Current month"), "success"),
    ("collected_prepaid", gettext_lazy("Prepaid"), "primary"),
)

TABLE_FIGURES = (
    ("new_clients", gettext_lazy("New"), "int"),
    ("lost_clients", gettext_lazy("Lost"), "int"),
    ("connected", gettext_lazy("Connected"), "int"),
    ("disconnected", gettext_lazy("Disconnected"), "int"),
    ("collected_total", gettext_lazy("Collected"), "money"),
    ("collected_debt", gettext_lazy("of it debt"), "money"),
    ("collected_current", gettext_lazy("current"), "money"),
    ("collected_prepaid", gettext_lazy("prepaid"), "money"),
    ("charged", gettext_lazy("Charged"), "money"),
    ("arpu", gettext_lazy("ARPU"), "money"),
)


def dashboard_data(period: Period, branch=None) -> dict:
    """Everything the page and its workbook show."""
    facts = summary_facts(period.start, period.end, branch)
    before = summary_facts(period.previous_start, period.previous_end, branch)
    now, then = total(facts), total(before)
    cards = [{"name": name, "label": label, "kind": kind, "help": help_text,
              "value": now[name], "previous": then[name],
              "change": charts.Change(now[name], then[name], higher_is_better=good)}
             for name, label, kind, good, help_text in CARDS]
    months = rollup(facts, "month")
    districts = rollup(facts, "district")
    cities = {row["label"]: row for row in rollup(facts, "city")}
    geography = []
    for city in sorted({d.get("city", "") for d in districts}):
        geography.append({"city": cities.get(city), "name": city,
                          "districts": [d for d in districts if d.get("city", "") == city]})
    labels = [m["label"] for m in months]
    return {
        "total": now, "previous": then, "cards": cards,
        "split": charts.stacked([(label, now[name], colour) for name, label, colour in SPLIT]),
        "months": months, "tariffs": rollup(facts, "tariff"), "geography": geography,
        "clients_chart": {"labels": labels, "series": [
            charts.Series(str(_("New clients")), [m["new_clients"] for m in months], "success"),
            charts.Series(str(_("Lost clients")), [m["lost_clients"] for m in months],
                          "danger")]},
        "money_chart": {"labels": labels, "series": [
            charts.Series(str(_("Collected")), [m["collected_total"] for m in months],
                          "primary"),
            charts.Series(str(_("Charged")), [m["charged"] for m in months], "warning")]},
    }


# --- Excel ----------------------------------------------------------------------------------

def _figure_columns() -> list[Column]:
    return [Column(str(label), kind) for _name, label, kind in TABLE_FIGURES]


def _figure_values(row: dict) -> list:
    return [row[name] for name, _label, _kind in TABLE_FIGURES]


def dashboard_sheets(data: dict, period: Period, table: str | None = None) -> list[Sheet]:
    sheets = {
        "summary": Sheet(str(_("Summary")), [
            Column(str(_("Figure")), "text", 30),
            Column(period_label(period.start, period.end), "decimal", 18),
            Column(period_label(period.previous_start, period.previous_end), "decimal", 18),
            Column(str(_("Change")), "decimal"), Column(str(_("Change, %")), "percent")],
            [[str(card["label"]), card["value"], card["previous"], card["change"].delta,
              card["change"].percent] for card in data["cards"]]
            + [[str(label), data["total"][name], data["previous"][name],
                charts.Change(data["total"][name], data["previous"][name]).delta,
                charts.Change(data["total"][name], data["previous"][name]).percent]
               for name, label, _colour in SPLIT]),
        "month": Sheet(str(_("By month")), [Column(str(_("Month")), "date"),
                                             *_figure_columns()],
                       [[m["key"], *_figure_values(m)] for m in data["months"]]),
        "tariff": Sheet(str(_("By tariff")), [Column(str(_("Tariff")), "text", 28),
                                               *_figure_columns()],
                        [[t["label"], *_figure_values(t)] for t in data["tariffs"]]),
        "geography": Sheet(str(_("By district")), [
            Column(str(_("City")), "text", 18), Column(str(_("District")), "text", 24),
            *_figure_columns()],
            [[city["name"], d["label"], *_figure_values(d)]
             for city in data["geography"] for d in city["districts"]]),
    }
    if table in sheets:
        return [sheets[table]]
    return list(sheets.values())


# --- pages ----------------------------------------------------------------------------------

@reports_view
def dashboard(request):
    form = PeriodForm(request.GET or None)
    period = form.chosen_period()
    branch = form.selected_branch()
    data = dashboard_data(period, branch)
    if request.GET.get("format") == "xlsx":
        table = request.GET.get("table")
        name = f"dashboard_{period.start:%Y-%m-%d}_{period.end:%Y-%m-%d}"
        return xlsx_response(f"{name}_{table}" if table else name,
                             dashboard_sheets(data, period, table))
    query = request.GET.copy()
    query.pop("table", None)
    query["format"] = "xlsx"
    return render(request, "reports/dashboard.html", {
        **data, "form": form.for_display(period), "period": period, "branch": branch,
        "period_label": period_label(period.start, period.end),
        "previous_label": period_label(period.previous_start, period.previous_end),
        "links": period_links(request.path, form, period.preset),
        "xlsx_query": query.urlencode(), "table_figures": TABLE_FIGURES,
    })


@reports_view
def index(request):
    reports = []
    for title, url_name, description in REPORTS:
        try:
            url = reverse(url_name)
        except NoReverseMatch:
            continue  # that report is not merged yet
        reports.append({"title": title, "url": url, "description": description})
    return render(request, "reports/index.html", {"reports": reports})
