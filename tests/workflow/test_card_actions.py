"""The connection standard driven from the client card: each role's forms post to thin views
that call the workflow services and come back to the card with what happened or why not."""

from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from billing.models import Terms
from connections.models import CardDocument, ColleagueQuestion, Contract, EstimateLine, Survey
from connections.services import workflow

from .test_card_page import (
    action_url,
    fresh,
    new_card,
    page,
    pay_fee,
    to_contract,
    to_expertise,
    to_installation,
)

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


def post(client, user, url, data=None):
    client.force_login(user)
    return client.post(url, data or {}, follow=True)


def said(response) -> list[tuple[str, str]]:
    return [(m.level_tag, str(m)) for m in response.context["messages"]]


def errors(response) -> list[str]:
    return [text for level, text in said(response) if level == "error"]


def card_action(card, name, *args):
    return reverse(f"connections:{name}", args=[card.pk, *args])


@pytest.fixture
def card(team, tariff, building, branch, on_monday):
    return new_card(team, tariff, building, branch)


# CS-2: the survey --------------------------------------------------------------------------

def test_noc_head_records_the_result_with_an_estimate(client, team, card):
    card = to_expertise(card, team)
    html = page(client, team["noc_head"], card)
    assert html.count('name="estimate-') >= 5 * 5  # at least five blank rows of five fields

    response = post(client, team["noc_head"], action_url(card, "record_expertise"), {
        "possible": "true", "notes": "Кабель по стояку",
        "estimate-TOTAL_FORMS": "8", "estimate-INITIAL_FORMS": "0",
        "estimate-0-item": "Коммутатор", "estimate-0-kind": "equipment",
        "estimate-0-unit": "шт.", "estimate-0-quantity": "1", "estimate-0-unit_price": "3 500",
        "estimate-1-item": "Монтаж", "estimate-1-kind": "works", "estimate-1-unit": "ч",
        "estimate-1-quantity": "2,5", "estimate-1-unit_price": "400",
        **{f"estimate-{n}-kind": "equipment" for n in range(2, 8)},
    })

    assert fresh(card).stage == "contract"
    lines = EstimateLine.objects.filter(survey__card=card)
    assert sorted(lines.values_list("item", flat=True)) == ["Коммутатор", "Монтаж"]
    assert Survey.objects.get(card=card).estimate_total == Decimal("4500.00")
    assert "4500.00" in said(response)[0][1]
    assert "4\xa0500,00\xa0₽" in response.content.decode()  # the estimate on the card


def test_a_wrong_estimate_line_is_named_and_the_input_comes_back(client, team, card):
    card = to_expertise(card, team)

    response = post(client, team["noc_head"], action_url(card, "record_expertise"), {
        "possible": "true", "estimate-TOTAL_FORMS": "8", "estimate-INITIAL_FORMS": "0",
        "estimate-0-item": "Кабель UTP", "estimate-0-kind": "equipment",
        "estimate-0-quantity": "много", "estimate-0-unit_price": "30"})

    assert fresh(card).stage == "expertise"
    assert errors(response) and "1" in errors(response)[0]  # "Line 1: …"
    html = response.content.decode()
    assert 'data-action="record_expertise"' in html
    assert 'open data-action="record_expertise"' in html  # unfolded with the input kept
    assert 'value="Кабель UTP"' in html and 'value="много"' in html


def test_urgent_survey_is_approved_by_the_technical_director_on_the_card(client, team, card):
    post(client, team["manager"], action_url(card, "request_expertise"), {"urgent": "on"})
    survey = Survey.objects.get(card=card)
    assert survey.status == "awaiting_approval"
    assert card_action(card, "card_survey_decide") not in page(client, team["manager"], card)

    post(client, team["technical_director"], card_action(card, "card_survey_decide"),
         {"approve": "true", "date": "2026-11-24"})

    survey.refresh_from_db()
    assert survey.status == "scheduled" and survey.date.isoformat() == "2026-11-24"
    assert survey.approved_by == team["technical_director"]


# CS-3: the contract ------------------------------------------------------------------------

