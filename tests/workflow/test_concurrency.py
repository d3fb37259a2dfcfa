"""Two users fire transitions on the same card at once: one wins, the other gets a clear
conflict (409), never a double move or a 500."""

import pytest

from connections.models import StageLog, Survey
from connections.services.workflow import fire
from ispcrm.errors import RuleViolation
from tests.concurrency import run_in_parallel
from tests.factories import ClientCardFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_the_same_transition_twice_at_once(team, tariff):
    manager = team["manager"]
    card = ClientCardFactory(branch=manager.branch, lead_manager=manager,
                             building__street__city=manager.branch.city)

    def work(i):
        return fire(card=card, name="request_expertise", actor=manager, payload={}).stage

    results, errors = run_in_parallel(work, 2)
    assert results == ["expertise"]
    assert len(errors) == 1 and isinstance(errors[0], RuleViolation)
    assert "stage" in str(errors[0]) or "этап" in str(errors[0])
    assert Survey.objects.filter(card=card).count() == 1
    assert StageLog.objects.filter(card=card).count() == 1


def test_the_last_survey_place_goes_to_one_of_two(team, branch):
    from connections.models import WorkflowSettings

    WorkflowSettings.objects.create(branch=branch, survey_capacity=1)
    manager = team["manager"]
    cards = [ClientCardFactory(branch=branch, lead_manager=manager,
                               building__street__city=branch.city) for _ in range(2)]

    def work(i):
        return fire(card=cards[i], name="request_expertise", actor=manager, payload={})

    _, errors = run_in_parallel(work, 2)
    assert not errors
    dates = sorted(Survey.objects.values_list("date", flat=True))
    assert dates[0] != dates[1]  # never two on a one-place day
