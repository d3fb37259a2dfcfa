"""Seed the nationwide Russian production calendar for 2024–2027.

Only exceptions to "Monday–Friday work, Saturday–Sunday rest" are stored (see
ispcrm.models.calendar). Official holidays that fall on a weekend are stored as ``holiday``
too, for display; they change nothing in the arithmetic. A transferred working Saturday that
is also pre-holiday is stored as ``shortened`` (one row per date; ``shortened`` implies a
working day).

Sources:
- 2024: Government decree No. 1314 of 10.08.2023 "О переносе выходных дней в 2024 году".
  248 working days, 1979 hours (40-hour week).
- 2025: Government decree No. 1335 of 04.10.2024. 247 days, 1972 hours.
- 2026: Government decree No. 1466 of 24.09.2025. 247 days, 1972 hours. Mar 8 (Sun) -> Mar 9
  and May 9 (Sat) -> May 11 follow Labour Code art. 112 directly, not the decree.
- 2027: Government decree No. 1187 of 17.09.2026, published 18.09.2026 on
  publication.pravo.gov.ru (No. 0001202609180037). 247 days, 1972 hours.
  Confirmed from the decree as quoted by several independent calendar data sets
  (ConsultantPlus-derived); the decree text itself was not read, so admins should check it:
    * decree: Jan 2 (Sat) -> Nov 5 (Fri); Jan 3 (Sun) -> Dec 31 (Fri);
      Feb 20 (Sat) is a working, shortened day, its day off moved to Feb 22 (Mon);
    * Labour Code art. 112 (weekend holiday -> next working day), not the decree:
      May 1 (Sat) -> May 3, May 9 (Sun) -> May 10, Jun 12 (Sat) -> Jun 14;
    * Labour Code art. 95 (pre-holiday days): Feb 20, Apr 30, Jun 11, Nov 3 shortened.
  A December 2025 press forecast (Nov 4–7 off, Saturday Nov 13 working) was NOT adopted:
  Nov 5 is off by the January transfer and Nov 13 is an ordinary Saturday.

Seeded rows get a "created" history row (bulk_create bypasses simple-history's signals) so
the admin history page shows where they came from. Reverse deletes the nationwide rows on
these dates and those history rows.
"""

import datetime

from django.db import migrations
from django.utils import timezone

H, W, S = "holiday", "working", "shortened"
SEED_REASON = "Начальное заполнение по постановлениям (миграция 0003)"

NY = "Новогодние каникулы"
XMAS = "Рождество Христово"
FEB23 = "День защитника Отечества"
MAR8 = "Международный женский день"
MAY1 = "Праздник Весны и Труда"
MAY9 = "День Победы"
JUN12 = "День России"
NOV4 = "День народного единства"
PRE = "Предпраздничный день, на час короче"
TK112 = "ст. 112 ТК РФ"


def _new_year(year: int, decree: str, moved: dict[int, str]) -> list[tuple]:
    """Jan 1–8; `moved` maps a weekend day of the holidays to where the decree moved it."""
    rows = []
    for day in range(1, 9):
        note = XMAS if day == 7 else NY
        if day in moved:
            note += f" (выходной перенесён на {moved[day]}, {decree})"
        rows.append((datetime.date(year, 1, day), H, note))
    return rows


