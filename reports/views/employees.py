"""Employees (D11) at /reports/employees/: each employee's results for a period and branch in
three tables — managers, technical staff (and crews), support — with charts and the same
figures as a workbook (``?format=xlsx``). What each figure counts: reports.selectors.employees.
"""

from django.shortcuts import render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from reports import charts
from reports.access import reports_view
from reports.excel import Column, Sheet, xlsx_response
from reports.selectors.employees import OUTCOMES, employees_report
from tickets.models import RetentionCall

from .dashboard import PeriodForm, period_label, period_links

# name, column title, Excel kind — the tables' columns after the employee and branch
MANAGER_COLUMNS = (
    ("cards_opened", gettext_lazy("Cards opened"), "int"),
    ("contracts_signed", gettext_lazy("Contracts signed"), "int"),
    ("activated", gettext_lazy("Clients activated"), "int"),
    ("connection_days", gettext_lazy("Average connection, working days"), "decimal"),
    ("payments", gettext_lazy("Payments taken"), "int"),
    ("paid", gettext_lazy("Payments taken, sum"), "money"),
    ("calls", gettext_lazy("Retention calls"), "int"),
    ("calls_skipped", gettext_lazy("Calls missed"), "int"),
)
TECHNICAL_COLUMNS = (
    ("surveys", gettext_lazy("Surveys done"), "int"),
    ("surveys_on_time", gettext_lazy("of them on time"), "int"),
    ("surveys_on_time_percent", gettext_lazy("Surveys on time, %"), "percent"),
    ("installations", gettext_lazy("Installations done"), "int"),
    ("installations_on_time", gettext_lazy("of them on time"), "int"),
    ("installations_on_time_percent", gettext_lazy("Installations on time, %"), "percent"),
)
CREW_COLUMNS = TECHNICAL_COLUMNS[3:]
SUPPORT_COLUMNS = (
    ("handled", gettext_lazy("Tickets resolved"), "int"),
    ("sla_met_percent", gettext_lazy("Within SLA, %"), "percent"),
    ("first_responses", gettext_lazy("First responses"), "int"),
    ("first_response_hours", gettext_lazy("Average first response, working hours"),
     "decimal"),
    ("ratings", gettext_lazy("Ratings"), "int"),
    ("rating_average", gettext_lazy("Average rating"), "decimal"),
    ("poor_ratings", gettext_lazy("Ratings 3 or lower"), "int"),
    ("poor_percent", gettext_lazy("Poor ratings, %"), "percent"),
    ("hours_logged", gettext_lazy("Hours logged"), "decimal"),
)


def outcome_label(value: str) -> str:
    if value == "none":
        return _("no outcome")
    try:
        return str(RetentionCall.Outcome(value).label)
    except ValueError:
        return value


def _table(rows: list[dict], columns) -> list[list]:
    return [[row[name] for name, _label, _kind in columns] for row in rows]


def employees_sheets(report: dict) -> list[Sheet]:
    person = [Column(_("Employee"), "text", 28), Column(_("Branch"), "text", 20)]
    everything = _("Total")
    managers = report["managers"]
    outcome_columns = [Column(_("Outcome: %(outcome)s") % {"outcome": outcome_label(value)},
                              "int") for value in OUTCOMES]

    def manager_values(row):
        return [row[name] for name, _label, _kind in MANAGER_COLUMNS] + \
            [row["outcomes"].get(value, 0) for value in OUTCOMES]

    sheets = [
        Sheet(_("Managers"), [*person, *[Column(str(label), kind)
                                         for _n, label, kind in MANAGER_COLUMNS],
                              *outcome_columns],
              [[r["name"], r["branch"], *manager_values(r)] for r in managers["rows"]]
              + [[everything, None, *manager_values(managers["total"])]]),
    ]
    for key, title, columns in (("technical", _("Technical staff"), TECHNICAL_COLUMNS),
                                ("support", _("Support"), SUPPORT_COLUMNS)):
        table = report[key]
        head = [*person, *[Column(str(label), kind) for _n, label, kind in columns]]
        rows = [[r["name"], r["branch"], *values]
                for r, values in zip(table["rows"], _table(table["rows"], columns),
                                     strict=True)]
        rows.append([everything, None, *_table([table["total"]], columns)[0]])
        sheets.append(Sheet(title, head, rows))
    sheets.insert(2, Sheet(_("Crews"), [Column(_("Crew"), "text", 24),
                                        Column(_("Branch"), "text", 20),
                                        *[Column(str(label), kind)
                                          for _n, label, kind in CREW_COLUMNS]],
                           [[r["name"], r["branch"], *values] for r, values in
                            zip(report["crews"], _table(report["crews"], CREW_COLUMNS),
                                strict=True)]))
    return sheets


def _chart(rows: list[dict], figures: list[tuple[str, str, str]]) -> dict | None:
    if not rows:
        return None
    return {"labels": [row["short"] for row in rows],
            "series": [charts.Series(str(label), [row[name] or 0 for row in rows], colour)
                       for name, label, colour in figures]}


@reports_view
def employees(request):
    form = PeriodForm(request.GET or None)
    period = form.chosen_period()
    branch = form.selected_branch()
    report = employees_report(period.start, period.end, branch)
    if request.GET.get("format") == "xlsx":
        return xlsx_response(f"employees_{period.start:%Y-%m-%d}_{period.end:%Y-%m-%d}",
                             employees_sheets(report))
    for row in [*report["managers"]["rows"], report["managers"]["total"]]:
        row["outcome_list"] = [(outcome_label(value), count)
                               for value, count in sorted(row["outcomes"].items(),
                                                          key=lambda item: -item[1])]
    query = request.GET.copy()
    query["format"] = "xlsx"
    return render(request, "reports/employees.html", {
        "form": form.for_display(period), "period": period, "branch": branch,
        "period_label": period_label(period.start, period.end),
        "links": period_links(request.path, form, period.preset),
        "report": report, "xlsx_query": query.urlencode(),
        "manager_chart": _chart(report["managers"]["rows"], [
            ("contracts_signed", _("Contracts signed"), "primary"),
            ("activated", _("Clients activated"), "success")]),
        "technical_chart": _chart(report["technical"]["rows"], [
            ("installations", _("Installations done"), "primary"),
            ("installations_on_time", _("on time"), "success")]),
        "support_chart": _chart(report["support"]["rows"], [
            ("handled", _("Tickets resolved"), "primary"),
            ("poor_ratings", _("Ratings 3 or lower"), "danger")]),
    })
