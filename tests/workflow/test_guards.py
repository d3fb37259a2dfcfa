"""Every rule of API.md's transition table refuses with a clear reason (409) or a role
error (403), through the API as integrations see it."""

import pytest

from connections.models import ClientCard, Contract, StageLog
from ispcrm import roles
from tests.factories import ClientCardFactory
from tests.workflow.journey import drive

pytestmark = pytest.mark.django_db


def fire(api, user, card, name, body=None):
    return api.as_user(user).post(f"/api/v1/clients/{card.pk}/transitions/{name}/",
                                  body or {}, format="json")


def test_a_role_not_listed_gets_403_and_nothing_changes(api, team, tariff, on_monday):
    card = ClientCardFactory(branch=team["manager"].branch)
    response = fire(api, team["crew_leader"], card, "request_expertise")
    assert response.status_code == 403
    assert "manager" in response.json()["detail"]
    assert ClientCard.objects.get(pk=card.pk).stage == "commercial"
    assert not StageLog.objects.exists()


def test_unknown_transition_is_404(api, team):
    card = ClientCardFactory(branch=team["manager"].branch)
    assert fire(api, team["manager"], card, "teleport").status_code == 404


def test_a_transition_from_the_wrong_stage_names_the_stage(api, team, tariff, on_monday):
    card = ClientCardFactory(branch=team["manager"].branch)
    response = fire(api, team["subscriber_dept"], card, "activate")
    assert response.status_code == 409
    assert "Commercial" in response.json()["detail"] or "Коммерч" in response.json()["detail"]


def test_contract_without_positive_expertise(api, team, tariff, crew, on_monday):
    card = drive(team, to="request_expertise", tariff=tariff)
    negative = fire(api, team["noc_head"], card, "record_expertise",
                    {"possible": False, "notes": "Нет ёмкости на узле"})
    assert negative.json()["stage"] == "network_development"
    again = fire(api, team["noc_head"], card, "reopen")
    assert again.json()["stage"] == "expertise"
    # Jump the card to the contract stage without a positive act (as an old import might).
    ClientCard.objects.filter(pk=card.pk).update(stage="contract")
    response = fire(api, team["manager"], card, "sign_contract")
    assert response.status_code == 409
    assert "no positive expertise act" in response.json()["detail"]


def test_record_expertise_needs_a_scheduled_survey(api, team, tariff, on_monday):
    card = drive(team, to="request_expertise", tariff=tariff, card=None)
    card.surveys.update(status="cancelled")
    response = fire(api, team["noc_head"], card, "record_expertise", {"possible": True})
    assert response.status_code == 409
    assert "no survey is scheduled" in response.json()["detail"]


def test_bad_estimate_is_400_naming_the_line(api, team, tariff, on_monday):
    card = drive(team, to="request_expertise", tariff=tariff)
    response = fire(api, team["noc_head"], card, "record_expertise", {
        "possible": True, "estimate": [{"item": "Кабель", "quantity": 10, "unit_price": 30},
                                       {"item": "Роутер", "quantity": -1, "unit_price": 10}]})
    assert response.status_code == 400
    assert "Line 2" in str(response.json()["estimate"])
    assert ClientCard.objects.get(pk=card.pk).stage == "expertise"


def test_no_tariff_agreed_refuses_signing(api, team, tariff, on_monday):
    card = drive(team, to="record_expertise", tariff=tariff)
    card.terms.tariff = None
    card.terms.save()
    response = fire(api, team["manager"], card, "sign_contract")
    assert response.status_code == 409
    assert "no tariff is agreed" in response.json()["detail"]


