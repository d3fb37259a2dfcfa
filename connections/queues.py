"""Read side of the work queues (UX: work queues, not menus): what each role's page lists.

Every function runs a fixed number of queries whatever the number of rows: lists are
capped or paged, related rows come with ``select_related``/``Prefetch``, and working-day
ages use one ``WorkCalendar`` per branch."""

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field

from django.db.models import (
    Count,
    DecimalField,
    ExpressionWrapper,
    F,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Sum,
)
from django.utils.translation import gettext_lazy as _

from connections.models import (
    OPEN_STAGES,
    SLOTS,
    ClientCard,
    ColleagueQuestion,
    Contract,
    Crew,
    Installation,
    Stage,
    Survey,
)
from connections.models.guards import contract_of, installation_of
from connections.services import installations, surveys, workflow
from ispcrm import roles
from ispcrm.workcalendar import WorkCalendar

OPEN_SURVEY = (Survey.Status.AWAITING_APPROVAL, Survey.Status.SCHEDULED)
PER_COLUMN = 50  # cards shown per pipeline column; the rest behind "N more"
BOARD_DAYS = 10  # working days on the crew board
# An age is counted back at most this far (the work calendar walks at most ~3 years).
MAX_AGE = dt.timedelta(days=730)
SOON = 1  # working days before a guaranteed date when it turns amber


@dataclass(frozen=True)
class QueuePage:
    url_name: str
    label: str
    roles: tuple[str, ...]


# Who opens which queue (superusers open all). The home page lands each role on the first
# page of ``LANDING`` it holds.
PIPELINE = QueuePage("connections:pipeline", _("Pipeline"),
                     (*roles.SALES, roles.DIRECTOR, roles.TECHNICAL_DIRECTOR))
SURVEY_LOG = QueuePage("connections:survey_log", _("Technical department work log"),
                       (*roles.TECHNICAL, roles.DIRECTOR))
NETWORK_AGENDA = QueuePage("connections:network_agenda", _("Network development agenda"),
                           (*roles.TECHNICAL, roles.DIRECTOR, roles.HEAD_OF_SALES))
CREW_BOARD = QueuePage("connections:crew_board", _("Crew planning board"),
                       (roles.CREW_LEADER, *roles.TECHNICAL, roles.DIRECTOR))
EQUIPMENT_LIST = QueuePage("connections:equipment_list", _("Equipment to order"),
                           (roles.CHIEF_ENGINEER, roles.TECHNICAL_DIRECTOR, roles.CREW_LEADER,
                            roles.DIRECTOR))
ACTIVATION_QUEUE = QueuePage("connections:activation_queue", _("Activation queue"),
                             (roles.SUBSCRIBER_DEPT, roles.DIRECTOR))
CONTRACT_QUEUE = QueuePage("connections:contract_queue", _("Contract approvals and disputes"),
                           (roles.HEAD_OF_SALES, roles.COMMERCIAL_DIRECTOR, roles.LAWYER))
QUESTION_QUEUE = QueuePage("connections:question_queue", _("Questions from colleagues"),
                           tuple(role for role, _label in ColleagueQuestion.ROLE_CHOICES))
# The director lands on his dashboard (UX.md); it is the reports app's page, named here only
# by its URL, so connections does not import reports.
DASHBOARD = QueuePage("reports:dashboard", _("Director's dashboard"), (roles.DIRECTOR,))
PAGES = (PIPELINE, SURVEY_LOG, NETWORK_AGENDA, CREW_BOARD, EQUIPMENT_LIST, ACTIVATION_QUEUE,
         CONTRACT_QUEUE, QUESTION_QUEUE)
LANDING = ((roles.DIRECTOR, DASHBOARD),
           (roles.NOC_HEAD, SURVEY_LOG), (roles.TECHNICAL_DIRECTOR, SURVEY_LOG),
           (roles.CREW_LEADER, CREW_BOARD), (roles.CHIEF_ENGINEER, EQUIPMENT_LIST),
           (roles.SUBSCRIBER_DEPT, ACTIVATION_QUEUE), (roles.LAWYER, CONTRACT_QUEUE),
           (roles.HEAD_OF_SALES, PIPELINE), (roles.COMMERCIAL_DIRECTOR, PIPELINE))


