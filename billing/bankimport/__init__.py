"""Reading bank statements: a small parser interface (``base``) and the formats we read.
Importing this package registers every built-in format."""

from . import client_bank_1c
from .base import (
    ParsedDocument,
    ParsedStatement,
    StatementError,
    StatementParser,
    formats,
    parser_for,
    register,
)

__all__ = [
    "ParsedDocument", "ParsedStatement", "StatementError", "StatementParser", "client_bank_1c",
    "formats", "parser_for", "register",
]
