"""Unicode-aware case folding for the embedded SQLite database.

SQLite's LIKE, lower() and upper() fold ASCII only, so on SQLite «иванов» would not find
«Иванов» and the case-insensitive unique constraints would let «УЛ. ЛЕНИНА» in beside
«ул. Ленина». PostgreSQL gets this right; for the demo mode we register Python versions
of those functions on every SQLite connection."""

import functools
import re

from django.db.backends.signals import connection_created


@functools.lru_cache(maxsize=512)
def _like_regex(pattern: str, escape: str | None) -> re.Pattern:
    parts, i = [], 0
    while i < len(pattern):
        char = pattern[i]
        if escape and char == escape and i + 1 < len(pattern):
            parts.append(re.escape(pattern[i + 1]))
            i += 2
            continue
        parts.append(".*" if char == "%" else "." if char == "_" else re.escape(char))
        i += 1
    return re.compile("".join(parts), re.DOTALL | re.IGNORECASE)


def _like(pattern, value, escape=None):
    if pattern is None or value is None:
        return None
    return _like_regex(str(pattern), escape).fullmatch(str(value)) is not None


def _fold(function):
    return lambda value: function(value) if isinstance(value, str) else value


def _register(sender, connection, **kwargs) -> None:
    if connection.vendor != "sqlite":
        return
    raw = connection.connection
    raw.create_function("LIKE", 2, _like, deterministic=True)
    raw.create_function("LIKE", 3, _like, deterministic=True)
    raw.create_function("LOWER", 1, _fold(str.lower), deterministic=True)
    raw.create_function("UPPER", 1, _fold(str.upper), deterministic=True)


def connect_signals() -> None:
    connection_created.connect(_register, dispatch_uid="ispcrm.sqlite.unicode_case")
