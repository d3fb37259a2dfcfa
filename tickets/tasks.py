"""The helpdesk's periodic job: SLA warnings and escalations (SP-3). Thin: the work is in
tickets.services.sla; ``manage.py run_escalations`` runs it by hand."""

import datetime as dt

from celery import shared_task

from tickets.services import sla


@shared_task
def run_escalations(now_iso: str | None = None) -> dict:
    """Every 10 minutes: each notice goes once (unique per deadline), and a branch outside
    its working hours is skipped until a run inside them."""
    return sla.run_escalations(dt.datetime.fromisoformat(now_iso) if now_iso else None)