def pages_for(user) -> list[QueuePage]:
    return [page for page in PAGES if user.has_role(*page.roles)]


def landing_page(user) -> QueuePage | None:
    """The queue the user lands on; by his own roles, so a superuser keeps the home page."""
    held = user.role_names
    return next((page for role, page in LANDING if role in held), None)


# Shared pieces ---------------------------------------------------------------------------

def cards() -> QuerySet[ClientCard]:
    return ClientCard.objects.select_related("building__street", "branch", "lead_manager")


def due_state(due: dt.date | None, today: dt.date, calendar: WorkCalendar | None = None):
    """"overdue" past the guaranteed date, "due_soon" on its last working day(s), else None
    (UX: red breached, amber near the limit)."""
    if due is None:
        return None
    if due < today:
        return "overdue"
    if calendar is not None and (due - today).days <= 7 \
            and calendar.working_days_between(today, due) <= SOON:
        return "due_soon"
    return None


def _calendar(calendars: dict, branch) -> WorkCalendar:
    """One WorkCalendar per branch for a whole page (each loads its rows once)."""
    calendar = calendars.get(branch.pk)
    if calendar is None:
        calendar = calendars[branch.pk] = WorkCalendar(branch)
    return calendar


def set_ages(items, today: dt.date, calendars: dict | None = None, *,
             since=lambda card: card.stage_changed_at, card=lambda item: item) -> None:
    """``item.age``: working days from ``since(item)`` to today, walking the days back
    once per branch rather than once per card."""
    calendars = {} if calendars is None else calendars
    by_branch = defaultdict(list)
    for item in items:
        by_branch[card(item).branch_id].append(item)
    for group in by_branch.values():
        calendar = _calendar(calendars, card(group[0]).branch)
        starts = [max(since(item).astimezone(calendar.tz).date(), today - MAX_AGE)
                  for item in group]
        earliest = min(starts)
        calendar.load(min(earliest, today), today + dt.timedelta(days=31))
        after = {today: 0}  # working days d with day < d <= today
        day, count = today, 0
        while day > earliest:
            count += calendar.is_working_day(day)
            day -= dt.timedelta(days=1)
            after[day] = count
        for item, start in zip(group, starts, strict=True):
            item.age = after.get(start, 0)


def _survey_field(name: str) -> Subquery:
    """A field of the card's open survey (there is at most one)."""
    return Subquery(Survey.objects.filter(card=OuterRef("pk"), status__in=OPEN_SURVEY)
                    .order_by("-requested_at", "-id").values(name)[:1])


def with_deadlines(queryset: QuerySet[ClientCard]) -> QuerySet[ClientCard]:
    """Cards with their open survey's day and guaranteed date, and the installation row."""
    return queryset.select_related("installation", "installation__crew").annotate(
        survey_date=_survey_field("date"), survey_due=_survey_field("due_date"),
        survey_status=_survey_field("status"))


def overdue_q(today: dt.date) -> Q:
    """Cards whose survey or installation is past its guaranteed date (CS-2, CS-4). The
    late surveys and installations are read once each by their indexes (a set the database
    hashes), not looked up per card: a branch may have a hundred thousand open cards."""
    late_surveys = Survey.objects.filter(status__in=OPEN_SURVEY, due_date__lt=today)
    late_installations = Installation.objects.filter(completed_at__isnull=True,
                                                     due_date__lt=today)
    return (Q(stage=Stage.EXPERTISE, pk__in=late_surveys.values("card_id"))
            | Q(stage=Stage.INSTALLATION, pk__in=late_installations.values("card_id")))


def stage_due(card: ClientCard) -> dt.date | None:
    """The guaranteed date of the card's current stage, if it has one."""
    if card.stage == Stage.EXPERTISE:
        return getattr(card, "survey_due", None)
    if card.stage == Stage.INSTALLATION:
        installation = installation_of(card)
        if installation is not None and installation.completed_at is None:
            return installation.due_date
    return None


