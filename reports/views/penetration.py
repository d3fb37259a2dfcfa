"""Penetration (D10) at /reports/penetration/: per district and building, clients per
household at the period's end, the trend over the last months as a heat table, and the
advertising target list — buildings with the network and low penetration
(reports.selectors.penetration). ``?format=xlsx`` downloads both tables,
``&table=districts|buildings`` one of them."""

from __future__ import annotations

from django.shortcuts import render
from django.utils.translation import gettext as _

from reports.access import reports_view
from reports.excel import Column, Sheet, xlsx_response
from reports.selectors.penetration import BANDS, TREND_MONTHS, penetration_report

from .dashboard import PeriodForm, period_links

# Buildings on the page; the Excel file has them all.
PAGE_BUILDINGS = 100
TREND_CHOICES = (6, 12)


def district_sheet(report: dict) -> Sheet:
    points = [key.strftime("%m.%Y") for key in report["points"]]
    rows = [[d["city"], d["name"], d["buildings"], d["network_buildings"], d["households"],
             d["network_households"], d["active"], d["penetration"],
             d["network_penetration"], d["potential"], *[p["value"] for p in d["trend"]]]
            for d in report["districts"]]
    t = report["total"]
    rows.append([_("Total"), None, t["buildings"], t["network_buildings"], t["households"],
                 t["network_households"], t["active"], t["penetration"],
                 t["network_penetration"], t["potential"], *[p["value"] for p in t["trend"]]])
    return Sheet(_("Districts"), [
        Column(_("City"), "text", 18), Column(_("District"), "text", 24),
        Column(_("Buildings"), "int"), Column(_("With the network"), "int", 14),
        Column(_("Households"), "int", 12), Column(_("Households with the network"), "int", 18),
        Column(_("Active clients"), "int", 14), Column(_("Penetration, %"), "percent", 14),
        Column(_("Penetration where the network is, %"), "percent", 20),
        Column(_("Potential clients"), "int", 14),
        *[Column(_("Penetration %(month)s, %%") % {"month": label}, "percent", 14)
          for label in points],
    ], rows)


def building_sheet(buildings: list[dict]) -> Sheet:
    return Sheet(_("Target buildings"), [
        Column(_("City"), "text", 18), Column(_("District"), "text", 24),
        Column(_("Address"), "text", 32), Column(_("Households"), "int", 12),
        Column(_("Active clients"), "int", 14), Column(_("Potential clients"), "int", 14),
        Column(_("Penetration, %"), "percent", 14), Column(_("Band"), "text", 24),
    ], ([b["city"], b["district"], b["address"], b["households"], b["active"], b["potential"],
         b["penetration"], str(b["band"]["label"])] for b in buildings))


def _months(request) -> int:
    try:
        value = int(request.GET.get("months", TREND_MONTHS))
    except ValueError:
        return TREND_MONTHS
    return value if value in TREND_CHOICES else TREND_MONTHS


@reports_view
def penetration(request):
    form = PeriodForm(request.GET or None)
    period = form.chosen_period()
    branch = form.selected_branch()
    months = _months(request)
    xlsx = request.GET.get("format") == "xlsx"
    report = penetration_report(period.start, period.end, branch, months=months,
                                limit=None if xlsx else PAGE_BUILDINGS)
    if xlsx:
        table = request.GET.get("table")
        sheets = {"districts": district_sheet(report),
                  "buildings": building_sheet(report["buildings"])}
        name = f"penetration_{report['as_of']:%Y-%m-%d}"
        if table in sheets:
            return xlsx_response(f"{name}_{table}", [sheets[table]])
        return xlsx_response(name, list(sheets.values()))
    cities: dict = {}
    for district in report["districts"]:
        cities.setdefault(district["city"], []).append(district)
    query = request.GET.copy()
    query.pop("table", None)
    query["format"] = "xlsx"
    return render(request, "reports/penetration.html", {
        "form": form.for_display(period), "period": period, "branch": branch,
        "links": period_links(request.path, form, period.preset),
        "report": report, "cities": cities, "months": months,
        "trend_choices": TREND_CHOICES, "bands": BANDS, "page_buildings": PAGE_BUILDINGS,
        "xlsx_query": query.urlencode(),
    })
