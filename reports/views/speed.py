"""Connection speed (CS-6) at /reports/connection-speed/: per month and connection type the
average working days from the fee payment to activation and the share within 24 hours,
against the standard's target; ``?format=xlsx`` downloads the table."""

from django.shortcuts import render
from django.utils.translation import gettext as _

from connections.models import ConnectionType
from reports import charts
from reports.access import reports_view
from reports.excel import Column, Sheet, xlsx_response
from reports.selectors.speed import connection_speed_report

from .dashboard import PeriodForm, period_label, period_links


class SpeedPeriodForm(PeriodForm):
    default_preset = "year"


def speed_table(report: dict) -> dict:
    """The rows as a month × connection type grid, types in their usual order."""
    order = {value: index for index, value in enumerate(ConnectionType.values)}
    types = sorted({r["connection_type"] for r in report["rows"]},
                   key=lambda kind: order.get(kind, len(order)))
    months = sorted({r["month"] for r in report["rows"]})
    cells = {(r["month"], r["connection_type"]): r for r in report["rows"]}
    by_type = {r["connection_type"]: r for r in report["by_type"]}
    return {
        "types": [{"code": kind, "label": by_type[kind]["label"] if kind in by_type else kind}
                  for kind in types],
        "months": [{"month": month, "cells": [cells.get((month, kind)) for kind in types]}
                   for month in months],
        "totals": [by_type.get(kind) for kind in types],
    }


def speed_sheet(report: dict) -> Sheet:
    everything = _("All")
    rows = [[r["month"], r["label"], r["activated"], r["average_days"], r["within_24h"],
             r["within_24h_share"]] for r in report["rows"]]
    rows += [[None, r["label"], r["activated"], r["average_days"], r["within_24h"],
              r["within_24h_share"]] for r in report["by_type"]]
    t = report["total"]
    rows.append([None, everything, t["activated"], t["average_days"], t["within_24h"],
                 t["within_24h_share"]])
    return Sheet(_("Connection speed"), [
        Column(_("Month"), "date"), Column(_("Connection type"), "text", 18),
        Column(_("Activations"), "int"), Column(_("Average, working days"), "decimal", 22),
        Column(_("Within 24 hours"), "int", 16), Column(_("Within 24 hours, %"), "percent", 18),
    ], rows)


@reports_view
def connection_speed(request):
    form = SpeedPeriodForm(request.GET or None)
    period = form.chosen_period()
    branch = form.selected_branch()
    report = connection_speed_report(period.start, period.end, branch)
    if request.GET.get("format") == "xlsx":
        return xlsx_response(
            f"connection_speed_{period.start:%Y-%m-%d}_{period.end:%Y-%m-%d}",
            [speed_sheet(report)])
    table = speed_table(report)
    labels = [m["month"].strftime("%m.%Y") for m in table["months"]]
    colours = ("primary", "warning", "teal", "indigo")
    series = [charts.Series(kind["label"], [cell["average_days"] if cell else 0
                                            for cell in [m["cells"][index]
                                                         for m in table["months"]]],
                            colours[index % len(colours)])
              for index, kind in enumerate(table["types"])]
    query = request.GET.copy()
    query["format"] = "xlsx"
    return render(request, "reports/speed.html", {
        "form": form.for_display(period), "period": period, "branch": branch,
        "period_label": period_label(period.start, period.end),
        "links": period_links(request.path, form, period.preset),
        "report": report, "table": table, "chart_labels": labels, "chart_series": series,
        "xlsx_query": query.urlencode(),
    })
