"""Operational reports (R4, R7, Q5, SP-10) under /reports/operations/: a page per report,
each with its filters and an Excel download (``?format=xlsx``).

- ``operations/managers/`` — what each manager did on a day or in a week (R4); also a
  printable page (``?format=print``);
- ``operations/overdue/`` — what is overdue now, by branch and employee, and the deadlines
  missed in the period (R7);
- ``operations/tickets/`` — the helpdesk's KPIs by week or month, per category and group
  (Q5);
- ``operations/hours/`` — use of the hours included in business tariffs (SP-10; the figures
  are the helpdesk's own ``tickets.services.hours``, its page is ``tickets:hours``).

What each figure counts: reports.selectors.operations."""

from __future__ import annotations

import datetime as dt
from urllib.parse import urlencode

from django import forms
from django.shortcuts import render
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from billing.money import month_start, next_month_start
from reports import charts
from reports.access import reports_view
from reports.excel import Column, Sheet, xlsx_response
from reports.selectors.operations import (
    FIRST_RESPONSE_TARGET_HOURS,
    POOR_TARGET_PERCENT,
    hours_utilization,
    late_in_period,
    manager_activity,
    overdue_now,
    ticket_kpis,
)

from .dashboard import PeriodForm, period_label, period_links


def sections() -> list[dict]:
    """The operational reports as the reports index lists them (reports.catalog)."""
    from django.urls import reverse

    from reports.catalog import REPORTS

    return [{"url": reverse(name), "title": title, "description": text}
            for title, name, text in REPORTS if name.startswith("reports:operations_")]


def _xlsx_query(request) -> str:
    query = request.GET.copy()
    query["format"] = "xlsx"
    return query.urlencode()


@reports_view
def operations(request):
    return render(request, "reports/operations.html", {"sections": sections()})


# --- R4: managers' day and week ---------------------------------------------------------------

class ManagerDayForm(forms.Form):
    span = forms.ChoiceField(label=gettext_lazy("Report"), required=False,
                             choices=(("day", gettext_lazy("Day")),
                                      ("week", gettext_lazy("Week"))),
                             widget=forms.Select(attrs={"class": "form-select"}))
    day = forms.DateField(label=gettext_lazy("Day"), required=False,
                          widget=forms.DateInput(attrs={"type": "date",
                                                        "class": "form-control"},
                                                 format="%Y-%m-%d"))
    branch = PeriodForm.base_fields["branch"]

    def chosen(self) -> tuple[str, dt.date, dt.date, dt.date, object]:
        """(span, the day chosen, first day, last day, branch): a day, or the week (Monday
        to Sunday) around it; today when the form is empty or wrong."""
        data = self.cleaned_data if self.is_bound and self.is_valid() else {}
        span = data.get("span") or "day"
        day = data.get("day") or timezone.localdate()
        if span == "week":
            start = day - dt.timedelta(days=day.weekday())
            return span, day, start, start + dt.timedelta(days=6), data.get("branch")
        return span, day, day, day, data.get("branch")


ACTIVITY_COLUMNS = (
    ("new_cards", gettext_lazy("New cards"), "int"),
    ("stage_moves", gettext_lazy("Stage moves"), "int"),
    ("payments", gettext_lazy("Payments taken"), "int"),
    ("paid", gettext_lazy("Payments taken, sum"), "money"),
    ("calls", gettext_lazy("Calls logged"), "int"),
    ("tickets_opened", gettext_lazy("Tickets opened"), "int"),
)


def _activity(item: dict) -> list:
    return [item[name] for name, _label, _kind in ACTIVITY_COLUMNS]


def manager_sheets(data: dict) -> list[Sheet]:
    figures = [Column(str(label), kind) for _name, label, kind in ACTIVITY_COLUMNS]
    sheets = [Sheet(_("Managers"), [Column(_("Manager"), "text", 28),
                                    Column(_("Branch"), "text", 20), *figures],
                    [[r["name"], r["branch"], *_activity(r["total"])] for r in data["rows"]]
                    + [[_("Total"), None, *_activity(data["total"])]])]
    if len(data["days"]) > 1:
        sheets.append(Sheet(_("By day"), [Column(_("Manager"), "text", 28),
                                          Column(_("Day"), "date"), *figures],
                            [[r["name"], day, *_activity(item)] for r in data["rows"]
                             for day, item in r["days"].items() if any(_activity(item))]))
        sheets.append(Sheet(_("Days"), [Column(_("Day"), "date"), *figures],
                            [[day, *_activity(item)] for day, item in data["by_day"].items()]))
    return sheets


