"""Working days and working hours: the production calendar (ispcrm.models.CalendarDay)
applied to a branch. Every "N working days / hours" rule (SLA clocks, survey terms, dunning)
goes through here.

- A day is working Monday–Friday unless a ``CalendarDay`` row says otherwise; a branch row
  overrides the nationwide row for the same date. ``shortened`` is a working day (even on a
  Saturday) that ends one hour earlier.
- Hours come from the branch (its time zone, ``work_start``/``work_end``); without a branch:
  09:00–18:00 in ``settings.TIME_ZONE``. Working time has no lunch break.
- Exception rows are loaded once per range, not per day. Functions below build a
  ``WorkCalendar`` per call; code that evaluates many deadlines for one branch can build one
  ``WorkCalendar`` and reuse it.
- No walk goes further than ``MAX_SPAN`` (about 3 years): beyond that ``ValueError``, which
  also stops a runaway loop on a calendar with no working days at all.
"""

import datetime as dt
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import Q

from ispcrm.models import Branch, CalendarDay

__all__ = [
    "HOLIDAY", "MAX_SPAN", "SHORTENED", "WEEKEND", "WORKING", "WorkCalendar",
    "add_working_days", "add_working_time", "day_kind", "is_working_day",
    "next_working_day", "working_days_between", "working_hours_on", "working_time_between",
]

WORKING = "working"
SHORTENED = "shortened"
WEEKEND = "weekend"
HOLIDAY = "holiday"
_WORKING_KINDS = frozenset({WORKING, SHORTENED})

MAX_SPAN = dt.timedelta(days=3 * 366)
DEFAULT_WORK_START = dt.time(9, 0)
DEFAULT_WORK_END = dt.time(18, 0)
SHORTENED_BY = dt.timedelta(hours=1)  # Labour Code art. 95: pre-holiday day one hour shorter
_ONE_DAY = dt.timedelta(days=1)
# When a walk runs past the loaded rows, load this much more at once (one more query).
_LOAD_AHEAD = dt.timedelta(days=366)
# First-guess window for a walk of n working days: a year has ~247 of them in 365 days,
# so 3/2 calendar days per working day, plus the longest run of days off (New Year).
_SLACK = dt.timedelta(days=31)


