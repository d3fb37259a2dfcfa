"""CS-6, the connection speed: average working days from the connection fee payment to
activation per connection type and month, and the share activated within 24 hours of the
payment. The figures are stored on the card at activation (``connection_days``,
``fee_paid_at``, ``activated_at``), so this is one grouped query over any period."""

import datetime as dt
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Avg, Count, ExpressionWrapper, F, Q, fields
from django.db.models.functions import TruncMonth

from connections.models import ClientCard

DAY = dt.timedelta(hours=24)


@dataclass(frozen=True)
class SpeedRow:
    """One group of activations; ``month`` or ``connection_type`` is None when the rows are
    not grouped by it (``connection_speed(by=…)``)."""

    month: dt.date | None
    connection_type: str | None
    activated: int
    average_days: Decimal | None
    within_24h: int

    @property
    def within_24h_share(self) -> Decimal | None:
        if not self.activated:
            return None
        return (Decimal(self.within_24h) * 100 / self.activated).quantize(Decimal("0.1"))


GROUPS = ("month", "connection_type")


def connection_speed(start: dt.date, end: dt.date, *, branch=None,
                     by: tuple[str, ...] = GROUPS) -> list[SpeedRow]:
    """Rows per (month of activation, connection type) for activations in start..end, or
    per the groups in ``by`` (a subset of GROUPS; empty: one row for the whole period).
    One grouped query."""
    unknown = set(by) - set(GROUPS)
    if unknown:
        raise ValueError(f"Unknown groups: {sorted(unknown)}")
    cards = ClientCard.objects.filter(activated_at__date__range=(start, end),
                                      fee_paid_at__isnull=False)
    if branch is not None:
        cards = cards.filter(branch=branch)
    waited = ExpressionWrapper(F("activated_at") - F("fee_paid_at"),
                               output_field=fields.DurationField())
    cards = cards.annotate(waited=waited)
    if "month" in by:
        cards = cards.annotate(month=TruncMonth("activated_at"))
    figures = {"activated": Count("id"), "average_days": Avg("connection_days"),
               "within_24h": Count("id", filter=Q(waited__lte=DAY))}
    if by:
        rows = list(cards.values(*by).annotate(**figures).order_by(*by))
    else:
        rows = [cards.aggregate(**figures)]
    return [SpeedRow(month=_as_date(row["month"]) if "month" in by else None,
                     connection_type=row.get("connection_type"),
                     activated=row["activated"],
                     average_days=None if row["average_days"] is None
                     else Decimal(row["average_days"]).quantize(Decimal("0.01"), ROUND_HALF_UP),
                     within_24h=row["within_24h"]) for row in rows]


def _as_date(value) -> dt.date:
    return value.date() if isinstance(value, dt.datetime) else value
