"""The production calendar seed (migration 0003) and ispcrm.workcalendar."""

import datetime as dt
import importlib
from zoneinfo import ZoneInfo

import pytest
from django.apps import apps as django_apps
from django.contrib.admin import AdminSite
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from ispcrm import workcalendar as wc
from ispcrm.admin_calendar import CalendarDayAdmin, YearListFilter
from ispcrm.models import Branch, CalendarDay, City

MSK = ZoneInfo("Europe/Moscow")
YEKT = ZoneInfo("Asia/Yekaterinburg")
D = dt.date
H = dt.timedelta(hours=1)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def seeded_calendar() -> None:
    """Migration 0003 seeds the calendar when the test database is created, but a
    transactional test elsewhere may have flushed it since; re-seeding is idempotent."""
    _migration().seed(django_apps, None)


def _migration():
    return importlib.import_module("ispcrm.migrations.0003_production_calendar")


def msk(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=MSK)


def off(day: dt.date, branch: Branch | None = None) -> bool:
    return not wc.is_working_day(day, branch=branch)


@pytest.fixture
def city() -> City:
    return City.objects.create(name="Казань")


@pytest.fixture
def kazan(city: City) -> Branch:
    return Branch.objects.create(city=city, name="Казань-центр")


@pytest.fixture
def kazan_north(city: City) -> Branch:
    return Branch.objects.create(city=city, name="Казань-север")


@pytest.fixture
def ekb_branch() -> Branch:
    return Branch.objects.create(
        city=City.objects.create(name="Екатеринбург"), name="Екатеринбург",
        time_zone="Asia/Yekaterinburg",
    )


# The seed ------------------------------------------------------------------------------


def test_new_year_2026_is_jan_1_to_11():
    assert off(D(2025, 12, 31))  # moved from Jan 5, 2025
    assert all(off(D(2026, 1, day)) for day in range(1, 12))
    assert wc.day_kind(D(2026, 1, 9)) == wc.HOLIDAY  # moved from Jan 3
    assert wc.day_kind(D(2026, 1, 10)) == wc.WEEKEND
    assert wc.day_kind(D(2026, 1, 12)) == wc.WORKING
    assert wc.next_working_day(D(2025, 12, 30)) == D(2026, 1, 12)


def test_may_holidays_2025():
    assert [off(D(2025, 5, day)) for day in range(1, 13)] == [
        True, True, True, True,  # May 1, moved Jan 4, weekend
        False, False, False,  # Mon–Wed
        True, True, True, True,  # moved Feb 23, May 9, weekend
        False,
    ]
    assert wc.day_kind(D(2025, 4, 30)) == wc.SHORTENED


def test_may_holidays_2026():
    assert [off(D(2026, 5, day)) for day in range(1, 13)] == [
        True, True, True,  # Fri May 1, weekend
        False, False, False, False, False,  # Mon–Fri
        True, True, True,  # Sat May 9, Sun, Mon moved from May 9
        False,
    ]
    assert wc.day_kind(D(2026, 5, 8)) == wc.SHORTENED


def test_transferred_working_saturdays():
    assert wc.day_kind(D(2025, 11, 1)) == wc.SHORTENED
    assert wc.is_working_day(D(2025, 11, 1))
    assert off(D(2025, 11, 3)) and off(D(2025, 11, 4))
    assert wc.day_kind(D(2024, 4, 27)) == wc.WORKING
    assert off(D(2024, 4, 29)) and off(D(2024, 4, 30))
    assert wc.day_kind(D(2027, 2, 20)) == wc.SHORTENED
    assert wc.working_hours_on(D(2025, 11, 1)) == (msk(2025, 11, 1, 9), msk(2025, 11, 1, 17))
    assert wc.working_hours_on(D(2025, 11, 2)) is None


def test_2027_follows_decree_1187():
    # Jan 2 -> Nov 5, Jan 3 -> Dec 31, Feb 20 -> Feb 22; art. 112 moves May 3, May 10, Jun 14.
    for day in (D(2027, 2, 22), D(2027, 5, 3), D(2027, 5, 10), D(2027, 6, 14),
                D(2027, 11, 5), D(2027, 12, 31)):
        assert off(day), day
    assert wc.day_kind(D(2027, 11, 13)) == wc.WEEKEND  # the 2025 press forecast did not hold
    assert wc.next_working_day(D(2026, 12, 30)) == D(2027, 1, 11)


