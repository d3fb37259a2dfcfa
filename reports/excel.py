"""The one Excel writer every report and export uses (D14).

A report describes its sheets — columns with a kind, and rows of plain Python values — and
``write_xlsx`` streams them into an .xlsx file in openpyxl's write-only mode, so memory stays
flat whether a sheet has ten rows or a hundred thousand (rows may be a generator over a
``.iterator()`` queryset; nothing is collected into a list).

What the file looks like:

* the header row is bold, frozen (it stays on screen when scrolling) and carries an
  autofilter over the whole table;
* each column has a width (given, or a default by kind, never narrower than its title);
* cells are typed: numbers are numbers, dates are dates, so the accountant can sum and sort.
  Formats are Russian-style — Excel shows the separators of the user's locale, so
  ``#,##0.00`` reads ``1 234,50`` on a Russian Windows:

  ========  ====================  =========================================================
  kind      value                 shown as
  ========  ====================  =========================================================
  text      str (anything else    as is; a text starting with ``= + - @``, tab or CR is a
            is turned into str)   plain text cell with Excel's quote prefix, never a formula
  int       int                   ``#,##0``
  decimal   Decimal/int/float     ``#,##0.00``
  money     Decimal (roubles)     ``#,##0.00 ₽`` — a numeric cell
  percent   **a percent number**  ``0.0"%"`` — the value 12.5 means 12.5 % and is shown
            (12.5, not 0.125)     "12.5%"; the cell holds 12.5, so sums and averages of the
                                  column are in percent points. Selectors return percents
                                  this way, so reports pass them through unchanged.
  date      date (a datetime is   ``DD.MM.YYYY``
            taken in local time)
  datetime  datetime              ``DD.MM.YYYY HH:MM``; an aware datetime is converted to the
                                  local time zone (settings.TIME_ZONE) and made naive —
                                  Excel has no time zones
  bool      bool                  TRUE/FALSE (Excel shows them in the user's language)
  ========  ====================  =========================================================

``None`` is an empty cell in any column. A value of an unexpected type in a typed column
(say, a text "—" in a money column) is written as text rather than failing the whole file.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import tempfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from django.http import FileResponse, HttpResponse
from django.utils import timezone
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

KINDS = ("text", "int", "decimal", "money", "percent", "date", "datetime", "bool")

NUMBER_FORMATS = {
    "text": "@",
    "int": "#,##0",
    "decimal": "#,##0.00",
    "money": '#,##0.00\\ "₽"',
    "percent": '0.0"%"',
    "date": "DD.MM.YYYY",
    "datetime": "DD.MM.YYYY HH:MM",
    "bool": "General",
}

# Widths in Excel's character units when a column gives none.
DEFAULT_WIDTHS = {
    "text": 24, "int": 10, "decimal": 14, "money": 16, "percent": 9,
    "date": 12, "datetime": 17, "bool": 8,
}

# A text starting with one of these is a formula to Excel (or to LibreOffice on CSV/paste).
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")

SHEET_TITLE_FORBIDDEN = re.compile(r"[\[\]:*?/\\]")


@dataclass(frozen=True)
class Column:
    title: str
    kind: str = "text"
    width: int | None = None

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValueError(f"Unknown column kind {self.kind!r}; one of {', '.join(KINDS)}")

    @property
    def excel_width(self) -> float:
        """The given width, else the kind's default; at least the title plus room for the
        autofilter arrow."""
        if self.width is not None:
            return self.width
        return max(DEFAULT_WIDTHS[self.kind], len(str(self.title)) + 4)


@dataclass
class Sheet:
    title: str
    columns: list[Column]
    rows: Iterable[Sequence] = field(default_factory=list)


def sheet_title(title: str, taken: set[str]) -> str:
    """Excel's rules: at most 31 characters, none of ``[]:*?/\\``, unique in the workbook."""
    base = SHEET_TITLE_FORBIDDEN.sub(" ", str(title)).strip().strip("'")[:31] or "Sheet"
    name, n = base, 2
    while name.lower() in taken:
        suffix = f" ({n})"
        name = base[:31 - len(suffix)] + suffix
        n += 1
    taken.add(name.lower())
    return name


def clean_text(value) -> str:
    """Characters XML cannot hold (control characters other than tab/CR/LF) are dropped."""
    return ILLEGAL_CHARACTERS_RE.sub("", str(value))


def is_formula_like(text: str) -> bool:
    return text.startswith(FORMULA_TRIGGERS)


def local_naive(value: dt.datetime) -> dt.datetime:
    if timezone.is_aware(value):
        value = timezone.localtime(value)
    return value.replace(tzinfo=None)


