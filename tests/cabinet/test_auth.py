"""Signing in to the personal cabinet (issue 6, item 1): by account number or phone, the
throttle, staff kept out, one-time codes (first password and resets), short sessions, and the
staff's logged, read-only "see as client"."""

import logging
import re
from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.conf import settings as django_settings
from django.contrib.auth import SESSION_KEY
from django.contrib.sessions.models import Session
from django.core import mail
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from cabinet.access import SEE_AS_SESSION_KEY
from cabinet.demo import seed_cabinet
from cabinet.models import OneTimeCode, SeeAsLog
from cabinet.services import auth as service
from connections.models import ClientCard
from tests.factories import PASSWORD, ClientCardFactory, make_account

pytestmark = pytest.mark.django_db

LOGIN = "/my/login/"


@pytest.fixture(autouse=True)
def english(settings):
    """Pages and messages as the code writes them (English msgids)."""
    from django.utils import translation

    settings.LANGUAGE_CODE = "en"
    with translation.override("en"):
        yield


@pytest.fixture
def card(subscriber):
    card = subscriber.client
    ClientCard.objects.filter(pk=card.pk).update(phone="+79123456789", email="")
    card.refresh_from_db()
    return card


def sign_in(web, identifier, password=PASSWORD, **extra):
    return web.post(LOGIN, {"identifier": identifier, "password": password, **extra})


def signed_in_user(web):
    return web.session.get(SESSION_KEY)


def page_text(response) -> str:
    return re.sub(r"\s+", " ", response.content.decode())


# --- Sign-in ---------------------------------------------------------------------------------


def test_sign_in_by_account_number(subscriber):
    web = Client()
    response = sign_in(web, f" {subscriber.number} ")
    assert response.status_code == 302 and response["Location"] == "/my/"
    assert signed_in_user(web) == str(subscriber.client.cabinet_user.pk)
    assert web.get("/my/").status_code == 200


@pytest.mark.parametrize("spelling", ["+7 912 345-67-89", "89123456789", "8 (912) 345 67 89",
                                      "+79123456789", "9123456789"])
def test_sign_in_by_phone_in_any_common_spelling(card, spelling):
    web = Client()
    response = sign_in(web, spelling)
    assert response.status_code == 302, page_text(response)
    assert signed_in_user(web) == str(card.cabinet_user.pk)


def test_a_phone_of_two_cards_asks_for_the_account_number(card, subscriber):
    make_account(client=ClientCardFactory(stage="active", phone=card.phone))
    web = Client()
    response = sign_in(web, "89123456789")
    assert response.status_code == 200 and signed_in_user(web) is None
    assert "enter your account number instead" in page_text(response)
    assert sign_in(web, subscriber.number).status_code == 302


def test_wrong_password_is_refused(subscriber):
    web = Client()
    response = sign_in(web, subscriber.number, "not-the-password")
    assert response.status_code == 200 and signed_in_user(web) is None
    assert "Wrong account number, phone or password" in page_text(response)
    assert "Wrong account number, phone or password" in page_text(sign_in(web, "99999999"))


def test_five_failures_lock_the_login_even_for_the_right_password(card, subscriber):
    web = Client()
    # Different spellings of one phone are one login for the throttle.
    spellings = ["89123456789", "+7 912 345-67-89", "+79123456789", "8 912 3456789"]
    for attempt in range(4):
        response = sign_in(web, spellings[attempt], "wrong")
        assert response.status_code == 200
    assert AccessAttempt.objects.get().username == "+79123456789"
    response = sign_in(web, "89123456789", "wrong")
    assert response.status_code == 429
    assert "Too many wrong attempts" in page_text(response)
    assert "paused for 30 minutes" in page_text(response)
    assert "Get a one-time code" in page_text(response)

    response = sign_in(web, "89123456789", PASSWORD)
    assert response.status_code == 429 and signed_in_user(web) is None
    assert "Too many wrong attempts" in page_text(response)
    # The account number is another login to the throttle; the cabinet's own page, not
    # the staff lockout page, is what the client sees.
    assert "Personal cabinet" in page_text(response)
    assert sign_in(web, subscriber.number).status_code == 302


