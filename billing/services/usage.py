"""Traffic usage import (R5): daily bytes per account from the NetFlow/RADIUS collector.

All or nothing: every row is checked before anything is written — unknown account, bad date,
a day in the future, bytes that are not a whole number ≥ 0, the same account and day twice in
one batch — and one ValidationError lists the rows (numbered from 1, or as ``row_numbers``
says) and what is wrong with each; nothing is imported then.

Idempotent: a row is an upsert on (account, day), so a day sent again replaces the figures
sent before (the collector may resend a corrected day), never adds to them."""

import datetime as dt
from collections.abc import Iterable, Mapping

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.dateparse import parse_date
from django.utils.translation import gettext as _

from billing.models import Account, Usage

FIELDS = ("account", "day", "bytes_in", "bytes_out")
MAX_API_ROWS = 10_000  # rows per POST /api/v1/usage/
MAX_REPORTED = 100  # rows with errors listed in one ValidationError; the rest are counted
MAX_BYTES = 2**63 - 1  # PositiveBigIntegerField
_LOOKUP_CHUNK = 900  # account numbers per query (SQLite's parameter limit)
_BATCH = 1000


def usage_import(rows: Iterable, *, row_numbers: list[int] | None = None,
                 today: dt.date | None = None) -> int:
    """Record ``rows`` — mappings with ``account`` (number), ``day`` (``YYYY-MM-DD`` or a
    date), ``bytes_in`` and ``bytes_out`` (whole numbers ≥ 0, or their digits as text), or
    4-item sequences in that order — and return how many were recorded. ``row_numbers``: what
    to call each row in the errors (a file's line numbers); by default 1, 2, 3…"""
    today = today or timezone.localdate()
    rows = [_as_dict(row) for row in rows]
    row_numbers = row_numbers or range(1, len(rows) + 1)
    # A list, not a set: a hostile "account" may be unhashable (_account_ids skips it).
    accounts = _account_ids([row["account"] for row in rows if isinstance(row, dict)])
    errors: list[str] = []
    seen: dict[tuple[int, dt.date], int] = {}
    records = []
    for number, row in zip(row_numbers, rows, strict=True):
        problems, record = _check(row, accounts, today)
        if record is not None:
            key = (record.account_id, record.day)
            if key in seen:
                problems.append(_("account %(account)s and day %(day)s repeat row %(row)s")
                                % {"account": row["account"], "day": record.day.isoformat(),
                                   "row": seen[key]})
            else:
                seen[key] = number
        if problems:
            errors.append(_("Row %(row)s: %(problems)s.")
                          % {"row": number, "problems": "; ".join(problems)})
        elif record is not None:
            records.append(record)
    if errors:
        error = ValidationError(_reported(errors), code="invalid_usage")
        error.bad_rows = len(errors)  # all of them, also those not listed
        raise error
    with transaction.atomic():
        Usage.objects.bulk_create(records, batch_size=_BATCH, update_conflicts=True,
                                  unique_fields=["account", "day"],
                                  update_fields=["bytes_in", "bytes_out"])
    return len(records)


def _as_dict(row):
    """A mapping as it is, a 4-item sequence as a mapping; anything else as None."""
    if isinstance(row, Mapping):
        return {key: row.get(key) for key in FIELDS}
    if isinstance(row, list | tuple) and len(row) == len(FIELDS):
        return dict(zip(FIELDS, row, strict=True))
    return None


def _account_ids(numbers) -> dict[str, int]:
    """{number: account id} of the known ones among ``numbers`` (text, stripped)."""
    # NUL is in no account number, and PostgreSQL refuses it even in a lookup.
    wanted = sorted({str(n).strip() for n in numbers
                     if isinstance(n, str | int) and "\x00" not in str(n)} - {""})
    found = {}
    for start in range(0, len(wanted), _LOOKUP_CHUNK):
        found.update(Account.objects.filter(number__in=wanted[start:start + _LOOKUP_CHUNK])
                     .values_list("number", "pk"))
    return found


def _check(row, accounts: dict[str, int], today: dt.date) -> tuple[list[str], Usage | None]:
    """(what is wrong with the row, the record it makes when its account and day are good)."""
    if row is None:
        return [_("not a row of account, day, bytes_in, bytes_out")], None
    problems = []
    number = row["account"]
    account_id = None
    if not isinstance(number, str | int) or not str(number).strip():
        problems.append(_("no account number"))
    else:
        number = str(number).strip()
        account_id = accounts.get(number)
        if account_id is None:
            problems.append(_("unknown account %(account)s") % {"account": number[:40]})
    day = _day(row["day"])
    if day is None:
        problems.append(_("day %(day)s is not a date (YYYY-MM-DD)")
                        % {"day": str(row["day"])[:40]})
    elif day > today:
        problems.append(_("day %(day)s is in the future") % {"day": day.isoformat()})
    counts = {}
    for field in ("bytes_in", "bytes_out"):
        counts[field] = _bytes(row[field])
        if counts[field] is None:
            problems.append(_("%(field)s must be a whole number of bytes, 0 or more")
                            % {"field": field})
    if account_id is None or day is None:
        return problems, None
    return problems, Usage(account_id=account_id, day=day, bytes_in=counts["bytes_in"] or 0,
                           bytes_out=counts["bytes_out"] or 0)


def _day(value) -> dt.date | None:
    if isinstance(value, dt.datetime):
        return None  # a moment, not a day
    if isinstance(value, dt.date):
        return value
    if not isinstance(value, str):
        return None
    try:
        return parse_date(value.strip())
    except ValueError:  # well formed, but no such day (2026-02-30)
        return None


def _bytes(value) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, str):
        value = value.strip()
        if not value.isascii() or not value.isdigit():
            return None
        value = int(value)
    if not isinstance(value, int) or not 0 <= value <= MAX_BYTES:
        return None
    return value


def _reported(errors: list[str]) -> list[str]:
    if len(errors) <= MAX_REPORTED:
        return errors
    rest = len(errors) - MAX_REPORTED
    return [*errors[:MAX_REPORTED],
            _("…and %(n)s more rows with errors.") % {"n": rest}]
