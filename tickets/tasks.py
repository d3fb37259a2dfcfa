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


@shared_task
def build_retention_calls(day_iso: str | None = None) -> dict:
    """Each working morning: the day's call list of pre-churn clients (R5). Idempotent, so a
    retry adds nothing; on a day off nobody calls, so nothing is listed."""
    from django.utils import timezone

    from ispcrm import workcalendar
    from tickets.services import retention

    day = dt.date.fromisoformat(day_iso) if day_iso else timezone.localdate()
    if not workcalendar.is_working_day(day):
        return {"listed": 0, "skipped": 0, "day_off": True}
    return retention.build_call_list(day)


@shared_task
def read_support_mailbox() -> str:
    """Every 2 minutes: the new messages of settings.SUPPORT_MAILDIR become tickets or
    replies (``manage.py read_support_mailbox``); without the setting, nothing is read."""
    from io import StringIO

    from django.conf import settings
    from django.core.management import call_command

    if not settings.SUPPORT_MAILDIR:
        return ""
    out = StringIO()
    call_command("read_support_mailbox", maildir=settings.SUPPORT_MAILDIR, stdout=out)
    return out.getvalue().strip()
