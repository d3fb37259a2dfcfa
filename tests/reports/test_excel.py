"""The shared Excel writer (reports.excel): typed cells with Russian formats, frozen header,
autofilter, widths, formula injection kept as text, and a 100,000-row sheet streamed in
write-only mode. Files are read back with openpyxl."""

import datetime as dt
import re
import zipfile
from decimal import Decimal
from zoneinfo import ZoneInfo

import openpyxl
import pytest
from django.test import override_settings

from reports.excel import (
    NUMBER_FORMATS,
    Column,
    Sheet,
    sheet_title,
    write_xlsx,
    xlsx_filename,
    xlsx_response,
)

COLUMNS = [
    Column("Name"), Column("Count", "int"), Column("Sum", "money"),
    Column("Share", "percent"), Column("Day", "date"), Column("When", "datetime"),
    Column("Flag", "bool"), Column("Ratio", "decimal", width=30),
]


def read(path):
    return openpyxl.load_workbook(path)


@pytest.fixture
def book(tmp_path):
    rows = [
        ["Иванов Иван", 3, Decimal("1234.50"), Decimal("12.5"), dt.date(2026, 3, 1),
         dt.datetime(2026, 3, 1, 9, 0, tzinfo=dt.UTC), True, Decimal("0.333")],
        ["ООО Ромашка", None, Decimal("-40.00"), None, None, None, False, None],
    ]
    path = tmp_path / "t.xlsx"
    assert write_xlsx([Sheet("Clients", COLUMNS, rows)], path) == 2
    return read(path)


def test_header_is_bold_frozen_and_filtered(book):
    ws = book["Clients"]
    assert [c.value for c in ws[1]] == [c.title for c in COLUMNS]
    assert all(c.font.bold for c in ws[1])
    assert ws.freeze_panes == "A2"
    # The filter spans the header and every data row.
    assert ws.auto_filter.ref == "A1:H3"


def test_widths_given_or_by_kind(book):
    ws = book["Clients"]
    assert ws.column_dimensions["A"].width == 24  # text default
    assert ws.column_dimensions["C"].width == 16  # money default
    assert ws.column_dimensions["E"].width == 12  # date default
    assert ws.column_dimensions["H"].width == 30  # given


def test_money_is_a_number_with_the_rouble_format(book):
    cell = book["Clients"]["C2"]
    assert cell.data_type == "n"
    assert cell.value == pytest.approx(1234.5)
    assert cell.number_format == NUMBER_FORMATS["money"] == '#,##0.00\\ "₽"'
    assert book["Clients"]["C3"].value == pytest.approx(-40)


def test_int_percent_decimal_bool(book):
    ws = book["Clients"]
    assert (ws["B2"].value, ws["B2"].number_format) == (3, "#,##0")
    # A percent is the percent number: 12.5 means 12.5 %.
    assert (ws["D2"].value, ws["D2"].number_format) == (12.5, '0.0"%"')
    assert ws["H2"].number_format == "#,##0.00"
    assert (ws["G2"].data_type, ws["G2"].value, ws["G3"].value) == ("b", True, False)
    assert ws["B3"].value is None  # None is an empty cell


def test_dates_are_dates_and_aware_datetimes_local(book):
    ws = book["Clients"]
    day, when = ws["E2"], ws["F2"]
    assert day.is_date and day.value.date() == dt.date(2026, 3, 1)
    assert day.number_format == "DD.MM.YYYY"
    assert when.is_date and when.number_format == "DD.MM.YYYY HH:MM"
    # 09:00 UTC is 12:00 in Moscow (settings.TIME_ZONE); Excel has no zones, so local naive.
    assert when.value == dt.datetime(2026, 3, 1, 12, 0)


@override_settings(TIME_ZONE="Asia/Yekaterinburg")
def test_aware_datetime_follows_the_time_zone_setting(tmp_path):
    moment = dt.datetime(2026, 3, 1, 23, 30, tzinfo=ZoneInfo("Europe/Moscow"))
    path = tmp_path / "tz.xlsx"
    write_xlsx([Sheet("S", [Column("When", "datetime"), Column("Day", "date")],
                      [[moment, moment]])], path)
    ws = read(path).active
    # 23:30 in Moscow is 01:30 the next day in Yekaterinburg (+2 hours).
    assert ws["A2"].value == dt.datetime(2026, 3, 2, 1, 30)
    assert ws["B2"].value.date() == dt.date(2026, 3, 2)


