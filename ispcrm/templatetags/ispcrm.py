"""Formatting the UX guide asks for: money «1 500,00 ₽», phones «+7 912 345-67-89»,
and one colour language for stages and statuses (always with a text label)."""

from decimal import ROUND_HALF_UP, Decimal

from django import template
from django.utils.html import format_html

from ispcrm.validators import format_phone

register = template.Library()

NBSP = "\u00a0"

# Stage/status → Bootstrap colour; the label is always shown too.
STATUS_COLOURS = {
    "commercial": "secondary", "expertise": "info", "contract": "primary",
    "installation": "warning", "activation": "warning", "active": "success",
    "network_development": "dark", "cancelled": "light", "terminated": "danger",
    # accounts (billing): "active" is shared with the stage above
    "pending": "primary", "blocked": "danger", "paused": "warning", "closed": "dark",
    # payments and notices
    "completed": "success", "sent": "success", "failed": "danger",
}


@register.filter
def money(value) -> str:
    if value in (None, ""):
        return "—"
    amount = Decimal(value).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    sign = "−" if amount < 0 else ""
    whole, cents = f"{abs(amount):.2f}".split(".")
    groups = f"{int(whole):,}".replace(",", NBSP)
    return f"{sign}{groups},{cents}{NBSP}₽"


@register.filter
def phone(value: str) -> str:
    return format_phone(value or "")


@register.simple_tag
def status_badge(code: str, label: str):
    colour = STATUS_COLOURS.get(code, "secondary")
    text = " text-dark" if colour in ("warning", "info", "light") else ""
    return format_html('<span class="badge text-bg-{}{} status-{}">{}</span>', colour, text,
                       code, label)