def _rows() -> list[tuple[datetime.date, str, str]]:
    d = datetime.date
    p24 = "постановление № 1314 от 10.08.2023"
    p25 = "постановление № 1335 от 04.10.2024"
    p26 = "постановление № 1466 от 24.09.2025"
    p27 = "постановление № 1187 от 17.09.2026"
    return [
        # 2024
        *_new_year(2024, p24, {6: "10 мая", 7: "31 декабря"}),
        (d(2024, 2, 22), S, PRE),
        (d(2024, 2, 23), H, FEB23),
        (d(2024, 3, 7), S, PRE),
        (d(2024, 3, 8), H, MAR8),
        (d(2024, 4, 27), W, f"Рабочая суббота, выходной перенесён на 29 апреля ({p24})"),
        (d(2024, 4, 29), H, f"Перенос с 27 апреля ({p24})"),
        (d(2024, 4, 30), H, f"Перенос со 2 ноября ({p24})"),
        (d(2024, 5, 1), H, MAY1),
        (d(2024, 5, 8), S, PRE),
        (d(2024, 5, 9), H, MAY9),
        (d(2024, 5, 10), H, f"Перенос с 6 января ({p24})"),
        (d(2024, 6, 11), S, PRE),
        (d(2024, 6, 12), H, JUN12),
        (d(2024, 11, 2), S,
         f"Рабочая суббота, предпраздничная; выходной перенесён на 30 апреля ({p24})"),
        (d(2024, 11, 4), H, NOV4),
        (d(2024, 12, 28), W, f"Рабочая суббота, выходной перенесён на 30 декабря ({p24})"),
        (d(2024, 12, 30), H, f"Перенос с 28 декабря ({p24})"),
        (d(2024, 12, 31), H, f"Перенос с 7 января ({p24})"),
        # 2025
        *_new_year(2025, p25, {4: "2 мая", 5: "31 декабря"}),
        (d(2025, 2, 23), H, f"{FEB23} (воскресенье; выходной перенесён на 8 мая, {p25})"),
        (d(2025, 3, 7), S, PRE),
        (d(2025, 3, 8), H, f"{MAR8} (суббота; выходной перенесён на 13 июня, {p25})"),
        (d(2025, 4, 30), S, PRE),
        (d(2025, 5, 1), H, MAY1),
        (d(2025, 5, 2), H, f"Перенос с 4 января ({p25})"),
        (d(2025, 5, 8), H, f"Перенос с 23 февраля ({p25})"),
        (d(2025, 5, 9), H, MAY9),
        (d(2025, 6, 11), S, PRE),
        (d(2025, 6, 12), H, JUN12),
        (d(2025, 6, 13), H, f"Перенос с 8 марта ({p25})"),
        (d(2025, 11, 1), S,
         f"Рабочая суббота, предпраздничная; выходной перенесён на 3 ноября ({p25})"),
        (d(2025, 11, 3), H, f"Перенос с 1 ноября ({p25})"),
        (d(2025, 11, 4), H, NOV4),
        (d(2025, 12, 31), H, f"Перенос с 5 января ({p25})"),
        # 2026
        *_new_year(2026, p26, {3: "9 января", 4: "31 декабря"}),
        (d(2026, 1, 9), H, f"Перенос с 3 января ({p26})"),
        (d(2026, 2, 23), H, FEB23),
        (d(2026, 3, 8), H, f"{MAR8} (воскресенье)"),
        (d(2026, 3, 9), H, f"Перенос с 8 марта ({TK112})"),
        (d(2026, 4, 30), S, PRE),
        (d(2026, 5, 1), H, MAY1),
        (d(2026, 5, 8), S, PRE),
        (d(2026, 5, 9), H, f"{MAY9} (суббота)"),
        (d(2026, 5, 11), H, f"Перенос с 9 мая ({TK112})"),
        (d(2026, 6, 11), S, PRE),
        (d(2026, 6, 12), H, JUN12),
        (d(2026, 11, 3), S, PRE),
        (d(2026, 11, 4), H, NOV4),
        (d(2026, 12, 31), H, f"Перенос с 4 января ({p26})"),
        # 2027
        *_new_year(2027, p27, {2: "5 ноября", 3: "31 декабря"}),
        (d(2027, 2, 20), S,
         f"Рабочая суббота, предпраздничная; выходной перенесён на 22 февраля ({p27})"),
        (d(2027, 2, 22), H, f"Перенос с 20 февраля ({p27})"),
        (d(2027, 2, 23), H, FEB23),
        (d(2027, 3, 8), H, MAR8),
        (d(2027, 4, 30), S, PRE),
        (d(2027, 5, 1), H, f"{MAY1} (суббота)"),
        (d(2027, 5, 3), H, f"Перенос с 1 мая ({TK112})"),
        (d(2027, 5, 9), H, f"{MAY9} (воскресенье)"),
        (d(2027, 5, 10), H, f"Перенос с 9 мая ({TK112})"),
        (d(2027, 6, 11), S, PRE),
        (d(2027, 6, 12), H, f"{JUN12} (суббота)"),
        (d(2027, 6, 14), H, f"Перенос с 12 июня ({TK112})"),
        (d(2027, 11, 3), S, PRE),
        (d(2027, 11, 4), H, NOV4),
        (d(2027, 11, 5), H, f"Перенос со 2 января ({p27})"),
        (d(2027, 12, 31), H, f"Перенос с 3 января ({p27})"),
    ]


def seed(apps, schema_editor):
    CalendarDay = apps.get_model("ispcrm", "CalendarDay")
    HistoricalCalendarDay = apps.get_model("ispcrm", "HistoricalCalendarDay")
    rows = _rows()
    dates = [row[0] for row in rows]
    # Keep rows an admin may already have entered for these dates.
    existing = set(
        CalendarDay.objects.filter(branch__isnull=True, date__in=dates)
        .values_list("date", flat=True)
    )
    CalendarDay.objects.bulk_create(
        CalendarDay(date=day, kind=kind, note=note)
        for day, kind, note in rows
        if day not in existing
    )
    now = timezone.now()
    HistoricalCalendarDay.objects.bulk_create(
        HistoricalCalendarDay(
            id=row.pk, date=row.date, kind=row.kind, note=row.note, branch_id=None,
            history_date=now, history_type="+", history_change_reason=SEED_REASON,
        )
        for row in CalendarDay.objects.filter(branch__isnull=True, date__in=dates)
        .exclude(date__in=existing)
    )


def unseed(apps, schema_editor):
    CalendarDay = apps.get_model("ispcrm", "CalendarDay")
    HistoricalCalendarDay = apps.get_model("ispcrm", "HistoricalCalendarDay")
    dates = [row[0] for row in _rows()]
    CalendarDay.objects.filter(branch__isnull=True, date__in=dates).delete()
    HistoricalCalendarDay.objects.filter(history_change_reason=SEED_REASON).delete()


class Migration(migrations.Migration):
    dependencies = [("ispcrm", "0002_roles")]

    operations = [migrations.RunPython(seed, unseed)]