def test_nonstandard_contract_needs_both_approvals(api, team, tariff, on_monday):
    card = drive(team, to="record_expertise", tariff=tariff)
    url = f"/api/v1/clients/{card.pk}/contract/"
    drafted = api.as_user(team["manager"]).post(url, {"connection_fee": "0.00"}, format="json")
    assert drafted.status_code == 200, drafted.json()
    assert Contract.objects.get(card=card).nonstandard  # a fee other than the tariff's

    refused = fire(api, team["manager"], card, "sign_contract")
    assert refused.status_code == 409
    assert "head of sales" in refused.json()["detail"]

    api.as_user(team["head_of_sales"]).post(url + "approve/")
    one_of_two = fire(api, team["manager"], card, "sign_contract")
    assert one_of_two.status_code == 409
    assert "commercial director" in one_of_two.json()["detail"]

    twice = api.as_user(team["head_of_sales"]).post(url + "approve/")
    assert twice.status_code == 409
    assert api.as_user(team["manager"]).post(url + "approve/").status_code == 403
    api.as_user(team["commercial_director"]).post(url + "approve/")
    signed = fire(api, team["manager"], card, "sign_contract")
    assert signed.status_code == 200, signed.json()
    assert signed.json()["account"]["balance"] == "0.00"  # the agreed fee, not the tariff's


def test_a_fee_in_the_signing_request_makes_the_terms_nonstandard(api, team, tariff, on_monday):
    card = drive(team, to="record_expertise", tariff=tariff)
    response = fire(api, team["manager"], card, "sign_contract", {"connection_fee": "500.00"})
    assert response.status_code == 409
    assert "approval" in response.json()["detail"]
    assert ClientCard.objects.get(pk=card.pk).stage == "contract"
    assert not hasattr(ClientCard.objects.get(pk=card.pk), "account")


def test_a_disputed_clause_waits_for_the_lawyer(api, team, tariff, on_monday):
    card = drive(team, to="record_expertise", tariff=tariff)
    url = f"/api/v1/clients/{card.pk}/contract/"
    api.as_user(team["manager"]).post(url, {}, format="json")
    api.as_user(team["manager"]).post(url + "dispute/", {"clause": "п. 5.2 о пенях"},
                                      format="json")
    refused = fire(api, team["manager"], card, "sign_contract")
    assert refused.status_code == 409 and "lawyer" in refused.json()["detail"]
    assert api.as_user(team["manager"]).post(
        url + "resolve/", {"resolution": "ok"}, format="json").status_code == 403
    api.as_user(team["lawyer"]).post(url + "resolve/", {"resolution": "Пункт уточнён"},
                                     format="json")
    assert fire(api, team["manager"], card, "sign_contract").status_code == 200


def test_installation_without_payment_and_the_override(api, team, tariff, crew, on_monday):
    card = drive(team, to="sign_contract", tariff=tariff)
    body = {"date": "2026-11-25", "crew": crew.pk}
    refused = fire(api, team["crew_leader"], card, "schedule_installation", body)
    assert refused.status_code == 409
    assert "connection fee not paid" in refused.json()["detail"]

    url = f"/api/v1/clients/{card.pk}/installation/override/"
    assert api.as_user(team["crew_leader"]).post(url, {"reason": "x"},
                                                 format="json").status_code == 403
    assert api.as_user(team["technical_director"]).post(url, {},
                                                        format="json").status_code == 400
    allowed = api.as_user(team["technical_director"]).post(
        url, {"reason": "Школа, оплата гарантийным письмом"}, format="json")
    assert allowed.status_code == 200
    planned = fire(api, team["crew_leader"], card, "schedule_installation", body)
    assert planned.status_code == 200, planned.json()
    assert StageLog.objects.filter(card=card).last().payload["override"] is True


def test_activation_without_the_act_or_ip(api, team, tariff, crew, on_monday):
    card = drive(team, to="schedule_installation", tariff=tariff, crew=crew)
    ClientCard.objects.filter(pk=card.pk).update(stage="activation")  # act not recorded
    response = fire(api, team["subscriber_dept"], card, "activate")
    assert response.status_code == 409
    assert "no act of completed works" in response.json()["detail"]


