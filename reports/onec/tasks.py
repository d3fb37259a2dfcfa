"""The 1C exchange's periodic job (beat, daily): thin, it calls reports.onec.jobs."""

from datetime import date

from celery import shared_task


@shared_task
def monthly_onec_exports(day_iso: str | None = None) -> int:
    """The previous month's 1C files on the month's first working day (default: today).
    Daily, since the day depends on the production calendar; safe to repeat: each file is
    made once per month. Returns how many jobs were started."""
    from reports.onec.jobs import monthly_exports

    return len(monthly_exports(date.fromisoformat(day_iso) if day_iso else None))
