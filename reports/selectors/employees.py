"""Each employee's concrete results (D11) for a period and, optionally, a branch: three tables
by role family, each figure one grouped query over the period's rows, never a loop over
clients or employees.

Who is in which table: the holders of the family's roles (``MANAGER_ROLES``,
``TECHNICAL_ROLES``, ``SUPPORT_ROLES``) — the active ones of the chosen branch (of any branch
without one), even with nothing done, and anyone of the family with a figure in the branch.
What someone outside the family did (an accountant taking a cash payment) is not in these
tables. A period is local calendar days (settings.TIME_ZONE), start and end included; a
branch is the branch of the client card (of the ticket, of the survey) the work was for.

Managers
  cards_opened       cards created in the period that he leads (``ClientCard.lead_manager``:
                     the card has no "created by"; a manager opening a card leads it, and a
                     card handed over counts for the new lead manager)
  contracts_signed   ``sign_contract`` transitions he fired (StageLog.actor) in the period
  activated          his cards (lead manager) activated in the period
  connection_days    the average ``connection_days`` (CS-6: working days from the fee payment
                     to activation, stored at activation) of those activated cards that have
                     it; 2 decimals, half up
  payments, paid     completed payments he took (``Payment.taken_by``) paid in the period:
                     how many and their sum (cancelled ones not counted)
  calls              retention calls he made (``RetentionCall.called_by``, status "called")
                     in the period, and ``outcomes``: how many ended how
  calls_skipped      retention calls assigned to him, due in the period, whose day passed
                     without a call
Technical staff
  surveys            survey results he recorded in the period (``Survey.recorded_by``);
                     ``surveys_on_time``: recorded on or before the survey's guaranteed date
  installations      installations he completed in the period (``Installation.completed_by``,
                     the crew leader closing the works act); ``installations_on_time``:
                     completed on or before the guaranteed date (``Installation.due_date``,
                     the branch's term from the contract signing)
  (crews: the same installation figures per crew and its branch, in a table of their own)
Support
  handled            tickets resolved in the period that he holds (``Ticket.assignee``: the
                     resolver takes an unassigned ticket when resolving it)
  sla_met_percent    of those with an SLA policy, the share whose first response and
                     resolution both came by their deadlines (``first_response_at <=
                     first_response_due`` and ``resolved_at <= resolution_due``: the deadlines
                     the SLA module keeps, moved by the time waited for the client)
  first_responses,   tickets he holds whose first response came in the period, and the
  first_response_hours  average working hours from creation to it (the branch's calendar and
                     hours, as the SLA clock counts)
  ratings, rating_average, poor_ratings, poor_percent
                     ratings given in the period to him (``Rating.assignee``, the employee
                     rated): how many, the average score, and how many / what share were 3 or
                     lower (Q3: "2" and "3" are bad)
  minutes            time he logged on tickets on days of the period

Percents are percent numbers (12.5 means 12.5 %), one decimal, half up; None when there is
nothing to divide by.
"""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal

from django.contrib.auth import get_user_model
from django.db.models import Count, F, Q, Sum
from django.db.models.functions import TruncDate

from billing.models import Payment
from connections.models import ClientCard, Installation, StageLog, Survey
from ispcrm import roles
from reports.selectors.sqlkit import local_midnight
from tickets.models import Rating, RetentionCall, Ticket, TimeEntry

MANAGER_ROLES = (roles.MANAGER, roles.HEAD_OF_SALES)
TECHNICAL_ROLES = (roles.NOC_HEAD, roles.CREW_LEADER, roles.CHIEF_ENGINEER,
                   roles.TECHNICAL_DIRECTOR)
SUPPORT_ROLES = (roles.SUPPORT,)

POOR_SCORE = 3  # Q3: a rating of 3 or lower is poor
CENT = Decimal("0.01")
TENTH = Decimal("0.1")
ZERO = Decimal("0.00")

OUTCOMES = tuple(value for value in RetentionCall.Outcome.values if value)


