"""Survey days (CS-2): Tuesday and Thursday by default, holidays skipped, a capacity per
day, urgent surveys approved by the technical director for any working day."""

import datetime as dt

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError

from connections.models import Survey, WorkflowSettings
from connections.services import surveys
from connections.services.workflow import fire
from ispcrm.errors import RuleViolation
from ispcrm.models import CalendarDay
from tests.factories import ClientCardFactory

pytestmark = pytest.mark.django_db

TUESDAY, WEDNESDAY, THURSDAY = dt.date(2026, 11, 24), dt.date(2026, 11, 25), dt.date(2026, 11, 26)


def request(team, urgent=False):
    manager = team["manager"]
    card = ClientCardFactory(branch=manager.branch, lead_manager=manager,
                             building__street__city=manager.branch.city)
    fire(card=card, name="request_expertise", actor=manager, payload={"urgent": urgent})
    return card.surveys.get()


def test_placed_on_the_next_tuesday(team, on_monday):
    survey = request(team)
    assert survey.date == TUESDAY
    assert survey.status == Survey.Status.SCHEDULED
    assert survey.due_date == dt.date(2026, 11, 30)  # 5 working days from Monday


def test_a_holiday_on_tuesday_moves_it_to_thursday(team, on_monday):
    CalendarDay.objects.create(date=TUESDAY, kind="holiday", note="test holiday")
    assert request(team).date == THURSDAY


def test_a_branch_holiday_counts_only_for_that_branch(team, on_monday, branch):
    from tests.factories import BranchFactory

    other = BranchFactory(name="Тверь — офис", city__name="Тверь")
    CalendarDay.objects.create(date=TUESDAY, kind="holiday", branch=other)
    assert request(team).date == TUESDAY


def test_a_full_day_sends_the_next_request_to_the_next_survey_day(team, on_monday, branch):
    WorkflowSettings.objects.create(branch=branch, survey_capacity=2)
    assert [request(team).date for _ in range(3)] == [TUESDAY, TUESDAY, THURSDAY]
    days = dict(surveys.survey_days(branch, on_monday, limit=2))
    assert days == {TUESDAY: 0, THURSDAY: 1}


def test_branch_weekdays_are_a_setting(team, on_monday, branch):
    WorkflowSettings.objects.create(branch=branch, survey_weekdays="2")  # Wednesdays
    assert request(team).date == WEDNESDAY


def test_urgent_waits_for_the_technical_director(team, on_monday):
    survey = request(team, urgent=True)
    assert survey.status == Survey.Status.AWAITING_APPROVAL and survey.date is None
    assert [m.to for m in mail.outbox] == [[team["technical_director"].email]]
    with pytest.raises(PermissionDenied):
        surveys.decide_urgent(survey=survey, actor=team["manager"], approve=True)
    with pytest.raises(ValidationError):  # a Saturday is not a working day
        surveys.decide_urgent(survey=survey, actor=team["technical_director"], approve=True,
                              date=dt.date(2026, 11, 28))
    approved = surveys.decide_urgent(survey=survey, actor=team["technical_director"],
                                     approve=True, date=WEDNESDAY)
    assert approved.date == WEDNESDAY  # not a survey weekday: urgent may take any working day
    assert approved.approved_by == team["technical_director"]
    with pytest.raises(RuleViolation):
        surveys.decide_urgent(survey=approved, actor=team["technical_director"], approve=True)


def test_urgent_declined_goes_to_the_next_survey_day(team, on_monday):
    survey = request(team, urgent=True)
    declined = surveys.decide_urgent(survey=survey, actor=team["technical_director"],
                                     approve=False)
    assert (declined.date, declined.urgent, declined.status) == (TUESDAY, False, "scheduled")


def test_record_needs_the_approval_first(team, tariff, on_monday):
    survey = request(team, urgent=True)
    with pytest.raises(RuleViolation, match="technical director"):
        fire(card=survey.card, name="record_expertise", actor=team["noc_head"],
             payload={"possible": True})