def test_non_standard_contract_needs_both_approvals_then_is_signed(client, team, card):
    card = to_contract(card, team)

    post(client, team["manager"], card_action(card, "card_contract_draft"),
         {"nonstandard": "on", "connection_fee": "500,00"})
    contract = Contract.objects.get(card=card)
    assert contract.nonstandard and contract.connection_fee == Decimal("500.00")

    refused = post(client, team["manager"], action_url(card, "sign_contract"))
    assert fresh(card).stage == "contract" and errors(refused)

    html = page(client, team["head_of_sales"], card)
    assert card_action(card, "card_contract_approve") in html
    post(client, team["head_of_sales"], card_action(card, "card_contract_approve"))
    post(client, team["commercial_director"], card_action(card, "card_contract_approve"))
    assert Contract.objects.get(card=card).approved

    signed = post(client, team["manager"], action_url(card, "sign_contract"))
    assert fresh(card).stage == "installation"
    assert contract.number in said(signed)[0][1]
    # The signed contract is on the card, one click from its PDF.
    assert reverse("connections:contract_pdf", args=[card.pk]) in signed.content.decode()


def test_disputed_clause_goes_to_the_lawyer_who_resolves_it(client, team, card):
    card = to_contract(card, team)
    post(client, team["manager"], card_action(card, "card_contract_draft"))
    post(client, team["manager"], card_action(card, "card_contract_dispute"),
         {"clause": "п. 5.2 о сроке отключения"})
    assert card_action(card, "card_contract_resolve") not in page(client, team["manager"], card)
    assert "п. 5.2 о сроке отключения" in page(client, team["lawyer"], card)

    post(client, team["lawyer"], card_action(card, "card_contract_resolve"),
         {"resolution": "Срок 10 дней вместо 5"})

    contract = Contract.objects.get(card=card)
    assert contract.resolved_at and contract.lawyer == team["lawyer"]
    post(client, team["manager"], action_url(card, "sign_contract"))
    assert fresh(card).stage == "installation"


# CS-4, CS-5: installation and activation ---------------------------------------------------

def test_installation_to_activation_from_the_card(client, team, card, crew):
    card = to_installation(card, team)

    post(client, team["technical_director"], card_action(card, "card_installation_override"),
         {"reason": "Клиент платит по счёту, деньги в пути"})
    html = page(client, team["crew_leader"], card)
    # The earliest free slot is suggested: Tuesday 24.11 at 09:00 with the only crew.
    assert 'name="date" value="2026-11-24"' in html
    assert '<option value="09:00" selected>' in html
    assert f'<option value="{crew.pk}" selected>' in html

    planned = post(client, team["crew_leader"], action_url(card, "schedule_installation"), {
        "date": "2026-11-24", "time": "09:00", "crew": crew.pk, "priority": "0"})
    installation = fresh(card).installation
    assert installation.scheduled and "24.11.2026" in said(planned)[0][1]

    post(client, team["manager"], card_action(card, "card_installation_confirm"))
    installation.refresh_from_db()
    assert installation.confirmed_by == team["manager"]

    bad = post(client, team["crew_leader"], action_url(card, "complete_installation"),
               {"ip_address": "10.0.0.300"})
    assert fresh(card).stage == "installation" and errors(bad)
    post(client, team["crew_leader"], action_url(card, "complete_installation"),
         {"ip_address": "10.20.30.40"})
    card = fresh(card)
    assert card.stage == "activation"

    # Not paid yet: the subscriber department sees why it cannot activate.
    html = page(client, team["subscriber_dept"], card)
    assert action_url(card, "activate") not in html
    assert workflow.refusal(card, "activate")[1:] in html
    pay_fee(card)
    post(client, team["subscriber_dept"], action_url(card, "activate"))
    card = fresh(card)
    assert card.stage == "active" and card.activated_at

    post(client, team["manager"], action_url(card, "terminate"),
         {"reason": "Переезд за пределы сети", "controllable": ""})
    card = fresh(card)
    assert card.stage == "terminated" and card.termination_controllable is False


