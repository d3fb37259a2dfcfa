"""Billing's periodic jobs. Thin: parse the arguments, call a service (ARCHITECTURE:
Celery tasks); each job is also a management command for running by hand."""

from datetime import date, timedelta

from celery import shared_task
from django.utils import timezone

from billing.money import month_start
from billing.services.documents import monthly_documents_issue


def previous_month(today: date | None = None) -> date:
    today = today or timezone.localdate()
    return month_start(month_start(today) - timedelta(days=1))


@shared_task
def issue_monthly_documents(period_iso: str | None = None) -> int:
    """Invoices and acts for a month ("2026-11" or "2026-11-01"; default: last month).
    Idempotent, so beat may fire it twice and a crashed run may simply be run again."""
    period = (date.fromisoformat(period_iso[:7] + "-01") if period_iso
              else previous_month())
    return monthly_documents_issue(period=period)


@shared_task
def run_charges(day_iso: str | None = None) -> int:
    """The monthly charge run (default: today). Safe to repeat: beat fires it daily, so a
    day the workers were down is caught up the next morning."""
    from billing.services.charges import charge_run

    day = date.fromisoformat(day_iso) if day_iso else timezone.localdate()
    return charge_run(day=day).total


@shared_task
def apply_pauses(day_iso: str | None = None) -> tuple[int, int]:
    """Start the voluntary pauses planned for today and resume the finished ones."""
    from billing.services.pauses import pauses_due

    return pauses_due(date.fromisoformat(day_iso) if day_iso else timezone.localdate())


@shared_task
def run_dunning(day_iso: str | None = None) -> dict:
    """The daily dunning job (SP-7; default: today): finds each step's accounts and queues
    them in chunks (``run_dunning_chunk``) for the workers to share; with the broker down it
    does the work itself. Safe to repeat the same day: nothing is sent or blocked twice."""
    from billing.services.dunning import dunning_queue

    day = date.fromisoformat(day_iso) if day_iso else timezone.localdate()
    return dunning_queue(today=day).as_dict()


@shared_task
def run_dunning_chunk(day_iso: str, step: str, ids: list[int]) -> dict:
    """One dunning step for a chunk of accounts, queued by ``run_dunning``. Safe to run
    twice, in any order and beside a copy of itself: each account is locked and checked
    again (billing.services.dunning explains why)."""
    from billing.services.dunning import dunning_chunk

    return dunning_chunk(today=date.fromisoformat(day_iso), step=step, ids=ids).as_dict()


@shared_task
def expire_online_payments() -> int:
    """Online top-ups with no word from the gateway for an hour become ``expired`` (a late
    success still credits). Safe to run at any time and any number of times."""
    from billing.services.online import online_payments_expire

    return online_payments_expire()


@shared_task
def verify_ledger() -> dict:
    """The nightly ledger verification: balance == sum(entries) for every account, each
    payment in the ledger exactly once; mails the ADMINS on any mismatch. Read-only, so
    safe to run at any time."""
    from billing.services.verification import ledger_verify_and_alert

    report = ledger_verify_and_alert()
    return {"accounts": report.accounts, "balances": len(report.balances),
            "payments": len(report.payments), "duplicates": len(report.duplicates)}
