"""Connection speed (CS-6): average working days from the connection fee payment to
activation, per connection type and month, and the share activated within 24 hours of the
payment — the figures ``connections.kpi.connection_speed`` computes from what is stored on
the card at activation (``fee_paid_at``, ``activated_at``, ``connection_days``).

A month is the month of activation (local time); an activation counts when the fee was paid
(cards with a zero fee are stamped paid at signing). The average is of working days (the
branch's calendar and hours); "within 24 hours" is wall-clock time from payment to
activation. The standard's target (seed 000: "never above 4 working days") marks the months
above it. Three grouped queries, whatever the period."""

import datetime as dt
from decimal import Decimal

from connections.kpi import SpeedRow, connection_speed
from connections.models import ConnectionType

TARGET_DAYS = Decimal("4")


def _row(row: SpeedRow) -> dict:
    label = None
    if row.connection_type is not None:
        try:
            label = str(ConnectionType(row.connection_type).label)
        except ValueError:
            label = row.connection_type
    return {
        "month": row.month, "connection_type": row.connection_type, "label": label,
        "activated": row.activated, "average_days": row.average_days,
        "within_24h": row.within_24h, "within_24h_share": row.within_24h_share,
        "above_target": row.average_days is not None and row.average_days > TARGET_DAYS,
    }


def connection_speed_report(start: dt.date, end: dt.date, branch=None) -> dict:
    """{"rows": per month and connection type, "by_type": per connection type over the
    period, "total": the period in all, "target_days"}; shares are percents (12.5)."""
    rows = connection_speed(start, end, branch=branch)
    by_type = connection_speed(start, end, branch=branch, by=("connection_type",))
    overall = connection_speed(start, end, branch=branch, by=())
    return {"rows": [_row(r) for r in rows], "by_type": [_row(r) for r in by_type],
            "total": _row(overall[0]), "target_days": TARGET_DAYS}
