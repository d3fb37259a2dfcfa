"""The dunning job fanned out to Celery workers (issue 8, "Scale"): the daily task finds each
step's accounts and queues them in chunks; a chunk may run twice, in any order, on two
workers at once, and still sends one notice per account; a broker that cannot take the
chunks leaves the work to the task itself. The timeline itself is in test_dunning.py."""

from datetime import date
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from kombu.exceptions import OperationalError

from billing import tasks
from billing.models import Account, BillingSettings, Claim, LedgerEntry, Notice
from billing.services.dunning import dunning_chunk, dunning_queue, dunning_run
from billing.services.ledger import balance_mismatches, lock_account, post
from connections.models import ClientCard
from ispcrm.celery import app
from tests.billing.test_dunning import FRIDAY, debtor, fresh
from tests.concurrency import run_in_parallel
from tests.factories import BranchFactory

BLOCK_DAY = date(2026, 12, 4)  # the term of a notice sent on FRIDAY runs out


@pytest.fixture(autouse=True)
def ledger_always_agrees():
    yield
    assert not balance_mismatches().exists()


def notices(account: Account, kind: str = "debt") -> int:
    return account.notices.filter(kind=kind, status="sent").count()


@pytest.fixture
def chunks(monkeypatch):
    """The chunk tasks the job queues, recorded instead of run: (day, step, ids, options)."""
    sent = []

    def apply_async(args, **options):
        sent.append((*args, options))

    monkeypatch.setattr(tasks.run_dunning_chunk, "apply_async", apply_async)
    return sent


@pytest.mark.django_db
def test_the_job_queues_every_due_account_once_in_chunks(settings, chunks):
    settings.DUNNING_CHUNK_SIZE = 2
    to_block, paid_up = [debtor() for _ in range(3)], debtor()
    dunning_run(today=FRIDAY)  # their notices; the block is due on BLOCK_DAY
    to_notify = [debtor() for _ in range(5)]
    with transaction.atomic():  # a correction covers one debt: the job lifts the notice
        post(account=lock_account(paid_up.pk), kind=LedgerEntry.Kind.CORRECTION,
             amount=Decimal("1500.00"), description="Перерасчёт", idem_key="fix")

    queued = tasks.run_dunning.delay(BLOCK_DAY.isoformat()).get()

    assert queued["due"] == {"settle": 1, "promise": 0, "notice": 5, "block": 3, "claim": 0}
    assert (queued["queued"], queued["inline"], len(chunks)) == (6, 0, 6)
    by_step = {}
    for day, step, ids, options in chunks:
        assert day == "2026-12-04" and 1 <= len(ids) <= 2
        assert options["expires"] == 12 * 3600
        by_step.setdefault(step, []).extend(ids)
    assert sorted(by_step["notice"]) == sorted(a.pk for a in to_notify)  # each once
    assert sorted(by_step["block"]) == sorted(a.pk for a in to_block)
    assert by_step["settle"] == [paid_up.pk]
    assert not any(notices(a) for a in to_notify)  # nothing done before a worker runs it

    # The workers take the chunks in any order.
    results = [tasks.run_dunning_chunk(day, step, ids) for day, step, ids, _ in chunks[::-1]]
    assert sum(r["notices"] for r in results) == 5
    assert sum(r["blocked"] for r in results) == 3
    assert all(notices(a) == 1 for a in to_notify)
    assert all(fresh(a).status == "blocked" for a in to_block)
    assert fresh(paid_up).debt_notice_on is None


@pytest.mark.django_db
def test_a_chunk_run_twice_sends_one_notice_each():
    accounts = [debtor() for _ in range(3)]
    ids = [a.pk for a in accounts]
    first = tasks.run_dunning_chunk("2026-11-27", "notice", ids)
    again = tasks.run_dunning_chunk("2026-11-27", "notice", ids)
    assert (first["notices"], again["notices"]) == (3, 0)
    assert [notices(a) for a in accounts] == [1, 1, 1]
    # the later steps too: one block, one claim
    assert tasks.run_dunning_chunk("2026-12-04", "block", ids)["blocked"] == 3
    assert tasks.run_dunning_chunk("2026-12-04", "block", ids)["blocked"] == 0
    assert tasks.run_dunning_chunk("2026-12-14", "claim", ids)["claims"] == 3
    assert tasks.run_dunning_chunk("2026-12-14", "claim", ids)["claims"] == 0
    assert Claim.objects.count() == 3
    assert [notices(a, "blocked") for a in accounts] == [1, 1, 1]


