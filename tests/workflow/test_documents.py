"""The connection standard's printed documents (M8): contract, survey route list, expertise
act with the estimate, work order and act of completed works, as staff download them."""

import shutil
import subprocess

import pytest
from django.urls import reverse

from billing.models import BillingSettings
from connections.models import ClientCard, ClientContact
from connections.services import documents_pdf

pytestmark = pytest.mark.django_db

TUESDAY = "2026-11-24"  # the first survey day after the frozen Monday


def pdf_text(pdf: bytes) -> str:
    if shutil.which("pdftotext") is None:
        pytest.skip("needs pdftotext (Debian poppler-utils)")
    # Reading order, not -layout: a table cell's wrapped lines stay together.
    out = subprocess.run(["pdftotext", "-", "-"], input=pdf, capture_output=True,
                         check=True)
    return " ".join(out.stdout.decode().split())  # one space for any run of whitespace


def post(api, user, url, body=None):
    response = api.as_user(user).post(url, body or {}, format="json")
    assert response.status_code in (200, 201), response.json()
    return response.json()


class Path:
    """Drives one card along the standard through the API, a step at a time."""

    def __init__(self, api, team, tariff, building, crew, name="Соколов Пётр"):
        self.api, self.team, self.crew = api, team, crew
        created = post(api, team["manager"], "/api/v1/clients/", {
            "kind": "person", "name": name, "phone": "8 912 111-22-33",
            "building": building.pk, "premises": "кв. 5", "connection_type": "lan",
            "tariff": tariff.pk})
        self.card = ClientCard.objects.get(pk=created["id"])
        self.url = f"/api/v1/clients/{self.card.pk}/"
        ClientContact.objects.create(client=self.card, name="Соколова Анна", role="жена",
                                     phone="+79127776655")

    def fire(self, role, name, body=None):
        return post(self.api, self.team[role], self.url + f"transitions/{name}/", body)

    def request_survey(self):
        return self.fire("manager", "request_expertise", {
            "access_roof": True, "access_technical_floor": True,
            "access_notes": "Ключ от крыши у консьержа, код домофона 45К"})

    def record_survey(self, possible=True):
        return self.fire("noc_head", "record_expertise", {
            "possible": possible, "notes": "Кабель по стояку, 3 этаж",
            "estimate": [{"item": "Коммутатор D-Link", "quantity": 1, "unit_price": "3500.00"},
                         {"item": "Кабель UTP", "quantity": "20", "unit": "м",
                          "unit_price": "25"},
                         {"item": "Прокладка кабеля", "quantity": "2", "unit_price": "500",
                          "kind": "works"}]})

    def draft(self, **body):
        return post(self.api, self.team["manager"], self.url + "contract/", body)

    def sign(self):
        return self.fire("manager", "sign_contract", {"nonstandard": False})

    def pay_and_plan(self):
        from billing.models import Account

        account = Account.objects.get(client=self.card)
        post(self.api, self.team["accountant"], "/api/v1/payments/", {
            "account": account.number, "amount": "1000.00", "external_id": "bank-1",
            "channel": "bank"})
        return self.fire("crew_leader", "schedule_installation", {
            "date": "2026-11-25", "crew": self.crew.pk, "time": "12:00",
            "special_equipment": "Мачта 3 м", "temporary_modem": True})

    def complete(self):
        return self.fire("crew_leader", "complete_installation", {"ip_address": "10.20.30.40"})


@pytest.fixture
def path(api, team, tariff, building, crew, on_monday):
    return Path(api, team, tariff, building, crew)


def download(client, user, name, *args):
    client.force_login(user)
    return client.get(reverse(f"connections:{name}", args=args))


def text_of(response) -> str:
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Cache-Control"] == "private, no-store"
    return pdf_text(response.content)


CARD_DOCUMENTS = ("contract_pdf", "expertise_pdf", "work_order_pdf", "works_act_pdf")


def test_no_document_before_its_stage(client, path, team):
    manager = team["manager"]
    for name in CARD_DOCUMENTS:
        assert download(client, manager, name, path.card.pk).status_code == 404
    path.request_survey()
    for name in CARD_DOCUMENTS:  # a survey booked is not a survey done
        assert download(client, manager, name, path.card.pk).status_code == 404
    path.record_survey()
    assert download(client, manager, "expertise_pdf", path.card.pk).status_code == 200
    for name in ("contract_pdf", "work_order_pdf", "works_act_pdf"):
        assert download(client, manager, name, path.card.pk).status_code == 404
    assert download(client, manager, "contract_pdf", 999999).status_code == 404