@pytest.mark.parametrize(
    ("year", "days", "hours"),
    [(2024, 248, 1979), (2025, 247, 1972), (2026, 247, 1972), (2027, 247, 1972)],
)
def test_yearly_totals_for_a_40_hour_week(city: City, year: int, days: int, hours: int):
    assert wc.working_days_between(D(year - 1, 12, 31), D(year, 12, 31)) == days
    eight_hours = Branch.objects.create(
        city=city, name="8 часов", work_start=dt.time(9), work_end=dt.time(17)
    )
    norm = wc.working_time_between(msk(year, 1, 1), msk(year + 1, 1, 1), branch=eight_hours)
    assert norm == hours * H


def test_seed_has_history_and_reverses_cleanly():
    migration = _migration()
    seeded = CalendarDay.objects.filter(branch__isnull=True)
    count = seeded.count()
    assert count == len(migration._rows())
    assert CalendarDay.history.filter(history_type="+").count() == count

    # The models as migration 0003 sees them: no simple-history signals attached.
    state_apps = MigrationExecutor(connection).loader.project_state(
        ("ispcrm", "0003_production_calendar")
    ).apps
    migration.unseed(state_apps, None)
    assert not seeded.exists()
    assert not CalendarDay.history.exists()
    migration.seed(state_apps, None)
    migration.seed(state_apps, None)  # idempotent: keeps the rows already there
    assert seeded.count() == count
    assert CalendarDay.history.count() == count


# Days ----------------------------------------------------------------------------------


def test_add_working_days():
    friday = D(2025, 10, 17)
    assert wc.add_working_days(friday, 0) == friday
    assert wc.add_working_days(friday, 1) == D(2025, 10, 20)
    assert wc.add_working_days(friday, 5) == D(2025, 10, 24)
    assert wc.add_working_days(D(2025, 10, 18), 0) == D(2025, 10, 20)  # Saturday
    assert wc.add_working_days(D(2025, 10, 18), 1) == D(2025, 10, 20)
    # Dunning "after 5 working days" across the New Year.
    assert wc.add_working_days(D(2025, 12, 29), 5) == D(2026, 1, 15)
    with pytest.raises(ValueError):
        wc.add_working_days(friday, -1)
    with pytest.raises(ValueError):
        wc.add_working_days(friday, 800)  # beyond the 3-year bound


def test_add_and_count_working_days_agree():
    calendar = wc.WorkCalendar(start=D(2025, 1, 1), end=D(2026, 3, 1))
    for offset in range(365):
        start = D(2025, 1, 1) + dt.timedelta(days=offset)
        for n in (1, 3, 5, 10):
            end = calendar.add_working_days(start, n)
            assert calendar.working_days_between(start, end) == n
            assert calendar.is_working_day(end)


def test_working_days_between():
    assert wc.working_days_between(D(2025, 10, 17), D(2025, 10, 20)) == 1
    assert wc.working_days_between(D(2025, 10, 20), D(2025, 10, 17)) == -1
    assert wc.working_days_between(D(2025, 10, 17), D(2025, 10, 17)) == 0
    with pytest.raises(ValueError):
        wc.working_days_between(D(2024, 1, 1), D(2027, 12, 31))


def test_one_query_for_a_multi_year_span(django_assert_num_queries):
    with django_assert_num_queries(1):
        assert wc.working_days_between(D(2024, 1, 1), D(2026, 12, 31)) == 248 + 247 + 247
    with django_assert_num_queries(1):
        wc.working_time_between(msk(2024, 1, 1), msk(2026, 12, 31))
    with django_assert_num_queries(1):
        wc.add_working_days(D(2024, 1, 1), 400)


# Hours ---------------------------------------------------------------------------------


def test_working_time_across_a_weekend():
    assert wc.working_time_between(msk(2025, 10, 17, 17), msk(2025, 10, 20, 10)) == 2 * H
    assert wc.working_time_between(msk(2025, 10, 20, 10), msk(2025, 10, 17, 17)) == -2 * H
    assert wc.working_time_between(msk(2025, 10, 18, 10), msk(2025, 10, 19, 10)) == 0 * H


def test_sla_deadline_from_friday_evening():
    assert wc.add_working_time(msk(2025, 10, 17, 17), 8 * H) == msk(2025, 10, 20, 16)
    # A deadline that uses up the day exactly ends at closing time, not the next morning.
    assert wc.add_working_time(msk(2025, 10, 17, 17), 1 * H) == msk(2025, 10, 17, 18)
    # Zero duration: the first working instant.
    assert wc.add_working_time(msk(2025, 10, 18, 12), 0 * H) == msk(2025, 10, 20, 9)


def test_add_working_time_across_holidays():
    # Thursday Jun 11, 2026 is shortened (until 17:00); Jun 12–14 off.
    assert wc.add_working_time(msk(2026, 6, 11, 16), 3 * H) == msk(2026, 6, 15, 11)
    # Across the New Year: Dec 31, 2025 – Jan 11, 2026 off.
    assert wc.add_working_time(msk(2025, 12, 30, 17), 2 * H) == msk(2026, 1, 12, 10)
    start, end = msk(2025, 12, 30, 17), msk(2026, 1, 12, 10)
    assert wc.working_time_between(start, end) == 2 * H