def test_a_success_clears_the_failures_counted_against_what_he_typed(subscriber):
    web = Client()
    for _ in range(3):
        sign_in(web, subscriber.number, "wrong")
    assert sign_in(web, subscriber.number).status_code == 302
    assert not AccessAttempt.objects.filter(username=subscriber.number).exists()


def test_staff_cannot_sign_in_through_the_cabinet_form(manager):
    web = Client()
    response = sign_in(web, manager.username)
    assert response.status_code == 200 and signed_in_user(web) is None
    assert "staff login" in page_text(response)


def test_next_leads_back_to_a_cabinet_page_only(subscriber):
    assert sign_in(Client(), subscriber.number, next="/my/history/")["Location"] == "/my/history/"
    assert sign_in(Client(), subscriber.number, next="/clients/")["Location"] == "/my/"
    assert sign_in(Client(), subscriber.number,
                   next="https://evil.example/my/")["Location"] == "/my/"


def test_a_cabinet_page_sends_a_stranger_to_the_cabinet_sign_in():
    response = Client().get("/my/")
    assert response.status_code == 302 and response["Location"].startswith("/my/login/?next=")


def test_a_client_signed_in_at_the_staff_form_lands_in_his_cabinet(subscriber):
    web = Client()
    response = web.post("/accounts/login/", {"username": subscriber.number,
                                             "password": PASSWORD}, follow=True)
    assert response.redirect_chain[-1][0] == "/my/"
    assert web.session.get_expiry_age() == django_settings.CABINET_SESSION_AGE


def test_a_cabinet_client_cannot_open_staff_pages(cabinet_web, subscriber, stranger):
    assert cabinet_web.get("/clients/").status_code == 403
    assert cabinet_web.get(f"/clients/{stranger.client.pk}/").status_code == 403
    assert cabinet_web.get(f"/billing/accounts/{stranger.number}/").status_code in (403, 404)
    response = cabinet_web.get("/")
    assert response.status_code == 302 and response["Location"] == "/my/"
    assert cabinet_web.get(LOGIN)["Location"] == "/my/"  # already signed in


def test_sign_out(cabinet_web):
    assert cabinet_web.get("/my/logout/").status_code == 405
    response = cabinet_web.post("/my/logout/", follow=True)
    assert response.redirect_chain[-1][0] == LOGIN
    assert "You have signed out" in page_text(response)
    assert signed_in_user(cabinet_web) is None


# --- Sessions --------------------------------------------------------------------------------


def test_a_cabinet_session_expires_after_inactivity_and_is_renewed_by_use(subscriber,
                                                                           settings):
    settings.CABINET_SESSION_AGE = 600
    web = Client()
    sign_in(web, subscriber.number)
    assert web.session.get_expiry_age() == 600
    assert web.cookies[settings.SESSION_COOKIE_NAME]["max-age"] == 600
    key = web.session.session_key
    soon = timezone.now() + timedelta(seconds=30)
    Session.objects.filter(pk=key).update(expire_date=soon)  # as if 9.5 minutes passed
    assert web.get("/my/").status_code == 200
    renewed = Session.objects.get(pk=key).expire_date
    assert renewed > timezone.now() + timedelta(seconds=590)

    Session.objects.filter(pk=key).update(expire_date=timezone.now() - timedelta(seconds=1))
    response = web.get("/my/")
    assert response.status_code == 302 and response["Location"].startswith(LOGIN)


def test_staff_sessions_keep_the_defaults(manager):
    web = Client()
    web.post("/accounts/login/", {"username": manager.username, "password": PASSWORD})
    assert web.session.get_expire_at_browser_close()
    key = web.session.session_key
    before = Session.objects.get(pk=key).expire_date
    web.get("/clients/")
    assert Session.objects.get(pk=key).expire_date == before  # not rewritten on each request


# --- One-time codes --------------------------------------------------------------------------


def code_from_mail() -> str:
    return re.search(r"\b(\d{6})\b", mail.outbox[-1].body)[1]


