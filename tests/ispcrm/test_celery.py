"""Celery wiring: the schedule names real tasks, task bodies work, and with REDIS_URL set a
real worker answers over Redis (ARCHITECTURE: eager mode hides wiring bugs)."""

import os
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
from django.contrib.sessions.models import Session
from django.utils import timezone

from ispcrm import tasks
from ispcrm.celery import app

ROOT = Path(__file__).resolve().parents[2]


def test_every_scheduled_job_is_a_registered_task():
    app.loader.import_default_modules()
    for entry in app.conf.beat_schedule.values():
        assert entry["task"] in app.tasks


@pytest.mark.django_db
def test_clear_expired_sessions_removes_only_expired_ones():
    now = timezone.now()
    Session.objects.create(session_key="old", session_data="", expire_date=now - timedelta(1))
    Session.objects.create(session_key="new", session_data="", expire_date=now + timedelta(1))
    tasks.clear_expired_sessions.delay()
    assert list(Session.objects.values_list("session_key", flat=True)) == ["new"]


def _redis_available(url: str) -> bool:
    import redis

    try:
        return redis.Redis.from_url(url, socket_connect_timeout=1).ping()
    except redis.RedisError:
        return False


@pytest.mark.redis
def test_a_real_worker_answers_over_redis():
    url = os.environ.get("REDIS_URL")
    if not url or not _redis_available(url):
        pytest.skip("needs REDIS_URL pointing at a running Redis")
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "ispcrm.settings.base"}
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "ispcrm", "worker", "--pool", "solo",
         "--hostname", "pytest@%h", "--without-mingle", "--without-gossip", "-l", "warning"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 60
        replies = []
        while not replies and time.monotonic() < deadline and worker.poll() is None:
            replies = app.control.ping(timeout=1.0)
        assert any(name.startswith("pytest@") for reply in replies for name in reply), \
            worker.stderr.read().decode() if worker.poll() is not None else "no reply"
    finally:
        worker.terminate()
        worker.wait(timeout=30)