def test_shortened_day_ends_at_17():
    assert wc.working_hours_on(D(2026, 11, 3)) == (msk(2026, 11, 3, 9), msk(2026, 11, 3, 17))
    assert wc.working_hours_on(D(2026, 11, 2)) == (msk(2026, 11, 2, 9), msk(2026, 11, 2, 18))
    assert wc.working_hours_on(D(2026, 11, 4)) is None
    assert wc.working_time_between(msk(2026, 11, 3), msk(2026, 11, 4)) == 8 * H


def test_naive_datetimes_are_refused():
    with pytest.raises(ValueError):
        wc.add_working_time(dt.datetime(2025, 10, 17, 17), H)
    with pytest.raises(ValueError):
        wc.working_time_between(dt.datetime(2025, 10, 17), msk(2025, 10, 18))


# Branches ------------------------------------------------------------------------------


def test_branch_override(kazan: Branch, kazan_north: Branch):
    republic_day = D(2026, 11, 6)  # Friday; a regional holiday for one branch only
    CalendarDay.objects.create(date=republic_day, kind="holiday", branch=kazan,
                               note="День Конституции РТ")
    # A branch may also work on a nationwide day off.
    CalendarDay.objects.create(date=D(2026, 11, 4), kind="working", branch=kazan_north)

    assert wc.day_kind(republic_day, branch=kazan) == wc.HOLIDAY
    assert wc.day_kind(republic_day, branch=kazan_north) == wc.WORKING
    assert wc.day_kind(republic_day) == wc.WORKING
    assert off(D(2026, 11, 4), kazan) and not off(D(2026, 11, 4), kazan_north)
    # Nationwide rows still apply to a branch without its own row.
    assert wc.day_kind(D(2026, 11, 3), branch=kazan) == wc.SHORTENED
    assert wc.add_working_days(D(2026, 11, 5), 1, branch=kazan) == D(2026, 11, 9)
    assert wc.add_working_days(D(2026, 11, 5), 1, branch=kazan_north) == D(2026, 11, 6)


def test_branch_in_another_time_zone(ekb_branch: Branch):
    opens, closes = wc.working_hours_on(D(2026, 10, 19), branch=ekb_branch)
    assert (opens, closes) == (dt.datetime(2026, 10, 19, 9, tzinfo=YEKT),
                               dt.datetime(2026, 10, 19, 18, tzinfo=YEKT))
    assert opens == msk(2026, 10, 19, 7)
    # Friday 16:00 Moscow is 18:00 in Yekaterinburg: that office has closed.
    came_in = msk(2026, 10, 16, 16)
    assert wc.add_working_time(came_in, H, branch=ekb_branch) == msk(2026, 10, 19, 8)
    assert wc.add_working_time(came_in, H) == msk(2026, 10, 16, 17)
    monday_noon = msk(2026, 10, 19, 12)
    assert wc.working_time_between(came_in, monday_noon, branch=ekb_branch) == 5 * H
    assert wc.working_time_between(came_in, monday_noon) == 5 * H  # 2 h Fri + 3 h Mon


def test_branch_hours(city: City):
    short = Branch.objects.create(city=city, name="Пункт выдачи", work_start=dt.time(10),
                                  work_end=dt.time(14))
    assert wc.working_hours_on(D(2026, 11, 3), branch=short) == (
        msk(2026, 11, 3, 10), msk(2026, 11, 3, 13),
    )
    assert wc.add_working_time(msk(2026, 11, 2, 13), 5 * H, branch=short) == msk(2026, 11, 5, 11)


# Admin ---------------------------------------------------------------------------------


def test_calendar_admin(rf, admin_user):
    model_admin = CalendarDayAdmin(CalendarDay, AdminSite())
    assert model_admin.check() == []
    request = rf.get("/", {"year": "2027", "kind": "shortened"})
    request.user = admin_user
    changelist = model_admin.get_changelist_instance(request)
    assert [row.date for row in changelist.get_queryset(request)] == [
        D(2027, 2, 20), D(2027, 4, 30), D(2027, 6, 11), D(2027, 11, 3),
    ]
    year_filter = next(f for f in changelist.filter_specs if isinstance(f, YearListFilter))
    assert [value for value, _ in year_filter.lookup_choices] == [
        "2027", "2026", "2025", "2024",
    ]
    assert model_admin.weekday(CalendarDay(date=D(2027, 2, 20))) == "Суббота"
