"""Bank statements (D12 "and back"): import a statement, credit what we recognise, queue the
rest for the accountant.

Whole or nothing: a statement is parsed completely before anything is written, and written
in one transaction, so a malformed file (or a failure half-way) leaves no trace.

Idempotent per document: a transfer is unique on (number, date, payer account), and its
payment on ("bank", transfer.external_id). The same statement uploaded twice, or two uploads
of it racing each other, credit each document once: the second transaction's INSERT of the
same transfer waits on the unique index and then fails (we count a duplicate), and even a
payment that slipped past would meet payment_accept's own unique key."""

import hashlib
import re
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from billing.bankimport import ParsedDocument, StatementError, parser_for
from billing.models import Account, BankStatement, BankTransfer, Payment
from connections.models import ClientCard
from ispcrm.errors import RuleViolation

from .payments import payment_accept

MAX_STATEMENT_BYTES = 5 * 1024 * 1024

# Russian banks date documents by the Moscow operational day; a payment is put at noon of
# its date so that it falls on that date in every Russian time zone.
BANK_TIME_ZONE = ZoneInfo("Europe/Moscow")

# Our account numbers: 8 digits starting with 1, not part of a longer number (an INN, a bank
# account, a phone). «л/с 10012345», «лс10012345», «счет №10012345» all match.
ACCOUNT_NUMBER_RE = re.compile(r"(?<!\d)1\d{7}(?!\d)")

# Model field limits, so that a long value is a clear error and not a database one.
_NUMBER_MAX = BankTransfer._meta.get_field("doc_number").max_length
_INN_MAX = BankTransfer._meta.get_field("payer_inn").max_length
_ACCOUNT_MAX = BankTransfer._meta.get_field("payer_account").max_length
_NAME_MAX = BankTransfer._meta.get_field("payer_name").max_length


def _file_error(message: str, code: str) -> ValidationError:
    """A 400 whose detail is the message itself (the line named), also under ``file``."""
    return ValidationError({"detail": ValidationError(message, code=code),
                            "file": ValidationError(message, code=code)})


