"""bench/load.py must not rot: its virtual users sign in and work against a live server for a
few seconds, and its check finds every payment once — and notices a lost or foreign one."""

from decimal import Decimal

import pytest
from django.contrib.staticfiles.handlers import StaticFilesHandler
from django.core.servers.basehttp import WSGIServer
from django.db import connections
from django.test.testcases import LiveServerThread, QuietWSGIRequestHandler

from bench import load
from billing.models import Payment
from ispcrm import roles
from tests.factories import PASSWORD, make_account
from tickets.models import Category
from tickets.services.tickets import ticket_open


@pytest.fixture
def target(transactional_db, make_user):
    make_user(roles.MANAGER, username="manager")
    support = make_user(roles.SUPPORT, username="support")
    accounts = [make_account(balance=Decimal("100.00")) for _ in range(3)]
    category = Category.objects.create(code="internet", name="Internet")
    ticket_open(actor=support, category=category, channel="phone", subject="No link",
                client=accounts[0].client)
    return load.prepare(clients=4, staff_password=PASSWORD)


class OneRequestAtATime(LiveServerThread):
    """pytest-django's live server answers in parallel threads, which on the in-memory SQLite
    of the tests share one connection and trip over each other's transactions. The virtual
    users still run in parallel; the server queues them."""

    def _create_server(self, connections_override=None):
        return WSGIServer((self.host, self.port), QuietWSGIRequestHandler,
                          allow_reuse_address=False)


@pytest.fixture
def server(transactional_db):
    shared = {alias: connections[alias] for alias in connections
              if connections[alias].vendor == "sqlite" and connections[alias].is_in_memory_db()}
    for connection in shared.values():
        connection.inc_thread_sharing()
    thread = OneRequestAtATime("127.0.0.1", StaticFilesHandler, connections_override=shared)
    thread.daemon = True
    thread.start()
    thread.is_ready.wait()
    if thread.error:
        raise thread.error
    yield thread
    thread.terminate()
    for connection in shared.values():
        connection.dec_thread_sharing()


def test_mixed_load_runs_and_every_payment_is_accounted_for(target, server):
    # Bounded by rounds, not by time, so a busy machine only makes it slower; every 2nd
    # payment is sent again so retried deliveries and double clicks are in it too.
    outcome = load.run(target, host=server.host, port=server.port, seconds=120, clients=4,
                       rounds=3, repeat_every=2)

    assert outcome.error_samples == []
    # Each kind of user got through its sign-in to its pages.
    for label in ("client search", "client card", "building page", "cashier payment",
                  "cashier double post", "ticket queue", "ticket", "cabinet home",
                  "cabinet history", "cabinet tariff", "payments API", "payments API repeat"):
        assert outcome.latencies[label], f"no {label!r}:\n{load.report(outcome)}"
    assert len(outcome.accepted) == len(outcome.sent) == 3 + 2  # 3 cash, 2 distinct API ones
    assert load.verify(target, outcome) == []
    assert "all" in load.report(outcome)


def test_the_check_notices_a_lost_and_a_foreign_payment(target):
    from billing.services.payments import payment_accept

    outcome = load.Outcome()
    account = make_account()
    payment_accept(account=account, amount="50", channel="terminal", external_id="sent")
    outcome.payment("terminal", "sent", account.number, Decimal("50"), accepted=True)
    outcome.payment("terminal", "lost", account.number, Decimal("70"), accepted=True)
    payment_accept(account=account, amount="20", channel="cash", external_id="cash-foreign")

    problems = load.verify(target, outcome)

    assert Payment.objects.count() == 2
    assert problems == [
        "payment lost: ('terminal', 'lost') was answered 200/201 but is not in the database",
        "payment the script did not send: ('cash', 'cash-foreign')",
    ]
