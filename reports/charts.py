"""Charts for report pages, drawn on the server as inline SVG (no chart library, no build
step). Every chart has a title and a description for screen readers, each bar a tooltip
with its value, and the page shows the same numbers as a table; colours always come with a
text legend (UX: colour never alone).

Template tags over these: ``reports/templatetags/report_charts.py``."""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from html import escape

from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from ispcrm.templatetags.ispcrm import money

NBSP = "\u00a0"

# Bootstrap 5.3's palette, so charts match the badges and buttons around them.
COLOURS = {
    "primary": "#0d6efd", "success": "#198754", "danger": "#dc3545", "warning": "#ffc107",
    "info": "#0dcaf0", "secondary": "#6c757d", "teal": "#20c997", "indigo": "#6610f2",
}


def number(value) -> str:
    """An integer with non-breaking spaces between thousands: «12 345»."""
    if value is None:
        return "—"
    sign = "−" if value < 0 else ""
    return sign + f"{abs(int(value)):,}".replace(",", NBSP)


def decimal(value, places: int = 2) -> str:
    """«2,35»: a plain number with a decimal comma."""
    if value is None:
        return "—"
    exponent = Decimal(1).scaleb(-places)
    text = f"{Decimal(value).quantize(exponent, ROUND_HALF_UP):f}"
    whole, _dot, fraction = text.partition(".")
    return number(int(whole)) if not fraction else \
        f"{'−' if whole.startswith('-') else ''}{number(abs(int(whole)))},{fraction}"


def amount(value, kind: str) -> str:
    """A value as the chart or table writes it: "money", "decimal" or "count"."""
    if kind == "money":
        return money(value)
    if kind == "decimal":
        return decimal(value)
    return number(value)


def axis(peak, *, whole: bool = False) -> tuple[Decimal, int]:
    """Round grid steps for values up to ``peak``: (step, number of steps), the step 1, 2,
    2.5 or 5 × 10ⁿ and at most five steps; ``whole`` keeps the step an integer (counts)."""
    peak = Decimal(peak)
    if peak <= 0:
        return Decimal(1), 4
    exponent = (peak / 5).adjusted()
    for power in (exponent, exponent + 1):
        for mantissa in (Decimal(1), Decimal(2), Decimal("2.5"), Decimal(5)):
            step = mantissa.scaleb(power)
            if whole and step != step.to_integral_value():
                continue
            steps = math.ceil(peak / step)
            if steps <= 5:
                return step, max(steps, 1)
    return Decimal(10).scaleb(exponent + 1), 5  # pragma: no cover - the loop returns


@dataclass(frozen=True)
class Series:
    name: str
    values: list
    colour: str = "primary"

    @property
    def fill(self) -> str:
        return COLOURS.get(self.colour, self.colour)


def bar_chart(labels: list[str], series: list[Series], *, title: str, kind: str = "count",
              height: int = 220, chart_id: str = "chart") -> SafeString:
    """Grouped vertical bars: one group per label, one bar per series. ``kind`` is "count"
    or "money" (how values are written in tooltips and on the axis)."""
    groups, per_group = len(labels), max(len(series), 1)
    bar, gap, left, bottom, top_pad = 22, 30, 64, 36, 12
    group_width = per_group * bar + gap
    width = max(320, left + groups * group_width + gap)
    plot = height - bottom - top_pad
    peak = max([Decimal(v or 0) for s in series for v in s.values] + [Decimal(0)])
    step, steps = axis(peak, whole=kind == "count")
    top = step * steps
    parts = [
        f'<svg class="report-chart" id="{escape(chart_id)}" role="img" '
        f'viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
        f'aria-labelledby="{escape(chart_id)}-title {escape(chart_id)}-desc" '
        f'xmlns="http://www.w3.org/2000/svg">',
        f'<title id="{escape(chart_id)}-title">{escape(title)}</title>',
        f'<desc id="{escape(chart_id)}-desc">{escape(_describe(labels, series, kind))}</desc>',
    ]
    for tick in range(steps + 1):  # grid lines from 0 to the top
        value = step * tick
        y = top_pad + plot - plot * tick / steps
        parts.append(f'<line x1="{left}" x2="{width}" y1="{y:.1f}" y2="{y:.1f}" '
                     f'stroke="#dee2e6" stroke-width="1"/>')
        parts.append(f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end" font-size="11" '
                     f'fill="#6c757d">{escape(_axis(value, kind))}</text>')
    for index, label in enumerate(labels):
        x0 = left + gap / 2 + index * group_width
        for position, item in enumerate(series):
            value = item.values[index] if index < len(item.values) else 0
            value = Decimal(value or 0)
            bar_height = float(max(value, Decimal(0)) / top) * plot if top else 0
            x = x0 + position * bar
            y = top_pad + plot - bar_height
            tooltip = f"{label} · {item.name}: {amount(value, kind)}"
            parts.append(
                f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar - 2}" height="{bar_height:.1f}" '
                f'fill="{item.fill}" data-series="{escape(item.name)}" '
                f'data-value="{value}"><title>{escape(tooltip)}</title></rect>')
        parts.append(f'<text x="{x0 + per_group * bar / 2:.1f}" y="{height - bottom + 16}" '
                     f'text-anchor="middle" font-size="11" fill="#495057">'
                     f'{escape(label)}</text>')
    parts.append("</svg>")
    return mark_safe("".join(parts))  # every value above is escaped


