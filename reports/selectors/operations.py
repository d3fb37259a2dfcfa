"""Operational reports (R4, R7, Q5, SP-10): what managers did on a day or in a week, what is
overdue and whose, the helpdesk's KPIs by week or month, and the use of included service
hours. Grouped queries over the period's rows; the one figure that needs the production
calendar (working hours to the first response) is summed in Python over the period's first
responses, one calendar per branch.

A period is local calendar days (settings.TIME_ZONE), both ends included; a branch is the
branch of the card, ticket or survey the work was for.

Manager activity (R4), per manager of ``MANAGER_ROLES`` and day
  new_cards       cards created that day which he leads (ClientCard.lead_manager)
  stage_moves     workflow transitions he fired (StageLog rows with him as the actor)
  payments, paid  completed payments he took (Payment.taken_by): count and sum
  calls           retention calls he made (RetentionCall.called_by, status "called")
  tickets_opened  tickets he took (Ticket.created_by)

Overdue (R7)
  now: open tickets whose clock runs (new or in progress — a ticket waiting for the client
  has its clock stopped) past their resolution deadline, by branch and assignee (an
  unassigned one by its group); and cards whose survey or installation is past its
  guaranteed date (``connections.queues.overdue_q``, the pipeline's own rule), by branch and
  lead manager (he controls his clients' deadlines).
  late in the period: tickets resolved in the period after their resolution deadline (of
  those with an SLA), surveys recorded after their guaranteed date, installations completed
  after theirs — by branch and the employee who closed them (assignee, recorded by,
  completed by).

Ticket KPIs (Q5), by week (Monday) or month, per category and per group. Each figure is
counted where its event falls, so a closed week's figures do not change later:
  created                      tickets created
  first_responses              first responses given; first_response_hours: the average
                               working hours from creation (the branch's calendar and hours,
                               as the SLA clock counts); first_response_on_time_percent: of
                               those with a deadline, the share by it
  resolved, sla_met_percent    tickets resolved; of those with an SLA policy, the share with
                               the first response and the resolution both by their deadlines
  ratings, rating_average, poor_percent
                               ratings given; the average score; the share of 3 or lower
A ticket is counted under its category and group as they are now.

Hours (SP-10): ``tickets.services.hours.utilization`` (the helpdesk's own selector) for a
month, narrowed to a branch.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db.models import Count, F, Min, Q, Sum
from django.db.models.functions import TruncDate, TruncMonth, TruncWeek
from django.utils import timezone

from billing.models import Payment
from connections.models import ClientCard, Installation, Stage, StageLog, Survey
from connections.queues import overdue_q, stage_due, with_deadlines
from ispcrm.models import Branch
from ispcrm.workcalendar import MAX_SPAN, WorkCalendar
from reports.selectors.employees import (
    MANAGER_ROLES,
    POOR_SCORE,
    ZERO,
    average,
    bounds,
    dec,
    full_name,
    members,
    people,
    share,
)
from tickets.models import Category, Rating, RetentionCall, Ticket

RUNNING = (Ticket.Status.NEW, Ticket.Status.OPEN)
FIRST_RESPONSE_TARGET_HOURS = Decimal("8")  # Q5: under 8 working hours
POOR_TARGET_PERCENT = Decimal("0.4")  # Q5: poor ratings 0.8 % → 0.4 %


def local_day(value: dt.datetime | dt.date) -> dt.date:
    if isinstance(value, dt.datetime):
        return timezone.localtime(value).date() if timezone.is_aware(value) else value.date()
    return value


# --- working hours to the first response ------------------------------------------------------

def first_response_hours(rows: Iterable[tuple]) -> dict:
    """``rows``: (key, branch id, created at, first response at). Returns ``{key: (count,
    working seconds)}`` — the working time from creation to the first response in the
    ticket's branch calendar (``WorkCalendar.working_time_between``, as the SLA clock
    counts). One calendar per branch, its days loaded once for the whole span (one query per
    branch and the branches' query). A response before creation counts as zero; a ticket
    answered more than ~3 years after creation (beyond the calendar's reach) is left out."""
    rows = list(rows)
    if not rows:
        return {}
    spans: dict[int, list[dt.date]] = {}
    for _key, branch_id, created, first in rows:
        lo, hi = local_day(created), local_day(max(first, created))
        span = spans.setdefault(branch_id, [lo, hi])
        span[0], span[1] = min(span[0], lo), max(span[1], hi)
    calendars = {}
    for branch in Branch.objects.filter(pk__in=spans):
        calendar = WorkCalendar(branch)
        lo, hi = spans[branch.pk]
        calendar.load(lo - dt.timedelta(days=1), min(hi, lo + MAX_SPAN) + dt.timedelta(days=1))
        calendars[branch.pk] = calendar
    out: dict = {}
    for key, branch_id, created, first in rows:
        calendar = calendars.get(branch_id)
        if calendar is None:
            continue
        if first <= created:
            seconds = 0
        else:
            try:
                seconds = int(calendar.working_time_between(created, first).total_seconds())
            except ValueError:
                continue  # beyond the calendar's reach
        count, total = out.get(key, (0, 0))
        out[key] = (count + 1, total + seconds)
    return out


# --- R4: what managers did, per day -----------------------------------------------------------

ACTIVITY = ("new_cards", "stage_moves", "payments", "paid", "calls", "tickets_opened")


def empty_activity() -> dict:
    return {"new_cards": 0, "stage_moves": 0, "payments": 0, "paid": ZERO, "calls": 0,
            "tickets_opened": 0}


def add_activity(into: dict, item: dict) -> dict:
    for name in ACTIVITY:
        into[name] += item[name]
    return into


def manager_activity(start: dt.date, end: dt.date, branch=None) -> dict:
    """Per manager and day of start..end: ``{"days": [dates], "rows": [{"user_id", "name",
    "branch", "days": {date: figures}, "total": figures}], "by_day": {date: figures},
    "total": figures}``. Five grouped queries and the managers' names."""
    lo, hi = bounds(start, end)
    sales = members(MANAGER_ROLES)
    found: dict[int, dict[dt.date, dict]] = defaultdict(dict)

    def cell(user_id, day) -> dict:
        return found[user_id].setdefault(local_day(day), empty_activity())

    cards = (ClientCard.objects.filter(created_at__gte=lo, created_at__lt=hi,
                                       lead_manager__in=sales,
                                       **({"branch": branch} if branch is not None else {}))
             .annotate(day=TruncDate("created_at")).values("lead_manager", "day").order_by()
             .annotate(n=Count("pk")))
    for row in cards:
        cell(row["lead_manager"], row["day"])["new_cards"] = row["n"]
    moves = (StageLog.objects.filter(at__gte=lo, at__lt=hi, actor__in=sales,
                                     **({"card__branch": branch} if branch is not None else {}))
             .annotate(day=TruncDate("at")).values("actor", "day").order_by()
             .annotate(n=Count("pk")))
    for row in moves:
        cell(row["actor"], row["day"])["stage_moves"] = row["n"]
    payments = (Payment.objects.filter(status=Payment.Status.COMPLETED, paid_at__gte=lo,
                                       paid_at__lt=hi, taken_by__in=sales,
                                       **({"account__client__branch": branch}
                                          if branch is not None else {}))
                .annotate(day=TruncDate("paid_at")).values("taken_by", "day").order_by()
                .annotate(n=Count("pk"), total=Sum("amount")))
    for row in payments:
        item = cell(row["taken_by"], row["day"])
        item["payments"], item["paid"] = row["n"], dec(row["total"])
    calls = (RetentionCall.objects.filter(status=RetentionCall.Status.DONE, called_at__gte=lo,
                                          called_at__lt=hi, called_by__in=sales,
                                          **({"client__branch": branch}
                                             if branch is not None else {}))
             .annotate(day=TruncDate("called_at")).values("called_by", "day").order_by()
             .annotate(n=Count("pk")))
    for row in calls:
        cell(row["called_by"], row["day"])["calls"] = row["n"]
    tickets = (Ticket.objects.filter(created_at__gte=lo, created_at__lt=hi,
                                     created_by__in=sales,
                                     **({"branch": branch} if branch is not None else {}))
               .annotate(day=TruncDate("created_at")).values("created_by", "day").order_by()
               .annotate(n=Count("pk")))
    for row in tickets:
        cell(row["created_by"], row["day"])["tickets_opened"] = row["n"]

    days = [start + dt.timedelta(days=n) for n in range((end - start).days + 1)]
    by_day = {day: empty_activity() for day in days}
    total = empty_activity()
    rows = []
    for pk, person in people(MANAGER_ROLES, found, branch).items():
        per_day = found.get(pk, {})
        own = empty_activity()
        for day, item in per_day.items():
            add_activity(own, item)
            add_activity(by_day[day], item)
        add_activity(total, own)
        rows.append({**person, "days": {day: per_day.get(day, empty_activity())
                                        for day in days}, "total": own})
    return {"days": days, "rows": rows, "by_day": by_day, "total": total}


# --- R7: overdue ------------------------------------------------------------------------------

def _names(user_ids, group_ids, branch_ids) -> tuple[dict, dict, dict]:
    users = {row["pk"]: full_name(row) for row in get_user_model().objects.filter(
        pk__in=[pk for pk in user_ids if pk]).values("pk", "first_name", "last_name",
                                                      "username")}
    groups = dict(Group.objects.filter(pk__in=[pk for pk in group_ids if pk])
                  .values_list("pk", "name")) if any(group_ids) else {}
    branches = dict(Branch.objects.filter(pk__in=[pk for pk in branch_ids if pk])
                    .values_list("pk", "name"))
    return users, groups, branches


def overdue_now(branch=None, now: dt.datetime | None = None, limit: int = 50) -> dict:
    """What is overdue at ``now``: ``{"rows": per (branch, employee) the overdue tickets,
    surveys and installations and the oldest ticket deadline, "total", "tickets": the
    ``limit`` longest overdue tickets, "cards": the ``limit`` longest overdue cards (each with
    ``due``)}``. Two grouped queries, the names, and the two lists."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    tickets = Ticket.objects.filter(status__in=RUNNING, resolution_due__lt=now)
    cards = ClientCard.objects.filter(overdue_q(today),
                                      stage__in=(Stage.EXPERTISE, Stage.INSTALLATION))
    if branch is not None:
        tickets, cards = tickets.filter(branch=branch), cards.filter(branch=branch)
    table: dict[tuple, dict] = {}

    def row(branch_id, user_id, group_id=None) -> dict:
        return table.setdefault((branch_id, user_id, None if user_id else group_id), {
            "branch_id": branch_id, "user_id": user_id,
            "group_id": None if user_id else group_id, "tickets": 0, "surveys": 0,
            "installations": 0, "oldest_due": None})

    for found in (tickets.values("branch", "assignee", "group").order_by()
                  .annotate(n=Count("pk"), oldest=Min("resolution_due"))):
        item = row(found["branch"], found["assignee"], found["group"])
        item["tickets"] += found["n"]
        if item["oldest_due"] is None or found["oldest"] < item["oldest_due"]:
            item["oldest_due"] = found["oldest"]
    for found in cards.values("branch", "lead_manager", "stage").order_by() \
            .annotate(n=Count("pk")):
        field = "surveys" if found["stage"] == Stage.EXPERTISE else "installations"
        row(found["branch"], found["lead_manager"])[field] += found["n"]
    users, groups, branches = _names({k[1] for k in table}, {k[2] for k in table},
                                     {k[0] for k in table})
    rows = []
    total = {"tickets": 0, "surveys": 0, "installations": 0, "total": 0}
    for item in table.values():
        item["total"] = item["tickets"] + item["surveys"] + item["installations"]
        item["branch"] = branches.get(item["branch_id"], "")
        item["employee"] = users.get(item["user_id"], "") if item["user_id"] else ""
        item["group"] = groups.get(item["group_id"], "") if item["group_id"] else ""
        for name in total:
            total[name] += item[name]
        rows.append(item)
    rows.sort(key=lambda r: (r["branch"], -r["total"], r["employee"] or "\uffff", r["group"]))
    ticket_list = list(tickets.select_related("assignee", "group", "branch", "client",
                                              "category__parent")
                       .order_by("resolution_due", "pk")[:limit])
    for ticket in ticket_list:
        ticket.days_overdue = (today - local_day(ticket.resolution_due)).days
    card_list = list(with_deadlines(cards.select_related("building__street__city", "branch",
                                                         "lead_manager"))
                     .order_by("stage_changed_at", "pk")[:limit])
    for card in card_list:
        card.due = stage_due(card)
        card.days_overdue = (today - card.due).days if card.due else None
    card_list.sort(key=lambda c: (c.due or today, c.pk))
    return {"rows": rows, "total": total, "tickets": ticket_list, "cards": card_list,
            "today": today, "now": now}


def late_in_period(start: dt.date, end: dt.date, branch=None) -> dict:
    """Deadlines missed in the period, by branch and the employee who closed the work:
    ``{"rows": [{"branch", "employee", "tickets", "tickets_late", "surveys", "surveys_late",
    "installations", "installations_late", "late", "late_percent"}], "total"}``. Three
    grouped queries and the names."""
    lo, hi = bounds(start, end)
    table: dict[tuple, dict] = {}
    fields = ("tickets", "tickets_late", "surveys", "surveys_late", "installations",
              "installations_late")

    def row(branch_id, user_id) -> dict:
        return table.setdefault((branch_id, user_id), {
            "branch_id": branch_id, "user_id": user_id, **dict.fromkeys(fields, 0)})

    tickets = Ticket.objects.filter(resolved_at__gte=lo, resolved_at__lt=hi,
                                    resolution_due__isnull=False)
    surveys = Survey.objects.filter(status=Survey.Status.DONE, recorded_at__gte=lo,
                                    recorded_at__lt=hi)
    installs = Installation.objects.filter(completed_at__gte=lo, completed_at__lt=hi,
                                           due_date__isnull=False)
    if branch is not None:
        tickets, surveys = tickets.filter(branch=branch), surveys.filter(branch=branch)
        installs = installs.filter(card__branch=branch)
    for found in tickets.values("branch", "assignee").order_by().annotate(
            n=Count("pk"), late=Count("pk", filter=Q(resolved_at__gt=F("resolution_due")))):
        item = row(found["branch"], found["assignee"])
        item["tickets"], item["tickets_late"] = found["n"], found["late"]
    for found in surveys.annotate(day=TruncDate("recorded_at")).values(
            "branch", "recorded_by").order_by().annotate(
            n=Count("pk"), late=Count("pk", filter=Q(day__gt=F("due_date")))):
        item = row(found["branch"], found["recorded_by"])
        item["surveys"], item["surveys_late"] = found["n"], found["late"]
    for found in installs.annotate(day=TruncDate("completed_at")).values(
            "card__branch", "completed_by").order_by().annotate(
            n=Count("pk"), late=Count("pk", filter=Q(day__gt=F("due_date")))):
        item = row(found["card__branch"], found["completed_by"])
        item["installations"], item["installations_late"] = found["n"], found["late"]
    users, _groups, branches = _names({k[1] for k in table}, set(), {k[0] for k in table})
    total = dict.fromkeys(fields, 0)
    rows = []
    for item in table.values():
        item["branch"] = branches.get(item["branch_id"], "")
        item["employee"] = users.get(item["user_id"], "") if item["user_id"] else ""
        for name in fields:
            total[name] += item[name]
        rows.append(_late_totals(item))
    rows.sort(key=lambda r: (r["branch"], -r["late"], r["employee"] or "\uffff"))
    return {"rows": rows, "total": _late_totals(total)}


def _late_totals(item: dict) -> dict:
    item["closed"] = item["tickets"] + item["surveys"] + item["installations"]
    item["late"] = item["tickets_late"] + item["surveys_late"] + item["installations_late"]
    item["late_percent"] = share(item["late"], item["closed"])
    return item


# --- Q5: ticket KPIs --------------------------------------------------------------------------

TRUNC = {"week": TruncWeek, "month": TruncMonth}
KPI_SUMS = ("created", "first_responses", "first_response_seconds", "fr_with_due",
            "fr_on_time", "resolved", "with_policy", "sla_met", "ratings", "score_sum",
            "poor_ratings")


def bucket_of(day: dt.date, by: str) -> dt.date:
    """The week's Monday or the month's first day."""
    return day - dt.timedelta(days=day.weekday()) if by == "week" else day.replace(day=1)


def empty_kpi() -> dict:
    return dict.fromkeys(KPI_SUMS, 0)


def finish_kpi(item: dict) -> dict:
    item["first_response_hours"] = average(item["first_response_seconds"],
                                           item["first_responses"] * 3600)
    item["first_response_on_time_percent"] = share(item["fr_on_time"], item["fr_with_due"])
    item["sla_met_percent"] = share(item["sla_met"], item["with_policy"])
    item["rating_average"] = average(item["score_sum"], item["ratings"])
    item["poor_percent"] = share(item["poor_ratings"], item["ratings"])
    item["first_response_above_target"] = (
        item["first_response_hours"] is not None
        and item["first_response_hours"] >= FIRST_RESPONSE_TARGET_HOURS)
    item["poor_above_target"] = (item["poor_percent"] is not None
                                 and item["poor_percent"] > POOR_TARGET_PERCENT)
    return item


def ticket_kpis(start: dt.date, end: dt.date, branch=None, by: str = "month") -> dict:
    """Q5 figures by week or month: ``{"by", "buckets": [dates], "total", "by_bucket":
    [{"bucket", …}], "categories": [{"key", "label", "total", "buckets": {date: figures}}],
    "groups": [the same]}``. Five grouped queries, the first responses' rows, the names."""
    if by not in TRUNC:
        raise ValueError(f"by is week or month, not {by!r}")
    trunc = TRUNC[by]
    lo, hi = bounds(start, end)
    scope = {"branch": branch} if branch is not None else {}
    cells: dict[tuple, dict] = defaultdict(empty_kpi)  # (bucket, category id, group id)

    def add(bucket, category, group, **figures) -> None:
        item = cells[(local_day(bucket), category, group)]
        for name, value in figures.items():
            item[name] += value

    tickets = Ticket.objects.filter(**scope)
    for found in (tickets.filter(created_at__gte=lo, created_at__lt=hi)
                  .annotate(bucket=trunc("created_at")).values("bucket", "category", "group")
                  .order_by().annotate(n=Count("pk"))):
        add(found["bucket"], found["category"], found["group"], created=found["n"])
    first = Q(first_response_at__gte=lo, first_response_at__lt=hi)
    for found in (tickets.filter(first).annotate(bucket=trunc("first_response_at"))
                  .values("bucket", "category", "group").order_by()
                  .annotate(with_due=Count("pk", filter=Q(first_response_due__isnull=False)),
                            on_time=Count("pk", filter=Q(
                                first_response_at__lte=F("first_response_due"))))):
        add(found["bucket"], found["category"], found["group"], fr_with_due=found["with_due"],
            fr_on_time=found["on_time"])
    answered = tickets.filter(first).values_list("category", "group", "branch", "created_at",
                                                 "first_response_at")
    for (bucket, category, group), (count, seconds) in first_response_hours(
            ((bucket_of(local_day(at), by), category, group), branch_id, created, at)
            for category, group, branch_id, created, at in answered.iterator()).items():
        add(bucket, category, group, first_responses=count, first_response_seconds=seconds)
    with_policy = Q(policy__isnull=False)
    met = with_policy & Q(first_response_at__lte=F("first_response_due"),
                          resolved_at__lte=F("resolution_due"))
    for found in (tickets.filter(resolved_at__gte=lo, resolved_at__lt=hi)
                  .annotate(bucket=trunc("resolved_at")).values("bucket", "category", "group")
                  .order_by().annotate(n=Count("pk"), with_policy=Count("pk", filter=with_policy),
                                       met=Count("pk", filter=met))):
        add(found["bucket"], found["category"], found["group"], resolved=found["n"],
            with_policy=found["with_policy"], sla_met=found["met"])
    ratings = Rating.objects.filter(created_at__gte=lo, created_at__lt=hi,
                                    **({"ticket__branch": branch} if branch is not None
                                       else {}))
    for found in (ratings.annotate(bucket=trunc("created_at"))
                  .values("bucket", "ticket__category", "ticket__group").order_by()
                  .annotate(n=Count("pk"), total=Sum("score"),
                            poor=Count("pk", filter=Q(score__lte=POOR_SCORE)))):
        add(found["bucket"], found["ticket__category"], found["ticket__group"],
            ratings=found["n"], score_sum=found["total"] or 0, poor_ratings=found["poor"])
    return _kpi_tables(cells, start, end, by)


def _kpi_tables(cells: dict, start: dt.date, end: dt.date, by: str) -> dict:
    buckets = []
    bucket = bucket_of(start, by)
    while bucket <= end:
        buckets.append(bucket)
        bucket = (bucket + dt.timedelta(days=7)) if by == "week" else \
            (bucket + dt.timedelta(days=32)).replace(day=1)
    total = empty_kpi()
    by_bucket = {b: empty_kpi() for b in buckets}
    dims: dict[str, dict] = {"category": {}, "group": {}}
    for (bucket, category, group), item in cells.items():
        for into in (total, by_bucket.setdefault(bucket, empty_kpi())):
            _add_kpi(into, item)
        for dim, key in (("category", category), ("group", group)):
            entry = dims[dim].setdefault(key, {"key": key, "total": empty_kpi(),
                                               "buckets": {}})
            _add_kpi(entry["total"], item)
            _add_kpi(entry["buckets"].setdefault(bucket, empty_kpi()), item)
    categories = {c.pk: str(c) for c in Category.objects.select_related("parent")
                  .filter(pk__in=[k for k in dims["category"] if k])} \
        if dims["category"] else {}
    groups = dict(Group.objects.filter(pk__in=[k for k in dims["group"] if k])
                  .values_list("pk", "name")) if any(dims["group"]) else {}
    labels = {"category": categories, "group": groups}
    out = {"by": by, "buckets": sorted(by_bucket), "total": finish_kpi(total),
           "by_bucket": [{"bucket": b, **finish_kpi(by_bucket[b])} for b in sorted(by_bucket)]}
    for dim, plural in (("category", "categories"), ("group", "groups")):
        entries = []
        for key, entry in dims[dim].items():
            finish_kpi(entry["total"])
            for item in entry["buckets"].values():
                finish_kpi(item)
            entry["label"] = labels[dim].get(key, "") if key else ""
            entries.append(entry)
        entries.sort(key=lambda e: (e["key"] is None, e["label"]))
        out[plural] = entries
    return out


def _add_kpi(into: dict, item: dict) -> None:
    for name in KPI_SUMS:
        into[name] += item[name]


# --- SP-10: hours of hourly-service clients ---------------------------------------------------

def hours_utilization(month: dt.date, branch=None) -> dict:
    """The helpdesk's utilization rows (``tickets.services.hours.utilization``: its two
    queries) for the month, of the branch's clients, as plain dicts, and their totals."""
    from tickets.services.hours import utilization

    rows = []
    for item in utilization(month):
        if branch is not None and item.client.branch_id != branch.pk:
            continue
        rows.append({"client_id": item.client.pk, "client": item.client.name,
                     "account": item.account.number, "tariff": item.tariff.name,
                     "included": item.included, "used": item.used, "unused": item.unused,
                     "percent": item.percent, "low_months": item.low_months,
                     "hint": item.hint})
    total = {"included": sum((r["included"] for r in rows), ZERO),
             "used": sum((r["used"] for r in rows), ZERO),
             "unused": sum((r["unused"] for r in rows), ZERO)}
    total["percent"] = share(total["used"], total["included"])
    return {"rows": rows, "total": total}