@reports_view
def managers(request):
    form = ManagerDayForm(request.GET or None)
    span, day, start, end, branch = form.chosen()
    data = manager_activity(start, end, branch)
    label = date_format(start, "l, d.m.Y") if span == "day" else \
        _("week %(start)s – %(end)s") % {"start": f"{start:%d.%m.%Y}",
                                          "end": f"{end:%d.%m.%Y}"}
    if request.GET.get("format") == "xlsx":
        return xlsx_response(f"managers_{span}_{start:%Y-%m-%d}", manager_sheets(data))
    step = dt.timedelta(days=1 if span == "day" else 7)
    base = {"span": span, **({"branch": branch.pk} if branch else {})}
    for row in data["rows"]:
        row["active_days"] = [(day, item) for day, item in row["days"].items()
                              if any(_activity(item))]
    context = {
        "form": form if form.errors else ManagerDayForm(
            initial={"span": span, "day": day, "branch": branch}),
        "span": span, "start": start, "end": end, "branch": branch, "label": label,
        "data": data, "columns": ACTIVITY_COLUMNS,
        "previous_url": "?" + urlencode({**base, "day": (start - step).isoformat()}),
        "next_url": "?" + urlencode({**base, "day": (start + step).isoformat()}),
        "xlsx_query": _xlsx_query(request),
        "print_query": _format_query(request, "print"),
        "printed_at": timezone.localtime(),
    }
    if request.GET.get("format") == "print":
        return render(request, "reports/operations_managers_print.html", context)
    return render(request, "reports/operations_managers.html", context)


def _format_query(request, value: str) -> str:
    query = request.GET.copy()
    query["format"] = value
    return query.urlencode()


# --- R7: overdue ------------------------------------------------------------------------------

def overdue_sheets(now: dict, late: dict) -> list[Sheet]:
    return [
        Sheet(_("Overdue now"), [
            Column(_("Branch"), "text", 20), Column(_("Employee"), "text", 28),
            Column(_("Group"), "text", 16), Column(_("Tickets"), "int"),
            Column(_("Surveys"), "int"), Column(_("Installations"), "int"),
            Column(_("Total"), "int"), Column(_("Oldest ticket deadline"), "datetime")],
            [[r["branch"], r["employee"] or _("Unassigned"), r["group"], r["tickets"],
              r["surveys"], r["installations"], r["total"], r["oldest_due"]]
             for r in now["rows"]]
            + [[_("Total"), None, None, now["total"]["tickets"], now["total"]["surveys"],
                now["total"]["installations"], now["total"]["total"], None]]),
        Sheet(_("Overdue tickets"), [
            Column(_("Ticket"), "int"), Column(_("Subject"), "text", 36),
            Column(_("Client"), "text", 28), Column(_("Category"), "text", 24),
            Column(_("Branch"), "text", 20), Column(_("Assignee"), "text", 24),
            Column(_("Group"), "text", 16), Column(_("Resolution due"), "datetime"),
            Column(_("Days overdue"), "int")],
            [[t.pk, t.subject, t.client.name if t.client_id else "", str(t.category),
              str(t.branch), str(t.assignee) if t.assignee_id else "",
              t.group.name if t.group_id else "", t.resolution_due, t.days_overdue]
             for t in now["tickets"]]),
        Sheet(_("Overdue cards"), [
            Column(_("Client"), "text", 28), Column(_("Address"), "text", 36),
            Column(_("Stage"), "text", 20), Column(_("Branch"), "text", 20),
            Column(_("Lead manager"), "text", 24), Column(_("Guaranteed by"), "date"),
            Column(_("Days overdue"), "int")],
            [[c.name, c.address, c.get_stage_display(), str(c.branch),
              str(c.lead_manager) if c.lead_manager_id else "", c.due, c.days_overdue]
             for c in now["cards"]]),
        Sheet(_("Late in the period"), [
            Column(_("Branch"), "text", 20), Column(_("Employee"), "text", 28),
            Column(_("Tickets resolved"), "int"), Column(_("of them late"), "int"),
            Column(_("Surveys done"), "int"), Column(_("of them late"), "int"),
            Column(_("Installations done"), "int"), Column(_("of them late"), "int"),
            Column(_("Late, %"), "percent")],
            [[r["branch"], r["employee"] or "—", r["tickets"], r["tickets_late"],
              r["surveys"], r["surveys_late"], r["installations"],
              r["installations_late"], r["late_percent"]] for r in late["rows"]]
            + [[_("Total"), None, late["total"]["tickets"], late["total"]["tickets_late"],
                late["total"]["surveys"], late["total"]["surveys_late"],
                late["total"]["installations"], late["total"]["installations_late"],
                late["total"]["late_percent"]]]),
    ]


