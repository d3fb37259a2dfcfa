"""Our own reader of ``1CClientBankExchange`` (the bank-client ↔ 1C exchange text format).

The file: the line ``1CClientBankExchange``; a header of ``key=value`` lines
(``ВерсияФормата``, ``Кодировка``, ``РасчСчет``, ``ДатаНачала``…); ``СекцияРасчСчет`` …
``КонецРасчСчет`` blocks with balances; ``СекцияДокумент=<kind>`` … ``КонецДокумента``
blocks, one per payment document; ``КонецФайла``. ``Кодировка=Windows`` means cp1251,
``DOS`` means cp866. CRLF and LF line ends are both accepted.

Strict on purpose: money is credited from this file, so anything we cannot read with
certainty (a truncated file, a line without ``=`` inside a section, an unreadable amount or
date, a document without its number) stops the import with the line number, and nothing from
the file is imported. The public ``client-bank-1c`` package is not used: it breaks on str and
CRLF input (docs/ARCHITECTURE.md, library table).
"""

from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

from django.utils.translation import gettext as _

from .base import ParsedDocument, ParsedStatement, StatementError, StatementParser, register

MAGIC = b"1CClientBankExchange"
UTF8_BOM = b"\xef\xbb\xbf"
ENCODING_KEY = "Кодировка"
ENCODINGS = {"windows": "cp1251", "dos": "cp866"}
ENCODING_LABELS = {"cp1251": "Windows-1251", "cp866": "DOS (866)", "utf-8": "UTF-8"}

SECTION_ACCOUNT = "СекцияРасчСчет"
END_ACCOUNT = "КонецРасчСчет"
SECTION_DOCUMENT = "СекцияДокумент"
END_DOCUMENT = "КонецДокумента"
END_FILE = "КонецФайла"

AMOUNT_RE = re.compile(r"^\d{1,12}(?:[.,]\d{1,2})?$")
DATE_FORMAT = "%d.%m.%Y"
PURPOSE_PARTS = tuple(f"НазначениеПлатежа{n}" for n in range(1, 7))


def _split(raw: bytes) -> list[bytes]:
    """Lines without their CRLF or LF end."""
    lines = raw.split(b"\n")
    return [line[:-1] if line.endswith(b"\r") else line for line in lines]


def _utf8_refused() -> str:
    return _("The file is in UTF-8, but a 1CClientBankExchange statement must be in "
             "Windows-1251 or DOS (866) encoding. Upload the file exactly as the bank client "
             "exported it, without opening and re-saving it in an editor.")


def _detect_encoding(lines: list[bytes]) -> str:
    """Find ``Кодировка=`` by its bytes in each candidate encoding: the header is
    ASCII-compatible, so the key's own bytes tell how the file is really written, and the
    value tells what it claims. A file re-saved as UTF-8 (the key's UTF-8 bytes) is refused:
    1C itself would not load it, and the accountant should upload what the bank gave."""
    keys = {encoding: ENCODING_KEY.encode(encoding) for encoding in ("cp1251", "cp866", "utf-8")}
    for number, line in enumerate(lines, start=1):
        key, sep, value = line.partition(b"=")
        if not sep:
            continue
        key = key.strip()
        written_in = next((enc for enc, key_bytes in keys.items() if key == key_bytes), None)
        if written_in is None:
            continue
        if written_in == "utf-8":
            raise StatementError(number, _utf8_refused())
        claimed = value.decode(written_in).strip()
        encoding = ENCODINGS.get(claimed.casefold())
        if encoding is None:
            raise StatementError(number, _(
                "Unknown encoding «%(value)s»: Кодировка must be Windows or DOS.")
                % {"value": claimed})
        if encoding != written_in:
            raise StatementError(number, _(
                "The file says Кодировка=%(claimed)s but is written in %(actual)s.")
                % {"claimed": claimed, "actual": ENCODING_LABELS[written_in]})
        return encoding
    raise StatementError(None, _(
        "The header has no readable Кодировка= line (Windows or DOS); the file may be in "
        "another encoding or not a 1CClientBankExchange statement."))


