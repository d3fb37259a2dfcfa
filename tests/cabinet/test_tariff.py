"""Tariff, pause and resume in the cabinet (issue 6, items 4 and 5): the tariffs offered at
his address and connection type, the cost of a change shown before it and then posted by
billing to the kopeck, the scheduled change and its cancelling, the tariff history, the pause
sums before confirming, resume; another client's tariff id is a 404, and a staff "see as
client" view cannot change anything."""

from datetime import date
from decimal import Decimal

import pytest
from django.utils import timezone

from billing.models import Account, Pause, Promotion, Subscription
from billing.services.charges import charge_run
from billing.services.pauses import pause_start, pauses_due
from cabinet import selectors
from cabinet.access import SEE_AS_SESSION_KEY
from tests.factories import TariffFactory, make_account

pytestmark = pytest.mark.django_db

TODAY = date(2026, 11, 23)  # November: 30 days; December: 31


def D(value) -> Decimal:
    return Decimal(value)


@pytest.fixture(autouse=True)
def english_on_the_day(settings, monkeypatch):
    settings.LANGUAGE_CODE = "en"
    monkeypatch.setattr(timezone, "localdate", lambda *args, **kwargs: TODAY)


@pytest.fixture
def tariffs():
    """The catalogue: two offered to a person on LAN, four that are not."""
    return {
        "fast": TariffFactory(name="Fast 500", monthly_fee=D("900.00"), speed_mbps=500,
                              pause_fee=D("90.00")),
        "lan_only": TariffFactory(name="LAN 200", monthly_fee=D("700.00"),
                                  connection_types=["lan"]),
        "radio": TariffFactory(name="Radio 50", monthly_fee=D("500.00"),
                               connection_types=["radio"]),
        "company": TariffFactory(name="Office 1000", monthly_fee=D("5000.00"),
                                 segment="company"),
        "closed": TariffFactory(name="Old 10", monthly_fee=D("300.00"),
                                valid_to=date(2026, 6, 1)),
        "future": TariffFactory(name="Next year", monthly_fee=D("800.00"),
                                valid_from=date(2027, 1, 1)),
    }


def bill_november():
    charge_run(day=date(2026, 11, 1))


# --- The figures (cabinet.selectors) --------------------------------------------------------

def test_offered_tariffs_are_those_on_sale_for_his_connection_and_kind(subscriber, tariffs):
    offered = selectors.tariffs_offered(subscriber.client, today=TODAY)
    names = [t.name for t in offered]
    assert "Fast 500" in names and "LAN 200" in names
    assert not {"Radio 50", "Office 1000", "Old 10", "Next year"} & set(names)


def test_change_from_tomorrow_is_quoted_and_posted_to_the_kopeck(subscriber, tariffs, manager):
    from billing.services.accounts import tariff_change

    bill_november()  # 900 − 600 = 300
    subscriber.refresh_from_db()

    quote = selectors.tariff_change_quote(subscriber, tariffs["fast"], from_next_period=False,
                                          today=TODAY)

    # 24–30 November of 30 days: old 600 − 600·23/30 = 140 back, new 900 − 690 = 210 charged.
    assert (quote.start, quote.old_part, quote.new_part) == (date(2026, 11, 24), D("140.00"),
                                                             D("210.00"))
    assert (quote.difference, quote.to_pay, quote.monthly) == (D("70.00"), D("70.00"),
                                                               D("900.00"))
    tariff_change(account=subscriber, tariff=tariffs["fast"], actor=manager, today=TODAY)
    subscriber.refresh_from_db()
    assert subscriber.balance == D("300.00") - quote.difference == D("230.00")


def test_change_from_the_first_posts_nothing_now(subscriber, tariffs):
    bill_november()
    quote = selectors.tariff_change_quote(subscriber, tariffs["fast"], from_next_period=True,
                                          today=TODAY)
    assert (quote.start, quote.difference, quote.recalculated, quote.monthly) == (
        date(2026, 12, 1), D("0"), False, D("900.00"))


def test_change_quote_applies_a_promotion_for_existing_clients(subscriber, tariffs):
    bill_november()
    Promotion.objects.create(name="Upgrade", tariff=tariffs["fast"], discount_percent=20,
                             months=1, new_clients_only=False, valid_from=date(2026, 11, 1))

    now = selectors.tariff_change_quote(subscriber, tariffs["fast"], from_next_period=False,
                                        today=TODAY)
    later = selectors.tariff_change_quote(subscriber, tariffs["fast"], from_next_period=True,
                                          today=TODAY)

    # From tomorrow: November at 720 (−20 %), 720 − 720·23/30 = 168; December full price.
    assert (now.new_part, now.difference, now.monthly) == (D("168.00"), D("28.00"),
                                                           D("900.00"))
    assert later.monthly == D("720.00")  # the one discounted month is December