def _axis(value: Decimal, kind: str) -> str:
    if kind == "money" and value >= 1_000_000:
        return f"{(value / 1_000_000).normalize():f}".replace(".", ",") + NBSP + _("mln")
    if kind == "money" and value >= 10_000:
        return f"{(value / 1000).normalize():f}".replace(".", ",") + NBSP + _("k")
    return number(value) if value == value.to_integral_value() else \
        f"{value.normalize():f}".replace(".", ",")


def _describe(labels, series, kind) -> str:
    """The chart as a sentence for screen readers: each series' values by label."""
    return "; ".join(
        f"{item.name}: " + ", ".join(f"{label} {amount(value, kind)}"
                                     for label, value in zip(labels, item.values, strict=False))
        for item in series)


@dataclass(frozen=True)
class Change:
    """A figure against the previous period: ▲/▼ with the difference and the percent, and
    whether that is good news (a rise of lost clients is not)."""

    current: Decimal | int | None
    previous: Decimal | int | None
    higher_is_better: bool = True

    @property
    def delta(self):
        if self.current is None or self.previous is None:
            return None
        return self.current - self.previous

    @property
    def direction(self) -> str:
        delta = self.delta
        if delta is None:
            return "none"
        return "up" if delta > 0 else "down" if delta < 0 else "same"

    @property
    def percent(self) -> Decimal | None:
        if self.delta is None or not self.previous:
            return None
        return (Decimal(self.delta) * 100 / abs(Decimal(self.previous))).quantize(
            Decimal("0.1"))

    @property
    def good(self) -> bool | None:
        if self.direction in ("none", "same"):
            return None
        return (self.direction == "up") == self.higher_is_better

    @property
    def arrow(self) -> str:
        return {"up": "▲", "down": "▼", "same": "=", "none": ""}[self.direction]

    @property
    def colour(self) -> str:
        return {True: "success", False: "danger", None: "secondary"}[self.good]

    @property
    def verdict(self) -> str:
        """The words the colour stands for."""
        if self.direction == "none":
            return _("no comparison")
        if self.direction == "same":
            return _("unchanged")
        return _("better") if self.good else _("worse")


def stacked(parts: list[tuple[str, Decimal, str]]) -> list[dict]:
    """Segments of a stacked bar: (label, value, colour) → with ``percent`` of the sum
    (one decimal; the last segment takes the remainder so they add up to 100)."""
    total = sum((Decimal(value) for _label, value, _colour in parts), Decimal(0))
    out, used = [], Decimal(0)
    for index, (label, value, colour) in enumerate(parts):
        if total <= 0:
            percent = Decimal(0)
        elif index == len(parts) - 1:
            percent = Decimal(100) - used
        else:
            percent = (Decimal(value) * 100 / total).quantize(Decimal("0.1"))
            used += percent
        out.append({"label": label, "value": value, "colour": colour, "percent": percent,
                    "width": f"{percent:f}"})
    return out
