"""Referrals (C7): the client's code and link, the clients he brought with the sums that came
through them and his bonus for each; and the public join page his link opens."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.test import Client, override_settings
from django.urls import reverse
from django.utils import timezone

from billing.models import BillingSettings
from billing.services.accounts import account_activate, account_open
from billing.services.payments import payment_accept
from cabinet.referral_codes import card_id, referral_code
from connections.models import ClientCard
from tests.factories import (
    BuildingFactory,
    ClientCardFactory,
    StreetFactory,
    TariffFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

REFERRALS = reverse("cabinet:referrals")


@pytest.fixture(autouse=True)
def english(settings):
    from django.utils import translation

    settings.LANGUAGE_CODE = "en"
    with translation.override("en"):
        yield


@pytest.fixture(autouse=True)
def fresh_rate_limit():
    cache.clear()  # the join page counts requests per address in the cache
    yield
    cache.clear()


def rules(**fields) -> BillingSettings:
    settings = BillingSettings.current()
    for name, value in fields.items():
        setattr(settings, name, value)
    settings.save()
    return settings


def bring(referrer_card, manager, name, on=dt.date(2026, 3, 10)):
    """A client brought by ``referrer_card``, signed and activated on ``on``."""
    card = ClientCardFactory(referrer=referrer_card, name=name)
    account = account_open(client=card, tariff=TariffFactory(), actor=manager,
                           connection_fee=0, today=on)
    return account_activate(account=account, actor=manager, on=on)


# --- Codes -----------------------------------------------------------------------------------

def test_a_code_names_its_card_and_a_made_up_one_names_nobody(settings):
    code = referral_code(1234)
    assert card_id(code) == 1234
    assert card_id(code.lower()) == 1234
    assert card_id(f"{code[:3]}-{code[3:]}") == 1234  # dictated with a dash
    assert card_id(referral_code(1235)[:-6] + code[-6:]) is None  # another id, same check
    tampered = code[:-1] + ("0" if code[-1] != "0" else "1")
    assert card_id(tampered) is None
    assert card_id("") is None and card_id("1234") is None and card_id("!" * 12) is None
    # A new secret key keeps the links already shared working (SECRET_KEY_FALLBACKS).
    old = settings.SECRET_KEY
    settings.SECRET_KEY, settings.SECRET_KEY_FALLBACKS = "x" * 50, [old]
    assert card_id(code) == 1234 and referral_code(1234) != code


# --- The referrals page ----------------------------------------------------------------------

def test_fixed_bonus_programme_lists_the_clients_he_brought(cabinet_web, subscriber, manager):
    rules(referral_mode="fixed", referral_fixed_amount=Decimal("500.00"))
    bring(subscriber.client, manager, "Белова Ольга Петровна")
    ClientCardFactory(referrer=subscriber.client, name="Орлов Пётр", stage="commercial")
    html = cabinet_web.get(REFERRALS).content.decode().replace("\xa0", " ")
    assert "you get 500,00 ₽ on your account" in html
    code = referral_code(subscriber.client.pk)
    assert f'id="referral-code">{code}<' in html
    assert f"http://testserver/my/join/{code}/" in html
    # Whom he brought, briefly named, with the state in plain words and his bonus.
    assert "Ольга Б." in html and "Белова" not in html
    assert "Пётр О." in html and "Being connected" in html
    assert "Connected" in html
    assert html.count("500,00 ₽") >= 3  # the rule, her bonus, the total
    assert 'id="bonus-total">500,00 ₽' in html
    assert f'{reverse("cabinet:history")}?kind=bonuses' in html


def test_percent_programme_bonus_by_hand(cabinet_web, subscriber, manager):
    rules(referral_mode="percent", referral_percent=Decimal("10"), referral_months=6)
    referred = bring(subscriber.client, manager, "Белова Ольга", on=dt.date(2026, 1, 10))
    payment_accept(account=referred, amount="1000.00", channel="cash", external_id="r1",
                   paid_at=timezone.make_aware(dt.datetime(2026, 2, 1, 12)))
    payment_accept(account=referred, amount="450.00", channel="cash", external_id="r2",
                   paid_at=timezone.make_aware(dt.datetime(2026, 3, 1, 12)))
    payment_accept(account=referred, amount="2000.00", channel="cash", external_id="r3",
                   paid_at=timezone.make_aware(dt.datetime(2026, 9, 1, 12)))  # month 8
    html = cabinet_web.get(REFERRALS).content.decode().replace("\xa0", " ")
    assert "For the first 6 months of a client you invited, you get 10% of each" in html
    # Paid through her: 1000 + 450 + 2000; his bonus: 10 % of the first two = 145,00.
    row = html[html.index("Ольга Б."):]
    assert row.index("3 450,00 ₽") < row.index("145,00 ₽")
    assert 'id="bonus-total">145,00 ₽' in html
    bonuses = cabinet_web.get(reverse("cabinet:history"), {"kind": "bonuses"}).content.decode()
    assert bonuses.count("ledger-entry") == 2


def test_a_referred_clients_debt_is_not_shown(cabinet_web, subscriber, manager):
    rules(referral_mode="fixed", referral_fixed_amount=Decimal("500.00"))
    referred = bring(subscriber.client, manager, "Белова Ольга")
    type(referred).objects.filter(pk=referred.pk).update(status="blocked")
    html = cabinet_web.get(REFERRALS).content.decode()
    assert "Connected" in html and "locked" not in html


def test_no_programme_says_so_and_hides_the_link(cabinet_web, subscriber, manager):
    rules(referral_mode="off")
    html = cabinet_web.get(REFERRALS).content.decode()
    assert "There is no referral programme now" in html
    assert 'id="referral-link"' not in html and "/my/join/" not in html


def test_only_a_connected_client_gets_a_link(db):
    rules(referral_mode="fixed", referral_fixed_amount=Decimal("500.00"))
    card = ClientCardFactory(stage="contract", cabinet_user=UserFactory(username="early"))
    web = Client()
    web.force_login(card.cabinet_user)
    html = web.get(REFERRALS).content.decode()
    assert "You can invite friends once your internet is connected." in html
    assert 'id="referral-link"' not in html
    assert Client().get(reverse("cabinet:join", args=[referral_code(card.pk)])).status_code \
        == 404


def test_another_clients_referrals_are_not_shown(cabinet_web, subscriber, stranger, manager):
    """The page takes no ids: it shows only whom his own card brought."""
    rules(referral_mode="fixed", referral_fixed_amount=Decimal("500.00"))
    bring(stranger.client, manager, "Чужой Клиент")
    html = cabinet_web.get(REFERRALS).content.decode()
    assert "Клиент Ч." not in html and "Nobody has connected with your link yet." in html
    assert referral_code(stranger.client.pk) not in html


# --- The join page ---------------------------------------------------------------------------

@pytest.fixture
def referrer(subscriber):
    card = subscriber.client
    card.name = "Белова Ольга Петровна"
    card.save()
    return card


@pytest.fixture
def lenina(referrer):
    street = StreetFactory(city=referrer.building.street.city, name="ул. Ленина")
    return BuildingFactory(street=street, house="12к2")


def join_url(card) -> str:
    return reverse("cabinet:join", args=[referral_code(card.pk)])


def lead(**changes) -> dict:
    return {"name": "Сидоров  Иван", "phone": "8 (912) 555-44-33", "street": "Ленина",
            "house": "12 К2", "flat": "17", "consent": "on", "website": "", **changes}


def test_the_join_page_names_the_referrer_by_first_name_only(referrer, lenina):
    response = Client().get(join_url(referrer))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Ольга invites you to connect" in html
    assert "Белова" not in html and "Петровна" not in html
    assert referrer.building.street.name not in html and referrer.phone not in html


def test_a_lead_becomes_a_commercial_card_with_the_referrer(referrer, lenina):
    response = Client().post(join_url(referrer), lead())
    assert response.status_code == 302
    assert response["Location"] == reverse("cabinet:join_thanks",
                                           args=[referral_code(referrer.pk)])
    card = ClientCard.objects.get(phone="+79125554433")
    assert card.stage == "commercial" and card.referrer == referrer
    assert card.name == "Сидоров Иван" and card.building == lenina and card.premises == "17"
    assert card.lead_manager is None and card.branch == referrer.branch
    assert "consent" in card.notes
    thanks = Client().get(response["Location"])
    assert "a manager will call" in thanks.content.decode().lower()
    # Sent again (a double click, a second try): thanked, no second card.
    assert Client().post(join_url(referrer), lead()).status_code == 302
    assert ClientCard.objects.filter(phone="+79125554433").count() == 1


def test_several_matching_streets_ask_which_one(referrer, lenina):
    other = BuildingFactory(street=StreetFactory(city=lenina.street.city,
                                                 name="пр-т Ленина"), house="12к2")
    web = Client()
    response = web.post(join_url(referrer), lead(street="улица Ленина"))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Several streets match: choose yours." in html
    assert "ул. Ленина, 12к2" in html and "пр-т Ленина, 12к2" in html
    assert not ClientCard.objects.filter(phone="+79125554433").exists()
    web.post(join_url(referrer), lead(street="улица Ленина", building=str(other.pk)))
    assert ClientCard.objects.get(phone="+79125554433").building == other


@pytest.mark.parametrize("changes, field, message", [
    ({"phone": "12"}, "phone", "Enter a phone number like +7 912 345-67-89."),
    ({"street": "Несуществующая"}, "street", "We could not find this address in our area."),
    ({"consent": ""}, "consent", "Without your consent we cannot call you back."),
    ({"name": "  "}, "name", "This field is required."),
])
def test_a_bad_lead_is_told_what_to_fix(referrer, lenina, changes, field, message):
    response = Client().post(join_url(referrer), lead(**changes))
    assert response.status_code == 200
    assert message in response.content.decode()
    assert ClientCard.objects.count() == 1  # only the referrer


def test_the_honeypot_creates_nothing(referrer, lenina):
    response = Client().post(join_url(referrer), lead(website="http://spam.example"))
    assert response.status_code == 302  # looks like success to the bot
    assert ClientCard.objects.count() == 1


@override_settings(JOIN_RATE_LIMIT=2)
def test_requests_from_one_address_are_rate_limited(referrer, lenina):
    web = Client(REMOTE_ADDR="203.0.113.7")
    for n in range(2):
        assert web.post(join_url(referrer), lead(phone=f"+7912555440{n}")).status_code == 302
    refused = web.post(join_url(referrer), lead(phone="+79125554409"))
    assert refused.status_code == 429
    assert "Too many requests" in refused.content.decode()
    assert ClientCard.objects.filter(referrer=referrer).count() == 2
    # Another address is not held back.
    other = Client(REMOTE_ADDR="198.51.100.1")
    assert other.post(join_url(referrer), lead(phone="+79125554408")).status_code == 302


def test_the_join_form_needs_its_csrf_token(referrer, lenina):
    web = Client(enforce_csrf_checks=True)
    assert web.post(join_url(referrer), lead()).status_code == 403
    assert ClientCard.objects.count() == 1


@pytest.mark.parametrize("code", ["NOTACODE", "0", "1234567890ABCDEFGHJK", "ZZZZZZZZ"])
def test_an_unknown_code_is_404(referrer, code):
    assert Client().get(reverse("cabinet:join", args=[code])).status_code == 404
    assert Client().post(reverse("cabinet:join", args=[code]), lead()).status_code == 404


def test_the_code_of_a_card_that_left_is_404(referrer):
    ClientCard.objects.filter(pk=referrer.pk).update(stage="terminated")
    assert Client().get(join_url(referrer)).status_code == 404