def test_pause_quote_is_what_billing_posts_over_two_months(subscriber, manager):
    """A pause 23.11–10.12 (service back on 11.12) at 600 a month and a 90 ₽ pause fee."""
    tariff = subscriber.subscriptions.get().tariff
    tariff.pause_fee = D("90.00")
    tariff.save()
    bill_november()  # 300 left
    subscriber.refresh_from_db()

    quote = selectors.pause_quote(subscriber, start=TODAY, end=date(2026, 12, 11), today=TODAY)

    # Fee not paid: 23–30 Nov = 600 − 440 = 160; 1–10 Dec = 600·10/31 = 193.55 → 353.55.
    # Pause fee: 23–30 Nov = 90 − 66 = 24; 1–10 Dec = 90·10/31 = 29.03 → 53.03.
    assert (quote.days, quote.fee_returned, quote.pause_fee) == (18, D("353.55"), D("53.03"))
    assert (quote.total, quote.saved) == (D("-300.52"), D("300.52"))

    # The real thing: pause today, the December run, the resume on the 11th.
    pause_start(account=subscriber, start=TODAY, end=date(2026, 12, 11), actor=manager,
                today=TODAY)
    charge_run(day=date(2026, 12, 1))
    pauses_due(date(2026, 12, 11))
    subscriber.refresh_from_db()
    # Without the pause December would have cost 600: 300 − 600 = −300.
    assert subscriber.status == Account.Status.ACTIVE
    assert subscriber.balance == D("-300.00") + quote.saved == D("0.52")


# --- The tariff page ------------------------------------------------------------------------

def test_tariff_page_lists_only_what_is_offered_and_the_history(subscriber, tariffs,
                                                               cabinet_web):
    html = cabinet_web.get("/my/tariff/").content.decode()
    current = subscriber.subscriptions.get().tariff.name

    assert f'<p class="fs-5 fw-semibold mb-1" id="current-tariff">{current}</p>' in html
    assert "Fast 500" in html and "LAN 200" in html
    for name in ("Radio 50", "Office 1000", "Old 10", "Next year"):
        assert name not in html
    assert f'href="/my/tariff/change/?tariff={tariffs["fast"].pk}"' in html
    assert 'id="tariff-history"' in html and "01/01/2026" in html


def test_change_page_shows_both_costs_before_confirming(subscriber, tariffs, cabinet_web):
    bill_november()
    html = cabinet_web.get(f"/my/tariff/change/?tariff={tariffs['fast'].pk}").content.decode()

    assert "From tomorrow, 11/24/2026" in html
    assert "140,00\u00a0₽ of the current tariff comes back, 210,00\u00a0₽ of the new one" in html
    assert "Charged now: 70,00\u00a0₽" in html and "balance after: 230,00\u00a0₽" in html
    assert "From the 1st of next month, 12/01/2026" in html
    assert "from 12/01/2026 the fee is 900,00\u00a0₽ a month" in html


def test_change_now_recalculates_and_the_balance_changes(subscriber, tariffs, cabinet_web):
    bill_november()
    response = cabinet_web.post("/my/tariff/change/", {"tariff": tariffs["fast"].pk,
                                                       "when": "tomorrow"}, follow=True)
    subscriber.refresh_from_db()
    assert subscriber.balance == D("230.00")
    html = response.content.decode()
    assert "Tariff «Fast 500» from 11/24/2026." in html
    assert subscriber.subscriptions.get(start=date(2026, 11, 24)).tariff == tariffs["fast"]

    # Changing his mind before tomorrow: the recalculation is reversed, the balance is back.
    response = cabinet_web.post("/my/tariff/cancel/", follow=True)
    assert "The scheduled tariff change is cancelled" in response.content.decode()
    subscriber.refresh_from_db()
    assert subscriber.balance == D("300.00")
    assert not subscriber.subscriptions.filter(start=date(2026, 11, 24)).exists()


def test_change_from_next_month_is_scheduled_shown_and_cancelled(subscriber, tariffs,
                                                                 cabinet_web):
    cabinet_web.post("/my/tariff/change/", {"tariff": tariffs["lan_only"].pk,
                                           "when": "next_month"})
    html = cabinet_web.get("/my/tariff/").content.decode()
    assert "From 12/01/2026: tariff «LAN 200»." in html
    assert 'action="/my/tariff/cancel/"' in html
    assert "From 12/01/2026: tariff «LAN 200»." in cabinet_web.get("/my/").content.decode()

    response = cabinet_web.post("/my/tariff/cancel/", follow=True)

    assert "The scheduled tariff change is cancelled" in response.content.decode()
    assert not Subscription.objects.filter(account=subscriber, start__gt=TODAY).exists()
    assert subscriber.subscriptions.get().end is None


def test_a_tariff_not_offered_to_him_is_a_404_and_never_applied(subscriber, tariffs,
                                                                cabinet_web):
    for tariff in (tariffs["radio"], tariffs["company"], tariffs["closed"]):
        assert cabinet_web.get(f"/my/tariff/change/?tariff={tariff.pk}").status_code == 404
        response = cabinet_web.post("/my/tariff/change/", {"tariff": tariff.pk,
                                                           "when": "tomorrow"})
        assert response.status_code == 404
    for bad in ("999999", "abc", ""):
        assert cabinet_web.post("/my/tariff/change/", {"tariff": bad,
                                                       "when": "tomorrow"}).status_code == 404
    assert subscriber.subscriptions.count() == 1