def check_statement_size(size: int) -> None:
    """Refuse an empty or oversized upload (callers check before reading the file)."""
    if not size:
        raise _file_error(_("The file is empty."), "empty")
    if size > MAX_STATEMENT_BYTES:
        raise _file_error(_("The file is larger than %(size)s MB.")
                          % {"size": MAX_STATEMENT_BYTES // (1024 * 1024)}, "too_large")


def paid_at_for(doc_date: date) -> datetime:
    return datetime.combine(doc_date, time(12), tzinfo=BANK_TIME_ZONE)


def statement_import(*, data: bytes, file_name: str, actor,
                     format_name: str | None = None) -> BankStatement:
    """Read a statement and record its incoming documents: credit those whose account we
    recognise (status matched), queue the others (unmatched), count documents seen before
    (duplicates, not recorded again). Counts: ``imported`` = new incoming documents recorded
    by this upload (credited or queued), ``unmatched`` = of them, those queued,
    ``duplicates`` = incoming documents already known. Outgoing documents are skipped."""
    check_statement_size(len(data))
    try:
        parser = parser_for(data, format_name)
        parsed = parser.parse(data)
    except StatementError as exc:
        raise _file_error(str(exc), "malformed_statement") from exc

    incoming = parsed.incoming()
    for doc in incoming:
        if len(doc.number) > _NUMBER_MAX:
            raise _file_error(str(StatementError(doc.line, _(
                "The document number «%(number)s» is longer than %(max)s characters.")
                % {"number": doc.number[:40], "max": _NUMBER_MAX})), "malformed_statement")
        if len(doc.payer_account) > _ACCOUNT_MAX:
            raise _file_error(str(StatementError(doc.line, _(
                "The payer's account «%(account)s» is longer than %(max)s characters.")
                % {"account": doc.payer_account[:40], "max": _ACCOUNT_MAX})),
                "malformed_statement")

    with transaction.atomic():
        statement = BankStatement.objects.create(
            file_name=(file_name or "statement.txt")[:255],
            sha256=hashlib.sha256(data).hexdigest(), format=parser.format_name[:30],
            our_account=parsed.our_account[:30], date_from=parsed.date_from,
            date_to=parsed.date_to, uploaded_by=actor)
        by_number = _accounts_by_number(incoming)
        by_inn = _accounts_by_inn(incoming)
        imported = duplicates = unmatched = 0
        for doc in incoming:
            transfer = _record(statement, doc)
            if transfer is None:
                duplicates += 1
                continue
            imported += 1
            account = _match(doc, by_number, by_inn)
            if account is None or not _credit(transfer, account, actor,
                                              status=BankTransfer.Status.MATCHED):
                unmatched += 1
        statement.imported, statement.duplicates, statement.unmatched = (
            imported, duplicates, unmatched)
        statement.save(update_fields=["imported", "duplicates", "unmatched"])
    return statement


def _record(statement: BankStatement, doc: ParsedDocument) -> BankTransfer | None:
    """Save the document as an unmatched transfer; None when it is already known."""
    key = {"doc_number": doc.number, "doc_date": doc.date,
           "payer_account": doc.payer_account}
    if BankTransfer.objects.filter(**key).exists():
        return None
    try:
        # A savepoint: a concurrent upload of the same document may insert it first; the
        # unique constraint makes ours fail and we count it as a duplicate.
        with transaction.atomic():
            return BankTransfer.objects.create(
                statement=statement, amount=doc.amount, payer_name=doc.payer_name[:_NAME_MAX],
                payer_inn=doc.payer_inn[:_INN_MAX], purpose=doc.purpose,
                status=BankTransfer.Status.UNMATCHED, **key)
    except IntegrityError:
        if BankTransfer.objects.filter(**key).exists():
            return None
        raise


def _accounts_by_number(docs: list[ParsedDocument]) -> dict[str, Account]:
    """Open accounts whose numbers appear in any purpose text (one query)."""
    numbers = {num for doc in docs for num in ACCOUNT_NUMBER_RE.findall(doc.purpose)}
    if not numbers:
        return {}
    accounts = Account.objects.filter(number__in=numbers).exclude(
        status=Account.Status.CLOSED)
    return {account.number: account for account in accounts}


def _accounts_by_inn(docs: list[ParsedDocument]) -> dict[str, Account | None]:
    """For each payer INN: the open account of the only client card with that INN, or None
    when several cards share it (the accountant must choose)."""
    inns = {doc.payer_inn for doc in docs if doc.payer_inn.strip("0")}
    if not inns:
        return {}
    found: dict[str, Account | None] = {}
    cards = (ClientCard.objects.filter(inn__in=inns, account__isnull=False)
             .exclude(account__status=Account.Status.CLOSED).select_related("account"))
    for card in cards:
        found[card.inn] = None if card.inn in found else card.account
    return found


def _match(doc: ParsedDocument, by_number: dict[str, Account],
           by_inn: dict[str, Account | None]) -> Account | None:
    """The account number in the purpose first (the client told us which account), then the
    payer's INN. Two different accounts named in one purpose: leave it to the accountant."""
    named = {by_number[num].pk: by_number[num]
             for num in ACCOUNT_NUMBER_RE.findall(doc.purpose) if num in by_number}
    if len(named) == 1:
        return next(iter(named.values()))
    if len(named) > 1:
        return None
    return by_inn.get(doc.payer_inn)


def _credit(transfer: BankTransfer, account: Account, actor, *, status: str) -> bool:
    """Credit the transfer to the account. During an import (status matched) a refusal —
    the bank payment id already used for another sum, an amount above the payment limit —
    returns False with nothing changed, and the transfer waits in the queue; the accountant
    who assigns it by hand sees the reason."""
    try:
        payment, _created = payment_accept(
            account=account, amount=transfer.amount, channel=Payment.Channel.BANK,
            external_id=transfer.external_id, paid_at=paid_at_for(transfer.doc_date),
            payer=transfer.payer_name, comment=transfer.purpose[:255], actor=actor)
    except (RuleViolation, ValidationError):
        if status == BankTransfer.Status.MATCHED:
            return False
        raise
    transfer.account = account
    transfer.payment = payment
    transfer.status = status
    fields = ["account", "payment", "status"]
    if status == BankTransfer.Status.ASSIGNED:
        transfer.handled_by = actor
        fields.append("handled_by")
    transfer.save(update_fields=fields)
    return True


def _lock_transfer(transfer: BankTransfer) -> BankTransfer:
    return BankTransfer.objects.select_for_update().get(pk=transfer.pk)


def transfer_assign(*, transfer: BankTransfer, account: Account | str, actor) -> BankTransfer:
    """The accountant credits a queued transfer to an account (given as an Account or its
    number). Assigning it again to the same account changes nothing; a transfer already
    credited elsewhere or ignored is refused."""
    if not isinstance(account, Account):
        number = str(account or "").strip()
        if not number:
            raise ValidationError({"account": _("Enter the account number.")})
        account = Account.objects.filter(number=number).first()
        if account is None:
            raise ValidationError({"account": _("There is no account %(number)s.")
                                   % {"number": number}}, code="not_found")
    with transaction.atomic():
        transfer = _lock_transfer(transfer)
        if transfer.status != BankTransfer.Status.UNMATCHED:
            if transfer.account_id == account.pk:  # a double click: already credited there
                return transfer
            raise _already_handled(transfer)
        _credit(transfer, account, actor, status=BankTransfer.Status.ASSIGNED)
    return transfer


def transfer_ignore(*, transfer: BankTransfer, actor) -> BankTransfer:
    """Mark a queued transfer as not a client payment (a refund, a loan, our own transfer).
    Ignoring it again changes nothing; a credited transfer is refused (cancel its payment
    instead)."""
    with transaction.atomic():
        transfer = _lock_transfer(transfer)
        if transfer.status == BankTransfer.Status.IGNORED:
            return transfer
        if transfer.status != BankTransfer.Status.UNMATCHED:
            raise _already_handled(transfer)
        transfer.status = BankTransfer.Status.IGNORED
        transfer.handled_by = actor
        transfer.save(update_fields=["status", "handled_by"])
    return transfer


def _already_handled(transfer: BankTransfer) -> RuleViolation:
    if transfer.account_id:
        message = _("Transfer № %(number)s is already handled: %(status)s to account "
                    "%(account)s.") % {"number": transfer.doc_number,
                                       "status": transfer.get_status_display(),
                                       "account": transfer.account.number}
    else:
        message = _("Transfer № %(number)s is already handled: %(status)s.") % {
            "number": transfer.doc_number, "status": transfer.get_status_display()}
    return RuleViolation(message, code="transfer_handled")
