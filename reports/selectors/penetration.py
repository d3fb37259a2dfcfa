"""Penetration (D10): how many of the households of a district or building are our clients,
how that moved over the last months, and where the network is already in the building but
few have joined — the list for advertising.

For a day ``as_of`` (the period's end, or today if earlier):

``active``
    client cards in service at the end of the day: activated (``activated_at``) by then and
    not terminated (``terminated_at``) by then — a client blocked for debt is still one.
    Both persons and companies count.
``households``
    ``Building.households`` (flats or offices), as recorded now: the register keeps no
    history, so the trend divides past client counts by today's households.
``penetration``
    ``active ÷ households × 100``; ``None`` when no households are recorded (such buildings
    are listed last, to be filled in).
network present
    a building with at least one active client or a completed installation
    (``Installation.completed_at`` by then) of any client, ever — the cable is there.
``potential``
    in a building with the network: ``households − active`` (not below zero); for a
    district the sum over its buildings with the network.
``network_penetration``
    active clients ÷ households of the buildings with the network.
trend
    the district's penetration at the end of each of the last ``months`` months (the last
    point is ``as_of`` itself).
branch
    the buildings of the branch's city and the clients of the branch (the network flag still
    counts any client: the cable does not belong to a branch).

Bands (the heat table's colours, always with the percentage as text): below 10 % very low,
10–25 % low, 25–50 % medium, 50 % and above high.

Three SQL statements whatever the size of the register: districts, the trend, buildings.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.db import connection
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from connections.models import Building, ClientCard, District, Installation, Street
from ispcrm.models import City

from .sqlkit import Sql, add_months, local_midnight, percent, rows_cte

TREND_MONTHS = 12

# (upper bound exclusive or None, Bootstrap colour, label)
BANDS = (
    (Decimal(10), "danger", _("very low, below 10 %")),
    (Decimal(25), "warning", _("low, 10–25 %")),
    (Decimal(50), "info", _("medium, 25–50 %")),
    (None, "success", _("high, 50 % and above")),
)


def band(value: Decimal | None) -> dict:
    """The band of a penetration percentage: {"colour", "label"}; no colour for None."""
    if value is None:
        return {"colour": "", "label": _("households not recorded")}
    for limit, colour, label in BANDS:
        if limit is None or value < limit:
            return {"colour": colour, "label": label}
    return {"colour": "", "label": ""}  # pragma: no cover - the last band has no limit


def _point(value: Decimal | None) -> dict:
    return {"value": value, **band(value)}


def _active(alias: str, moment: str) -> str:
    return (f"{alias}.activated_at < {moment} "
            f"AND ({alias}.terminated_at IS NULL OR {alias}.terminated_at >= {moment})")


def _per_building(sql: Sql, branch_id) -> str:
    """Active clients (of the branch) at a moment and whether the network is there, per
    building with any client card; its parameters come from ``_cb_params``."""
    card, installation = sql.table(ClientCard), sql.table(Installation)
    t = sql.at_param()
    mine = "AND c.branch_id = %s" if branch_id else ""
    text = f"""
        SELECT c.building_id,
               SUM(CASE WHEN {_active('c', t)} {mine} THEN 1 ELSE 0 END) AS active,
               MAX(CASE WHEN ({_active('c', t)})
                         OR (i.completed_at IS NOT NULL AND i.completed_at < {t})
                        THEN 1 ELSE 0 END) AS network
        FROM {card} c LEFT JOIN {installation} i ON i.card_id = c.id
        GROUP BY c.building_id"""
    return text


def _where_city(branch) -> tuple[str, list]:
    city_id = getattr(branch, "city_id", None) if branch is not None else None
    return ("WHERE d.city_id = %s", [city_id]) if city_id else ("", [])


def _cb_params(sql: Sql, moment: dt.datetime, branch_id) -> list:
    # active (moment twice, branch), network (moment twice), installation (moment)
    at = sql.at(moment)
    return [at, at, *([branch_id] if branch_id else []), at, at, at]


def _districts(sql: Sql, moment: dt.datetime, branch) -> list[dict]:
    branch_id = getattr(branch, "pk", None)
    per_building = _per_building(sql, branch_id)
    where, where_params = _where_city(branch)
    potential = sql.greatest("b.households - COALESCE(cb.active, 0)", "0")
    text = f"""
        WITH cb AS ({per_building})
        SELECT d.id, d.name, city.name, COUNT(b.id), SUM(b.households),
               SUM(COALESCE(cb.active, 0)),
               SUM(CASE WHEN cb.network = 1 THEN 1 ELSE 0 END),
               SUM(CASE WHEN cb.network = 1 THEN b.households ELSE 0 END),
               SUM(CASE WHEN cb.network = 1 THEN {potential} ELSE 0 END)
        FROM {sql.table(Building)} b
        JOIN {sql.table(District)} d ON d.id = b.district_id
        JOIN {sql.table(City)} city ON city.id = d.city_id
        LEFT JOIN cb ON cb.building_id = b.id
        {where}
        GROUP BY d.id, d.name, city.name
        ORDER BY city.name, d.name"""
    with connection.cursor() as cursor:
        cursor.execute(text, [*_cb_params(sql, moment, branch_id), *where_params])
        names = ("id", "name", "city", "buildings", "households", "active",
                 "network_buildings", "network_households", "potential")
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def _trend(sql: Sql, moments: list[dt.datetime], branch) -> dict[tuple[int, int], int]:
    """(district id, point index) → active clients at that moment."""
    branch_id = getattr(branch, "pk", None)
    points, point_params = rows_cte(sql, list(enumerate(moments)), [("k", "int"),
                                                                   ("t", "at")])
    where, where_params = _where_city(branch)
    mine = "AND c.branch_id = %s" if branch_id else ""
    text = f"""
        WITH p AS ({points})
        SELECT b.district_id, p.k, COUNT(*)
        FROM {sql.table(ClientCard)} c
        JOIN {sql.table(Building)} b ON b.id = c.building_id
        JOIN {sql.table(District)} d ON d.id = b.district_id
        JOIN p ON {_active('c', 'p.t')} {mine}
        {where}
        GROUP BY b.district_id, p.k"""
    with connection.cursor() as cursor:
        cursor.execute(text, [*point_params, *([branch_id] if branch_id else []),
                              *where_params])
        return {(district, int(k)): int(count) for district, k, count in cursor.fetchall()}


def _buildings(sql: Sql, moment: dt.datetime, branch, limit: int | None) -> list[dict]:
    """The buildings with the network, lowest penetration first (the most potential clients
    first among equals); buildings without recorded households last."""
    branch_id = getattr(branch, "pk", None)
    per_building = _per_building(sql, branch_id)
    where, where_params = _where_city(branch)
    where = f"{where} AND cb.network = 1" if where else "WHERE cb.network = 1"
    potential = sql.greatest("b.households - cb.active", "0")
    text = f"""
        WITH cb AS ({per_building})
        SELECT b.id, city.name, s.name, b.house, d.id, d.name, b.households, cb.active,
               {potential} AS potential
        FROM {sql.table(Building)} b
        JOIN cb ON cb.building_id = b.id
        JOIN {sql.table(Street)} s ON s.id = b.street_id
        JOIN {sql.table(District)} d ON d.id = b.district_id
        JOIN {sql.table(City)} city ON city.id = d.city_id
        {where}
        ORDER BY CASE WHEN b.households > 0 THEN 0 ELSE 1 END,
                 CASE WHEN b.households > 0 THEN cb.active * 1.0 / b.households END,
                 potential DESC, s.name, b.house, b.id
        {"LIMIT %s" if limit else ""}"""
    params = [*_cb_params(sql, moment, branch_id), *where_params, *([limit] if limit else [])]
    with connection.cursor() as cursor:
        cursor.execute(text, params)
        rows = []
        for (pk, city, street, house, district_id, district, households, active,
             potential_clients) in cursor.fetchall():
            value = percent(active, households, "0.1")
            rows.append({"id": pk, "city": city, "street": street, "house": house,
                         "address": f"{street}, {house}", "district_id": district_id,
                         "district": district, "households": int(households),
                         "active": int(active), "potential": int(potential_clients),
                         "penetration": value, "band": band(value)})
        return rows


def trend_moments(as_of: dt.date, months: int) -> list[tuple[dt.date, dt.datetime]]:
    """(month, the moment counted) for the last ``months`` months: each month's end, the
    last one ``as_of``'s end."""
    first = add_months(as_of, -(months - 1))
    out = []
    for index in range(months):
        key = add_months(first, index)
        day_after = add_months(key, 1) if index < months - 1 else as_of + dt.timedelta(days=1)
        out.append((key, local_midnight(day_after)))
    return out


