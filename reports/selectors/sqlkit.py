"""The few SQL pieces the tariff, penetration and churn selectors share: PostgreSQL and
SQLite spell some things differently, raw SQL gets no field adaptation, and a report works
in local calendar months.

The statements themselves stay in each selector (read one file to see one report); this
module only answers "how do I write X on this database" and "which months does the period
touch"."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.db import connection
from django.utils import timezone

from billing.money import month_start, next_month_start

_ZONE_NAME = re.compile(r"^[A-Za-z0-9_+\-/]+$")
CENT = Decimal("0.01")


def add_months(day: dt.date, months: int) -> dt.date:
    """The first day of the month ``months`` after (or before) ``day``'s month."""
    index = day.year * 12 + day.month - 1 + months
    return dt.date(index // 12, index % 12 + 1, 1)


def month_keys(start: dt.date, end: dt.date) -> list[dt.date]:
    """The first days of the calendar months touched by start..end, in order."""
    keys, key = [], month_start(start)
    while key <= end:
        keys.append(key)
        key = next_month_start(key)
    return keys


def local_midnight(day: dt.date) -> dt.datetime:
    """00:00 of a local day (settings.TIME_ZONE) as an aware instant."""
    return dt.datetime.combine(day, dt.time.min, tzinfo=timezone.get_current_timezone())


def as_date(value) -> dt.date | None:
    """A date read back from raw SQL: a date on PostgreSQL, 'YYYY-MM-DD' text on SQLite."""
    if value is None or type(value) is dt.date:
        return value
    if isinstance(value, dt.datetime):
        return value.date()
    return dt.date.fromisoformat(str(value)[:10])


def money(kopecks) -> Decimal:
    """Whole kopecks summed in SQL back to roubles."""
    return (Decimal(int(kopecks or 0)) / 100).quantize(CENT)


def percent(part, whole, places: str = "0.01") -> Decimal | None:
    """``part / whole × 100``, rounded half up; None when there is nothing to divide by."""
    if not whole:
        return None
    return (Decimal(part) * 100 / Decimal(whole)).quantize(Decimal(places), ROUND_HALF_UP)


@dataclass(frozen=True)
class Sql:
    """How to write the non-portable bits on the database in use."""

    pg: bool
    zone: str

    @classmethod
    def current(cls) -> Sql:
        if connection.vendor not in ("postgresql", "sqlite"):
            raise NotImplementedError("Reports support PostgreSQL and SQLite.")
        zone = timezone.get_current_timezone_name()
        if not _ZONE_NAME.match(zone):  # it is written into the SQL text below
            raise ValueError(f"Unexpected time zone name {zone!r}")
        return cls(pg=connection.vendor == "postgresql", zone=zone)

    @staticmethod
    def table(model) -> str:
        return connection.ops.quote_name(model._meta.db_table)

    @staticmethod
    def name(column: str) -> str:
        """A column whose name is an SQL keyword (``start``, ``end``)."""
        return connection.ops.quote_name(column)

    def greatest(self, a: str, b: str) -> str:
        return f"GREATEST({a}, {b})" if self.pg else f"MAX({a}, {b})"

    @staticmethod
    def kop(column: str) -> str:
        """Money as whole kopecks: exact integer sums on SQLite too, which keeps decimals
        as floating point."""
        return f"CAST(ROUND({column} * 100) AS BIGINT)"

    def date_param(self) -> str:
        """A date parameter usable in a SELECT list as well as in comparisons."""
        return "CAST(%s AS DATE)" if self.pg else "%s"

    def at_param(self) -> str:
        return "CAST(%s AS TIMESTAMPTZ)" if self.pg else "%s"

    def day(self, value: dt.date):
        return value if self.pg else value.isoformat()

    @staticmethod
    def at(value: dt.datetime):
        return connection.ops.adapt_datetimefield_value(value)

    def local_date(self, column: str) -> str:
        """The local calendar day of a stored instant."""
        if self.pg:
            return f"CAST(({column}) AT TIME ZONE '{self.zone}' AS DATE)"
        return f"django_datetime_cast_date({column}, '{self.zone}', '{connection.timezone_name}')"

    def month_of_date(self, column: str) -> str:
        """The first day of a date's month, comparable with a DateField."""
        if self.pg:
            return f"CAST(DATE_TRUNC('month', {column}) AS DATE)"
        return f"(SUBSTR({column}, 1, 8) || '01')"

    def days_between(self, later: str, earlier: str) -> str:
        """Whole days from one date to another."""
        if self.pg:
            return f"({later} - {earlier})"
        return f"CAST(ROUND(julianday({later}) - julianday({earlier})) AS INTEGER)"

    def true(self) -> str:
        return "TRUE" if self.pg else "1"

    def false(self) -> str:
        return "FALSE" if self.pg else "0"


def rows_cte(sql: Sql, rows: list[tuple], columns: list[tuple[str, str]]) -> tuple[str, list]:
    """A small inline table for a WITH clause: ``SELECT … UNION ALL SELECT …`` of ``rows``,
    with ``columns`` as (name, kind), kind "date", "at" (an instant) or "int"."""
    def cell(kind: str) -> str:
        return {"date": sql.date_param(), "at": sql.at_param()}.get(kind, "%s")

    def adapt(value, kind: str):
        if kind == "date":
            return sql.day(value)
        if kind == "at":
            return sql.at(value)
        return value

    select = "SELECT " + ", ".join(f"{cell(kind)} AS {name}" for name, kind in columns)
    text = " UNION ALL ".join(select for _row in rows)
    params = [adapt(value, kind) for row in rows
              for value, (_name, kind) in zip(row, columns, strict=True)]
    return text, params
