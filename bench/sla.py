"""The SLA escalation job under a month of Q5's volume (2,500 new tickets a week).

    DATABASE_URL=postgres://… .venv/bin/python -m bench.sla [--tickets 10000]   (a migrated DB)

Inside one transaction that is rolled back at the end (the database is left as it was):
creates a branch, a category with a group of 20 agents and the head, one policy (first
response 2 h, update 4 h, resolution 8 h, warn at 80 %), then ~10,000 tickets spread over
the working hours of the 19 working days 23.11–17.12.2026 with their first responses and
resolutions (most resolved within a working day, about one in ten late). Then
``run_escalations`` runs every 10 minutes of Friday 18.12.2026, 09:00–17:50 (54 runs), and
``recompute_open`` once (what a policy or calendar change costs). Prints the figures for
docs/BENCHMARKS.md."""

import argparse
import datetime as dt
import os
import random
import statistics
import time

DAYS_FROM = dt.date(2026, 11, 23)
RUN_DAY = dt.date(2026, 12, 18)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tickets", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=5)
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ispcrm.settings.base")
    import django

    django.setup()
    from django.conf import settings
    from django.db import connection, transaction

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"  # no real mail
    print(f"database {connection.vendor}; {args.tickets} tickets; runs on {RUN_DAY}")
    with transaction.atomic():
        world = _world()
        _tickets(world, args.tickets, random.Random(args.seed))
        _measure(world)
        transaction.set_rollback(True)


def _world() -> dict:
    from django.contrib.auth.models import Group

    from ispcrm.models import Branch, City, User
    from tickets.models import Category, SlaPolicy

    city = City.objects.create(name="Бенчмарк")
    branch = Branch.objects.create(city=city, name="Бенчмарк — офис",
                                   time_zone="Europe/Moscow")
    group = Group.objects.create(name="bench-L1")
    agents = [User.objects.create(username=f"bench-agent-{n}", branch=branch,
                                  email=f"agent{n}@bench.example") for n in range(20)]
    group.user_set.add(*agents)
    head = User.objects.create(username="bench-head", branch=branch, email="h@bench.example")
    category = Category.objects.create(code="bench", name="Bench", group=group, head=head)
    SlaPolicy.objects.filter(active=True).update(active=False)  # only ours applies
    policy = SlaPolicy.objects.create(name="Bench", order=0, first_response_hours=2,
                                      update_hours=4, resolution_hours=8, warn_percent=80)
    return {"branch": branch, "agents": agents, "category": category, "group": group,
            "policy": policy}


def _tickets(world: dict, count: int, rng: random.Random) -> None:
    """Tickets over the working hours of the month; resolved ones with their replies."""
    from ispcrm.workcalendar import WorkCalendar
    from tickets.models import Comment, Ticket
    from tickets.services import sla

    calendar = WorkCalendar(world["branch"])
    days = [DAYS_FROM + dt.timedelta(n) for n in range((RUN_DAY - DAYS_FROM).days)]
    windows = [calendar.working_hours_on(day) for day in days]
    windows = [w for w in windows if w]
    end = windows[-1][1]
    context = sla.Context(RUN_DAY)
    started = time.perf_counter()
    rows = []
    for n in range(count):
        opens, closes = windows[n * len(windows) // count]
        created = opens + (closes - opens) * rng.random()
        ticket = Ticket(branch=world["branch"], category=world["category"], channel="phone",
                        subject=f"Bench {n}", group=world["group"],
                        assignee=rng.choice(world["agents"]), created_at=created)
        sla.apply_deadlines(ticket, created, context=context)
        answered = calendar.add_working_time(created, dt.timedelta(hours=rng.uniform(0.1,
                                                                                     2.4)))
        done = calendar.add_working_time(created, dt.timedelta(hours=rng.uniform(0.5, 9)))
        fields = {"first_response_at": answered if answered < end else None}
        if done < end:
            fields.update(resolved_at=done, first_response_breached=answered
                          > ticket.first_response_due,
                          resolution_breached=done > ticket.resolution_due)
        rows.append(Ticket(status="resolved" if done < end else "open",
                           **{f.attname: getattr(ticket, f.attname)
                              for f in Ticket._meta.concrete_fields
                              if f.name not in ("id", "status", *fields)}, **fields))
    Ticket.objects.bulk_create(rows, batch_size=1000)
    comments = [Comment(ticket=t, author_id=t.assignee_id, kind="reply", body="Reply",
                        created_at=t.first_response_at) for t in rows if t.first_response_at]
    Comment.objects.bulk_create(comments, batch_size=2000)
    open_count = sum(t.status == "open" for t in rows)
    print(f"created {count} tickets ({open_count} open) and {len(comments)} replies in "
          f"{time.perf_counter() - started:.1f} s")


def _measure(world: dict) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from ispcrm.workcalendar import WorkCalendar
    from tickets.services import sla

    opens, closes = WorkCalendar(world["branch"]).working_hours_on(RUN_DAY)
    timings, totals, queries = [], {"warnings": 0, "breaches": 0}, []
    moment = opens
    while moment < closes:
        with CaptureQueriesContext(connection) as captured:
            started = time.perf_counter()
            counts = sla.run_escalations(moment)
            timings.append(time.perf_counter() - started)
        queries.append(len(captured))
        for key in totals:
            totals[key] += counts[key]
        moment += dt.timedelta(minutes=10)
    timings_ms = [t * 1000 for t in timings]
    print(f"run_escalations: {len(timings)} runs; per run median "
          f"{statistics.median(timings_ms):.0f} ms, max {max(timings_ms):.0f} ms, "
          f"queries median {statistics.median(queries):.0f}, max {max(queries)}; "
          f"sent {totals['warnings']} warnings, {totals['breaches']} escalations")
    started = time.perf_counter()
    again = sla.run_escalations(closes - dt.timedelta(minutes=1))
    print(f"a repeated run sends nothing: {again} in "
          f"{(time.perf_counter() - started) * 1000:.0f} ms")
    started = time.perf_counter()
    night = sla.run_escalations(closes + dt.timedelta(hours=5))
    print(f"a night run: {night} in {(time.perf_counter() - started) * 1000:.0f} ms")
    started = time.perf_counter()
    recomputed = sla.recompute_open()
    print(f"recompute_open (a policy or calendar change): {recomputed} open tickets in "
          f"{time.perf_counter() - started:.2f} s")


if __name__ == "__main__":
    main()
