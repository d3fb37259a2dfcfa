"""Technical expertise (CS-2): placing survey requests on survey days, urgent approval,
results with the estimate, the day plans and the guaranteed term."""

import datetime as dt
from decimal import Decimal, InvalidOperation

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Count
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from connections.models import (
    CardDocument,
    ClientCard,
    EstimateLine,
    Stage,
    Survey,
    SurveyDayPlan,
    WorkflowSettings,
)
from ispcrm import roles
from ispcrm.errors import RuleViolation
from ispcrm.models import Branch
from ispcrm.workcalendar import WorkCalendar

from .staff import notify_role, notify_user

# How far ahead a request looks for a survey day with room before giving up.
HORIZON = dt.timedelta(days=90)
ACTIVE = (Survey.Status.SCHEDULED, Survey.Status.DONE)


def _taken(branch: Branch, start: dt.date, end: dt.date) -> dict[dt.date, int]:
    rows = (Survey.objects.filter(branch=branch, date__range=(start, end), status__in=ACTIVE)
            .values("date").annotate(n=Count("id")).values_list("date", "n"))
    return dict(rows)


def survey_days(branch: Branch, after: dt.date, *, limit: int = 10):
    """The next survey days after ``after`` as (day, free places), holidays skipped."""
    settings = WorkflowSettings.for_branch(branch)
    calendar = WorkCalendar(branch, start=after, end=after + HORIZON)
    taken = _taken(branch, after, after + HORIZON)
    found = []
    day = after
    while len(found) < limit and day < after + HORIZON:
        day += dt.timedelta(days=1)
        if day.weekday() in settings.weekdays and calendar.is_working_day(day):
            found.append((day, settings.survey_capacity - taken.get(day, 0)))
    return found


def next_survey_day(branch: Branch, after: dt.date) -> dt.date:
    for day, free in survey_days(branch, after, limit=40):
        if free > 0:
            return day
    raise RuleViolation(_("No survey day has room in the next %(days)s days: raise the "
                          "branch's survey capacity.") % {"days": HORIZON.days},
                        code="no_survey_day")


def place(*, card: ClientCard, actor, urgent: bool = False, access: dict | None = None,
          today: dt.date | None = None) -> Survey:
    """Open a survey request. The branch row is locked so two requests cannot both take
    the last place of a day."""
    today = today or timezone.localdate()
    branch = Branch.objects.select_for_update().get(pk=card.branch_id)
    settings = WorkflowSettings.for_branch(branch)
    calendar = WorkCalendar(branch)
    survey = Survey(card=card, branch=branch, urgent=urgent, requested_by=actor,
                    due_date=calendar.add_working_days(today, settings.survey_term_days),
                    **(access or {}))
    if urgent:
        survey.status = Survey.Status.AWAITING_APPROVAL
    else:
        survey.date = next_survey_day(branch, today)
    survey.save()
    if urgent:
        notify_role(roles.TECHNICAL_DIRECTOR, branch,
                    _("Urgent survey to approve: %(client)s") % {"client": card},
                    _("%(client)s, %(address)s asks for an urgent survey.\n%(link)s")
                    % {"client": card, "address": card.address, "link": _card_link(card)})
    return survey


def current(card: ClientCard) -> Survey | None:
    return card.surveys.exclude(status=Survey.Status.CANCELLED).order_by("-requested_at",
                                                                           "-id").first()


@transaction.atomic
def decide_urgent(*, survey: Survey, actor, approve: bool, date: dt.date | None = None,
                  today: dt.date | None = None) -> Survey:
    """The technical director approves an urgent survey (on any working day, the next one
    by default) or declines it (it goes to the next regular survey day)."""
    if not actor.has_role(roles.TECHNICAL_DIRECTOR):
        raise PermissionDenied(_("Only the technical director approves urgent surveys."))
    today = today or timezone.localdate()
    survey = Survey.objects.select_for_update(of=("self",)).select_related("branch", "card").get(
        pk=survey.pk)
    if survey.status != Survey.Status.AWAITING_APPROVAL:
        raise RuleViolation(_("This survey is not waiting for approval."), code="not_awaiting")
    calendar = WorkCalendar(survey.branch)
    if approve:
        date = date or calendar.next_working_day(today)
        if date < today or not calendar.is_working_day(date):
            raise ValidationError({"date": _("Choose a working day from today on.")})
        survey.approved_by, survey.approved_at = actor, timezone.now()
    else:
        date = next_survey_day(survey.branch, today)
        survey.urgent = False
    survey.date, survey.status = date, Survey.Status.SCHEDULED
    survey.save()
    return survey