@pytest.mark.django_db
def test_a_broker_that_refuses_the_chunks_leaves_the_work_to_the_task(settings, monkeypatch,
                                                                      chunks, caplog):
    settings.DUNNING_CHUNK_SIZE = 2
    accounts = [debtor() for _ in range(5)]
    record = tasks.run_dunning_chunk.apply_async  # the fixture's recorder

    def refuse_after_the_first(args, **options):
        if chunks:
            raise OperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")
        record(args, **options)

    monkeypatch.setattr(tasks.run_dunning_chunk, "apply_async", refuse_after_the_first)
    queued = dunning_queue(today=FRIDAY)
    assert (queued.queued, queued.inline, queued.done_here.notices) == (1, 2, 3)
    assert "task broker is unreachable" in caplog.text
    [(_, _, first_ids, _)] = chunks
    assert [notices(a) for a in accounts] == [0 if a.pk in first_ids else 1 for a in accounts]


@pytest.mark.django_db
def test_a_real_broker_down_falls_back_to_inline(monkeypatch):
    """Through Celery's own publishing, to a Redis port nobody listens on."""
    monkeypatch.setitem(app.conf, "task_always_eager", False)
    monkeypatch.setitem(app.conf, "broker_url", "redis://127.0.0.1:1/0")
    monkeypatch.setattr(app, "_pool", None)  # connections to the new URL, dropped after
    monkeypatch.setattr(app.amqp, "_producer_pool", None)
    account = debtor()
    queued = dunning_queue(today=FRIDAY)
    assert (queued.queued, queued.inline, queued.done_here.notices) == (0, 1, 1)
    assert notices(account) == 1


@pytest.mark.django_db
def test_the_command_can_queue(capsys, chunks):
    debtor()
    call_command("run_dunning", "--date", "2026-11-27", "--queue")
    out = capsys.readouterr().out
    assert "notice 1, block 0, claim 0; 1 chunks queued" in out and "0 done here" in out
    assert [step for _, step, _, _ in chunks] == ["notice"]


# --- On PostgreSQL: two workers at once, and the statements per notice ----------------------

@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_workers_running_the_same_chunks_at_once_act_once_per_account():
    accounts = [debtor() for _ in range(6)]
    ids = [a.pk for a in accounts]

    def both(day, step):
        results, errors = run_in_parallel(
            lambda i: dunning_chunk(today=day, step=step, ids=ids[::1 - 2 * (i % 2)]), 2)
        assert errors == [] and all(r.errors == [] for r in results)
        return results

    both(FRIDAY, "notice")
    assert [notices(a) for a in accounts] == [1] * 6
    assert all(fresh(a).block_due_on == BLOCK_DAY for a in accounts)
    both(BLOCK_DAY, "block")
    assert [notices(a, "blocked") for a in accounts] == [1] * 6
    # A claim does not change the account row: only the fresh read under the lock sees the
    # other worker's claim.
    results = both(date(2026, 12, 14), "claim")
    assert sum(r.claims for r in results) == 6
    assert Claim.objects.count() == 6 and Notice.objects.filter(kind="claim").count() == 6


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("step", ["notice", "block"])
def test_the_statements_per_account_do_not_grow_with_the_accounts(step):
    """A debt notice is 4 statements besides BEGIN and COMMIT (the locked account with its
    card, the Notice, the account, its history row), a block too (the locked account is not
    read again by account_block); what a chunk shares (the settings, the tariffs' terms,
    the calendar) is read once."""
    per_account = 4
    day = {"notice": FRIDAY, "block": BLOCK_DAY}[step]
    branch = BranchFactory()

    def run(count: int) -> list[str]:
        accounts = [debtor() for _ in range(count)]
        # One branch (the factory makes one per card): one calendar for all.
        ClientCard.objects.filter(account__in=accounts).update(branch=branch)
        if step == "block":
            dunning_chunk(today=FRIDAY, step="notice", ids=[a.pk for a in accounts])
        with CaptureQueriesContext(connection) as queries:
            result = dunning_chunk(today=day, step=step, ids=[a.pk for a in accounts])
        assert result.notices + result.blocked == count
        return [q["sql"] for q in queries if q["sql"].split()[0] not in TRANSACTION_CONTROL]

    BillingSettings.current()  # made on first use: not part of the run
    few, more = run(2), run(7)
    assert len(more) - len(few) == 5 * per_account
    locks = [sql for sql in more if "FOR UPDATE" in sql]
    assert len(locks) == 7 * (per_account - 3)
    assert all('FOR UPDATE OF "billing_account"' in sql and "connections_clientcard" in sql
               for sql in locks)


TRANSACTION_CONTROL = {"BEGIN", "COMMIT", "SAVEPOINT", "RELEASE"}
