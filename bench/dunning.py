"""Throughput of the daily dunning job fanned out to Celery workers, bounded in time.

    export DATABASE_URL=postgres://postgres@127.0.0.1:5432/million
    export REDIS_URL=redis://127.0.0.1:6379/5      # a Redis database of its own: it is purged
    .venv/bin/python -m bench.dunning --date 2026-11-24 [--workers 2] [--seconds 300]

Queues the day's dunning as beat's job does (``dunning_queue``: each step's accounts found
with one query, queued in chunks), starts N Celery workers of one process each and counts
the notices recorded every 15 s until the queue is drained or the time is up. Then it
empties the queue and stops the workers (a chunk already taken is finished: warm shutdown).
Prints the notices a second and how long the whole day's run would take at that rate.
Email goes to Django's dummy backend and SMS to the logging sender at WARNING (silent), so
the figure is the job's own cost, not a console's.

It changes the database (notices recorded, accounts marked): run it on a copy, or accept
that the next run finds less to do. Figures go to docs/BENCHMARKS.md; nothing here asserts
a time."""

import argparse
import os
import signal
import subprocess
import sys
import time
from datetime import date

SAMPLE_SECONDS = 15


def start_workers(count: int) -> list[subprocess.Popen]:
    command = [sys.executable, "-m", "celery", "-A", "ispcrm", "worker", "--pool", "prefork",
               "--concurrency", "1", "--without-mingle", "--without-gossip", "-l", "warning"]
    return [subprocess.Popen([*command, "--hostname", f"dunning{n}@%h"],
                             start_new_session=True, stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)
            for n in range(count)]


def stop_workers(workers: list[subprocess.Popen]) -> None:
    for worker in workers:
        os.killpg(worker.pid, signal.SIGTERM)  # warm: the chunk in hand is finished
    for worker in workers:
        worker.wait(timeout=600)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--date", required=True, type=date.fromisoformat,
                        help="the dunning day, YYYY-MM-DD")
    parser.add_argument("--workers", type=int, choices=range(1, 9), default=2)
    parser.add_argument("--seconds", type=int, default=300)
    args = parser.parse_args()
    if not os.environ.get("REDIS_URL"):
        sys.exit("Set REDIS_URL (a Redis database of its own: the queue is purged).")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ispcrm.settings.base")
    # Printing every message (the console backends) would be the bottleneck, not the job.
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    os.environ.setdefault("EMAIL_BACKEND", "django.core.mail.backends.dummy.EmailBackend")
    import django

    django.setup()
    from bench.faults import workers_idle
    from billing.models import Notice
    from billing.services.dunning import dunning_queue
    from ispcrm.celery import app

    day = args.date
    app.control.purge()
    before = Notice.objects.count()
    began = time.monotonic()
    queued = dunning_queue(today=day)
    print(f"{day}: due {queued.due}; {queued.queued} chunks queued in "
          f"{time.monotonic() - began:.1f} s")
    if queued.done_here is not None:
        sys.exit("The broker did not take the chunks: the work was done inline.")
    workers = start_workers(args.workers)
    started = time.monotonic()
    with app.connection_for_write() as connection:
        queue = connection.default_channel.client  # the Redis client of the broker
        while time.monotonic() - started < args.seconds:
            time.sleep(SAMPLE_SECONDS)
            waiting = queue.llen("celery")
            done = Notice.objects.count() - before
            elapsed = time.monotonic() - started
            print(f"{elapsed:6.0f} s  {done:8d} notices  {done / elapsed:6.1f} /s  "
                  f"{waiting} chunks waiting", flush=True)
            if waiting == 0 and workers_idle():
                break
    app.control.purge()  # what is still waiting; then the workers finish what they hold
    stop_workers(workers)
    app.control.purge()  # what a stopping worker gave back
    elapsed = time.monotonic() - started
    done = Notice.objects.count() - before
    total = sum(queued.due.values())
    rate = done / elapsed
    whole = f"the day's {total} accounts would take {total / rate / 60:.0f} min at this rate"
    print(f"{args.workers} workers: {done} notices in {elapsed:.0f} s = {rate:.1f} /s; "
          f"{whole if rate else 'no notice sent'}")


if __name__ == "__main__":
    main()
