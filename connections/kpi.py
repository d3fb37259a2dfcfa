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
    month: dt.date
    connection_type: str
    activated: int
    average_days: Decimal | None
    within_24h: int

    @property
    def within_24h_share(self) -> Decimal | None:
        if not self.activated:
            return None
        return (Decimal(self.within_24h) * 100 / self.activated).quantize(Decimal("0.1"))


def connection_speed(start: dt.date, end: dt.date, *, branch=None) -> list[SpeedRow]:
    """Rows per (month of activation, connection type) for activations in start..end."""
    cards = ClientCard.objects.filter(activated_at__date__range=(start, end),
                                      fee_paid_at__isnull=False)
    if branch is not None:
        cards = cards.filter(branch=branch)
    waited = ExpressionWrapper(F("activated_at") - F("fee_paid_at"),
                               output_field=fields.DurationField())
    rows = (cards.annotate(month=TruncMonth("activated_at"), waited=waited)
            .values("month", "connection_type")
            .annotate(activated=Count("id"), average_days=Avg("connection_days"),
                      within_24h=Count("id", filter=Q(waited__lte=DAY)))
            .order_by("month", "connection_type"))
    return [SpeedRow(month=_as_date(row["month"]), connection_type=row["connection_type"],
                     activated=row["activated"],
                     average_days=None if row["average_days"] is None
                     else Decimal(row["average_days"]).quantize(Decimal("0.01"), ROUND_HALF_UP),
                     within_24h=row["within_24h"]) for row in rows]


def _as_date(value) -> dt.date:
    return value.date() if isinstance(value, dt.datetime) else value
