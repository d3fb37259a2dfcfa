"""The survey jobs of stage 2 (CS-2): the morning route list for the NOC head and the
overdue survey reminder for the lead manager, as beat and the command run them."""

import datetime as dt
import io
import shutil
import subprocess

import pytest
from django.core import mail
from django.core.management import CommandError, call_command
from django.utils.module_loading import import_string

from connections.models import Survey, SurveyDayPlan
from connections.tasks import build_survey_plans, notify_overdue_surveys
from ispcrm.models import CalendarDay
from tests.factories import ClientCardFactory

pytestmark = pytest.mark.django_db

MONDAY, TUESDAY, THURSDAY = "2026-11-23", dt.date(2026, 11, 24), dt.date(2026, 11, 26)


@pytest.fixture
def expertise_card(team, branch, building):
    def make(**fields):
        return ClientCardFactory(branch=branch, building=building, stage="expertise",
                                 lead_manager=team["manager"], **fields)
    return make


def survey_on(card, day, due=None, **fields):
    return Survey.objects.create(card=card, branch=card.branch, date=day,
                                 due_date=due or day, **fields)


def test_the_noc_head_gets_the_route_list_once(client, team, branch, expertise_card):
    first = expertise_card(name="Соколов Пётр", phone="+79121112233", premises="кв. 5")
    second = expertise_card(name="ООО «Ромашка»", kind="company", inn="7707083893")
    survey_on(first, TUESDAY)
    survey_on(second, TUESDAY)
    survey_on(expertise_card(name="Отменённый"), TUESDAY, status=Survey.Status.CANCELLED)

    assert build_survey_plans(MONDAY) == 1
    assert SurveyDayPlan.objects.get(branch=branch).surveys == 2
    [message] = mail.outbox
    assert message.to == [team["noc_head"].email]
    assert "24.11.2026" in message.subject
    assert "Соколов Пётр" in message.body and "+7 912 111-22-33" in message.body
    assert first.address in message.body and "ООО «Ромашка»" in message.body
    assert "Отменённый" not in message.body
    link = f"/survey_route/{branch.pk}/2026-11-24/"
    assert link in message.body

    assert build_survey_plans(MONDAY) == 0  # beat firing twice sends nothing new
    assert len(mail.outbox) == 1

    client.force_login(team["noc_head"])
    response = client.get(link)  # the link in the email opens the printable route list
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    if shutil.which("pdftotext"):
        text = " ".join(subprocess.run(["pdftotext", "-", "-"], input=response.content,
                                       capture_output=True, check=True).stdout.decode().split())
        assert "Соколов Пётр" in text and "ООО «Ромашка»" in text and "Отменённый" not in text


def test_no_plan_on_a_day_off(team, expertise_card):
    survey_on(expertise_card(), dt.date(2026, 11, 30))  # a Monday
    for day_off in ("2026-11-28", "2026-11-29"):
        assert build_survey_plans(day_off) == 0
    assert mail.outbox == []
    assert build_survey_plans("2026-11-27") == 1  # Friday: Monday's list
    assert "30.11.2026" in mail.outbox[0].subject


def test_a_holiday_before_the_survey_day_moves_the_list_a_day_earlier(team, expertise_card):
    survey_on(expertise_card(name="Соколов Пётр"), THURSDAY)
    assert build_survey_plans("2026-11-24") == 0  # Tuesday plans Wednesday: nothing there

    CalendarDay.objects.create(date=dt.date(2026, 11, 25), kind=CalendarDay.Kind.HOLIDAY)
    assert build_survey_plans("2026-11-25") == 0  # the holiday itself sends nothing
    assert build_survey_plans("2026-11-24") == 1  # the working day before Thursday
    [message] = mail.outbox
    assert "26.11.2026" in message.subject and "Соколов Пётр" in message.body


def test_an_overdue_survey_is_reported_to_the_lead_manager_once(team, expertise_card):
    late = expertise_card(name="Опоздавший Клиент")
    survey_on(late, dt.date(2026, 11, 19), due=dt.date(2026, 11, 20))
    survey_on(expertise_card(name="В срок"), TUESDAY, due=dt.date(2026, 11, 30))
    survey_on(expertise_card(name="Уже обследован"), dt.date(2026, 11, 17),
              due=dt.date(2026, 11, 18), status=Survey.Status.DONE)

    assert notify_overdue_surveys(MONDAY) == 1
    [message] = mail.outbox
    assert message.to == [team["manager"].email]
    assert "Опоздавший Клиент" in message.subject and "20.11.2026" in message.body
    assert f"/clients/{late.pk}/" in message.body

    assert notify_overdue_surveys(MONDAY) == 0
    assert notify_overdue_surveys("2026-11-24") == 0  # once, not every morning
    assert len(mail.outbox) == 1


def test_the_command_builds_the_plans_for_a_given_day(team, branch, expertise_card):
    survey_on(expertise_card(), TUESDAY)
    out = io.StringIO()
    call_command("build_survey_plans", "--date", MONDAY, stdout=out)
    assert SurveyDayPlan.objects.filter(branch=branch, date=TUESDAY).exists()
    assert "1" in out.getvalue()
    assert len(mail.outbox) == 1
    with pytest.raises(CommandError):
        call_command("build_survey_plans", "--date", "24.11.2026")


def test_beat_runs_both_jobs_every_morning():
    from ispcrm.celery import app

    schedule = app.conf.beat_schedule
    plans = schedule["connections-survey-plans"]
    overdue = schedule["connections-overdue-surveys"]
    assert import_string(plans["task"]).name == plans["task"]
    assert import_string(overdue["task"]).name == overdue["task"]
    assert plans["schedule"].hour == {8} and plans["schedule"].minute == {0}
    assert overdue["schedule"].hour == {9}