def _parse_date(value: str, line: int, key: str) -> date:
    try:
        return datetime.strptime(value.strip(), DATE_FORMAT).date()
    except ValueError:
        raise StatementError(line, _("%(key)s=%(value)s is not a date (DD.MM.YYYY).")
                             % {"key": key, "value": value}) from None


def _parse_amount(value: str, line: int) -> Decimal:
    text = value.strip().replace(" ", "").replace("\u00a0", "")
    if not AMOUNT_RE.match(text):
        raise StatementError(line, _("Сумма=%(value)s is not an amount (e.g. 1500.00).")
                             % {"value": value})
    try:
        amount = Decimal(text.replace(",", "."))
    except InvalidOperation:  # pragma: no cover - the pattern already ruled it out
        raise StatementError(line, _("Сумма=%(value)s is not an amount (e.g. 1500.00).")
                             % {"value": value}) from None
    if amount <= 0:
        raise StatementError(line, _("Сумма=%(value)s must be more than zero.")
                             % {"value": value})
    return amount


class _Section:
    """The key=value lines of one section with the line each came from."""

    def __init__(self, kind: str, line: int, title: str = ""):
        self.kind = kind
        self.line = line
        self.title = title
        self.values: dict[str, str] = {}
        self.lines: dict[str, int] = {}

    def set(self, key: str, value: str, line: int) -> None:
        self.values[key] = value
        self.lines[key] = line

    def get(self, *keys: str) -> str:
        """The first non-empty value among ``keys`` (format versions name fields apart)."""
        for key in keys:
            value = self.values.get(key, "").strip()
            if value:
                return value
        return ""

    def required(self, key: str) -> tuple[str, int]:
        value = self.values.get(key, "").strip()
        if not value:
            raise StatementError(self.line, _("The document has no %(key)s.") % {"key": key})
        return value, self.lines[key]


