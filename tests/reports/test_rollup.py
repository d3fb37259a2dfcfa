"""The summary's rollup of closed months (reports.rollups) on the hand-built company of
tests/reports/summary_data.py: the stored figures are the live computation's, to the kopeck,
for every period, grouping and branch; a late payment or a cancellation in a closed month
is in the figures as soon as it commits; a month the rollup lacks is computed live; the
stored totals are checked against the ledger."""

import datetime as dt
from decimal import Decimal
from unittest import mock

import pytest
from django.core.cache import cache
from django.core.management import CommandError, call_command
from django.db import connection
from django.db.models import F
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from billing.models import Subscription
from billing.services.payments import payment_cancel
from reports.models import RollupAccount, RollupMonth, RollupRow
from reports.rollups import (
    SETTLE,
    rollup_build,
    rollups_check,
    rollups_refresh,
    rollups_regroup,
)
from reports.selectors.summary import ROLLUPS, rollup, summary_facts, total
from tests.factories import ClientCardFactory
from tests.reports.conftest import NOW
from tests.reports.summary_data import Company, activate, at, close, open_account, pay

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("november_2026")]
D = Decimal
AUG, SEP, OCT = dt.date(2026, 8, 1), dt.date(2026, 9, 1), dt.date(2026, 10, 1)
NOV = dt.date(2026, 11, 1)  # the current month (the company's data assume November 2026)
DEC = dt.date(2026, 12, 1)
OCTOBER = (OCT, dt.date(2026, 10, 31))
PERIODS = [
    (AUG, dt.date(2026, 10, 31)),                     # closed months only
    OCTOBER,
    (dt.date(2026, 9, 1), dt.date(2026, 12, 31)),     # closed, the open month, the future
    (dt.date(2026, 11, 1), dt.date(2026, 11, 30)),    # the open month alone
    (dt.date(2026, 9, 15), dt.date(2026, 11, 10)),    # parts of months at both ends
    (dt.date(2026, 1, 1), dt.date(2026, 12, 31)),     # the year, empty months included
]


@pytest.fixture(autouse=True)
def _no_cached_months():
    cache.clear()


@pytest.fixture
def company():
    return Company()


@pytest.fixture
def rolled_up(company):
    """The company with its closed months (August…October 2026) and November up to last
    midnight stored, as beat does."""
    result = rollups_refresh()
    assert result.built == [AUG, SEP, OCT, NOV]
    cache.clear()
    return company


def live(start, end, branch=None):
    """Every figure computed from the ledger now (no cache, no rollup)."""
    return summary_facts(start, end, branch, opening="prefix")


def all_groupings(facts):
    return {by: rollup(facts, by) for by in ROLLUPS}


def test_the_rollup_gives_the_live_figures_for_every_period_grouping_and_branch(
        rolled_up):
    for branch in (None, rolled_up.moscow_branch, rolled_up.tyumen_branch):
        for start, end in PERIODS:
            cache.clear()
            stored = summary_facts(start, end, branch)
            assert stored.rows == live(start, end, branch).rows, (start, end, branch)
            assert all_groupings(stored) == all_groupings(live(start, end, branch))


def test_closed_months_are_read_from_the_rollup_in_one_query(rolled_up,
                                                             django_assert_num_queries):
    """October as test_summary works it out by hand, from the stored rows alone."""
    with django_assert_num_queries(1):
        facts = summary_facts(*OCTOBER)
    october = total(facts)
    assert (october["new_clients"], october["connected"]) == (1, 1)
    assert (october["collected_total"], october["collected_debt"],
            october["collected_current"], october["collected_prepaid"]) == (
        D("8500.00"), D("320.00"), D("5180.00"), D("3000.00"))
    assert (october["charged"], october["arpu"]) == (D("6587.10"), D("529.03"))
    # The Tyumen branch had nothing in October; Moscow everything.
    cache.clear()
    assert total(summary_facts(*OCTOBER, rolled_up.tyumen_branch))["collected_total"] == 0
    assert total(summary_facts(*OCTOBER, rolled_up.moscow_branch))["charged"] == D("6587.10")