class _SheetWriter:
    """Turns one sheet's values into cells. A converter per column is chosen once, and the
    column's style array is computed once and shared by its cells, so a cell costs one small
    object and no style look-up."""

    def __init__(self, ws, columns: list[Column]):
        self.ws = ws
        self.columns = columns
        self.quoted_style = self._style("General", quote=True)
        self.converters = [self._converter(c.kind, self._style(NUMBER_FORMATS[c.kind]))
                           for c in columns]

    def _style(self, number_format: str, quote: bool = False):
        cell = WriteOnlyCell(self.ws)
        cell.number_format = number_format
        if quote:
            # Excel's quote prefix: the cell stays text even when the user edits it.
            cell.quotePrefix = True
        return cell._style

    def _cell(self, value, style):
        cell = WriteOnlyCell(self.ws, value)
        cell._style = style
        return cell

    def text(self, value):
        text = value if type(value) is str else str(value)
        if ILLEGAL_CHARACTERS_RE.search(text):
            text = ILLEGAL_CHARACTERS_RE.sub("", text)
        if text.startswith(FORMULA_TRIGGERS):
            cell = WriteOnlyCell(self.ws, text)
            cell.data_type = "s"  # openpyxl makes "=…" a formula; here it is text
            cell._style = self.quoted_style
            return cell
        return text  # a plain str is written as a string cell without a style

    def _converter(self, kind: str, style) -> Callable:
        text, cell = self.text, self._cell

        def as_text(value):
            return None if value is None or value == "" else text(value)

        def as_number(value):
            if value is None or value == "":
                return None
            if (type(value) is bool or not isinstance(value, (int, float, Decimal))
                    or (isinstance(value, Decimal) and not value.is_finite())):
                return text(value)
            return cell(value, style)

        def as_bool(value):
            if value is None or value == "":
                return None
            return bool(value) if isinstance(value, int) else text(value)

        def as_date(value):
            if value is None or value == "":
                return None
            if isinstance(value, dt.datetime):
                value = local_naive(value).date()
            elif not isinstance(value, dt.date):
                return text(value)
            return cell(value, style)

        def as_datetime(value):
            if value is None or value == "":
                return None
            if isinstance(value, dt.datetime):
                value = local_naive(value)
            elif isinstance(value, dt.date):
                value = dt.datetime.combine(value, dt.time())
            else:
                return text(value)
            return cell(value, style)

        return {"text": as_text, "bool": as_bool, "date": as_date,
                "datetime": as_datetime}.get(kind, as_number)

    def header(self):
        out = []
        font = Font(bold=True)
        fill = PatternFill("solid", fgColor="E9ECEF")
        align = Alignment(vertical="center", wrap_text=True)
        for column in self.columns:
            cell = WriteOnlyCell(self.ws, clean_text(column.title))
            cell.font, cell.fill, cell.alignment = font, fill, align
            if isinstance(cell.value, str) and is_formula_like(cell.value):
                cell.data_type = "s"  # a title may be a user's text too (a tariff's name)
                cell.quotePrefix = True
            out.append(cell)
        return out

    def row(self, values: Sequence) -> list:
        return [convert(value) for convert, value in zip(self.converters, values, strict=False)]


def write_xlsx(sheets: Iterable[Sheet], target, on_progress: Callable[[int], None] | None = None,
               every: int = 1000) -> int:
    """Write the sheets to ``target`` (a path or a binary file object) and return the number
    of data rows written (headers not counted).

    Rows are consumed one at a time and written straight to disk (write-only workbook), so a
    generator over a queryset's ``.iterator()`` is never held in memory. ``on_progress(rows)``
    is called every ``every`` rows (over all sheets) and once at the end — the export task
    uses it to move its progress bar.
    """
    wb = Workbook(write_only=True)
    taken: set[str] = set()
    done = 0
    for sheet in sheets:
        ws = wb.create_sheet(sheet_title(sheet.title, taken))
        columns = list(sheet.columns)
        # In write-only mode the layout goes before the first row: widths and frozen pane are
        # written at the top of the sheet's XML. The autofilter is written in the sheet's tail
        # at save, so it is set after the rows, when the last row is known.
        for index, column in enumerate(columns, 1):
            ws.column_dimensions[get_column_letter(index)].width = column.excel_width
        ws.freeze_panes = "A2"
        writer = _SheetWriter(ws, columns)
        ws.append(writer.header())
        last_row = 1
        for values in sheet.rows:
            ws.append(writer.row(values))
            last_row += 1
            done += 1
            if on_progress is not None and done % every == 0:
                on_progress(done)
        if columns:
            ws.auto_filter.ref = f"A1:{get_column_letter(len(columns))}{last_row}"
    if not wb.worksheets:
        wb.create_sheet("Sheet")
    wb.save(target)
    if on_progress is not None:
        on_progress(done)
    return done


def xlsx_filename(name: str) -> str:
    """A safe file name ending in .xlsx (the browser gets it in Content-Disposition)."""
    name = re.sub(r'[\\/:*?"<>|\r\n\t]+', "_", str(name)).strip(" ._") or "export"
    return name if name.lower().endswith(".xlsx") else f"{name}.xlsx"


def xlsx_response(filename: str, sheets: Iterable[Sheet]) -> HttpResponse:
    """A download of the sheets, for a report page's "Excel" button (``?format=xlsx``).

    The workbook is built into a temporary file (not in memory) that is streamed out and
    deleted when the response is closed."""
    handle = tempfile.TemporaryFile(suffix=".xlsx")  # noqa: SIM115 - closed by the response
    try:
        write_xlsx(sheets, handle)
        handle.seek(0, os.SEEK_SET)
    except BaseException:
        handle.close()
        raise
    response = FileResponse(handle, as_attachment=True, filename=xlsx_filename(filename),
                            content_type=XLSX_CONTENT_TYPE)
    response["Cache-Control"] = "private, no-store"
    return response