@register
class ClientBankExchangeParser(StatementParser):
    format_name = "1CClientBankExchange"
    label = "1CClientBankExchange (1С)"

    @classmethod
    def sniff(cls, data: bytes) -> bool:
        # A UTF-8 byte-order mark is let through so that parse() can explain the encoding.
        return data.removeprefix(UTF8_BOM).lstrip()[:len(MAGIC)] == MAGIC

    def parse(self, data: bytes) -> ParsedStatement:
        raw_lines = _split(data)
        if raw_lines[0].startswith(UTF8_BOM):  # the UTF-8 byte-order mark of an editor
            raise StatementError(1, _utf8_refused())
        if raw_lines[0].strip() != MAGIC:
            raise StatementError(1, _("The first line must be 1CClientBankExchange."))
        encoding = _detect_encoding(raw_lines)
        return self._parse_lines(self._decode(raw_lines, encoding), encoding)

    @staticmethod
    def _decode(raw_lines: list[bytes], encoding: str) -> list[str]:
        lines = []
        for number, raw in enumerate(raw_lines, start=1):
            try:
                lines.append(raw.decode(encoding))
            except UnicodeDecodeError:
                raise StatementError(number, _("The line is not valid %(encoding)s text.")
                                     % {"encoding": ENCODING_LABELS[encoding]}) from None
        return lines

    def _parse_lines(self, lines: list[str], encoding: str) -> ParsedStatement:
        header = _Section("header", 1)
        our_accounts: list[str] = []
        documents: list[ParsedDocument] = []
        section: _Section | None = None
        seen_section = False
        finished = False
        last = 1  # the last line with something on it

        for number, text in enumerate(lines[1:], start=2):
            line = text.strip()
            if not line:
                continue
            last = number
            key, sep, value = line.partition("=")
            key, value = key.strip(), value.strip()

            if section is not None:  # inside СекцияРасчСчет or СекцияДокумент
                end = END_ACCOUNT if section.kind == "account" else END_DOCUMENT
                if line == end:
                    if section.kind == "account":
                        if section.get("РасчСчет"):
                            our_accounts.append(section.get("РасчСчет"))
                    else:
                        documents.append(self._document(section))
                    section = None
                elif key in (SECTION_ACCOUNT, SECTION_DOCUMENT, END_FILE) or line in (
                        SECTION_ACCOUNT, END_ACCOUNT, END_DOCUMENT):
                    raise StatementError(number, self._unclosed(section, end))
                elif not sep:
                    raise StatementError(number, _(
                        "«%(text)s» is not a key=value line.") % {"text": line[:60]})
                else:
                    section.set(key, value, number)
                continue

            if line == END_FILE:
                finished = True
                break  # whatever follows the end mark is not part of the statement
            if line == SECTION_ACCOUNT:
                section, seen_section = _Section("account", number), True
            elif sep and key == SECTION_DOCUMENT:
                section, seen_section = _Section("document", number, value), True
            elif line in (END_ACCOUNT, END_DOCUMENT):
                raise StatementError(number, _("%(mark)s without a section to close.")
                                     % {"mark": line})
            elif not sep:
                raise StatementError(number, _(
                    "«%(text)s» is not a key=value line.") % {"text": line[:60]})
            elif seen_section:
                raise StatementError(number, _(
                    "«%(text)s» is outside any section (after the header).")
                    % {"text": line[:60]})
            else:
                header.set(key, value, number)
                if key == "РасчСчет" and value:
                    our_accounts.append(value)

        if section is not None:
            end = END_ACCOUNT if section.kind == "account" else END_DOCUMENT
            raise StatementError(last, self._unclosed(section, end))
        if not finished:
            raise StatementError(last, _(
                "The file ends without КонецФайла: it is incomplete (cut off in transfer?)."))

        accounts = list(dict.fromkeys(our_accounts))  # unique, in file order
        if not accounts:
            raise StatementError(None, _(
                "The statement names no account of ours (РасчСчет=)."))
        date_from = date_to = None
        if header.get("ДатаНачала"):
            date_from = _parse_date(header.get("ДатаНачала"), header.lines["ДатаНачала"],
                                    "ДатаНачала")
        if header.get("ДатаКонца"):
            date_to = _parse_date(header.get("ДатаКонца"), header.lines["ДатаКонца"],
                                  "ДатаКонца")
        return ParsedStatement(
            format_name=self.format_name, our_account=accounts[0], date_from=date_from,
            date_to=date_to, documents=documents, our_accounts=frozenset(accounts),
            encoding=encoding)

    @staticmethod
    def _unclosed(section: _Section, end: str) -> str:
        return _("The section started at line %(start)s is not closed with %(end)s "
                 "(the file is cut off or damaged).") % {"start": section.line, "end": end}

    @staticmethod
    def _document(section: _Section) -> ParsedDocument:
        doc_number, _line = section.required("Номер")
        date_text, date_line = section.required("Дата")
        amount_text, amount_line = section.required("Сумма")
        purpose = section.get("НазначениеПлатежа") or " ".join(
            part for part in (section.get(key) for key in PURPOSE_PARTS) if part)
        return ParsedDocument(
            line=section.line,
            kind=section.title,
            number=doc_number,
            date=_parse_date(date_text, date_line, "Дата"),
            amount=_parse_amount(amount_text, amount_line),
            payer_name=section.get("Плательщик1", "Плательщик"),
            payer_inn=section.get("ПлательщикИНН"),
            payer_account=section.get("ПлательщикСчет", "ПлательщикРасчСчет"),
            recipient_account=section.get("ПолучательСчет", "ПолучательРасчСчет"),
            purpose=purpose,
            fields=dict(section.values),
        )
