"""Reports' background jobs. Thin: each calls a function of reports.exports (ARCHITECTURE:
Celery tasks), passing ids, not objects."""

from celery import shared_task


@shared_task
def build_export(job_id: int) -> str:
    """Build one export's file (queued by ``export_start`` on commit). Safe to deliver twice:
    only the delivery that moves the job from queued to running builds it."""
    from reports.exports import export_run

    return export_run(job_id)


@shared_task
def sweep_exports() -> dict:
    """Exports a killed worker left running: queued again once, then failed; and the tasks
    of jobs left queued (the broker was down or lost its queue) sent again (beat)."""
    from reports.exports import exports_resend, exports_sweep

    # Resend first: a job the sweep queues again now has just had its task sent.
    resent = exports_resend()
    return {**exports_sweep(), "resent": resent}


@shared_task
def purge_exports() -> int:
    """Delete the files of exports whose link has expired (beat)."""
    from reports.exports import exports_purge

    return exports_purge()


@shared_task
def warm_dashboard() -> int:
    """After midnight (beat): store the month that has just closed and any stale one in the
    summary's rollup, regroup the stored months by today's tariffs and districts, then
    cache the closed months' figures for every branch, so the director's first dashboard
    of the day reads them at once."""
    from reports.rollups import rollups_refresh
    from reports.selectors.summary import warm_summary_cache

    rollups_refresh()
    return warm_summary_cache()


@shared_task
def refresh_summary_rollups() -> int:
    """Build again the rollup months a late payment or a cancellation marked stale (queued
    on commit by reports.rollups). Returns how many months were built."""
    from reports.rollups import rollups_refresh

    return len(rollups_refresh(missing=False).built)


@shared_task
def refresh_month_so_far() -> int:
    """Store the current month's figures again up to ``SETTLE`` ago (beat, every quarter
    of an hour; queued
    after a charge run). Returns how many months were built (1, or 0 in a month's first
    minutes)."""
    from django.utils import timezone

    from billing.money import month_start
    from reports.rollups import part_until, rollups_refresh

    return len(rollups_refresh(first=month_start(timezone.localtime(part_until()).date()))
               .built)
