"""Outages (M5, M6): linking the tickets of affected clients, telling them, resolving the
tickets together and compensating a long outage exactly once."""

import datetime as dt
from decimal import Decimal

import pytest
from django.contrib.auth.models import Group
from django.core import mail
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from billing.models import LedgerEntry
from billing.money import days_in_month
from ispcrm import roles
from ispcrm.errors import RuleViolation
from tests.factories import BuildingFactory, ClientCardFactory, TariffFactory, make_account
from tickets.models import Category, Ticket
from tickets.services import outages
from tickets.services.tickets import ticket_open, ticket_resolve


@pytest.fixture
def noc(make_user):
    return make_user(roles.NOC_HEAD)


@pytest.fixture
def agent(make_user):
    return make_user(roles.SUPPORT)


@pytest.fixture
def category(db):
    return Category.objects.create(code="internet", name="Internet",
                                   group=Group.objects.get(name=roles.SUPPORT))


@pytest.fixture
def building(db):
    return BuildingFactory()


def _client(building, **fields):
    return ClientCardFactory(building=building, stage="active", **fields)


def _ticket(agent, category, client, subject="No internet"):
    return ticket_open(actor=agent, category=category, channel="phone", subject=subject,
                       client=client)


def test_creating_an_outage_links_open_tickets_of_affected_clients(noc, agent, category,
                                                                    building):
    here = _ticket(agent, category, _client(building))
    same_street = _ticket(agent, category, _client(BuildingFactory(street=building.street)))
    elsewhere = _ticket(agent, category, _client(BuildingFactory()))
    done = _ticket(agent, category, _client(building))
    ticket_resolve(ticket=done, actor=agent)

    by_building = outages.outage_create(actor=noc, description="Switch down",
                                        buildings=[building])
    by_street = outages.outage_create(actor=noc, description="Fibre cut",
                                      streets=[building.street])

    assert list(by_building.tickets.all()) == [here]
    assert list(by_street.tickets.all()) == [same_street]  # `here` keeps its first outage
    elsewhere.refresh_from_db()
    done.refresh_from_db()
    assert elsewhere.outage is None and done.outage is None


def test_a_new_ticket_at_a_down_building_joins_the_outage(noc, agent, category, building):
    outage = outages.outage_create(actor=noc, description="Switch down",
                                   districts=[building.district])
    ticket = _ticket(agent, category, _client(building))

    assert outages.link_to_active_outage(ticket) == outage
    ticket.refresh_from_db()
    assert ticket.outage == outage
    assert list(outages.active_outages_for_building(building)) == [outage]


def test_only_noc_technical_director_and_support_declare_outages(make_user, building):
    with pytest.raises(PermissionDenied):
        outages.outage_create(actor=make_user(roles.MANAGER), description="x",
                              buildings=[building])


def test_an_outage_needs_a_place(noc):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError) as error:
        outages.outage_create(actor=noc, description="Switch down")
    assert "buildings" in error.value.message_dict


def test_update_moves_the_eta_and_is_refused_after_resolution(noc, building):
    outage = outages.outage_create(actor=noc, description="Switch down", buildings=[building])
    eta = timezone.now() + dt.timedelta(hours=3)

    outages.outage_update(outage=outage, actor=noc, text="Replacing the switch", eta=eta)
    outage.refresh_from_db()
    assert outage.eta == eta
    assert [u.text for u in outage.updates.all()] == ["Replacing the switch"]

    outages.outage_resolve(outage=outage, actor=noc, resolution="Replaced")
    with pytest.raises(RuleViolation):
        outages.outage_update(outage=outage, actor=noc, text="again")
    with pytest.raises(RuleViolation):
        outages.outage_resolve(outage=outage, actor=noc, resolution="again")


def test_resolving_with_close_tickets_resolves_the_linked_tickets(noc, agent, category,
                                                                   building):
    ticket = _ticket(agent, category, _client(building))
    outage = outages.outage_create(actor=noc, description="Switch down", buildings=[building])

    outages.outage_resolve(outage=outage, actor=noc, resolution="Switch replaced",
                           close_tickets=True)

    ticket.refresh_from_db()
    assert ticket.status == Ticket.Status.RESOLVED
    assert ticket.comments.filter(body="Switch replaced").exists()


def _outage_of(noc, building, hours):
    started = timezone.now() - dt.timedelta(hours=hours)
    return outages.outage_create(actor=noc, description="Switch down", buildings=[building],
                                 started_at=started)


def test_a_long_outage_credits_each_active_account_once(noc, building):
    account = make_account(client=_client(building))  # 600 a month
    blocked = make_account(client=_client(building), status="blocked")
    outage = _outage_of(noc, building, hours=50)  # three started days

    outages.outage_resolve(outage=outage, actor=noc, resolution="Replaced")

    account.refresh_from_db()
    month_days = days_in_month(timezone.localdate(outage.started_at))
    expected = (Decimal("600") * 3 / month_days).quantize(Decimal("0.01"))
    assert account.balance == expected
    entry = account.entries.get(idem_key=f"outage:{outage.pk}")
    assert entry.kind == LedgerEntry.Kind.CORRECTION
    outage.refresh_from_db()
    assert outage.compensated_at is not None
    blocked.refresh_from_db()
    assert blocked.balance == 0

    assert outages.compensate(outage) == 0  # running it again credits nothing
    outage.compensated_at = None  # even with the stamp lost, the ledger key holds
    outage.save()
    assert outages.compensate(outage) == 0
    account.refresh_from_db()
    assert account.balance == expected


def test_a_short_outage_is_not_compensated(noc, building, settings):
    settings.OUTAGE_COMPENSATION_HOURS = 24
    account = make_account(client=_client(building))
    outage = _outage_of(noc, building, hours=5)

    outages.outage_resolve(outage=outage, actor=noc, resolution="Rebooted")

    account.refresh_from_db()
    outage.refresh_from_db()
    assert account.balance == 0
    assert outage.compensated_at is None


def test_a_tariff_may_promise_compensation_sooner(noc, building, settings):
    """A business tariff's contract promises 4 hours; home clients keep the general 24."""
    settings.OUTAGE_COMPENSATION_HOURS = 24
    business = make_account(client=_client(building),
                            tariff=TariffFactory(monthly_fee=Decimal("3000.00"),
                                                 outage_compensation_hours=4))
    home = make_account(client=_client(building))
    outage = _outage_of(noc, building, hours=5)  # one started day

    outages.outage_resolve(outage=outage, actor=noc, resolution="Rebooted")

    business.refresh_from_db()
    home.refresh_from_db()
    month_days = days_in_month(timezone.localdate(outage.started_at))
    assert business.balance == (Decimal("3000") / month_days).quantize(Decimal("0.01"))
    assert home.balance == 0


def test_notify_affected_uses_the_agreed_channel(noc, building, caplog):
    _client(building, email="anna@example.com")
    _client(building, phone="+79120000001")
    _client(building, email="max@example.com", support_channel="messenger",
            messenger_id="chat-555")
    ClientCardFactory(building=building, stage="terminated", email="gone@example.com")
    outage = outages.outage_create(actor=noc, description="Switch down", buildings=[building])

    with caplog.at_level("INFO", logger="ispcrm.notifications"):
        counts = outages.notify_affected(outage, "No internet until 18:00")

    assert counts == {"sent": 3, "failed": 0, "skipped": 0}
    assert [m.to for m in mail.outbox] == [["anna@example.com"]]
    assert "No internet until 18:00" in mail.outbox[0].body
    assert "+79120000001" in caplog.text
    assert "chat-555" in caplog.text  # the agreed messenger, not his email