def test_activation_without_payment(api, team, tariff, crew, on_monday):
    card = drive(team, to="sign_contract", tariff=tariff)
    api.as_user(team["technical_director"]).post(
        f"/api/v1/clients/{card.pk}/installation/override/", {"reason": "срочно"},
        format="json")
    fire(api, team["crew_leader"], card, "schedule_installation",
         {"date": "2026-11-25", "crew": crew.pk})
    fire(api, team["crew_leader"], card, "complete_installation", {"ip_address": "10.1.1.1"})
    response = fire(api, team["subscriber_dept"], card, "activate")
    assert response.status_code == 409
    assert "connection fee not paid" in response.json()["detail"]


def test_terminate_needs_a_reason_and_closes_the_account(api, team, tariff, crew, on_monday):
    card = drive(team, to="activate", tariff=tariff, crew=crew)
    assert fire(api, team["manager"], card, "terminate", {}).status_code == 400
    assert fire(api, team["crew_leader"], card, "terminate",
                {"reason": "x"}).status_code == 403
    left = fire(api, team["subscriber_dept"], card, "terminate",
                {"reason": "Переезд за пределы покрытия", "controllable": False})
    assert left.status_code == 200
    assert left.json()["stage"] == "terminated"
    assert left.json()["account"]["status"] == "closed"
    card.refresh_from_db()
    assert card.termination_controllable is False and card.terminated_at


def test_cancel_frees_the_crew_slot(api, team, tariff, crew, on_monday):
    first = drive(team, to="schedule_installation", tariff=tariff, crew=crew)
    slot = (first.installation.date, first.installation.slot)
    assert fire(api, team["manager"], first, "cancel", {}).status_code == 400
    cancelled = fire(api, team["manager"], first, "cancel", {"reason": "Передумал"})
    assert cancelled.json()["stage"] == "cancelled"
    assert cancelled.json()["account"]["status"] == "closed"
    second = drive(team, to="schedule_installation", tariff=tariff, crew=crew)
    assert (second.installation.date, second.installation.slot) == slot


def test_superuser_may_fire_anything_but_rules_still_apply(api, make_user, team, tariff,
                                                           on_monday):
    root = make_user(is_superuser=True, username="root")
    card = ClientCardFactory(branch=team["manager"].branch)
    assert fire(api, root, card, "activate").status_code == 409
    assert fire(api, root, card, "request_expertise").status_code == 200


def test_available_transitions_follow_role_and_guards(api, team, tariff, crew, on_monday):
    card = drive(team, to="sign_contract", tariff=tariff)
    url = f"/api/v1/clients/{card.pk}/"
    as_crew = api.as_user(team["crew_leader"]).get(url).json()["available_transitions"]
    assert as_crew == []  # fee not paid yet
    as_manager = api.as_user(team["manager"]).get(url).json()["available_transitions"]
    assert as_manager == ["cancel"]
    assert roles.CREW_LEADER in team


def test_the_survey_result_must_say_yes_or_no(api, team, tariff, on_monday):
    card = drive(team, to="request_expertise", tariff=tariff)
    missing = fire(api, team["noc_head"], card, "record_expertise", {})
    assert missing.status_code == 400 and "possible" in missing.json()
    vague = fire(api, team["noc_head"], card, "record_expertise", {"possible": "maybe"})
    assert vague.status_code == 400
    as_text = fire(api, team["noc_head"], card, "record_expertise", {"possible": "false"})
    assert as_text.json()["stage"] == "network_development"


def test_a_free_connection_counts_as_paid_at_signing(api, team, crew, on_monday):
    from tests.factories import TariffFactory

    free = TariffFactory(name="Домашний без платы", connection_fee="0.00")
    card = drive(team, to="sign_contract", tariff=free)
    assert card.fee_paid_at is not None
    planned = fire(api, team["crew_leader"], card, "schedule_installation",
                   {"date": "2026-11-25", "crew": crew.pk})
    assert planned.status_code == 200, planned.json()