@reports_view
def overdue(request):
    form = PeriodForm(request.GET or None)
    period = form.chosen_period()
    branch = form.selected_branch()
    now = overdue_now(branch)
    late = late_in_period(period.start, period.end, branch)
    if request.GET.get("format") == "xlsx":
        return xlsx_response(f"overdue_{now['today']:%Y-%m-%d}", overdue_sheets(now, late))
    return render(request, "reports/operations_overdue.html", {
        "form": form.for_display(period), "period": period, "branch": branch,
        "period_label": period_label(period.start, period.end),
        "links": period_links(request.path, form, period.preset),
        "now": now, "late": late, "xlsx_query": _xlsx_query(request),
    })


# --- Q5: ticket KPIs --------------------------------------------------------------------------

class KpiForm(PeriodForm):
    by = forms.ChoiceField(label=gettext_lazy("Group by"), required=False,
                           choices=(("week", gettext_lazy("by week")),
                                    ("month", gettext_lazy("by month"))),
                           widget=forms.Select(attrs={"class": "form-select"}))

    def chosen_by(self) -> str:
        data = self.cleaned_data if self.is_bound and self.is_valid() else {}
        return data.get("by") or "week"

    def for_display(self, period):
        shown = super().for_display(period)
        if shown is not self:
            shown.initial["by"] = self.chosen_by()
        return shown


KPI_COLUMNS = (
    ("created", gettext_lazy("Tickets created"), "int"),
    ("first_responses", gettext_lazy("First responses"), "int"),
    ("first_response_hours", gettext_lazy("Average first response, working hours"),
     "decimal"),
    ("first_response_on_time_percent", gettext_lazy("First response in time, %"), "percent"),
    ("resolved", gettext_lazy("Tickets resolved"), "int"),
    ("sla_met_percent", gettext_lazy("Within SLA, %"), "percent"),
    ("ratings", gettext_lazy("Ratings"), "int"),
    ("rating_average", gettext_lazy("Average rating"), "decimal"),
    ("poor_percent", gettext_lazy("Poor ratings, %"), "percent"),
)


def _kpi(item: dict) -> list:
    return [item[name] for name, _label, _kind in KPI_COLUMNS]


def kpi_sheets(report: dict) -> list[Sheet]:
    figures = [Column(str(label), kind) for _name, label, kind in KPI_COLUMNS]
    bucket = Column(_("Week from") if report["by"] == "week" else _("Month"), "date")
    sheets = [Sheet(_("By week") if report["by"] == "week" else _("By month"),
                    [bucket, *figures],
                    [[row["bucket"], *_kpi(row)] for row in report["by_bucket"]]
                    + [[_("Total"), *_kpi(report["total"])]])]
    for key, title, name_title in (("categories", _("By category"), _("Category")),
                                   ("groups", _("By group"), _("Group"))):
        rows = []
        for entry in report[key]:
            label = entry["label"] or _("(none)")
            for day in report["buckets"]:
                if day in entry["buckets"]:
                    rows.append([label, day, *_kpi(entry["buckets"][day])])
            rows.append([label, _("Total"), *_kpi(entry["total"])])
        sheets.append(Sheet(title, [Column(name_title, "text", 30), bucket, *figures], rows))
    return sheets