def test_the_stored_months_hold_each_accounts_split_and_closing_balance(rolled_up):
    """acc1 in October: paid 500 owing 920 (320 of September, 600 of October) → debt 320,
    current 180; balance −920 + 500 = −420 at the end of October."""
    row = RollupAccount.objects.get(month=OCT, account=rolled_up.acc1)
    assert (row.collected, row.debt, row.current, row.charged, row.closing) == (
        50000, 32000, 18000, 60000, -42000)


def test_a_late_payment_in_a_closed_month_is_in_the_figures_once_committed(
        rolled_up, django_capture_on_commit_callbacks):
    """A bank statement entered today with acc1's 100 paid on 20 September: September's
    money grows, and October's split moves too — acc1 owed 820 instead of 920 before its
    500 of 5 October, so 220 paid September's debt and 280 October (not 320 and 180)."""
    with django_capture_on_commit_callbacks(execute=True):
        late = pay(rolled_up.acc1, 100, at(9, 20))
    # Marked on commit and built again by the task it queued (eager in tests).
    assert not RollupMonth.objects.filter(stale=True).exists()
    september = total(summary_facts(SEP, dt.date(2026, 9, 30)))
    assert september["collected_total"] == D("1100.00")
    october = total(summary_facts(*OCTOBER))
    assert (october["collected_debt"], october["collected_current"]) == (D("220.00"),
                                                                          D("5280.00"))
    for start, end in PERIODS:
        cache.clear()
        assert summary_facts(start, end).rows == live(start, end).rows

    # The accountant cancels it: September is as before; October keeps 220 / 280 — the
    # cancelled 100 still stood on the balance until the reversing entry today.
    october_built = RollupMonth.objects.get(month=OCT).built_at
    with django_capture_on_commit_callbacks(execute=True):
        payment_cancel(payment=late, reason="wrong account", actor=None)
    assert RollupMonth.objects.get(month=OCT).built_at == october_built  # untouched
    assert total(summary_facts(SEP, dt.date(2026, 9, 30)))["collected_total"] == D("1000.00")
    assert total(summary_facts(*OCTOBER))["collected_debt"] == D("220.00")
    for start, end in PERIODS:
        cache.clear()
        assert summary_facts(start, end).rows == live(start, end).rows
    assert rollups_check() == []


def test_the_month_so_far_is_stored_up_to_settle_ago_and_the_rest_added_live(
        rolled_up, django_capture_on_commit_callbacks):
    """November (the current month) is stored up to SETTLE ago; the dashboard adds what
    came after to it, and a payment dated earlier entered now is in the figures once
    committed."""
    month = (NOV, dt.date(2026, 11, 30))
    stored = RollupMonth.objects.get(month=NOV)
    assert not stored.complete and stored.until == NOW - SETTLE
    assert total(summary_facts(*month))["collected_total"] == D("8800.00")  # test_summary
    with django_capture_on_commit_callbacks(execute=True):
        pay(rolled_up.acc5, 40, timezone.now() - dt.timedelta(minutes=1))  # after the part
        pay(rolled_up.acc2, 60, at(11, 16))  # a bank statement's, dated 16 November
    november = total(summary_facts(*month))
    assert november["collected_total"] == D("8900.00")
    assert summary_facts(*month).rows == live(*month).rows
    # Stored again with the 60 in it (the 40 is newer than the part: read live).
    assert RollupAccount.objects.get(month=NOV, account=rolled_up.acc2).collected == 506000
    assert RollupAccount.objects.get(month=NOV, account=rolled_up.acc5).collected == 100000


