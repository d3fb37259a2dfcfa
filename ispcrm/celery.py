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
}