def test_the_survey_route_lists_the_day_for_the_noc_head(client, path, team, branch,
                                                          building):
    path.request_survey()
    path.card.lead_manager.phone = "+7 495 100-20-30"
    path.card.lead_manager.save()
    text = text_of(download(client, team["noc_head"], "survey_route", branch.pk, TUESDAY))
    assert "Маршрутный лист № МЛ-" in text and "24.11.2026 (вторник)" in text
    assert "кв. 5" in text and building.street.name in text
    assert "Соколов Пётр" in text
    assert "+7 912 111-22-33" in text and "+7 912 777-66-55 — Соколова Анна (жена)" in text
    assert "крыша: согласован" in text and "помещение: не согласован" in text
    assert "Ключ от крыши у консьержа" in text
    assert str(path.card.lead_manager) in text and "+7 495 100-20-30" in text
    assert "Результат обследования" in text and "Начальник NOC" in text
    assert str(team["noc_head"]) in text
    assert "Всего выездов: 1" in text

    other_day = text_of(download(client, team["noc_head"], "survey_route", branch.pk,
                                 "2026-11-26"))
    assert "На этот день выездов нет" in other_day and "Соколов" not in other_day
    assert download(client, team["noc_head"], "survey_route", branch.pk,
                    "2026-13-45").status_code == 404
    assert download(client, team["noc_head"], "survey_route", 999999,
                    TUESDAY).status_code == 404


def test_expertise_act_has_the_result_and_the_estimate_totals(client, path, team):
    path.request_survey()
    path.record_survey()
    text = text_of(download(client, team["manager"], "expertise_pdf", path.card.pk))
    assert "Акт технической экспертизы № Э-" in text
    assert "Подключение технически возможно" in text
    assert "Кабель по стояку, 3 этаж" in text
    assert "Дата обследования 24.11.2026" in text
    assert "Коммутатор D-Link" in text and "Прокладка кабеля" in text
    assert "Итого — оборудование и материалы: 4 000,00" in text  # 3 500 + 20 × 25
    assert "Итого — работы: 1 000,00" in text
    assert "Всего по смете: 5 000,00" in text
    assert str(team["noc_head"]) in text


def test_expertise_act_says_when_the_connection_is_impossible(client, path, team):
    path.request_survey()
    path.fire("noc_head", "record_expertise", {"possible": False, "notes": "Нет линии"})
    text = text_of(download(client, team["manager"], "expertise_pdf", path.card.pk))
    assert "Подключение технически невозможно" in text and "Нет линии" in text
    assert "Смета" not in text


def test_contract_prints_as_a_draft_then_signed(client, path, team, branch):
    settings = BillingSettings.current()
    settings.dunning_days = 7
    settings.save()
    path.request_survey()
    path.record_survey()
    path.draft()
    number = path.card.contract.number

    draft = text_of(download(client, team["manager"], "contract_pdf", path.card.pk))
    assert "ПРОЕКТ" in draft and f"Проект договора № {number}" in draft
    assert f"г. {branch.city.name}" in draft and "23.11.2026" in draft
    assert "ООО «Городская сеть»" in draft and "ИНН 7708123450" in draft  # our requisites
    assert "БИК 044525225" in draft
    assert "Соколов Пётр" in draft and "+7 912 111-22-33" in draft
    assert "кв. 5" in draft
    assert "локальная сеть (Ethernet)" in draft and "до 100 Мбит/с" in draft
    assert "«Домашний 100»" in draft and "600,00" in draft and "1 000,00" in draft
    assert "до начала монтажных работ" in draft
    assert "не позднее 1-го числа" in draft
    assert "в течение 7 рабочих дней" in draft  # billing's dunning days
    assert "Директор" in draft and "Технический директор" in draft
    assert str(team["technical_director"]) in draft and "Иванов И. И." in draft

    path.sign()
    signed = text_of(download(client, team["manager"], "contract_pdf", path.card.pk))
    assert "ПРОЕКТ" not in signed and "Проект" not in signed
    assert f"Договор № {number}" in signed


def test_contract_shows_approvals_and_the_lawyers_resolution(client, path, team):
    path.request_survey()
    path.record_survey()
    path.draft(connection_fee="500.00")  # below the tariff's fee: non-standard terms
    contract_url = path.url + "contract/"
    post(path.api, team["head_of_sales"], contract_url + "approve/")
    post(path.api, team["manager"], contract_url + "dispute/",
         {"clause": "п. 3.3 о приостановке услуг"})

    text = text_of(download(client, team["manager"], "contract_pdf", path.card.pk))
    assert "Особые условия" in text and "500,00" in text
    assert f"согласовано: {team['head_of_sales']}" in text
    assert "Коммерческий директор не согласовано" in text
    assert "«п. 3.3 о приостановке услуг»" in text and "Ожидает заключения юриста" in text

    post(path.api, team["lawyer"], contract_url + "resolve/",
         {"resolution": "Пункт оставить без изменений"})
    text = text_of(download(client, team["manager"], "contract_pdf", path.card.pk))
    assert "Заключение юриста" in text and "Пункт оставить без изменений" in text
    assert str(team["lawyer"]) in text