@reports_view
def tickets(request):
    form = KpiForm(request.GET or None)
    period = form.chosen_period()
    branch = form.selected_branch()
    by = form.chosen_by()
    report = ticket_kpis(period.start, period.end, branch, by)
    if request.GET.get("format") == "xlsx":
        return xlsx_response(
            f"ticket_kpis_{by}_{period.start:%Y-%m-%d}_{period.end:%Y-%m-%d}",
            kpi_sheets(report))
    labels = [f"{row['bucket']:%d.%m}" if by == "week" else f"{row['bucket']:%m.%Y}"
              for row in report["by_bucket"]]
    links = period_links(request.path, form, period.preset)
    for link in links:
        link["url"] += "&" + urlencode({"by": by})
    return render(request, "reports/operations_tickets.html", {
        "form": form.for_display(period), "period": period, "branch": branch, "by": by,
        "period_label": period_label(period.start, period.end), "links": links,
        "report": report, "xlsx_query": _xlsx_query(request),
        "first_response_target": FIRST_RESPONSE_TARGET_HOURS,
        "poor_target": POOR_TARGET_PERCENT,
        "chart_labels": labels,
        "chart_series": [
            charts.Series(_("Tickets created"),
                          [row["created"] for row in report["by_bucket"]], "primary"),
            charts.Series(_("Tickets resolved"),
                          [row["resolved"] for row in report["by_bucket"]], "success")],
    })


# --- SP-10: hours -----------------------------------------------------------------------------

class HoursForm(forms.Form):
    month = forms.CharField(label=gettext_lazy("Month"), required=False,
                            widget=forms.TextInput(attrs={"type": "month",
                                                          "class": "form-control"}))
    branch = PeriodForm.base_fields["branch"]

    def clean_month(self):
        value = self.cleaned_data.get("month") or ""
        if not value:
            return None
        try:
            return dt.date.fromisoformat(f"{value}-01")
        except ValueError:
            raise forms.ValidationError(_("Choose a month.")) from None

    def chosen(self) -> tuple[dt.date, object]:
        data = self.cleaned_data if self.is_bound and self.is_valid() else {}
        return data.get("month") or month_start(timezone.localdate()), data.get("branch")


def hours_sheet(report: dict, month: dt.date) -> Sheet:
    total = report["total"]
    return Sheet(_("Hours %(month)s") % {"month": f"{month:%m.%Y}"}, [
        Column(_("Client"), "text", 32), Column(_("Account"), "text", 12),
        Column(_("Tariff"), "text", 24), Column(_("Included, h"), "decimal"),
        Column(_("Used, h"), "decimal"), Column(_("Unused, h"), "decimal"),
        Column(_("Utilization, %"), "percent"), Column(_("Low months running"), "int"),
        Column(_("Hint"), "text", 30)],
        [[r["client"], r["account"], r["tariff"], r["included"], r["used"], r["unused"],
          r["percent"], r["low_months"], r["hint"]] for r in report["rows"]]
        + [[_("Total"), None, None, total["included"], total["used"], total["unused"],
            total["percent"], None, None]])


@reports_view
def hours(request):
    from tickets.services.hours import LOW_PERCENT, previous_month
    from tickets.views.hours import may_see_hours

    form = HoursForm(request.GET or None)
    month, branch = form.chosen()
    report = hours_utilization(month, branch)
    if request.GET.get("format") == "xlsx":
        return xlsx_response(f"service_hours_{month:%Y-%m}", [hours_sheet(report, month)])
    base = {"branch": branch.pk} if branch else {}
    return render(request, "reports/operations_hours.html", {
        "form": form if form.errors else HoursForm(
            initial={"month": f"{month:%Y-%m}", "branch": branch}),
        "month": month, "branch": branch, "report": report, "low_percent": LOW_PERCENT,
        "month_label": date_format(month, "F Y"),
        "previous_url": "?" + urlencode({**base, "month": f"{previous_month(month):%Y-%m}"}),
        "next_url": "?" + urlencode({**base, "month": f"{next_month_start(month):%Y-%m}"}),
        "xlsx_query": _xlsx_query(request),
        "helpdesk_page": may_see_hours(request.user),
    })