def test_pause_shows_the_sums_then_starts_and_resumes(subscriber, cabinet_web):
    tariff = subscriber.subscriptions.get().tariff
    tariff.pause_fee = D("90.00")
    tariff.save()
    bill_november()

    html = cabinet_web.get("/my/pause/?start=2026-11-23&end=2026-11-30").content.decode()
    # 23–29 Nov: fee 600·29/30 − 600·22/30 = 580 − 440 = 140; pause fee 87 − 66 = 21.
    assert "Pause of 7 days: 11/23/2026–11/29/2026" in html
    assert '<dd class="col-4 text-end mb-1" id="quote-returned">140,00\u00a0₽</dd>' in html
    assert '<dd class="col-4 text-end mb-1" id="quote-fee">21,00\u00a0₽</dd>' in html
    assert "You pay less" in html and "119,00\u00a0₽" in html
    assert Pause.objects.count() == 0  # nothing happens before the POST

    response = cabinet_web.post("/my/pause/", {"start": "2026-11-23", "end": "2026-11-30"},
                                follow=True)
    subscriber.refresh_from_db()
    assert subscriber.status == Account.Status.PAUSED
    assert subscriber.balance == D("300.00") + D("160.00") - D("21.00")  # refund to 30.11
    html = response.content.decode()
    assert "The internet is paused since 11/23/2026 and comes back on 11/30/2026." in html
    assert 'action="/my/pause/resume/"' in html
    assert "status-paused" in cabinet_web.get("/my/").content.decode()

    response = cabinet_web.post("/my/pause/resume/", follow=True)
    subscriber.refresh_from_db()
    assert subscriber.status == Account.Status.ACTIVE
    assert "Service resumed from today" in response.content.decode()
    # Resumed the same day: the pause fee comes back, the month is charged again from today.
    assert subscriber.balance == D("300.00")


def test_pause_dates_out_of_range_are_refused_with_the_reason(subscriber, cabinet_web):
    response = cabinet_web.get("/my/pause/?start=2026-11-20&end=2026-11-25")
    assert response.status_code == 400
    assert "A pause cannot start in the past." in response.content.decode()
    response = cabinet_web.post("/my/pause/", {"start": "2026-11-23", "end": "2027-03-01"})
    assert response.status_code == 400
    assert "A pause lasts from 1 to 90 days." in response.content.decode()
    assert Pause.objects.count() == 0


def test_a_blocked_account_cannot_pause(subscriber, cabinet_web):
    Account.objects.filter(pk=subscriber.pk).update(status="blocked")
    html = cabinet_web.get("/my/pause/").content.decode()
    assert "A pause is possible while the internet is on." in html
    cabinet_web.post("/my/pause/", {"start": "2026-11-23", "end": "2026-11-30"})
    assert Pause.objects.count() == 0


def test_see_as_client_shows_the_pages_but_cannot_post(subscriber, tariffs, client,
                                                        make_user):
    staff = make_user("manager", username="looker")
    client.force_login(staff)
    session = client.session
    session[SEE_AS_SESSION_KEY] = subscriber.client.pk
    session.save()

    assert client.get("/my/").status_code == 200
    html = client.get(f"/my/tariff/change/?tariff={tariffs['fast'].pk}").content.decode()
    assert "disabled>Change the tariff" in html
    for url, data in [("/my/tariff/change/", {"tariff": tariffs["fast"].pk, "when": "tomorrow"}),
                      ("/my/tariff/cancel/", {}),
                      ("/my/pause/", {"start": "2026-11-23", "end": "2026-11-30"}),
                      ("/my/pause/resume/", {})]:
        assert client.post(url, data).status_code == 403
    assert subscriber.subscriptions.count() == 1 and not Pause.objects.exists()


def test_another_clients_pause_is_not_his_to_resume(subscriber, stranger, cabinet_web,
                                                    manager):
    pause_start(account=stranger, start=TODAY, end=date(2026, 11, 30), actor=manager,
                today=TODAY)
    cabinet_web.post("/my/pause/resume/")
    stranger.refresh_from_db()
    assert stranger.status == Account.Status.PAUSED  # his own account only, which is active
    assert "paused since" not in cabinet_web.get("/my/pause/").content.decode()


def test_tariff_pages_before_the_contract(client):
    from tests.factories import ClientCardFactory, UserFactory

    card = ClientCardFactory(stage="commercial")
    card.cabinet_user = UserFactory(username="applicant", roles=())
    card.save(update_fields=["cabinet_user"])
    client.force_login(card.cabinet_user)
    assert client.get("/my/tariff/").status_code == 200
    assert client.get("/my/pause/").status_code == 404
    assert client.post("/my/tariff/change/", {"tariff": 1, "when": "tomorrow"}).status_code == 404


def test_make_account_for_another_connection_type_sees_other_tariffs(tariffs):
    from tests.factories import ClientCardFactory

    radio = make_account(client=ClientCardFactory(stage="active", connection_type="radio"))
    names = [t.name for t in selectors.tariffs_offered(radio.client, today=TODAY)]
    assert "Radio 50" in names and "LAN 200" not in names
