"""Dunning (SP-7) on a moving clock: debt notice, block after N working days of the branch's
production calendar, claim, and everything lifted by a payment; deferrals, promised payments
and «never block» clients."""

from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.core.mail.backends.base import BaseEmailBackend
from django.core.management import CommandError, call_command
from django.db import transaction
from django.utils import timezone

from billing import tasks
from billing.models import Account, Claim, LedgerEntry, PromisedPayment
from billing.services import dunning
from billing.services.dunning import (
    deferral_grant,
    dunning_run,
    never_block_set,
    promised_payment_grant,
)
from billing.services.ledger import balance_mismatches, lock_account, post
from billing.services.payments import payment_accept
from ispcrm.errors import RuleViolation
from ispcrm.models import CalendarDay
from tests.factories import ClientCardFactory, TariffFactory, make_account

pytestmark = pytest.mark.django_db

FRIDAY = date(2026, 11, 27)  # N = 5 working days → Friday 04.12.2026
EMAIL = "client@example.com"


@pytest.fixture(autouse=True)
def ledger_always_agrees():
    yield
    assert not balance_mismatches().exists()


@pytest.fixture
def clock(monkeypatch):
    """Today for the code that asks ``timezone.localdate()`` itself (the payment hook)."""

    class Clock:
        today: date | None = None

    real = timezone.localdate

    def localdate(value=None, timezone=None):
        if value is None and Clock.today is not None:
            return Clock.today
        return real(value, timezone)

    monkeypatch.setattr("django.utils.timezone.localdate", localdate)
    return Clock


def D(value) -> Decimal:
    return Decimal(value)


def days(first: date, last: date):
    while first <= last:
        yield first
        first += timedelta(days=1)


def debtor(amount="1500.00", *, email=EMAIL, tariff=None, never_block=False) -> Account:
    """An active account in service, then a charge that puts it in debt."""
    client = ClientCardFactory(stage="active", email=email)
    account = make_account(client=client, tariff=tariff)
    if never_block:
        Account.objects.filter(pk=account.pk).update(never_block=True,
                                                     never_block_reason="Школа")
    with transaction.atomic():
        locked = lock_account(account.pk)
        post(account=locked, kind=LedgerEntry.Kind.CHARGE, amount=-D(amount),
             period=date(2026, 11, 1), charge_kind=LedgerEntry.ChargeKind.MONTHLY,
             description="Абонентская плата за ноябрь 2026", idem_key="fee:2026-11")
    account.refresh_from_db()
    return account


def fresh(account: Account) -> Account:
    account.refresh_from_db()
    return account


def run_through(first: date, last: date) -> list:
    return [dunning_run(today=day) for day in days(first, last)]


def kinds(account: Account) -> list[str]:
    return list(account.notices.filter(status="sent").order_by("pk")
                .values_list("kind", flat=True))


