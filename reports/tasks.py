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
    """Exports a killed worker left running: queued again once, then failed (beat)."""
    from reports.exports import exports_sweep

    return exports_sweep()


@shared_task
def purge_exports() -> int:
    """Delete the files of exports whose link has expired (beat)."""
    from reports.exports import exports_purge

    return exports_purge()


@shared_task
def warm_dashboard() -> int:
    """Compute the closed months' figures for every branch after midnight (beat), so the
    director's first dashboard of the day reads them from the cache."""
    from reports.selectors.summary import warm_summary_cache

    return warm_summary_cache()