def _with_rates(row: dict, trend: list[int] | None = None) -> dict:
    row["penetration"] = percent(row["active"], row["households"], "0.1")
    row["network_penetration"] = percent(row["active"], row["network_households"], "0.1")
    row["band"] = band(row["penetration"])
    if trend is not None:
        row["trend_active"] = trend
        row["trend"] = [_point(percent(count, row["households"], "0.1")) for count in trend]
    return row


def penetration_report(start: dt.date, end: dt.date, branch=None, *, months: int = TREND_MONTHS,
                       limit: int | None = None, today: dt.date | None = None) -> dict:
    """{"as_of", "points": [month keys], "districts": [...], "total": {...},
    "buildings": [the target list, at most ``limit``]}. ``start`` is not used: penetration
    is a state at the period's end (it is in the signature like every report's)."""
    today = today or timezone.localdate()
    as_of = min(end, today)
    months = max(1, min(months, 24))
    sql = Sql.current()
    moment = local_midnight(as_of + dt.timedelta(days=1))
    points = trend_moments(as_of, months)
    districts = _districts(sql, moment, branch)
    trend = _trend(sql, [m for _key, m in points], branch)
    totals = {name: 0 for name in ("buildings", "households", "active", "network_buildings",
                                   "network_households", "potential")}
    total_trend = [0] * months
    for row in districts:
        for name in totals:
            row[name] = int(row[name] or 0)
            totals[name] += row[name]
        counts = [trend.get((row["id"], k), 0) for k in range(months)]
        total_trend = [a + b for a, b in zip(total_trend, counts, strict=True)]
        _with_rates(row, counts)
    return {
        "as_of": as_of, "points": [key for key, _m in points], "districts": districts,
        "total": _with_rates(totals, total_trend),
        "buildings": _buildings(sql, moment, branch, limit),
    }