def test_notice_block_claim_and_payment_across_a_weekend(clock, manager,
                                                         django_capture_on_commit_callbacks):
    account = debtor()
    first = dunning_run(today=FRIDAY)
    assert (first.notices, first.blocked, first.errors) == (1, 0, [])
    account = fresh(account)
    assert account.debt_notice_on == FRIDAY
    assert account.block_due_on == date(2026, 12, 4)  # Mon–Fri of the next week
    [message] = mail.outbox
    assert message.to == [EMAIL]
    assert message.body == (
        f"Задолженность по лицевому счёту {account.number} составляет 1 500,00 ₽. "
        "Пожалуйста, оплатите до 04.12.2026, иначе доступ будет приостановлен.")
    notice = account.notices.get()
    assert (notice.kind, notice.channel, notice.recipient, notice.status) == (
        "debt", "email", EMAIL, "sent")
    assert notice.text == message.body

    # The job runs again the same day: nothing new.
    again = dunning_run(today=FRIDAY)
    assert (again.notices, again.blocked, again.claims) == (0, 0, 0)
    assert len(mail.outbox) == 1 and account.notices.count() == 1

    # Saturday to Thursday: no block before the due day.
    for result in run_through(date(2026, 11, 28), date(2026, 12, 3)):
        assert (result.notices, result.blocked) == (0, 0)
    assert fresh(account).status == "active"

    # Exactly on the due day.
    assert dunning_run(today=date(2026, 12, 4)).blocked == 1
    account = fresh(account)
    assert (account.status, account.blocked_on) == ("blocked", date(2026, 12, 4))
    assert "приостановлен" in mail.outbox[-1].body and "1 500,00 ₽" in mail.outbox[-1].body
    assert dunning_run(today=date(2026, 12, 4)).blocked == 0

    # The claim comes claim_after_days (10) calendar days after the block.
    assert all(r.claims == 0 for r in run_through(date(2026, 12, 5), date(2026, 12, 13)))
    assert dunning_run(today=date(2026, 12, 14)).claims == 1
    claim = Claim.objects.get(account=account)
    assert (claim.number, claim.created_on, claim.debt, claim.paid_on) == (
        "ПР-2026-000001", date(2026, 12, 14), D("1500.00"), None)
    assert mail.outbox[-1].subject == "Претензия № ПР-2026-000001"
    assert dunning_run(today=date(2026, 12, 14)).claims == 0
    assert kinds(account) == ["debt", "blocked", "claim"]

    # A payment that covers the debt unblocks at once, settles the claim and says so.
    clock.today = date(2026, 12, 15)
    with django_capture_on_commit_callbacks(execute=True):
        payment_accept(account=account, amount="2000.00", channel="cash", external_id="p-1",
                       paid_at=timezone.make_aware(datetime(2026, 12, 15, 11, 0)),
                       actor=manager)
    account = fresh(account)
    assert account.status == "active"
    assert (account.blocked_on, account.debt_notice_on, account.block_due_on) == (
        None, None, None)
    # 2000 − 1500, less the rest of December charged on unblocking (17 of 31 days of 600)
    assert account.balance == D("170.97")
    claim.refresh_from_db()
    assert claim.paid_on == date(2026, 12, 15)
    assert kinds(account) == ["debt", "blocked", "claim", "unblocked"]
    assert mail.outbox[-1].body == (
        f"Оплата получена, доступ по лицевому счёту {account.number} восстановлен. Спасибо!")
    assert account.notices.latest("pk").sent_by == manager

    quiet = dunning_run(today=date(2026, 12, 16))
    assert (quiet.settled, quiet.notices, quiet.blocked, quiet.claims) == (0, 0, 0, 0)


def test_block_date_over_the_new_year_holidays():
    # 31.12.2026 is a holiday (moved from 4 January), 1–8.01.2027 the New Year holidays,
    # 9–10.01 a weekend: five working days after Wednesday 30.12.2026 end on 15.01.2027.
    account = debtor()
    dunning_run(today=date(2026, 12, 30))
    assert fresh(account).block_due_on == date(2027, 1, 15)
    assert "оплатите до 15.01.2027" in mail.outbox[0].body
    assert all(r.blocked == 0 for r in run_through(date(2026, 12, 31), date(2027, 1, 14)))
    assert fresh(account).status == "active"
    assert dunning_run(today=date(2027, 1, 15)).blocked == 1
    assert fresh(account).blocked_on == date(2027, 1, 15)


def test_the_term_uses_the_tariff_days_and_the_branch_calendar():
    short = debtor(tariff=TariffFactory(dunning_days=3))  # Nov 30, Dec 1, Dec 2
    regional = debtor()
    CalendarDay.objects.create(date=date(2026, 12, 2), kind=CalendarDay.Kind.HOLIDAY,
                               branch=regional.client.branch, note="Региональный праздник")
    dunning_run(today=FRIDAY)
    # The branch holiday on 2 December also concerns `short` (same branch in the factory).
    assert fresh(short).block_due_on == date(2026, 12, 3)
    assert fresh(regional).block_due_on == date(2026, 12, 7)


def test_sms_when_the_card_has_no_email():
    account = debtor(email="")
    dunning_run(today=FRIDAY)
    notice = account.notices.get()
    assert (notice.channel, notice.recipient, notice.status) == (
        "sms", account.client.phone, "sent")
    assert not mail.outbox


class BrokenEmailBackend(BaseEmailBackend):
    def send_messages(self, email_messages):
        raise ConnectionRefusedError("SMTP is down")


class BrokenGateway:
    def send(self, recipient: str, text: str) -> None:
        raise TimeoutError("gateway timeout")


def test_an_undelivered_notice_does_not_start_the_term_and_is_retried(settings):
    settings.EMAIL_BACKEND = f"{__name__}.BrokenEmailBackend"
    account = debtor()
    dunning_run(today=FRIDAY)
    # email failed, the SMS to the phone went out: the term runs
    assert list(account.notices.order_by("pk").values_list("channel", "status")) == [
        ("email", "failed"), ("sms", "sent")]
    assert fresh(account).block_due_on == date(2026, 12, 4)

    settings.NOTIFICATION_SMS_BACKEND = f"{__name__}.BrokenGateway"
    other = debtor()
    result = dunning_run(today=FRIDAY)
    assert (result.notices, result.notices_failed) == (0, 1)
    other = fresh(other)
    assert other.debt_notice_on is None and other.block_due_on is None
    assert "TimeoutError" in other.notices.latest("pk").error

    del settings.NOTIFICATION_SMS_BACKEND
    assert dunning_run(today=date(2026, 11, 30)).notices == 1
    assert fresh(other).block_due_on == date(2026, 12, 7)