def confirm(web, identifier, code, password="Kvartira-2026!", password2=None):
    return web.post("/my/code/confirm/", {
        "identifier": identifier, "code": code, "new_password1": password,
        "new_password2": password2 or password})


@pytest.fixture
def newcomer(db):
    """An active client with an email and no cabinet login yet."""
    card = ClientCardFactory(stage="active", email="orlova@mail.example", name="Орлова Анна",
                             phone="+79161234567")
    return make_account(client=card)


def test_first_password_by_an_emailed_code(newcomer):
    card = newcomer.client
    web = Client()
    response = web.post("/my/code/", {"identifier": newcomer.number}, follow=True)
    assert response.redirect_chain[-1][0] == "/my/code/confirm/"
    card.refresh_from_db()
    user = card.cabinet_user
    assert user.username == f"c{card.pk}" and not user.has_usable_password()
    assert mail.outbox[-1].to == ["orlova@mail.example"]
    code = code_from_mail()
    stored = OneTimeCode.objects.get(card=card)
    assert code not in stored.code_hash and stored.channel == "email" and stored.delivered
    assert stored.expires_at - stored.created_at == timedelta(minutes=10)
    # The identifier he asked for is filled in on the confirm page.
    assert f'value="{newcomer.number}"' in response.content.decode()

    response = confirm(web, newcomer.number, code)
    assert response.status_code == 302 and response["Location"] == "/my/"
    assert signed_in_user(web) == str(user.pk)
    assert web.session.get_expiry_age() == django_settings.CABINET_SESSION_AGE
    assert sign_in(Client(), "8 916 123-45-67", "Kvartira-2026!").status_code == 302
    # A used code does not work twice.
    response = confirm(Client(), newcomer.number, code, "Another-pass-77")
    assert "ask for a new one" in page_text(response)


def test_a_card_without_email_gets_the_code_by_sms(card, caplog):
    with caplog.at_level(logging.INFO, logger="ispcrm.notifications"):
        Client().post("/my/code/", {"identifier": "+7 912 345-67-89"})
    message = [r.getMessage() for r in caplog.records if "+79123456789" in r.getMessage()]
    assert message and re.search(r"\b\d{6}\b", message[0])
    assert not mail.outbox
    assert OneTimeCode.objects.get(card=card).channel == "sms"


def test_password_validators_speak_and_keep_the_code(newcomer):
    web = Client()
    web.post("/my/code/", {"identifier": newcomer.number})
    code = code_from_mail()
    response = confirm(web, newcomer.number, code, "12345678")
    text = page_text(response)
    assert response.status_code == 200 and signed_in_user(web) is None
    assert "This password is too common" in text or "entirely numeric" in text
    assert "differ" in page_text(confirm(web, newcomer.number, code, "Kvartira-2026!", "x"))
    assert confirm(web, newcomer.number, code).status_code == 302  # the code still works


def test_five_wrong_codes_spend_the_code(newcomer):
    web = Client()
    web.post("/my/code/", {"identifier": newcomer.number})
    code = code_from_mail()
    wrong = "000000" if code != "000000" else "111111"
    response = confirm(web, newcomer.number, wrong)
    assert "Wrong code: 4 tries left" in page_text(response)
    for _ in range(4):
        response = confirm(web, newcomer.number, wrong)
    assert "last try" in page_text(response)
    response = confirm(web, newcomer.number, code)
    assert "Too many wrong codes" in page_text(response) and signed_in_user(web) is None
    assert OneTimeCode.objects.get().attempts == 5


def test_a_code_does_not_lift_a_blocked_login(newcomer):
    service.code_request(identifier=newcomer.number)
    newcomer.client.refresh_from_db()
    user = newcomer.client.cabinet_user
    user.is_active = False
    user.save()
    web = Client()
    response = confirm(web, newcomer.number, code_from_mail())
    assert "login is blocked" in page_text(response) and signed_in_user(web) is None
    user.refresh_from_db()
    assert not user.is_active and not user.has_usable_password()


