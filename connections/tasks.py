"""The connection standard's periodic jobs (stage 2). Thin: parse the arguments, call the
service; each job is also a management command (build_survey_plans) for running by hand."""

import datetime as dt

from celery import shared_task
from django.utils import timezone

from connections.services import surveys


def _day(day_iso: str | None) -> dt.date:
    return dt.date.fromisoformat(day_iso) if day_iso else timezone.localdate()


@shared_task
def build_survey_plans(day_iso: str | None = None) -> int:
    """The working day before each survey day: fix the route list and email it to the
    branch's NOC head. Idempotent (one plan per branch and day), and a non-working day
    builds nothing, so beat may fire it every morning."""
    return len(surveys.build_day_plans(_day(day_iso)))


@shared_task
def notify_overdue_surveys(day_iso: str | None = None) -> int:
    """Tell the lead manager once about each survey past its guaranteed term (CS-2)."""
    return surveys.notify_overdue(_day(day_iso))
