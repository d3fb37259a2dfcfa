"""SLA deadlines in working time, pauses, recomputation and the escalation job (SP-3)."""

from decimal import Decimal

import pytest
from django.core import mail

from ispcrm.models import CalendarDay
from tests.factories import ClientCardFactory, TariffFactory, make_account
from tickets.models import SlaNotice, Ticket
from tickets.services import sla
from tickets.services import tickets as service

from .conftest import at

pytestmark = pytest.mark.django_db


def test_deadlines_skip_the_weekend(open_ticket):
    ticket = open_ticket(at(27, 17))  # Friday 17:00, one working hour left that day
    assert ticket.first_response_due == at(30, 10)  # Monday 10:00
    assert ticket.resolution_due == at(30, 16)  # 1 h Friday + 7 h Monday
    assert ticket.policy.name == "Standard"


def test_a_public_holiday_is_not_working_time(open_ticket):
    CalendarDay.objects.create(date=at(30, 0).date(), kind="holiday")
    ticket = open_ticket(at(27, 17))
    assert ticket.first_response_due == at(1, 10, month=12)  # Tue 1 Dec


def test_a_transferred_working_saturday_counts(open_ticket):
    CalendarDay.objects.create(date=at(28, 0).date(), kind="working")
    ticket = open_ticket(at(27, 17))
    assert ticket.first_response_due == at(28, 10)  # Saturday 10:00


def test_without_a_matching_policy_a_ticket_has_no_deadlines(open_ticket, policy):
    policy.active = False
    policy.save()
    ticket = open_ticket(at(23, 10))
    assert ticket.policy is None and ticket.resolution_due is None
    service.comment_add(ticket=ticket, author=ticket.assignee, body="On it", now=at(23, 11))
    ticket.refresh_from_db()
    assert ticket.status == Ticket.Status.OPEN


def test_policy_by_segment_and_monthly_fee(open_ticket, vip_policy, branch):
    company = ClientCardFactory(branch=branch, kind="company", inn="7700000001")
    make_account(client=company, tariff=TariffFactory(monthly_fee=Decimal("4000")))
    assert open_ticket(at(23, 10), client=company).policy.name == "Standard"
    rich = ClientCardFactory(branch=branch, kind="company", inn="7700000002")
    make_account(client=rich, tariff=TariffFactory(monthly_fee=Decimal("6000")))
    ticket = open_ticket(at(23, 10), client=rich)
    assert ticket.policy == vip_policy
    assert ticket.first_response_due == at(23, 11)


def test_waiting_for_the_client_stops_the_clock(open_ticket):
    ticket = open_ticket(at(23, 10))  # resolution due Monday 18:00
    service.comment_add(ticket=ticket, author=ticket.assignee, body="Router model?",
                        kind="question", now=at(23, 11))
    ticket.refresh_from_db()
    assert ticket.status == Ticket.Status.WAITING
    assert ticket.first_response_at == at(23, 11) and not ticket.first_response_breached
    service.comment_add(ticket=ticket, author=ticket.client.cabinet_user, body="TP-Link",
                        now=at(24, 10))
    ticket.refresh_from_db()
    assert ticket.status == Ticket.Status.OPEN
    assert ticket.paused_for.total_seconds() == 8 * 3600  # Mon 11–18 and Tue 9–10
    assert ticket.resolution_due == at(24, 17)  # Mon 18:00 moved by the 8 h waited
    assert ticket.next_update_due == at(24, 14)  # 4 h from the client's answer


def test_a_staff_reply_moves_the_next_update(open_ticket):
    ticket = open_ticket(at(23, 10))
    assert ticket.next_update_due == at(23, 14)
    service.comment_add(ticket=ticket, author=ticket.assignee, body="Checking", now=at(23, 13))
    ticket.refresh_from_db()
    assert ticket.next_update_due == at(23, 17)
    service.comment_add(ticket=ticket, author=ticket.assignee, body="internal", kind="note",
                        now=at(23, 15))
    ticket.refresh_from_db()
    assert ticket.next_update_due == at(23, 17)  # an internal note is no update