def test_a_deferral_postpones_the_block(manager, django_capture_on_commit_callbacks):
    account = debtor()
    dunning_run(today=FRIDAY)
    with django_capture_on_commit_callbacks(execute=True):
        deferral_grant(account=account, until=date(2026, 12, 10), actor=manager,
                       reason="Бюджетная организация, оплата через казначейство",
                       today=date(2026, 12, 2))
    account = fresh(account)
    assert (account.deferred_until, account.block_due_on) == (
        date(2026, 12, 10), date(2026, 12, 11))
    notice = account.notices.latest("pk")
    assert (notice.kind, notice.sent_by) == ("deferral", manager)
    assert "до 10.12.2026 включительно" in notice.text
    assert "иначе с 11.12.2026 доступ будет приостановлен" in notice.text
    assert all(r.blocked == 0 for r in run_through(date(2026, 12, 3), date(2026, 12, 10)))
    assert dunning_run(today=date(2026, 12, 11)).blocked == 1


def test_a_deferral_before_the_notice_delays_the_notice(manager):
    account = debtor()
    deferral_grant(account=account, until=date(2026, 12, 10), reason="Договорились",
                   actor=manager, today=FRIDAY)
    assert fresh(account).block_due_on is None
    assert all(r.notices == 0 for r in run_through(FRIDAY, date(2026, 12, 10)))
    assert dunning_run(today=date(2026, 12, 11)).notices == 1
    assert fresh(account).block_due_on == date(2026, 12, 18)


def test_a_deferral_needs_a_reason_and_a_near_future_date(manager):
    account = debtor()
    with pytest.raises(ValidationError) as error:
        deferral_grant(account=account, until=FRIDAY, reason=" ", actor=manager, today=FRIDAY)
    assert set(error.value.message_dict) == {"reason", "until"}
    with pytest.raises(ValidationError):
        deferral_grant(account=account, until=FRIDAY + timedelta(days=31), reason="x",
                       actor=manager, today=FRIDAY)
    paid_up = make_account()
    with pytest.raises(RuleViolation) as refused:
        deferral_grant(account=paid_up, until=date(2026, 12, 10), reason="x", actor=manager,
                       today=FRIDAY)
    assert refused.value.code == "no_debt"


def test_a_promised_payment_unblocks_at_once_and_the_block_comes_the_day_after(
        manager, django_capture_on_commit_callbacks):
    account = debtor()
    dunning_run(today=FRIDAY)
    dunning_run(today=date(2026, 12, 4))
    assert fresh(account).status == "blocked"
    with django_capture_on_commit_callbacks(execute=True):
        promised_payment_grant(account=account, actor=manager, today=date(2026, 12, 7))
    account = fresh(account)
    assert account.status == "active"
    assert (account.promised_until, account.block_due_on) == (
        date(2026, 12, 10), date(2026, 12, 11))  # promised_payment_days = 3
    promise = PromisedPayment.objects.get(account=account)
    assert (promise.month, promise.granted_by) == (date(2026, 12, 1), manager)
    notice = account.notices.latest("pk")
    assert notice.kind == "promised"
    assert "сохранится до 10.12.2026 включительно" in notice.text
    assert "иначе с 11.12.2026 доступ будет приостановлен" in notice.text

    assert all(r.blocked == 0 for r in run_through(date(2026, 12, 7), date(2026, 12, 10)))
    last = dunning_run(today=date(2026, 12, 11))
    assert (last.promises_expired, last.blocked) == (1, 1)
    account = fresh(account)
    assert (account.status, account.promised_until) == ("blocked", None)

    with pytest.raises(RuleViolation) as refused:
        promised_payment_grant(account=account, actor=manager, today=date(2026, 12, 14))
    assert refused.value.code == "promised_payment_used"
    assert fresh(account).status == "blocked"
    # a new month, a new promise
    promised_payment_grant(account=account, actor=manager, today=date(2027, 1, 11))
    assert fresh(account).status == "active"