def test_work_order_and_works_act(client, path, team):
    path.request_survey()
    path.record_survey()
    path.sign()
    assert download(client, team["crew_leader"], "work_order_pdf",
                    path.card.pk).status_code == 404  # installation not planned yet
    path.pay_and_plan()

    order = text_of(download(client, team["crew_leader"], "work_order_pdf", path.card.pk))
    assert "Наряд на монтаж № Н-" in order
    assert "Бригада 1 (Иванов, Петров)" in order
    assert "25.11.2026, 12:00" in order
    assert "Соколов Пётр" in order and "+7 912 777-66-55 — Соколова Анна (жена)" in order
    assert "локальная сеть (Ethernet)" in order and "Домашний 100, до 100 Мбит/с" in order
    assert "Мачта 3 м" in order
    assert "да — подключить временно через модем" in order
    assert "Ключ от крыши у консьержа" in order
    assert "внесена 23.11.2026" in order
    assert download(client, team["crew_leader"], "works_act_pdf",
                    path.card.pk).status_code == 404  # not completed yet

    path.complete()
    act = text_of(download(client, team["crew_leader"], "works_act_pdf", path.card.pk))
    assert "Акт выполненных работ № А-" in act
    assert "IP-адрес абонента 10.20.30.40" in act
    assert "Дата выполнения 23.11.2026" in act
    assert "Монтаж и подключение абонента к сети Интернет" in act
    assert "Прокладка кабеля" in act
    assert "ИСПОЛНИТЕЛЬ" in act and "АБОНЕНТ" in act and "Бригадир" in act
    assert str(team["crew_leader"]) in act


def test_documents_need_the_permission_to_view_cards(client, path, team, make_user, branch):
    path.request_survey()
    path.record_survey()
    path.draft()
    outsider = make_user(username="outsider")  # staff without a role
    for name in ("contract_pdf", "expertise_pdf"):
        assert download(client, outsider, name, path.card.pk).status_code == 403
    assert download(client, outsider, "survey_route", branch.pk, TUESDAY).status_code == 403
    client.logout()
    response = client.get(reverse("connections:contract_pdf", args=[path.card.pk]))
    assert response.status_code == 302 and "login" in response["Location"]


def test_hostile_client_name_prints_as_text(client, api, team, tariff, building, crew,
                                            on_monday, branch):
    hostile = '<script>alert(1)</script> <b>Рога & Копыта</b> <img src="http://x/y.png">'
    path = Path(api, team, tariff, building, crew, name=hostile)
    path.request_survey()
    path.record_survey()
    path.draft()
    card = documents_pdf.load_card(path.card.pk)
    for printed in (documents_pdf.contract(card), documents_pdf.expertise(card)):
        html = printed.html()
        assert "<script>" not in html and "<img" not in html and "<b>Рога" not in html
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    for name in ("contract_pdf", "expertise_pdf"):
        text = text_of(download(client, team["manager"], name, path.card.pk))
        assert "<script>alert(1)</script> <b>Рога & Копыта</b>" in text
    route = text_of(download(client, team["noc_head"], "survey_route", branch.pk, TUESDAY))
    squeezed = "".join(route.split())  # the narrow column wraps the name anywhere
    assert "<script>alert(1)</script><b>Рога&Копыта</b>" in squeezed


def test_without_billing_the_branch_is_the_company(path, team, branch, monkeypatch):
    from ispcrm import pdf

    branch.address, branch.phone = "г. Москва, ул. Офисная, 1", "+7 495 000-00-00"
    branch.save()
    monkeypatch.setattr(pdf, "_company_provider", None)
    path.request_survey()
    path.record_survey()
    company = documents_pdf.expertise(documents_pdf.load_card(path.card.pk)).context["company"]
    assert (company.name, company.address, company.phone) == (
        branch.name, "г. Москва, ул. Офисная, 1", "+7 495 000-00-00")
    path.draft()
    contract = documents_pdf.contract(documents_pdf.load_card(path.card.pk))
    assert "в течение 5 рабочих дней" in contract.html()  # the standard's default