def test_a_code_expires_after_ten_minutes(newcomer):
    service.code_request(identifier=newcomer.number)
    code = code_from_mail()
    later = timezone.now() + timedelta(minutes=10, seconds=1)
    with pytest.raises(ValidationError) as error:
        service.code_confirm(identifier=newcomer.number, code=code, password="Kvartira-2026!",
                             now=later)
    assert error.value.message_dict["code"] == ["The code has expired: ask for a new one."]
    user = service.code_confirm(identifier=newcomer.number, code=code, password="Kvartira-2026!")
    newcomer.client.refresh_from_db()
    assert user == newcomer.client.cabinet_user and user.check_password("Kvartira-2026!")


def test_only_the_newest_code_counts(newcomer):
    service.code_request(identifier=newcomer.number)
    first = code_from_mail()
    service.code_request(identifier=newcomer.number)
    second = code_from_mail()
    if first != second:
        assert "Wrong code" in page_text(confirm(Client(), newcomer.number, first))
    assert confirm(Client(), newcomer.number, second).status_code == 302


def test_three_codes_an_hour_then_it_says_when(newcomer):
    web = Client()
    now = timezone.now()
    for minutes_ago in (50, 20, 5):
        service.code_request(identifier=newcomer.number,
                             now=now - timedelta(minutes=minutes_ago))
    response = web.post("/my/code/", {"identifier": newcomer.number})
    text = page_text(response)
    assert response.status_code == 200 and "At most 3 codes an hour" in text
    expected = timezone.localtime(now - timedelta(minutes=50) + timedelta(hours=1))
    assert f"at {expected:%H:%M}" in text
    assert len(mail.outbox) == 3
    # By the phone it is the same client, so the same limit.
    assert "At most 3 codes an hour" in page_text(
        web.post("/my/code/", {"identifier": "89161234567"}))


def test_the_answers_are_the_same_for_unknown_identifiers(newcomer):
    def answer(identifier):
        web = Client()
        response = web.post("/my/code/", {"identifier": identifier}, follow=True)
        text = page_text(response).replace(identifier, "ID")
        return re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", text)

    assert answer(newcomer.number) == answer("10999999")
    assert answer("+79160000000") == answer("+79161234567")
    # Only the real client got codes (asked by his number, then by his phone).
    assert [m.to for m in mail.outbox] == [["orlova@mail.example"]] * 2
    assert OneTimeCode.objects.filter(card__isnull=True).count() == 2

    # Wrong codes and the hourly limit answer alike too.
    assert (page_text(confirm(Client(), "10999999", "123456")).replace("10999999", "ID")
            .count("Wrong code: 4 tries left") == 1)
    for _ in range(2):
        Client().post("/my/code/", {"identifier": "10999999"})
    assert "At most 3 codes an hour" in page_text(
        Client().post("/my/code/", {"identifier": "10999999"}))


def test_staff_send_a_code_from_the_card(newcomer, manager, make_user):
    web = Client()
    web.force_login(manager)
    card = newcomer.client
    page = web.get(f"/clients/{card.pk}/")
    text = page_text(page)
    assert "Personal cabinet" in text and "no login yet" in text
    response = web.post(f"/my/code/send/{card.pk}/", follow=True)
    assert "A sign-in code went to the client by email to orlova@mail.example" in \
        page_text(response)
    assert OneTimeCode.objects.get().requested_by == manager
    assert confirm(Client(), newcomer.number, code_from_mail()).status_code == 302
    assert f"signs in by account {newcomer.number}" in page_text(web.get(f"/clients/{card.pk}/"))

    nobody = make_user(username="nobody")
    other = Client()
    other.force_login(nobody)
    assert other.post(f"/my/code/send/{card.pk}/").status_code == 403


# --- See as client ---------------------------------------------------------------------------


@pytest.fixture
def staff_web(manager):
    web = Client()
    web.force_login(manager)
    return web