def test_a_payment_stamped_before_the_part_ends_but_committed_after_it_marks_it_stale(
        rolled_up, django_capture_on_commit_callbacks):
    """A cash payment taken 10 minutes ago and entered now falls inside the stored part,
    which was built without it: the part is built again; one stamped 2 minutes ago is
    simply read live."""
    with django_capture_on_commit_callbacks(execute=True):
        pay(rolled_up.acc1, 5, timezone.now() - dt.timedelta(minutes=2))
    assert not RollupMonth.objects.get(month=NOV).stale
    assert RollupAccount.objects.get(month=NOV, account=rolled_up.acc1).collected == 180000
    with django_capture_on_commit_callbacks(execute=True):
        pay(rolled_up.acc1, 7, timezone.now() - dt.timedelta(minutes=10))
    assert RollupAccount.objects.get(month=NOV, account=rolled_up.acc1).collected == 180700
    month = (NOV, dt.date(2026, 11, 30))
    assert total(summary_facts(*month))["collected_total"] == D("8812.00")
    assert summary_facts(*month).rows == live(*month).rows


def test_the_open_month_reads_only_what_happened_since_the_stored_part(
        rolled_up, django_assert_num_queries):
    """Today's new client, an activation and a closing since the part was stored: counted
    by the part's statement, which reads the accounts touched since (no ranking of every
    subscription), with the same figures as computed in full."""
    company = rolled_up
    now = timezone.now()
    card = company.acc5.client
    newcomer = open_account(ClientCardFactory(building=card.building, branch=card.branch,
                                              connection_type="lan"), company.home, now,
                            fee=1000)
    activate(newcomer, now)
    close(company.acc1, now, terminated=True)
    for start, end in PERIODS:
        for branch in (None, company.moscow_branch, company.tyumen_branch):
            cache.clear()
            assert summary_facts(start, end, branch).rows == live(start, end, branch).rows
    cache.clear()
    with CaptureQueriesContext(connection) as captured:
        november = total(summary_facts(NOV, dt.date(2026, 11, 30)))
    statements = [q["sql"] for q in captured.captured_queries if "UNION ALL" in q["sql"]]
    assert len(statements) == 1 and "part" in statements[0]
    assert "ROW_NUMBER" not in statements[0]
    assert (november["new_clients"], november["connected"], november["lost_clients"],
            november["disconnected"]) == (3, 2, 3, 2)


def test_a_part_rebuilt_while_the_dashboard_reads_it_is_computed_in_full(
        rolled_up, monkeypatch):
    """The part's statement checks the part it was given is still the one stored (one
    snapshot); if not, the period is computed in full."""
    from reports.selectors import summary

    stored = summary._stored_part
    monkeypatch.setattr(summary, "_stored_part",
                        lambda month, until: (stored(month, until) or NOW)
                        - dt.timedelta(minutes=1))
    month = (NOV, dt.date(2026, 11, 30))
    assert summary_facts(*month).rows == live(*month).rows
    assert total(summary_facts(*month))["collected_total"] == D("8800.00")


def test_a_long_charge_run_marks_the_part_stale_and_any_run_has_it_built_again(
        rolled_up, django_capture_on_commit_callbacks, time_machine):
    from billing import events

    built = RollupMonth.objects.get(month=NOV).until
    time_machine.shift(SETTLE + dt.timedelta(minutes=1))  # as the queued task runs then
    with django_capture_on_commit_callbacks(execute=True):
        events.charges_posted.send(sender=None, at=timezone.now() - dt.timedelta(minutes=1))
    # Queued (eager in tests) and built again, not marked: the run was short.
    assert RollupMonth.objects.get(month=NOV).until > built
    with django_capture_on_commit_callbacks(execute=True), \
            mock.patch("reports.tasks.refresh_month_so_far") as task:
        events.charges_posted.send(sender=None, at=timezone.now() - SETTLE * 2)
    assert RollupMonth.objects.get(month=NOV).stale
    assert task.apply_async.call_args.kwargs["countdown"] > SETTLE.total_seconds()
    assert summary_facts(NOV, dt.date(2026, 11, 30)).rows == live(
        NOV, dt.date(2026, 11, 30)).rows