@pytest.mark.parametrize("text", ["=HYPERLINK(\"http://evil\",\"click\")", "+1+2", "-3+4",
                                  "@SUM(A1)", "\tcmd", "\r=1"])
def test_formula_injection_stays_text(tmp_path, text):
    path = tmp_path / "inj.xlsx"
    write_xlsx([Sheet("S", [Column("Name"), Column("Sum", "money")], [[text, text]])], path)
    ws = read(path).active
    for cell in ws[2]:
        assert cell.data_type == "s", cell.coordinate
        assert cell.value == text.replace("\r", "\n")  # XML reads a CR back as LF
        assert cell.quotePrefix  # Excel keeps it text even when the cell is edited
    with zipfile.ZipFile(path) as archive:
        assert "<f>" not in archive.read("xl/worksheets/sheet1.xml").decode()


def test_a_formula_like_title_is_text_too(tmp_path):
    path = tmp_path / "t.xlsx"
    write_xlsx([Sheet("S", [Column("=1+1")], [])], path)
    assert read(path).active["A1"].data_type == "s"


def test_wrong_types_become_text_and_control_characters_are_dropped(tmp_path):
    path = tmp_path / "t.xlsx"
    write_xlsx([Sheet("S", [Column("Sum", "money"), Column("Day", "date"), Column("N")],
                      [["—", "soon", "a\x01b\x1fc"]])], path)
    ws = read(path).active
    assert [(c.value, c.data_type) for c in ws[2]] == [("—", "s"), ("soon", "s"), ("abc", "s")]


def test_several_sheets_with_safe_unique_titles(tmp_path):
    path = tmp_path / "t.xlsx"
    write_xlsx([Sheet("Acts: 03/2026", [Column("A")], [["x"]]),
                Sheet("Acts: 03/2026", [Column("A")], [["y"]]),
                Sheet("A" * 40, [Column("A")], [])], path)
    assert read(path).sheetnames == ["Acts  03 2026", "Acts  03 2026 (2)", "A" * 31]
    assert sheet_title("[x]", set()) == "x"


def test_unknown_kind_is_refused():
    with pytest.raises(ValueError):
        Column("A", "money-ish")


def test_progress_is_reported_every_n_rows_and_at_the_end(tmp_path):
    seen = []
    write_xlsx([Sheet("S", [Column("N", "int")], ([i] for i in range(2500)))],
               tmp_path / "t.xlsx", on_progress=seen.append, every=1000)
    assert seen == [1000, 2000, 2500]


def test_xlsx_response_is_a_download(db):
    response = xlsx_response("Отчёт: март", [Sheet("S", [Column("Sum", "money")],
                                                   [[Decimal("1.00")]])])
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    assert "attachment" in response["Content-Disposition"]
    assert xlsx_filename("Отчёт: март") == "Отчёт_ март.xlsx"
    body = b"".join(response.streaming_content)
    response.close()
    assert body[:2] == b"PK"


def test_100000_rows_stream_in_write_only_mode(tmp_path):
    """A generator of 100,000 synthetic rows (no database): written row by row, never held —
    the memory figure is in bench/excel_export.py (tracemalloc), not timed here."""
    consumed = 0

    def rows():
        nonlocal consumed
        for i in range(100_000):
            consumed += 1
            yield (f"Client {i}", Decimal(i) / 100)

    # Two columns keep the test quick (the cost is per cell); the typed money cell is there.
    sheet = Sheet("Big", [Column("Name"), Column("Sum", "money")], rows())
    path = tmp_path / "big.xlsx"
    assert write_xlsx([sheet], path) == 100_000
    assert consumed == 100_000
    with zipfile.ZipFile(path) as archive, archive.open("xl/worksheets/sheet1.xml") as xml:
        head = xml.read(2000).decode()
        xml.seek(0)
        # The last row and the filter over all of them, read from the file's end.
        tail = b"".join(iter(lambda: xml.read(1 << 20), b""))[-3000:].decode()
    assert 'pane ySplit="1"' in head and 'state="frozen"' in head
    assert re.search(r'<row r="100001"', tail)
    assert '<autoFilter ref="A1:B100001"' in tail