def mark_due(items, today: dt.date, calendars: dict | None = None, *,
             due=stage_due, card=lambda item: item) -> None:
    """``item.due`` and ``item.due_state`` for a list, one calendar per branch."""
    calendars = {} if calendars is None else calendars
    for item in items:
        item.due = due(item)
        item.due_state = due_state(item.due, today, _calendar(calendars, card(item).branch))


# Pipeline (issue 4 item 9) ----------------------------------------------------------------

@dataclass
class Column:
    stage: str
    label: str
    count: int
    cards: list = field(default_factory=list)

    @property
    def more(self) -> int:
        return max(self.count - len(self.cards), 0)


def pipeline(*, branch, today: dt.date, manager_id: int | None = None,
             connection_type: str = "", overdue_only: bool = False,
             per_column: int | None = None) -> list[Column]:
    """Open cards of the branch by stage: the counts in one GROUP BY, then the longest
    waiting ``per_column`` cards of each stage (one query per column)."""
    per_column = per_column or PER_COLUMN
    base = ClientCard.objects.filter(branch=branch, stage__in=OPEN_STAGES)
    if manager_id:
        base = base.filter(lead_manager_id=manager_id)
    if connection_type:
        base = base.filter(connection_type=connection_type)
    if overdue_only:
        base = base.filter(overdue_q(today))
    counts = dict(base.order_by().values_list("stage").annotate(n=Count("pk")))
    columns = []
    for stage in OPEN_STAGES:
        count = counts.get(stage.value, 0)
        shown = list(with_deadlines(base.filter(stage=stage).select_related(
            "building__street", "branch", "lead_manager")).order_by(
            "stage_changed_at", "pk")[:per_column]) if count else []
        columns.append(Column(stage.value, stage.label, count, shown))
    shown = [card for column in columns for card in column.cards]
    calendars = {}
    set_ages(shown, today, calendars)
    mark_due(shown, today, calendars)
    return columns


def overdue_of_manager(user, today: dt.date, limit: int = 50) -> list[ClientCard]:
    """The manager's clients whose survey or installation is overdue (he controls them)."""
    found = list(with_deadlines(cards().filter(overdue_q(today), lead_manager=user,
                                               stage__in=OPEN_STAGES))
                 .order_by("stage_changed_at")[:limit])
    mark_due(found, today)
    return found


# Technical department work log (CS-2) ---------------------------------------------------

def _surveys(branch) -> QuerySet[Survey]:
    return Survey.objects.filter(branch=branch).select_related(
        "card__building__street", "card__branch", "card__lead_manager", "requested_by")


def survey_log(branch, today: dt.date, *, days: int = 6, recent: int = 15) -> dict:
    """Awaiting approval, the next survey days with their requests and free places, what is
    overdue or lacks a result, and the latest results."""
    calendar = WorkCalendar(branch)
    regular = surveys.survey_days(branch, today - dt.timedelta(days=1), limit=days)
    last = regular[-1][0] if regular else today
    scheduled = list(_surveys(branch).filter(status=Survey.Status.SCHEDULED,
                                             date__range=(today, last)))
    by_day = defaultdict(list)
    for survey in scheduled:
        by_day[survey.date].append(survey)
    free = dict(regular)
    day_list = [{"date": day, "surveys": by_day.get(day, []), "free": free.get(day),
                 "regular": day in free} for day in sorted({*free, *by_day})]
    attention = list(_surveys(branch).filter(status__in=OPEN_SURVEY).filter(
        Q(due_date__lt=today) | Q(date__lt=today)).order_by("due_date", "requested_at"))
    for survey in attention:
        survey.late = survey.due_date < today
        survey.missed = survey.date is not None and survey.date < today
    awaiting = list(_surveys(branch).filter(status=Survey.Status.AWAITING_APPROVAL)
                    .order_by("requested_at"))
    done = list(_surveys(branch).filter(status=Survey.Status.DONE).select_related(
        "recorded_by").annotate(total=Sum(ExpressionWrapper(
            F("estimate__quantity") * F("estimate__unit_price"),
            output_field=DecimalField(max_digits=20, decimal_places=4))))
        .order_by("-recorded_at")[:recent])
    mark_due(awaiting, today, {branch.pk: calendar}, due=lambda s: s.due_date,
             card=lambda s: s.card)
    for day in day_list:
        mark_due(day["surveys"], today, {branch.pk: calendar}, due=lambda s: s.due_date,
                 card=lambda s: s.card)
    return {"awaiting": awaiting, "days": day_list, "attention": attention, "done": done,
            "approve_days": approve_days(calendar, today, set(free))}


