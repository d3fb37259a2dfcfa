"""The SLA clock as staff see it (SP-3): time left to the next deadline in the branch's
working hours, coloured green / amber (the policy's warning share used) / red (breached),
always with words, so colour is never the only signal (UX)."""

import datetime as dt
from dataclasses import dataclass

from django.utils import timezone
from django.utils.translation import gettext as _

from ispcrm.workcalendar import WorkCalendar

DEFAULT_WARN_PERCENT = 80


@dataclass
class Clock:
    name: str
    due: dt.datetime | None
    state: str  # ok / warning / breached / paused / done / none
    label: str
    done_at: dt.datetime | None = None

    @property
    def colour(self) -> str:
        return {"ok": "success", "warning": "warning", "breached": "danger",
                "paused": "secondary", "done": "light"}.get(self.state, "light")


def duration_text(span: dt.timedelta) -> str:
    minutes = int(abs(span).total_seconds() // 60)
    hours, minutes = divmod(minutes, 60)
    if hours:
        return _("%(h)d h %(m)02d min") % {"h": hours, "m": minutes}
    return _("%(m)d min") % {"m": minutes}


class Clocks:
    """One working calendar per branch for a whole page of tickets: the calendar rows are
    loaded once per branch, not once per ticket."""

    def __init__(self, now: dt.datetime | None = None):
        self.now = now or timezone.now()
        self._calendars: dict[int, WorkCalendar] = {}

    def calendar(self, branch) -> WorkCalendar:
        if branch.pk not in self._calendars:
            today = self.now.date()
            self._calendars[branch.pk] = WorkCalendar(
                branch, start=today - dt.timedelta(days=60), end=today + dt.timedelta(days=60))
        return self._calendars[branch.pk]

    def left(self, ticket, due: dt.datetime) -> dt.timedelta:
        try:
            return self.calendar(ticket.branch).working_time_between(self.now, due)
        except ValueError:  # beyond the calendar's span: plain time is good enough
            return due - self.now

    def clock(self, ticket, name: str, due, target_hours=None, done_at=None) -> Clock:
        if done_at is not None:
            return Clock(name, due, "done", _("done"), done_at)
        if due is None:
            return Clock(name, None, "none", _("no deadline"))
        if ticket.paused_since is not None:
            return Clock(name, due, "paused", _("paused: waiting for the client"))
        left = self.left(ticket, due)
        if left <= dt.timedelta(0):
            return Clock(name, due, "breached",
                         _("breached %(span)s ago") % {"span": duration_text(left)})
        warn = (ticket.policy.warn_percent if ticket.policy_id and ticket.policy
                else DEFAULT_WARN_PERCENT)
        target = dt.timedelta(hours=float(target_hours)) if target_hours else None
        used = 100 * (1 - left / target) if target else 0
        if used >= warn:
            return Clock(name, due, "warning",
                         _("only %(span)s left") % {"span": duration_text(left)})
        return Clock(name, due, "ok", _("%(span)s left") % {"span": duration_text(left)})

    def all(self, ticket) -> list[Clock]:
        """First response, next update, resolution — for the ticket page."""
        policy = ticket.policy if ticket.policy_id else None
        closed = not ticket.is_open
        return [
            self.clock(ticket, _("First response"), ticket.first_response_due,
                       policy and policy.first_response_hours, ticket.first_response_at),
            self.clock(ticket, _("Next update"), None if closed else ticket.next_update_due,
                       policy and policy.update_hours,
                       ticket.resolved_at if closed and ticket.next_update_due else None),
            self.clock(ticket, _("Resolution"), ticket.resolution_due,
                       policy and policy.resolution_hours, ticket.resolved_at),
        ]

    def next(self, ticket) -> Clock:
        """The nearest deadline still running: what a queue row shows."""
        if not ticket.is_open:
            breached = ticket.first_response_breached or ticket.resolution_breached
            return Clock(_("Resolution"), ticket.resolution_due,
                         "breached" if breached else "done",
                         _("closed late") if breached else _("met"), ticket.resolved_at)
        pending = [clock for clock in self.all(ticket) if clock.state not in ("done", "none")]
        if not pending:
            return Clock("", None, "none", _("no deadline"))
        return min(pending, key=lambda clock: clock.due)