def test_a_late_first_response_is_flagged(open_ticket):
    ticket = open_ticket(at(23, 10))
    service.comment_add(ticket=ticket, author=ticket.assignee, body="Sorry", now=at(23, 13))
    ticket.refresh_from_db()
    assert ticket.first_response_breached


def test_recompute_after_a_calendar_change(open_ticket):
    ticket = open_ticket(at(27, 17))
    day = CalendarDay.objects.create(date=at(30, 0).date(), kind="holiday")
    ticket.refresh_from_db()
    assert ticket.first_response_due == at(1, 10, month=12)
    day.delete()
    ticket.refresh_from_db()
    assert ticket.first_response_due == at(30, 10)


def test_recompute_after_a_policy_change(open_ticket, policy):
    ticket = open_ticket(at(23, 10))
    policy.first_response_hours = 4
    policy.save()
    ticket.refresh_from_db()
    assert ticket.first_response_due == at(23, 14)


def _notices(kind):
    return SlaNotice.objects.filter(kind=kind)


def test_a_warning_then_an_escalation_each_once(open_ticket, support):
    ticket = open_ticket(at(23, 10))  # first response due 12:00, warning at 11:36
    assert sla.run_escalations(at(23, 11, 30))["warnings"] == 0
    assert sla.run_escalations(at(23, 11, 40))["warnings"] == 1
    assert sla.run_escalations(at(23, 11, 50))["warnings"] == 0
    warning = _notices(SlaNotice.Kind.FIRST_RESPONSE_WARNING).get()
    assert warning.recipient == ticket.assignee
    assert [m.to for m in mail.outbox] == [[ticket.assignee.email]]
    assert f"#{ticket.pk}" in mail.outbox[0].subject

    assert sla.run_escalations(at(23, 12, 10))["breaches"] == 1
    assert sla.run_escalations(at(23, 12, 20))["breaches"] == 0
    assert _notices(SlaNotice.Kind.FIRST_RESPONSE_BREACH).get().recipient == support["head"]
    assert mail.outbox[-1].to == [support["head"].email]
    ticket.refresh_from_db()
    assert ticket.first_response_breached


def test_no_notices_outside_working_hours(open_ticket, support):
    open_ticket(at(23, 15))  # first response due 17:00
    result = sla.run_escalations(at(23, 23))  # Monday night
    assert result == {"warnings": 0, "breaches": 0, "branches_skipped": 1}
    assert mail.outbox == []
    assert sla.run_escalations(at(24, 9, 0))["breaches"] == 1  # next morning
    assert mail.outbox[-1].to == [support["head"].email]


def test_a_waiting_or_answered_ticket_is_not_escalated(open_ticket):
    waiting = open_ticket(at(23, 10))
    service.comment_add(ticket=waiting, author=waiting.assignee, body="Which flat?",
                        kind="question", now=at(23, 10, 30))
    answered = open_ticket(at(23, 10))
    service.comment_add(ticket=answered, author=answered.assignee, body="On it",
                        now=at(23, 10, 30))
    assert sla.run_escalations(at(23, 12, 30))["breaches"] == 0


def test_the_command_runs_the_job(open_ticket, capsys):
    from django.core.management import call_command

    open_ticket(at(23, 10))
    call_command("run_escalations", "--now", "2026-11-23T12:10:00+03:00")
    assert "escalations: 1" in capsys.readouterr().out


def test_a_passed_deadline_escalates_without_a_late_warning(open_ticket):
    open_ticket(at(23, 10))
    assert sla.run_escalations(at(23, 12, 30)) == {"warnings": 0, "breaches": 1,
                                                   "branches_skipped": 0}


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_workers_at_once_send_each_notice_once(open_ticket):
    from tests.concurrency import run_in_parallel

    open_ticket(at(23, 10))
    results, errors = run_in_parallel(lambda i: sla.run_escalations(at(23, 12, 10)), 4)
    assert errors == []
    assert sum(result["breaches"] for result in results) == 1
    assert len(mail.outbox) == 1