def approve_days(calendar: WorkCalendar, today: dt.date, survey_days: set,
                 count: int = 10) -> list[tuple[dt.date, bool]]:
    """Working days an urgent survey may be approved on, marking the regular survey days."""
    _ahead(calendar, today, count)
    day = calendar.add_working_days(today, 0)
    found = []
    while len(found) < count:
        found.append((day, day in survey_days))
        day = calendar.next_working_day(day)
    return found


# Network development agenda (CS-2) -----------------------------------------------------

def network_agenda(branch, today: dt.date) -> list[ClientCard]:
    """Cards without a technical possibility, longest waiting first, with the last
    survey's notes."""
    done = Survey.objects.filter(status=Survey.Status.DONE).select_related(
        "recorded_by").order_by("-recorded_at", "-id")
    found = list(cards().filter(branch=branch, stage=Stage.NETWORK_DEVELOPMENT)
                 .prefetch_related(Prefetch("surveys", queryset=done, to_attr="done_surveys"))
                 .order_by("stage_changed_at", "pk"))
    for card in found:
        card.last_survey = card.done_surveys[0] if card.done_surveys else None
    set_ages(found, today)
    return found


# Crew planning board (CS-4, M7) ---------------------------------------------------------

def _ahead(calendar: WorkCalendar, today: dt.date, working_days: int) -> None:
    """Load the calendar rows for the days ahead at once: a day-by-day walk would extend
    the loaded range, one query per step."""
    calendar.load(today, today + dt.timedelta(days=working_days * 2 + 31))


def board_days(calendar: WorkCalendar, today: dt.date, count: int = BOARD_DAYS):
    _ahead(calendar, today, count)
    day = calendar.add_working_days(today, 0)
    found = []
    while len(found) < count:
        found.append(day)
        day = calendar.next_working_day(day)
    return found


def crew_board(branch, today: dt.date, *, days: int = BOARD_DAYS) -> dict:
    """Active crews × the next working days: each cell's installations and load."""
    calendar = WorkCalendar(branch)
    dates = board_days(calendar, today, days)
    crews = list(Crew.objects.filter(branch=branch, active=True).order_by("name"))
    planned = (Installation.objects.filter(crew__in=crews, date__range=(dates[0], dates[-1]))
               .select_related("card__building__street").order_by("slot"))
    cells = defaultdict(list)
    for installation in planned:
        cells[(installation.crew_id, installation.date)].append(installation)
    rows = []
    for crew in crews:
        row = [{"date": day, "items": cells.get((crew.pk, day), [])} for day in dates]
        used = sum(len(cell["items"]) for cell in row)
        rows.append({"crew": crew, "cells": row, "used": used,
                     "capacity": len(SLOTS) * len(dates)})
    return {"days": dates, "rows": rows, "slots": SLOTS, "calendar": calendar}


def installation_queue(branch, today: dt.date, *, limit: int = 100,
                       calendar: WorkCalendar | None = None) -> list[Installation]:
    """Installations waiting to be planned, by priority and guaranteed date; each allowed
    one gets the next earliest free slot as a suggestion, a refused one the reason."""
    waiting = list(
        Installation.objects.filter(card__branch=branch, card__stage=Stage.INSTALLATION,
                                    completed_at__isnull=True)
        .filter(Q(date__isnull=True) | Q(crew__isnull=True) | Q(slot__isnull=True))
        .select_related("card__building__street", "card__branch", "card__lead_manager",
                        "card__contract", "override_by")
        .order_by("-priority", F("due_date").asc(nulls_last=True), "created_at")[:limit])
    allowed = []
    for item in waiting:
        item.refusal = workflow.refusal(item.card, "schedule_installation")
        item.before_payment = item.card.fee_paid_at is None and item.override_by_id is not None
        if item.refusal is None:
            allowed.append(item)
    slots = installations.free_slots(branch, after=today, limit=len(allowed)) if allowed \
        else []
    for item, slot in zip(allowed, slots, strict=False):
        item.suggestion = slot
    calendar = calendar or WorkCalendar(branch)
    mark_due(waiting, today, {branch.pk: calendar}, due=lambda i: i.due_date,
             card=lambda i: i.card)
    return waiting