def test_on_a_months_first_day_the_part_holds_no_days_and_counts_start_there(
        company, time_machine):
    """1 December, 03:00: November is closed, December's part runs from midnight to 02:55
    (acc2's 100 at 01:00) and counts no whole day yet; acc5 closed this morning stops
    counting in December at once (closed on the 1st)."""
    time_machine.move_to(dt.datetime(2026, 12, 1, 3, 0, tzinfo=NOW.tzinfo), tick=True)
    assert rollups_refresh().built == [AUG, SEP, OCT, NOV, DEC]
    part = RollupMonth.objects.get(month=DEC)
    assert not part.complete and part.until == at(12, 1, 2, 55)
    assert RollupAccount.objects.get(month=DEC, account=company.acc2).collected == 10000
    close(company.acc5, timezone.now(), terminated=True)
    cache.clear()
    for start, end in [(DEC, dt.date(2026, 12, 31)), (NOV, dt.date(2026, 12, 31)),
                       (dt.date(2026, 1, 1), dt.date(2026, 12, 31))]:
        for branch in (None, company.tyumen_branch):
            assert summary_facts(start, end, branch).rows == live(start, end, branch).rows
    december = total(summary_facts(DEC, dt.date(2026, 12, 31)))
    assert december["collected_total"] == D("100.00") and december["lost_clients"] == 1


def test_the_stored_month_so_far_is_what_the_dashboard_shows_and_the_check_proves(rolled_up):
    """A (deliberately) wrong stored figure shows in November's figures — they come from
    the store — and the check names it, whether in the grain rows or in the accounts'."""
    row = RollupRow.objects.filter(month=NOV, collected_total__gt=0).first()
    RollupRow.objects.filter(pk=row.pk).update(collected_total=F("collected_total") + 100)
    assert total(summary_facts(NOV, dt.date(2026, 11, 30)))["collected_total"] == D("8801.00")
    assert rollups_check() == ["2026-11 so far: collected: grain rows vs accounts: "
                               "880100 ≠ 880000"]
    RollupAccount.objects.filter(month=NOV, account=rolled_up.acc2).update(
        collected=F("collected") + 100)
    assert rollups_check() == ["2026-11 so far: collected vs completed payments: "
                               "880100 ≠ 880000"]


def test_a_missing_or_stale_month_is_computed_live(rolled_up, django_assert_num_queries):
    RollupMonth.objects.filter(month=SEP).update(stale=True)
    RollupMonth.objects.filter(month=AUG).delete()
    RollupRow.objects.filter(month=OCT).update(charged=0)  # not read while stale: below
    RollupMonth.objects.filter(month=OCT).update(stale=True)
    facts = summary_facts(AUG, dt.date(2026, 10, 31))
    assert facts.rows == live(AUG, dt.date(2026, 10, 31)).rows
    assert total(facts)["charged"] == total(live(*OCTOBER))["charged"] + total(
        live(AUG, dt.date(2026, 9, 30)))["charged"]


def test_a_payment_committed_during_a_build_leaves_the_month_stale(rolled_up, monkeypatch):
    """The build read the ledger before the payment; its month must not be marked fresh
    with the old figures (the version moved), so readers compute it live until the next
    run builds it again."""
    from reports import rollups

    regroup = rollups._regroup

    def regroup_then_a_payment_arrives(months):
        regroup(months)
        rollups.rollups_mark_stale(first=months[0], last=months[-1])

    monkeypatch.setattr(rollups, "_regroup", regroup_then_a_payment_arrives)
    assert rollup_build(month=OCT, force=True)
    assert RollupMonth.objects.get(month=OCT).stale
    monkeypatch.setattr(rollups, "_regroup", regroup)
    assert rollups_refresh(missing=False).built == [OCT]
    assert not RollupMonth.objects.get(month=OCT).stale