def _window(working_days: int) -> dt.timedelta:
    return min(MAX_SPAN, dt.timedelta(days=working_days * 3 // 2) + _SLACK)


def _require_aware(*values: dt.datetime) -> None:
    for value in values:
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"An aware datetime is required, got {value!r}.")


def _check_span(start: dt.date, end: dt.date) -> None:
    if end - start > MAX_SPAN:
        raise ValueError(f"Span {start}..{end} is longer than {MAX_SPAN.days} days.")


class WorkCalendar:
    """The calendar of one branch (or nationwide, ``branch=None``) with its exception rows
    loaded for a contiguous range of dates, extended on demand."""

    def __init__(
        self, branch: Branch | None = None, *,
        start: dt.date | None = None, end: dt.date | None = None,
    ) -> None:
        self.branch = branch
        if branch is None:
            self.tz = ZoneInfo(settings.TIME_ZONE)
            self.work_start, self.work_end = DEFAULT_WORK_START, DEFAULT_WORK_END
        else:
            self.tz = branch.tz
            self.work_start, self.work_end = branch.work_start, branch.work_end
        self._kinds: dict[dt.date, str] = {}
        self._lo: dt.date | None = None
        self._hi: dt.date | None = None
        if start is not None:
            self.load(start, end or start)

    # Loading ---------------------------------------------------------------------------

    def load(self, start: dt.date, end: dt.date) -> None:
        """Make rows for ``start..end`` available, querying only the part not loaded yet."""
        if end < start:
            start, end = end, start
        if self._lo is None or self._hi is None:
            self._fetch(start, end)
            self._lo, self._hi = start, end
            return
        if start < self._lo:
            self._fetch(start, self._lo - _ONE_DAY)
            self._lo = start
        if end > self._hi:
            self._fetch(self._hi + _ONE_DAY, end)
            self._hi = end

    def _fetch(self, start: dt.date, end: dt.date) -> None:
        scope = Q(branch__isnull=True)
        if self.branch is not None:
            scope |= Q(branch=self.branch)
        nationwide: dict[dt.date, str] = {}
        own: dict[dt.date, str] = {}
        rows = (
            CalendarDay.objects.filter(scope, date__range=(start, end))
            .order_by()
            .values_list("date", "kind", "branch_id")
        )
        for day, kind, branch_id in rows:
            (nationwide if branch_id is None else own)[day] = kind
        # The ranges fetched never overlap, so plain updates are safe; branch rows win.
        self._kinds.update(nationwide)
        self._kinds.update(own)

    def _ensure(self, day: dt.date) -> None:
        if self._lo is None or self._hi is None:
            self.load(day, day + _LOAD_AHEAD)
        elif day > self._hi:
            self.load(self._hi, max(day, self._hi + _LOAD_AHEAD))
        elif day < self._lo:
            self.load(min(day, self._lo - _LOAD_AHEAD), self._lo)

    # Days ------------------------------------------------------------------------------

    def day_kind(self, day: dt.date) -> str:
        """``"working"``, ``"shortened"``, ``"weekend"`` or ``"holiday"``."""
        self._ensure(day)
        kind = self._kinds.get(day)
        if kind == CalendarDay.Kind.HOLIDAY:
            return HOLIDAY
        if kind in _WORKING_KINDS:
            return kind
        return WEEKEND if day.weekday() >= 5 else WORKING

    def is_working_day(self, day: dt.date) -> bool:
        return self.day_kind(day) in _WORKING_KINDS

    def add_working_days(self, day: dt.date, n: int) -> dt.date:
        """The n-th working day after ``day`` (``day`` itself is not counted).

        ``n == 0`` gives ``day`` if it is a working day, else the next working day: "within 0
        working days" means "today, or the first working day if today is off"."""
        if n < 0:
            raise ValueError("n must be >= 0.")
        remaining = max(n, 1)
        self.load(day, day + _window(remaining))
        if n == 0 and self.is_working_day(day):
            return day
        current, limit = day, day + MAX_SPAN
        while current < limit:
            current += _ONE_DAY
            if self.is_working_day(current):
                remaining -= 1
                if remaining == 0:
                    return current
        raise ValueError(f"{n} working days after {day} lie beyond {MAX_SPAN.days} days.")

    def next_working_day(self, day: dt.date) -> dt.date:
        """The first working day strictly after ``day``."""
        return self.add_working_days(day, 1)

    def working_days_between(self, start: dt.date, end: dt.date) -> int:
        """Working days ``d`` with ``start < d <= end`` (days elapsed, as a deadline counts
        them: ``working_days_between(d, add_working_days(d, n)) == n`` for ``n >= 1``).
        Negative when ``end`` is before ``start``."""
        if end < start:
            return -self.working_days_between(end, start)
        _check_span(start, end)
        self.load(start, end)
        return sum(
            self.is_working_day(start + dt.timedelta(days=i))
            for i in range(1, (end - start).days + 1)
        )

    # Hours -----------------------------------------------------------------------------

    def working_hours_on(self, day: dt.date) -> tuple[dt.datetime, dt.datetime] | None:
        """Aware opening and closing instants of ``day`` in the calendar's zone, or ``None``
        for a day off (or a shortened day left with no hours)."""
        kind = self.day_kind(day)
        if kind not in _WORKING_KINDS:
            return None
        opens = dt.datetime.combine(day, self.work_start, tzinfo=self.tz)
        closes = dt.datetime.combine(day, self.work_end, tzinfo=self.tz)
        if kind == SHORTENED:
            closes -= SHORTENED_BY
        return (opens, closes) if opens < closes else None

    def add_working_time(self, start: dt.datetime, duration: dt.timedelta) -> dt.datetime:
        """The instant ``duration`` of working time after ``start``, in the calendar's zone.

        Time outside working hours does not count. A deadline that uses up a day exactly ends
        at its closing time (not the next morning); a zero duration gives the first working
        instant at or after ``start``."""
        _require_aware(start)
        if duration < dt.timedelta(0):
            raise ValueError("duration must be >= 0.")
        local = start.astimezone(self.tz)
        day = local.date()
        length = dt.datetime.combine(day, self.work_end) - dt.datetime.combine(day, self.work_start)
        shortest_day = max(length - SHORTENED_BY, dt.timedelta(hours=1))
        self.load(day, day + _window(duration // shortest_day + 1))
        remaining, limit = duration, day + MAX_SPAN
        while day <= limit:
            hours = self.working_hours_on(day)
            if hours is not None and local < hours[1]:
                begin = max(hours[0], local)
                available = hours[1] - begin
                if remaining <= available:
                    return begin + remaining
                remaining -= available
            day += _ONE_DAY
        raise ValueError(f"{duration} of working time after {start} lies beyond "
                         f"{MAX_SPAN.days} days.")

    def working_time_between(self, start: dt.datetime, end: dt.datetime) -> dt.timedelta:
        """Working time between two instants; negative when ``end`` is before ``start``."""
        _require_aware(start, end)
        if end < start:
            return -self.working_time_between(end, start)
        local_start, local_end = start.astimezone(self.tz), end.astimezone(self.tz)
        first, last = local_start.date(), local_end.date()
        _check_span(first, last)
        self.load(first, last)
        total = dt.timedelta(0)
        day = first
        while day <= last:
            hours = self.working_hours_on(day)
            if hours is not None:
                begin, finish = max(hours[0], local_start), min(hours[1], local_end)
                if begin < finish:
                    total += finish - begin
            day += _ONE_DAY
        return total


# One-call helpers: each loads the rows it needs in one query (a long walk may add one more
# query per extra year).


def day_kind(day: dt.date, *, branch: Branch | None = None) -> str:
    """``"working"``, ``"shortened"``, ``"weekend"`` or ``"holiday"``."""
    return WorkCalendar(branch, start=day).day_kind(day)


def is_working_day(day: dt.date, *, branch: Branch | None = None) -> bool:
    return WorkCalendar(branch, start=day).is_working_day(day)


def add_working_days(day: dt.date, n: int, *, branch: Branch | None = None) -> dt.date:
    """The n-th working day after ``day``; ``n == 0``: ``day`` if working, else the next
    working day."""
    return WorkCalendar(branch).add_working_days(day, n)


def next_working_day(day: dt.date, *, branch: Branch | None = None) -> dt.date:
    """The first working day strictly after ``day``."""
    return WorkCalendar(branch).next_working_day(day)


def working_days_between(start: dt.date, end: dt.date, *, branch: Branch | None = None) -> int:
    """Working days ``d`` with ``start < d <= end``; negative if ``end < start``."""
    return WorkCalendar(branch).working_days_between(start, end)


def working_hours_on(
    day: dt.date, *, branch: Branch | None = None
) -> tuple[dt.datetime, dt.datetime] | None:
    """Aware opening and closing instants of ``day``, or ``None`` on a day off."""
    return WorkCalendar(branch, start=day).working_hours_on(day)


def add_working_time(
    start: dt.datetime, duration: dt.timedelta, *, branch: Branch | None = None
) -> dt.datetime:
    """The instant ``duration`` of working time after ``start`` (e.g. an SLA deadline)."""
    return WorkCalendar(branch).add_working_time(start, duration)


def working_time_between(
    start: dt.datetime, end: dt.datetime, *, branch: Branch | None = None
) -> dt.timedelta:
    """Working time between two aware instants; negative if ``end < start``."""
    return WorkCalendar(branch).working_time_between(start, end)