# Chief engineer's equipment list (CS-4) --------------------------------------------------

def equipment_to_order(branch) -> QuerySet[Installation]:
    return (Installation.objects.filter(card__branch=branch, equipment_ordered_at__isnull=True)
            .exclude(special_equipment="")
            .exclude(card__stage__in=[Stage.CANCELLED, Stage.TERMINATED])
            .select_related("card__building__street", "card__lead_manager", "crew")
            .order_by(F("date").asc(nulls_last=True), F("due_date").asc(nulls_last=True)))


def equipment_ordered_recently(branch, limit: int = 10) -> QuerySet[Installation]:
    return (Installation.objects.filter(card__branch=branch,
                                        equipment_ordered_at__isnull=False)
            .exclude(special_equipment="").select_related("card__building__street")
            .order_by("-equipment_ordered_at")[:limit])


# Subscriber department's activation queue (CS-5) ----------------------------------------

def activation_queue(branch, today: dt.date) -> list[ClientCard]:
    """Cards at activation with the three conditions checked and the refusal, if any."""
    found = list(cards().filter(branch=branch, stage=Stage.ACTIVATION)
                 .select_related("contract", "installation")
                 .order_by("stage_changed_at", "pk"))
    for card in found:
        contract = contract_of(card)
        installation = installation_of(card)
        card.contract_signed = bool(contract and contract.signed_at)
        card.contract_number = contract.number if contract else ""
        card.fee_paid = card.fee_paid_at is not None
        card.works_act = bool(installation and installation.completed_at
                              and installation.ip_address)
        card.ip_address = installation.ip_address if installation else None
        card.refusal = workflow.refusal(card, "activate")
    set_ages(found, today)
    return found


# Contract approvals and disputes (CS-3) ------------------------------------------------

def _contracts() -> QuerySet[Contract]:
    return Contract.objects.filter(signed_at__isnull=True).select_related(
        "card__building__street", "card__lead_manager", "sales_approved_by",
        "director_approved_by", "drafted_by")


def contracts_to_approve(user, branch=None) -> QuerySet[Contract]:
    """Non-standard contracts still lacking this user's approval (a superuser: any)."""
    waiting = Q()
    if user.has_role(roles.HEAD_OF_SALES):
        waiting |= Q(sales_approved_at__isnull=True)
    if user.has_role(roles.COMMERCIAL_DIRECTOR):
        waiting |= Q(director_approved_at__isnull=True)
    if not waiting:
        return Contract.objects.none()
    found = _contracts().filter(waiting, nonstandard=True, card__stage=Stage.CONTRACT)
    if branch is not None:
        found = found.filter(branch=branch)
    return found.order_by("drafted_at")


def disputed_contracts(branch=None) -> QuerySet[Contract]:
    found = _contracts().filter(disputed=True, resolved_at__isnull=True,
                                card__stage=Stage.CONTRACT)
    if branch is not None:
        found = found.filter(branch=branch)
    return found.order_by("drafted_at")


# Questions to colleagues (CS-1) --------------------------------------------------------

def open_questions(user, branch=None) -> QuerySet[ColleagueQuestion]:
    found = ColleagueQuestion.objects.filter(answered_at__isnull=True).select_related(
        "card__building__street", "asked_by")
    if not user.is_superuser:
        found = found.filter(role__in=user.role_names)
    if branch is not None:
        found = found.filter(card__branch=branch)
    return found.order_by("asked_at", "pk")