def test_a_promised_payment_in_the_notice_term_moves_the_block(manager):
    account = debtor()
    dunning_run(today=FRIDAY)
    promised_payment_grant(account=account, actor=manager, today=date(2026, 12, 3))
    assert fresh(account).block_due_on == date(2026, 12, 7)  # promise through 6 December
    assert all(r.blocked == 0 for r in run_through(date(2026, 12, 4), date(2026, 12, 6)))
    assert dunning_run(today=date(2026, 12, 7)).blocked == 1
    with pytest.raises(RuleViolation) as refused:
        promised_payment_grant(account=make_account(), actor=manager, today=FRIDAY)
    assert refused.value.code == "no_debt"


def test_never_block_gets_notices_but_no_block(manager):
    account = debtor(email="")
    with pytest.raises(ValidationError):
        never_block_set(account=account, value=True, reason="", actor=manager)
    never_block_set(account=account, value=True, reason="Городская больница № 1",
                    actor=manager)
    record = account.history.first()
    assert (record.never_block, record.never_block_reason, record.history_user) == (
        True, "Городская больница № 1", manager)

    dunning_run(today=FRIDAY)
    notice = account.notices.get()
    assert notice.kind == "debt" and notice.channel == "sms"
    assert notice.text.endswith("Пожалуйста, оплатите до 04.12.2026.")  # no threat
    results = run_through(date(2026, 11, 28), date(2026, 12, 31))
    assert sum(r.blocked + r.notices + r.claims for r in results) == 0
    assert fresh(account).status == "active"

    # Taking the mark off restarts the term with a notice that warns of the block.
    never_block_set(account=account, value=False, reason="", actor=manager)
    assert fresh(account).block_due_on is None
    dunning_run(today=date(2027, 1, 11))
    assert account.notices.latest("pk").text.endswith("иначе доступ будет приостановлен.")
    assert fresh(account).block_due_on == date(2027, 1, 18)


def test_marking_a_blocked_client_never_block_unblocks_it(manager,
                                                          django_capture_on_commit_callbacks):
    account = debtor()
    dunning_run(today=FRIDAY)
    dunning_run(today=date(2026, 12, 4))
    with django_capture_on_commit_callbacks(execute=True):
        never_block_set(account=account, value=True, reason="Школа № 5", actor=manager,
                        today=date(2026, 12, 7))
    account = fresh(account)
    assert account.status == "active" and account.debt_notice_on == FRIDAY
    assert kinds(account) == ["debt", "blocked", "unblocked"]
    assert dunning_run(today=date(2026, 12, 8)).notices == 0  # it had its notice


def test_a_debt_covered_by_a_correction_is_lifted_by_the_run():
    account = debtor()
    dunning_run(today=FRIDAY)
    dunning_run(today=date(2026, 12, 4))
    with transaction.atomic():
        locked = lock_account(account.pk)
        post(account=locked, kind=LedgerEntry.Kind.CORRECTION, amount=D("2000.00"),
             description="Перерасчёт за аварию", idem_key="outage")
    result = dunning_run(today=date(2026, 12, 7))
    assert (result.settled, result.notices) == (1, 0)
    account = fresh(account)
    assert account.status == "active" and account.debt_notice_on is None
    # 500 left, less the rest of December (25 of 31 days of 600) charged on unblocking
    assert account.balance == D("16.13")
    assert kinds(account)[-1] == "unblocked"


def test_one_failing_account_does_not_stop_the_run(monkeypatch):
    first, second = debtor(), debtor()
    dunning_run(today=FRIDAY)
    real_block = dunning.account_block

    def flaky_block(*, account, **kwargs):
        if account.pk == first.pk:
            raise RuntimeError("network device unreachable")
        return real_block(account=account, **kwargs)

    monkeypatch.setattr(dunning, "account_block", flaky_block)
    result = dunning_run(today=date(2026, 12, 4))
    assert result.blocked == 1 and len(result.errors) == 1
    assert "network device unreachable" in result.errors[0]
    assert (fresh(first).status, fresh(second).status) == ("active", "blocked")
    assert not first.notices.filter(kind="blocked").exists()  # rolled back with the step
    monkeypatch.setattr(dunning, "account_block", real_block)
    assert dunning_run(today=date(2026, 12, 4)).blocked == 1


def test_the_task_and_the_command(capsys):
    account = debtor()
    # The task queues the work in chunks (eager in tests: they run at once).
    queued = tasks.run_dunning.delay("2026-11-27").get()
    assert (queued["due"]["notice"], queued["queued"], queued["inline"]) == (1, 1, 0)
    assert fresh(account).debt_notice_on == FRIDAY
    call_command("run_dunning", "--date", "2026-12-04")
    assert "1 blocked" in capsys.readouterr().out
    with pytest.raises(CommandError, match="YYYY-MM-DD"):
        call_command("run_dunning", "--date", "04.12.2026")
