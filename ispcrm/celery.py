"""The Celery app. Periodic jobs are a static schedule in code (reviewed like code);
each job is also a management command so it can be run by hand."""

import os

from celery import Celery
from celery.schedules import crontab

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ispcrm.settings.base")

app = Celery("ispcrm")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

app.conf.beat_schedule = {
    "clear-expired-sessions": {
        "task": "ispcrm.tasks.clear_expired_sessions",
        "schedule": crontab(hour=3, minute=10),
    },
    # Daily, not only on the 1st: a run is idempotent, so a missed day is caught up.
    "billing-apply-pauses": {
        "task": "billing.tasks.apply_pauses",
        "schedule": crontab(hour=0, minute=5),
    },
    "billing-charges": {
        "task": "billing.tasks.run_charges",
        "schedule": crontab(hour=0, minute=15),
    },
    # Within working hours (Moscow 09:30 is 08:30–18:30 across Russia): no notices at night.
    "billing-dunning": {
        "task": "billing.tasks.run_dunning",
        "schedule": crontab(hour=9, minute=30),
    },
    # The route list of the next survey day, to the NOC head before the working day starts;
    # daily, since the job itself skips days off (working Saturdays included).
    "connections-survey-plans": {
        "task": "connections.tasks.build_survey_plans",
        "schedule": crontab(hour=8, minute=0),
    },
    "connections-overdue-surveys": {
        "task": "connections.tasks.notify_overdue_surveys",
        "schedule": crontab(hour=9, minute=40),
    },
    # Online top-ups with no word from the gateway for an hour become "expired".
    "billing-expire-online-payments": {
        "task": "billing.tasks.expire_online_payments",
        "schedule": crontab(minute="*/5"),
    },
    "billing-monthly-documents": {
        "task": "billing.tasks.issue_monthly_documents",
        "schedule": crontab(day_of_month=1, hour=6, minute=0),
    },
    # SLA warnings and escalations (SP-3); the job skips branches outside working hours.
    "tickets-escalations": {
        "task": "tickets.tasks.run_escalations",
        "schedule": crontab(minute="*/10"),
    },
    # The support mailbox into tickets (SP-2); the task does nothing without SUPPORT_MAILDIR.
    "tickets-support-mailbox": {
        "task": "tickets.tasks.read_support_mailbox",
        "schedule": crontab(minute="*/2"),
    },
    # The retention call list (R5), ready before the managers start; the job skips days off.
    "tickets-retention-calls": {
        "task": "tickets.tasks.build_retention_calls",
        "schedule": crontab(hour=7, minute=30),
    },
    # balance == sum(entries) for every account, payments in the ledger once; mails the
    # ADMINS on a mismatch. In the quiet hour: after the charge run and the dashboard warm-up.
    "billing-verify-ledger": {
        "task": "billing.tasks.verify_ledger",
        "schedule": crontab(hour=4, minute=20),
    },
    # The dashboard's closed months: the month just closed stored in the summary's rollup,
    # the stored months regrouped by today's tariffs, the day's cache warmed (keys per day).
    "reports-warm-dashboard": {
        "task": "reports.tasks.warm_dashboard",
        "schedule": crontab(hour=0, minute=30),
    },
    # The current month's figures stored up to five minutes ago, so the dashboard reads
    # only the last minutes' events live (reports.rollups; a charge run queues one too).
    "reports-month-so-far": {
        "task": "reports.tasks.refresh_month_so_far",
        "schedule": crontab(minute="5,20,35,50"),
    },
    # Excel exports a killed worker left running: queued again once, then failed (D14);
    # exports whose task never reached the broker (it was down): sent again.
    "reports-sweep-exports": {
        "task": "reports.tasks.sweep_exports",
        "schedule": crontab(minute="*/5"),
    },
    # The files of exports whose download link expired (EXPORT_LINK_HOURS).
    "reports-purge-exports": {
        "task": "reports.tasks.purge_exports",
        "schedule": crontab(minute=25),
    },
    # The previous month's 1C files (D12) on the month's first working day, after the acts
    # (billing-monthly-documents, the 1st at 06:00); daily, since the job itself decides by
    # the production calendar, and each file is made once per month.
    "reports-1c-monthly": {
        "task": "reports.onec.tasks.monthly_onec_exports",
        "schedule": crontab(hour=7, minute=0),
    },
}
# The 1C exchange's task lives in a sub-package, which autodiscovery does not look into.
app.autodiscover_tasks(["reports.onec"])