def parse_estimate(lines) -> list[EstimateLine]:
    """Estimate lines from the API/form payload; every problem named by its line."""
    if lines in (None, ""):
        return []
    if not isinstance(lines, list):
        raise ValidationError({"estimate": _("A list of lines is expected.")})
    parsed, errors = [], []
    for number, line in enumerate(lines, start=1):
        if not isinstance(line, dict):
            errors.append(_("Line %(n)s: an object with item, quantity and unit_price is "
                            "expected.") % {"n": number})
            continue
        item = " ".join(str(line.get("item", "")).split())
        try:
            quantity = Decimal(str(line.get("quantity", "")).replace(",", "."))
            price = Decimal(str(line.get("unit_price", "")).replace(",", "."))
        except InvalidOperation:
            errors.append(_("Line %(n)s: quantity and unit price must be numbers.")
                          % {"n": number})
            continue
        kind = line.get("kind") or EstimateLine.Kind.EQUIPMENT
        if not item:
            errors.append(_("Line %(n)s: name the item.") % {"n": number})
        elif not quantity.is_finite() or quantity <= 0 or quantity >= Decimal("1e8"):
            errors.append(_("Line %(n)s: the quantity must be positive.") % {"n": number})
        elif not price.is_finite() or price < 0 or price >= Decimal("1e12"):
            errors.append(_("Line %(n)s: the price cannot be negative.") % {"n": number})
        elif kind not in EstimateLine.Kind.values:
            errors.append(_("Line %(n)s: kind is equipment or works.") % {"n": number})
        else:
            parsed.append(EstimateLine(item=item[:200], quantity=quantity.quantize(
                Decimal("0.01")), unit_price=price.quantize(Decimal("0.01")), kind=kind,
                unit=str(line.get("unit") or "шт.")[:20]))
    if errors:
        raise ValidationError({"estimate": errors})
    return parsed


def record(*, card: ClientCard, actor, possible: bool, estimate: list[EstimateLine],
           notes: str = "", nonstandard: bool = False) -> Survey:
    """The NOC head's result (the workflow's record_expertise does this)."""
    survey = card.surveys.select_for_update().filter(
        status=Survey.Status.SCHEDULED).order_by("-requested_at").first()
    survey.possible, survey.notes, survey.nonstandard = possible, notes.strip(), nonstandard
    survey.status, survey.recorded_by, survey.recorded_at = (Survey.Status.DONE, actor,
                                                             timezone.now())
    survey.save()
    for line in estimate:
        line.survey = survey
    EstimateLine.objects.bulk_create(estimate)
    return survey


def cancel_open(card: ClientCard) -> None:
    card.surveys.filter(status__in=[Survey.Status.SCHEDULED, Survey.Status.AWAITING_APPROVAL]
                        ).update(status=Survey.Status.CANCELLED)


def build_day_plans(today: dt.date | None = None) -> list[SurveyDayPlan]:
    """The working day before each survey day: fix the route list and send it to the
    branch's NOC head (Celery beat, every morning; idempotent per branch and day)."""
    today = today or timezone.localdate()
    built = []
    for branch in Branch.objects.all():
        calendar = WorkCalendar(branch)
        if not calendar.is_working_day(today):
            continue
        day = calendar.next_working_day(today)
        surveys = list(Survey.objects.filter(branch=branch, date=day,
                                             status=Survey.Status.SCHEDULED)
                       .select_related("card__building__street"))
        if not surveys:
            continue
        plan, created = SurveyDayPlan.objects.get_or_create(
            branch=branch, date=day, defaults={"surveys": len(surveys)})
        if not created:
            continue
        lines = "\n".join(f"{n}. {s.card.address} — {s.card}, {s.card.phone_display}"
                          for n, s in enumerate(surveys, start=1))
        notify_role(roles.NOC_HEAD, branch,
                    _("Survey plan for %(day)s") % {"day": day.strftime("%d.%m.%Y")},
                    _("%(count)s surveys:\n%(lines)s\nRoute list: %(link)s")
                    % {"count": len(surveys), "lines": lines,
                       "link": reverse("connections:survey_route", args=[branch.pk,
                                                                         day.isoformat()])})
        built.append(plan)
    return built


def notify_overdue(today: dt.date | None = None) -> int:
    """Tell the controller (the lead manager) once about each survey past its guaranteed
    term (CS-2)."""
    today = today or timezone.localdate()
    late = Survey.objects.filter(
        status__in=[Survey.Status.SCHEDULED, Survey.Status.AWAITING_APPROVAL],
        due_date__lt=today, overdue_notified_at__isnull=True,
        card__stage=Stage.EXPERTISE).select_related("card__lead_manager",
                                                    "card__building__street")
    count = 0
    for survey in late:
        notify_user(survey.card.lead_manager,
                    _("Survey overdue: %(client)s") % {"client": survey.card},
                    _("The survey of %(client)s was guaranteed by %(day)s.\n%(link)s")
                    % {"client": survey.card, "day": survey.due_date.strftime("%d.%m.%Y"),
                       "link": _card_link(survey.card)})
        Survey.objects.filter(pk=survey.pk).update(overdue_notified_at=timezone.now())
        count += 1
    return count


def expertise_document(card: ClientCard, survey: Survey, actor, log) -> CardDocument:
    return CardDocument.objects.create(
        card=card, kind=CardDocument.Kind.EXPERTISE_ACT, number=f"Э-{survey.pk}",
        title=_("Expertise act"), stage_log=log, created_by=actor)


def _card_link(card: ClientCard) -> str:
    return reverse("connections:client_detail", args=[card.pk])
