"""Template tags for report pages: ``{% load report_charts %}``.

``{% bar_chart labels series title=… kind="money" chart_id=… %}`` — grouped SVG bars
(``series``: a list of ``reports.charts.Series``); ``{{ value|number }}`` — «12 345»;
``{{ value|figure:"money" }}`` — money or a count; ``{% change_badge change kind %}`` —
▲/▼ with the difference, the percent and the words for the colour."""

from django import template
from django.utils.html import format_html
from django.utils.translation import gettext as _

from reports import charts

register = template.Library()


@register.simple_tag
def bar_chart(labels, series, title="", kind="count", chart_id="chart", height=220):
    return charts.bar_chart(list(labels), list(series), title=title, kind=kind,
                            chart_id=chart_id, height=int(height))


@register.filter
def number(value):
    return charts.number(value)


@register.filter
def lookup_figure(row: dict, name: str):
    """``row|lookup_figure:name`` — a figure of a summary row by its name."""
    return row.get(name)


@register.filter
def figure(value, kind="count"):
    return charts.amount(value, kind)


@register.simple_tag
def change_badge(change: charts.Change, kind="count"):
    if change.direction == "none":
        return format_html('<span class="badge text-bg-light border">{}</span>',
                           _("no comparison"))
    delta = change.delta
    if not delta:
        text = "0"
    else:
        text = ("+" if delta > 0 else "") + charts.amount(delta, kind)
        if change.percent is not None:
            percent = f"{'+' if change.percent > 0 else ''}{change.percent:f}".replace(".", ",")
            text += f" ({percent}\u00a0%)"
    return format_html(
        '<span class="badge text-bg-{} change change-{}">{} {}</span>'
        ' <small class="text-body-secondary">{}</small>',
        change.colour, change.direction, change.arrow, text, change.verdict)