def test_no_possibility_goes_to_network_development_and_can_be_reopened(client, team, card):
    card = to_expertise(card, team)
    response = post(client, team["noc_head"], action_url(card, "record_expertise"), {
        "possible": "false", "notes": "Нет свободных портов",
        "estimate-TOTAL_FORMS": "0", "estimate-INITIAL_FORMS": "0"})
    assert fresh(card).stage == "network_development", said(response)
    html = page(client, team["manager"], card)
    assert 'data-stage="network_development"' in html and "Нет свободных портов" in html

    post(client, team["manager"], action_url(card, "reopen"), {})
    assert fresh(card).stage == "expertise"


def test_cancel_needs_a_reason(client, team, card):
    refused = post(client, team["manager"], action_url(card, "cancel"), {"reason": ""})
    assert fresh(card).stage == "commercial" and errors(refused)

    post(client, team["manager"], action_url(card, "cancel"), {"reason": "Передумал"})
    assert fresh(card).stage == "cancelled"


# CS-1: ask a colleague, the commercial terms ------------------------------------------------

def test_manager_asks_the_noc_head_who_answers_on_the_card(client, team, card):
    post(client, team["manager"], card_action(card, "card_question_ask"),
         {"role": "noc_head", "question": "Есть ли порт в доме?"})
    question = ColleagueQuestion.objects.get(card=card)

    answer_url = card_action(card, "card_question_answer", question.pk)
    assert answer_url not in page(client, team["chief_engineer"], card)
    assert answer_url in page(client, team["noc_head"], card)
    post(client, team["noc_head"], answer_url, {"answer": "Да, два свободных"})

    question.refresh_from_db()
    assert question.answered_by == team["noc_head"]
    assert "Да, два свободных" in page(client, team["manager"], card)


def test_manager_agrees_the_terms_on_the_card(client, team, card, tariff):
    response = post(client, team["manager"], reverse("billing:terms_edit", args=[card.pk]), {
        "tariff": tariff.pk, "volume": "2 статических IP", "payment_order": "quarterly",
        "notes": "Счёт на юрлицо"})

    terms = Terms.objects.get(client=card)
    assert terms.payment_order == "quarterly" and terms.volume == "2 статических IP"
    assert "2 статических IP" in response.content.decode()

    refused = post(client, team["crew_leader"], reverse("billing:terms_edit", args=[card.pk]),
                   {"tariff": tariff.pk, "payment_order": "monthly"})
    assert errors(refused)
    assert Terms.objects.get(client=card).payment_order == "quarterly"


# Documents ----------------------------------------------------------------------------------

@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


def upload(client, user, card, name, content, kind="owner_permission", **fields):
    return post(client, user, card_action(card, "card_document_upload"), {
        "kind": kind, "file": SimpleUploadedFile(name, content), **fields})


def test_owner_permission_scan_is_kept_and_opened_from_the_card(client, team, card, media):
    upload(client, team["manager"], card, "razreshenie.pdf", PDF, number="17/2026")

    document = CardDocument.objects.get(card=card)
    assert document.kind == "owner_permission" and document.number == "17/2026"
    file_url = card_action(card, "card_document_file", document.pk)
    assert file_url in page(client, team["manager"], card)
    opened = client.get(file_url)
    assert opened.status_code == 200 and b"".join(opened.streaming_content) == PDF


@pytest.mark.parametrize(("name", "content", "hint"), [
    ("dogovor.docx", b"PK\x03\x04", "dogovor.docx"),
    ("fake.pdf", b"hello, not a pdf", "fake.pdf"),
    ("big.pdf", b"%PDF-" + b"0" * (10 * 1024 * 1024), "10"),
])
def test_a_wrong_scan_is_refused_with_what_is_wrong(client, team, card, media, name, content,
                                                   hint):
    response = upload(client, team["manager"], card, name, content)

    assert not CardDocument.objects.filter(card=card).exists()
    assert errors(response) and hint in errors(response)[0]


def test_crew_leader_cannot_upload_to_the_card(client, team, card, media):
    assert card_action(card, "card_document_upload") not in page(client, team["crew_leader"],
                                                                 card)
    response = upload(client, team["crew_leader"], card, "scan.pdf", PDF)
    assert errors(response) and not CardDocument.objects.filter(card=card).exists()
