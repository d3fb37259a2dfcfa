"""Churn (R1, R3) at /reports/churn/: monthly churn by segment and ARPU grade, controllable
or not, against the plan; the plan form for the director and the commercial director
(``reports:churn_plan``); and the ARPU grades of business clients with the grade of the
manager leading each (reports.selectors.churn). ``?format=xlsx`` downloads the tables."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect, QueryDict
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from billing.money import month_start
from reports import charts
from reports.access import reports_view
from reports.excel import Column, Sheet, xlsx_response
from reports.forms import ChurnPlanForm, can_set_churn_plan
from reports.selectors.churn import churn_report, manager_assignment

from .dashboard import PeriodForm, period_label, period_links

# The page's own query (the period and branch) — all the plan form may send back.
BACK_KEYS = ("period", "date_from", "date_to", "branch")
MAIN_SEGMENTS = ("all", "person", "company")


class ChurnPeriodForm(PeriodForm):
    default_preset = "year"


def churn_sheets(report: dict, assignment: dict) -> list[Sheet]:
    labels = dict(report["segments"])
    figures = ("at_start", "lost", "churn", "controllable", "uncontrollable", "unknown",
               "controllable_churn", "uncontrollable_churn", "plan", "delta")
    rows = [[m["month"], str(labels[key]), *[m["segments"][key][f] for f in figures]]
            for m in report["months"] for key, _label in report["segments"]]
    rows += [[None, f"{labels[key]} · {_('period')}", *[report["total"][key][f]
                                                        for f in figures]]
             for key, _label in report["segments"]]
    matrix = [[row["label"], row["expected"], *row["counts"], row["total"]]
              for row in assignment["matrix"]]
    clients = [[c["name"], c["inn"], c["account"], c["arpu"], c["grade"], c["manager"],
                c["manager_position"], c["manager_grade_label"], c["expected"], c["mismatch"]]
               for c in assignment["clients"]]
    return [
        Sheet(_("Churn by month"), [
            Column(_("Month"), "date"), Column(_("Segment"), "text", 26),
            Column(_("At the start"), "int"), Column(_("Lost"), "int"),
            Column(_("Churn, %"), "percent"), Column(_("Controllable"), "int", 13),
            Column(_("Uncontrollable"), "int", 15), Column(_("Not recorded"), "int", 13),
            Column(_("Controllable, %"), "percent", 15),
            Column(_("Uncontrollable, %"), "percent", 17), Column(_("Plan, %"), "percent"),
            Column(_("Against the plan, points"), "decimal", 16),
        ], rows),
        Sheet(_("ARPU grades"), [
            Column(_("ARPU grade"), "text", 14), Column(_("Should be led by"), "text", 20),
            *[Column(str(label), "int", 16) for label in assignment["columns"]],
            Column(_("Total"), "int"),
        ], matrix),
        Sheet(_("Business clients"), [
            Column(_("Client"), "text", 32), Column(_("INN"), "text", 14),
            Column(_("Account"), "text", 12),
            Column(_("Charges for %(month)s") % {
                "month": assignment["charges_month"].strftime("%m.%Y")}, "money", 18),
            Column(_("ARPU grade"), "text", 10), Column(_("Lead manager"), "text", 24),
            Column(_("Position"), "text", 20), Column(_("Manager grade"), "text", 16),
            Column(_("Should be led by"), "text", 18), Column(_("Mismatch"), "bool", 10),
        ], clients),
    ]


def _chart_data(report: dict) -> dict:
    labels = [m["month"].strftime("%m.%Y") for m in report["months"]]

    def series(segment: str, figure: str) -> list:
        return [m["segments"][segment][figure] or 0 for m in report["months"]]

    return {
        "labels": labels,
        "plan": [charts.Series(_("Churn, %"), series("all", "churn"), "danger"),
                 charts.Series(_("Plan, %"), series("all", "plan"), "secondary")],
        "kinds": [charts.Series(_("Controllable, %"), series("all", "controllable_churn"),
                                "warning"),
                  charts.Series(_("Uncontrollable, %"), series("all", "uncontrollable_churn"),
                                "info")],
    }


@reports_view
def churn(request):
    form = ChurnPeriodForm(request.GET or None)
    period = form.chosen_period()
    branch = form.selected_branch()
    report = churn_report(period.start, period.end, branch)
    assignment = manager_assignment(period.start, period.end, branch)
    if request.GET.get("format") == "xlsx":
        return xlsx_response(f"churn_{period.start:%Y-%m-%d}_{period.end:%Y-%m-%d}",
                             churn_sheets(report, assignment))
    query = request.GET.copy()
    query["format"] = "xlsx"
    back = QueryDict(mutable=True)
    for key in BACK_KEYS:
        if key in request.GET:
            back[key] = request.GET[key]
    labels = dict(report["segments"])
    plan_form = None
    if can_set_churn_plan(request.user):
        plan_form = ChurnPlanForm(initial={"month": month_start(timezone.localdate()),
                                           "segment": "all"})
    return render(request, "reports/churn.html", {
        "form": form.for_display(period), "period": period, "branch": branch,
        "period_label": period_label(period.start, period.end),
        "links": period_links(request.path, form, period.preset),
        "report": report, "assignment": assignment, "chart": _chart_data(report),
        "main_segments": [(key, labels[key]) for key in MAIN_SEGMENTS],
        "grade_segments": [(key, label) for key, label in report["segments"]
                           if key.startswith("company:")],
        "plan_form": plan_form, "back": back.urlencode(), "xlsx_query": query.urlencode(),
    })


@require_POST
@reports_view
def churn_plan(request):
    """Set the planned churn of a month and segment; back to the page it was sent from."""
    if not can_set_churn_plan(request.user):
        raise PermissionDenied
    form = ChurnPlanForm(request.POST)
    if form.is_valid():
        plan = form.save()
        messages.success(request, _("The churn plan for %(month)s (%(segment)s) is "
                                    "%(percent)s %%.") % {
            "month": plan.month.strftime("%m.%Y"), "segment": plan.get_segment_display(),
            "percent": plan.percent})
    else:
        errors = "; ".join(f"{form.fields[name].label}: {' '.join(errs)}"
                           if name in form.fields else " ".join(errs)
                           for name, errs in form.errors.items())
        messages.error(request, _("The plan was not saved: %(errors)s") % {"errors": errors})
    back = QueryDict(request.POST.get("back", ""))
    query = QueryDict(mutable=True)
    for key in BACK_KEYS:
        if key in back:
            query[key] = back[key]
    url = reverse("reports:churn")
    return HttpResponseRedirect(f"{url}?{query.urlencode()}" if query else url)