def test_building_twice_changes_nothing(rolled_up):
    def stored():
        return (sorted(RollupRow.objects.values_list(
                    "month", "branch", "district", "connection_type", "tariff",
                    "new_clients", "active", "collected_total", "collected_debt",
                    "charged", "recurring")),
                sorted(RollupAccount.objects.values_list(
                    "month", "account", "collected", "debt", "current", "closing")))

    before = stored()
    assert rollups_refresh().built == []           # nothing missing or stale
    assert rollups_refresh(force=True).built == [AUG, SEP, OCT, NOV]
    assert stored() == before


def test_the_nightly_regroup_follows_a_tariff_change(rolled_up):
    """acc1 moved to «Бизнес 3000» today: its closed months count under the new tariff
    once regrouped (beat, after midnight), as the live figures do at once."""
    Subscription.objects.create(account=rolled_up.acc1, tariff=rolled_up.business,
                                start=dt.date.today() - dt.timedelta(days=1))
    assert rollups_regroup(everything=True) == 3
    cache.clear()
    stored = summary_facts(AUG, dt.date(2026, 10, 31))
    assert rollup(stored, "tariff") == rollup(live(AUG, dt.date(2026, 10, 31)), "tariff")
    business = {g["label"]: g for g in rollup(stored, "tariff")}["Бизнес 3000"]
    # acc2's 8,000 and acc1's 500 of October, acc1's 1,000 of September.
    assert business["collected_total"] == D("9500.00")


def test_the_check_finds_a_stored_figure_that_differs_from_the_ledger(rolled_up, capsys):
    call_command("summary_rollups", "--check")
    assert "agree with the ledger" in capsys.readouterr().out
    row = RollupRow.objects.filter(month=SEP).first()
    RollupRow.objects.filter(pk=row.pk).update(charged=row.charged + 100)
    problems = rollups_check()
    assert problems and all(p.startswith("2026-09: charged") for p in problems)
    with pytest.raises(CommandError):
        call_command("summary_rollups", "--check")
    # Building September again by hand puts it right.
    call_command("summary_rollups", "--from", "2026-09", "--to", "2026-09", "--rebuild")
    assert rollups_check() == []


def test_the_command_builds_what_is_missing(company, capsys):
    call_command("summary_rollups")
    out = capsys.readouterr().out
    assert "2026-08 built" in out and "2026-10 built" in out
    assert "agree with the ledger" in out
    assert list(RollupMonth.objects.filter(stale=False, complete=True).order_by("month")
                .values_list("month", flat=True)) == [AUG, SEP, OCT]


def test_the_admin_lists_the_rollup_read_only(rolled_up):
    from ispcrm.models import User

    admin = User.objects.create_superuser("root", "root@example.com", "x")
    web = Client()
    web.force_login(admin)
    page = web.get("/admin/reports/rollupmonth/")
    assert page.status_code == 200 and "10.2026" in page.content.decode()
    assert web.get("/admin/reports/rollupmonth/add/").status_code == 403
    month = RollupMonth.objects.get(month=OCT)
    web.post(f"/admin/reports/rollupmonth/{month.pk}/change/", {"stale": "on"})
    assert not RollupMonth.objects.get(month=OCT).stale  # nothing changed
    assert web.get("/admin/reports/rolluprow/").status_code == 200


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_builds_at_once_store_the_month_once():
    from tests.concurrency import run_in_parallel

    Company()
    results, errors = run_in_parallel(lambda _i: rollups_refresh().built, 2)
    assert errors == []
    # Each month built by one of the two, the other found it fresh.
    assert sorted(month for built in results for month in built) == [AUG, SEP, OCT, NOV]
    assert RollupAccount.objects.filter(month=OCT).count() == len(set(
        RollupAccount.objects.filter(month=OCT).values_list("account", flat=True)))
    assert rollups_check() == []