def test_see_as_needs_a_reason_and_logs_it(staff_web, subscriber, manager):
    card = subscriber.client
    url = f"/my/see-as/{card.pk}/"
    response = staff_web.post(url, {"reason": "  "}, follow=True)
    assert response.redirect_chain[-1][0] == f"/clients/{card.pk}/#cabinet"
    assert "the reason is logged" in page_text(response)
    assert not SeeAsLog.objects.exists() and SEE_AS_SESSION_KEY not in staff_web.session

    response = staff_web.post(url, {"reason": "Client asks why he is blocked"})
    assert response["Location"] == "/my/"
    log = SeeAsLog.objects.get()
    assert (log.staff, log.card, log.reason) == (manager, card, "Client asks why he is blocked")
    home = staff_web.get("/my/")
    assert home.status_code == 200 and card.name in page_text(home)
    assert "Client asks why he is blocked" in page_text(staff_web.get(f"/clients/{card.pk}/"))

    response = staff_web.post("/my/see-as/end/")
    assert response["Location"] == f"/clients/{card.pk}/#cabinet"
    assert SEE_AS_SESSION_KEY not in staff_web.session
    assert staff_web.get("/my/").status_code == 302


# Every cabinet action that changes something (URL names of the brief; the ones not written
# yet are skipped).
CHANGES = [("logout", {}), ("tariff_change", {}), ("tariff_cancel", {}), ("pause", {}),
           ("resume", {}), ("topup", {}), ("promised_payment", {}), ("request_new", {}),
           ("request_reply", {"pk": 1}), ("request_confirm", {"pk": 1}),
           ("request_rate", {"pk": 1})]


def test_see_as_is_read_only(staff_web, subscriber):
    staff_web.post(f"/my/see-as/{subscriber.client.pk}/", {"reason": "checking the balance"})
    checked = 0
    for name, kwargs in CHANGES:
        try:
            url = reverse(f"cabinet:{name}", kwargs=kwargs)
        except NoReverseMatch:
            continue
        assert staff_web.post(url, {}).status_code == 403, url
        checked += 1
    assert checked >= 1
    assert staff_web.session.get(SEE_AS_SESSION_KEY) == subscriber.client.pk  # still there


def test_see_as_needs_the_permission(make_user, subscriber, stranger, cabinet_web):
    web = Client()
    web.force_login(make_user(username="no_cards"))  # staff without any role
    assert web.post(f"/my/see-as/{subscriber.client.pk}/", {"reason": "x"}).status_code == 403
    # A client may not, and his answer is the same for his card, another's and none: it
    # tells nothing about other ids.
    for card_id in (subscriber.client.pk, stranger.client.pk, 999999):
        assert cabinet_web.post(f"/my/see-as/{card_id}/", {"reason": "x"}).status_code == 403
        assert cabinet_web.post(f"/my/code/send/{card_id}/").status_code == 403
    assert not SeeAsLog.objects.exists()


def test_another_clients_ids_are_404_to_staff_actions_on_missing_cards(staff_web):
    assert staff_web.post("/my/see-as/999999/", {"reason": "x"}).status_code == 404
    assert staff_web.post("/my/code/send/999999/").status_code == 404


# --- Demo and admin --------------------------------------------------------------------------


def test_demo_clients_get_cabinet_logins(db):
    accounts = [make_account() for _ in range(3)]

    class Seeder:
        lines = []

        def log(self, text):
            self.lines.append(text)

    seeder = Seeder()
    seed_cabinet(seeder)
    seed_cabinet(seeder)  # idempotent
    assert ClientCard.objects.filter(cabinet_user__isnull=False).count() == 3
    assert sign_in(Client(), accounts[0].number, "demo12345").status_code == 302
    assert any(accounts[0].number in line for line in seeder.lines)


def test_admin_lists_are_read_only(admin_client, subscriber, manager):
    service.code_request(identifier=subscriber.number)
    service.see_as_start(staff=manager, card=subscriber.client, reason="test")
    for model in ("onetimecode", "seeaslog"):
        response = admin_client.get(f"/admin/cabinet/{model}/")
        assert response.status_code == 200
        assert admin_client.get(f"/admin/cabinet/{model}/add/").status_code == 403
    assert "code_hash" not in admin_client.get(
        f"/admin/cabinet/onetimecode/{OneTimeCode.objects.get().pk}/change/").content.decode()

