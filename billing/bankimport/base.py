"""The shape every bank-statement format is parsed into, and the registry of formats.

A format is one class: a ``StatementParser`` subclass with a ``format_name``, a ``sniff()``
that recognises its files and a strict ``parse()``. Registering it with ``@register`` makes
``parser_for()`` offer it for uploads; a per-bank CSV profile would be a subclass configured
with that bank's columns and registered under its own name."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from django.utils.translation import gettext as _


class StatementError(Exception):
    """The file is not a well-formed statement. ``line`` is 1-based (None: the whole file);
    ``reason`` is a translated sentence for the accountant."""

    def __init__(self, line: int | None, reason: str):
        super().__init__(line, reason)
        self.line = line
        self.reason = reason

    def __str__(self) -> str:
        if self.line is None:
            return self.reason
        return _("Line %(line)s: %(reason)s") % {"line": self.line, "reason": self.reason}


@dataclass(frozen=True)
class ParsedDocument:
    """One payment document of a statement, as the bank wrote it."""

    line: int  # where the document starts in the file
    kind: str  # e.g. «Платежное поручение», «Банковский ордер»
    number: str
    date: date
    amount: Decimal
    payer_name: str = ""
    payer_inn: str = ""
    payer_account: str = ""
    recipient_account: str = ""
    purpose: str = ""
    fields: dict[str, str] = field(default_factory=dict, compare=False, repr=False)


@dataclass(frozen=True)
class ParsedStatement:
    format_name: str
    our_account: str  # the (first) account of ours the statement is for
    date_from: date | None
    date_to: date | None
    documents: list[ParsedDocument]
    # Every account of ours the file covers (a statement may hold several).
    our_accounts: frozenset[str] = frozenset()
    encoding: str = ""

    def incoming(self) -> list[ParsedDocument]:
        """Documents that pay money in: the recipient is one of our accounts."""
        ours = self.our_accounts or frozenset({self.our_account})
        return [doc for doc in self.documents if doc.recipient_account in ours]


class StatementParser(ABC):
    """One statement format. Subclasses set ``format_name`` (stored on BankStatement.format,
    at most 30 characters) and ``label`` (shown to people)."""

    format_name: str = ""
    label: str = ""

    @classmethod
    @abstractmethod
    def sniff(cls, data: bytes) -> bool:
        """True if ``data`` looks like this format (cheap: the first bytes)."""

    @abstractmethod
    def parse(self, data: bytes) -> ParsedStatement:
        """The whole statement, or StatementError naming the first bad line."""


_PARSERS: dict[str, type[StatementParser]] = {}


def register(parser_class: type[StatementParser]) -> type[StatementParser]:
    """Class decorator: offer this format for uploads."""
    if not parser_class.format_name:
        raise ValueError(f"{parser_class.__name__} has no format_name")
    _PARSERS[parser_class.format_name] = parser_class
    return parser_class


def formats() -> dict[str, type[StatementParser]]:
    return dict(_PARSERS)


def parser_for(data: bytes, format_name: str | None = None) -> StatementParser:
    """The parser named by ``format_name``, or the first registered one that recognises the
    file. StatementError when none does."""
    if format_name:
        try:
            return _PARSERS[format_name]()
        except KeyError:
            raise StatementError(None, _("Unknown statement format: %(name)s.")
                                 % {"name": format_name}) from None
    for parser_class in _PARSERS.values():
        if parser_class.sniff(data):
            return parser_class()
    raise StatementError(1, _("This is not a bank statement in a known format (expected "
                              "%(formats)s).")
                         % {"formats": ", ".join(p.label or p.format_name
                                                 for p in _PARSERS.values())})