def bounds(start: dt.date, end: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """The instants [start 00:00, the day after end 00:00) in local time."""
    return local_midnight(start), local_midnight(end + dt.timedelta(days=1))


def share(part, whole) -> Decimal | None:
    """``part / whole`` as a percent number, one decimal, half up."""
    if not whole:
        return None
    return (Decimal(part) * 100 / Decimal(whole)).quantize(TENTH, ROUND_HALF_UP)


def dec(value) -> Decimal:
    """A sum read back from the database (SQLite may give a float) as an exact Decimal."""
    if value is None:
        return ZERO
    return value if isinstance(value, Decimal) else Decimal(str(value))


def average(total, count, places: Decimal = CENT) -> Decimal | None:
    if not count:
        return None
    return (Decimal(total) / Decimal(count)).quantize(places, ROUND_HALF_UP)


def members(role_names) -> object:
    """A subquery of the ids of users holding any of the roles (an IN list, so a user with
    two of them is not counted twice)."""
    return get_user_model().objects.filter(groups__name__in=role_names).values("pk")


def people(role_names, ids, branch=None) -> dict[int, dict]:
    """The table's rows: the active holders of the roles (of the branch) and the users in
    ``ids``, with their names, ordered by name. One query."""
    users = get_user_model().objects.filter(
        Q(pk__in=members(role_names), is_active=True,
          **({"branch": branch} if branch is not None else {}))
        | Q(pk__in=[pk for pk in ids if pk is not None]))
    found = users.values("pk", "first_name", "last_name", "username", "branch__name") \
        .order_by("last_name", "first_name", "username")
    return {row["pk"]: {"user_id": row["pk"], "name": full_name(row), "short": short_name(row),
                        "branch": row["branch__name"] or ""} for row in found}


def short_name(row: dict) -> str:
    """«Орлов Д.» for a chart's axis; the login without a name."""
    last, first = row["last_name"].strip(), row["first_name"].strip()
    if not last:
        return first or row["username"]
    return f"{last} {first[:1]}." if first else last


def full_name(row: dict, prefix: str = "") -> str:
    """As ``User.__str__``: the full name, else the login."""
    name = f"{row[prefix + 'first_name']} {row[prefix + 'last_name']}".strip()
    return name or row[prefix + "username"]


# --- managers ---------------------------------------------------------------------------------

def manager_figures(start: dt.date, end: dt.date, branch=None) -> dict[int, dict]:
    """The managers' figures by user id (only users with a figure). Five grouped queries."""
    lo, hi = bounds(start, end)
    sales = members(MANAGER_ROLES)
    scope = {"branch": branch} if branch is not None else {}
    out: dict[int, dict] = {}

    def row(pk) -> dict:
        return out.setdefault(pk, empty_manager())

    created = Q(created_at__gte=lo, created_at__lt=hi)
    activated = Q(activated_at__gte=lo, activated_at__lt=hi)
    cards = (ClientCard.objects.filter(created | activated, lead_manager__in=sales, **scope)
             .values("lead_manager").order_by()
             .annotate(opened=Count("pk", filter=created),
                       activated=Count("pk", filter=activated),
                       days_sum=Sum("connection_days", filter=activated),
                       days_count=Count("connection_days", filter=activated)))
    for found in cards:
        item = row(found["lead_manager"])
        item["cards_opened"] = found["opened"]
        item["activated"] = found["activated"]
        item["days_sum"] = dec(found["days_sum"])
        item["days_count"] = found["days_count"]
    signed = (StageLog.objects.filter(transition="sign_contract", at__gte=lo, at__lt=hi,
                                      actor__in=sales,
                                      **({"card__branch": branch} if branch else {}))
              .values("actor").order_by().annotate(n=Count("pk")))
    for found in signed:
        row(found["actor"])["contracts_signed"] = found["n"]
    payments = (Payment.objects.filter(status=Payment.Status.COMPLETED, paid_at__gte=lo,
                                       paid_at__lt=hi, taken_by__in=sales,
                                       **({"account__client__branch": branch} if branch
                                          else {}))
                .values("taken_by").order_by().annotate(n=Count("pk"), total=Sum("amount")))
    for found in payments:
        item = row(found["taken_by"])
        item["payments"] = found["n"]
        item["paid"] = dec(found["total"]).quantize(CENT)
    client_scope = {"client__branch": branch} if branch is not None else {}
    calls = (RetentionCall.objects.filter(status=RetentionCall.Status.DONE, called_at__gte=lo,
                                          called_at__lt=hi, called_by__in=sales, **client_scope)
             .values("called_by", "outcome").order_by().annotate(n=Count("pk")))
    for found in calls:
        item = row(found["called_by"])
        item["calls"] += found["n"]
        outcome = found["outcome"] or "none"
        item["outcomes"][outcome] = item["outcomes"].get(outcome, 0) + found["n"]
    skipped = (RetentionCall.objects.filter(status=RetentionCall.Status.SKIPPED,
                                            due__range=(start, end), manager__in=sales,
                                            **client_scope)
               .values("manager").order_by().annotate(n=Count("pk")))
    for found in skipped:
        row(found["manager"])["calls_skipped"] = found["n"]
    for item in out.values():
        finish_manager(item)
    return out


def empty_manager() -> dict:
    return {"cards_opened": 0, "contracts_signed": 0, "activated": 0, "days_sum": ZERO,
            "days_count": 0, "connection_days": None, "payments": 0, "paid": ZERO,
            "calls": 0, "outcomes": {}, "calls_skipped": 0}


def finish_manager(item: dict) -> dict:
    item["connection_days"] = average(item["days_sum"], item["days_count"])
    return item


# --- technical staff --------------------------------------------------------------------------

def technical_figures(start: dt.date, end: dt.date, branch=None) -> dict[int, dict]:
    """Surveys recorded and installations completed, by user id. Two grouped queries."""
    lo, hi = bounds(start, end)
    staff = members(TECHNICAL_ROLES)
    out: dict[int, dict] = {}
    surveys = (Survey.objects.filter(status=Survey.Status.DONE, recorded_at__gte=lo,
                                     recorded_at__lt=hi, recorded_by__in=staff,
                                     **({"branch": branch} if branch is not None else {}))
               .annotate(day=TruncDate("recorded_at"))
               .values("recorded_by").order_by()
               .annotate(done=Count("pk"), on_time=Count("pk", filter=Q(day__lte=F("due_date")))))
    for found in surveys:
        item = out.setdefault(found["recorded_by"], empty_technical())
        item["surveys"], item["surveys_on_time"] = found["done"], found["on_time"]
    for found in _installations(lo, hi, branch, "completed_by", completed_by__in=staff):
        item = out.setdefault(found["completed_by"], empty_technical())
        item["installations"] = found["done"]
        item["installations_on_time"] = found["on_time"]
    for item in out.values():
        finish_technical(item)
    return out


def _installations(lo, hi, branch, by: str, **where):
    on_time = Q(day__lte=F("due_date"))
    return (Installation.objects.filter(completed_at__gte=lo, completed_at__lt=hi, **where,
                                        **({"card__branch": branch} if branch is not None
                                           else {}))
            .annotate(day=TruncDate("completed_at"))
            .values(by).order_by()
            .annotate(done=Count("pk"), on_time=Count("pk", filter=on_time)))


def empty_technical() -> dict:
    return {"surveys": 0, "surveys_on_time": 0, "surveys_on_time_percent": None,
            "installations": 0, "installations_on_time": 0,
            "installations_on_time_percent": None}


def finish_technical(item: dict) -> dict:
    item["surveys_on_time_percent"] = share(item["surveys_on_time"], item["surveys"])
    item["installations_on_time_percent"] = share(item["installations_on_time"],
                                                  item["installations"])
    return item


def crew_figures(start: dt.date, end: dt.date, branch=None) -> list[dict]:
    """Installations completed in the period per crew, and how many by the guaranteed date.
    One grouped query and the crews' names."""
    lo, hi = bounds(start, end)
    rows = []
    for found in _installations(lo, hi, branch, "crew", crew__isnull=False):
        rows.append({"crew_id": found["crew"], "installations": found["done"],
                     "installations_on_time": found["on_time"],
                     "installations_on_time_percent": share(found["on_time"], found["done"])})
    if rows:
        from connections.models import Crew

        names = {pk: (name, branch_name) for pk, name, branch_name in Crew.objects.filter(
            pk__in=[r["crew_id"] for r in rows]).values_list("pk", "name", "branch__name")}
        for row in rows:
            row["name"], row["branch"] = names.get(row["crew_id"], ("", ""))
    return sorted(rows, key=lambda r: (r["branch"], r["name"]))


# --- support ----------------------------------------------------------------------------------

def support_figures(start: dt.date, end: dt.date, branch=None) -> dict[int, dict]:
    """Tickets handled, SLA, first response, ratings and time logged, by user id. Four
    grouped queries and the first responses' rows (working time needs the calendar)."""
    from reports.selectors.operations import first_response_hours

    lo, hi = bounds(start, end)
    staff = members(SUPPORT_ROLES)
    scope = {"branch": branch} if branch is not None else {}
    out: dict[int, dict] = {}

    def row(pk) -> dict:
        return out.setdefault(pk, empty_support())

    with_policy = Q(policy__isnull=False)
    met = with_policy & Q(first_response_at__lte=F("first_response_due"),
                          resolved_at__lte=F("resolution_due"))
    resolved = (Ticket.objects.filter(resolved_at__gte=lo, resolved_at__lt=hi,
                                      assignee__in=staff, **scope)
                .values("assignee").order_by()
                .annotate(n=Count("pk"), with_policy=Count("pk", filter=with_policy),
                          met=Count("pk", filter=met)))
    for found in resolved:
        item = row(found["assignee"])
        item["handled"], item["with_policy"], item["sla_met"] = (
            found["n"], found["with_policy"], found["met"])
    answered = (Ticket.objects.filter(first_response_at__gte=lo, first_response_at__lt=hi,
                                      assignee__in=staff, **scope)
                .values_list("assignee", "branch", "created_at", "first_response_at"))
    for key, (count, seconds) in first_response_hours(
            ((assignee,), branch_id, created, first)
            for assignee, branch_id, created, first in answered.iterator()).items():
        item = row(key[0])
        item["first_responses"], item["first_response_seconds"] = count, seconds
    ratings = (Rating.objects.filter(created_at__gte=lo, created_at__lt=hi, assignee__in=staff,
                                     **({"ticket__branch": branch} if branch is not None
                                        else {}))
               .values("assignee").order_by()
               .annotate(n=Count("pk"), total=Sum("score"),
                         poor=Count("pk", filter=Q(score__lte=POOR_SCORE))))
    for found in ratings:
        item = row(found["assignee"])
        item["ratings"], item["score_sum"], item["poor_ratings"] = (
            found["n"], found["total"] or 0, found["poor"])
    logged = (TimeEntry.objects.filter(day__range=(start, end), user__in=staff,
                                       **({"ticket__branch": branch} if branch is not None
                                          else {}))
              .values("user").order_by().annotate(minutes=Sum("minutes")))
    for found in logged:
        row(found["user"])["minutes"] = found["minutes"] or 0
    for item in out.values():
        finish_support(item)
    return out


def empty_support() -> dict:
    return {"handled": 0, "with_policy": 0, "sla_met": 0, "sla_met_percent": None,
            "first_responses": 0, "first_response_seconds": 0, "first_response_hours": None,
            "ratings": 0, "score_sum": 0, "rating_average": None, "poor_ratings": 0,
            "poor_percent": None, "minutes": 0, "hours_logged": ZERO}


def finish_support(item: dict) -> dict:
    item["sla_met_percent"] = share(item["sla_met"], item["with_policy"])
    item["first_response_hours"] = average(item["first_response_seconds"],
                                           item["first_responses"] * 3600)
    item["rating_average"] = average(item["score_sum"], item["ratings"])
    item["poor_percent"] = share(item["poor_ratings"], item["ratings"])
    item["hours_logged"] = average(item["minutes"], 60) or ZERO
    return item


# --- the report -------------------------------------------------------------------------------

FAMILIES = (
    ("managers", MANAGER_ROLES, manager_figures, empty_manager, finish_manager),
    ("technical", TECHNICAL_ROLES, technical_figures, empty_technical, finish_technical),
    ("support", SUPPORT_ROLES, support_figures, empty_support, finish_support),
)

# Summed for a table's total row; the averages and percents are recomputed from the sums.
SUMMED = {
    "managers": ("cards_opened", "contracts_signed", "activated", "days_sum", "days_count",
                 "payments", "paid", "calls", "calls_skipped"),
    "technical": ("surveys", "surveys_on_time", "installations", "installations_on_time"),
    "support": ("handled", "with_policy", "sla_met", "first_responses",
                "first_response_seconds", "ratings", "score_sum", "poor_ratings", "minutes"),
}


def employees_report(start: dt.date, end: dt.date, branch=None) -> dict:
    """``{"managers": {"rows", "total"}, "technical": {...}, "support": {...},
    "crews": [...]}`` — rows are dicts with ``user_id``, ``name``, ``branch`` and the
    figures above, ordered by name; ``total`` sums the table (averages of all its events,
    not of the rows' averages)."""
    report = {}
    for name, role_names, figures, empty, finish in FAMILIES:
        found = figures(start, end, branch)
        rows = []
        for pk, person in people(role_names, found, branch).items():
            rows.append({**person, **found.get(pk, finish(empty()))})
        total = empty()
        for row in rows:
            for field in SUMMED[name]:
                total[field] += row[field]
            for outcome, count in row.get("outcomes", {}).items():
                total["outcomes"][outcome] = total["outcomes"].get(outcome, 0) + count
        report[name] = {"rows": rows, "total": finish(total)}
    report["crews"] = crew_figures(start, end, branch)
    return report
