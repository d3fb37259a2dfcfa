"""Bank statements (1CClientBankExchange): parsing, matching incoming payments to accounts,
whole-or-nothing import, idempotency, the accountant's queue, the upload page and the API."""

import re
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile

from billing.bankimport import StatementError, parser_for
from billing.models import Account, BankStatement, BankTransfer, LedgerEntry, Payment
from billing.services import bank as bank_service
from billing.services.bank import statement_import, transfer_assign, transfer_ignore
from ispcrm import roles
from ispcrm.errors import RuleViolation
from tests.concurrency import run_in_parallel
from tests.factories import ClientCardFactory

pytestmark = pytest.mark.django_db

API_URL = "/api/v1/bank-statements/"
OUR_ACCOUNT = "40702810200000000001"  # РасчСчет of the sample
SAMPLE_INN = "123123123123"  # the payer INN of every document in the sample


# MIT-licensed samples (kilylabs/client-bank-exchange-php), see data/README.md.
SAMPLES = Path(__file__).parent / "data"


def sample(name="1c-bank-statement-one-day.txt") -> bytes:
    return (SAMPLES / name).read_bytes()


def line_of(data: bytes, text: str, start: int = 1, encoding="cp1251") -> int:
    """1-based number of the first line equal to ``text`` at or after line ``start``."""
    lines = data.decode(encoding).replace("\r\n", "\n").split("\n")
    for number, line in enumerate(lines, start=1):
        if number >= start and line.strip() == text:
            return number
    raise AssertionError(f"{text!r} not in the file")


def edit_document(data: bytes, number: str, key: str, value: str) -> bytes:
    """The sample with ``key=value`` replaced inside the incoming document № ``number``."""
    blocks = data.decode("cp1251").split("СекцияДокумент=")
    for index, block in enumerate(blocks[1:], start=1):
        if f"\nНомер={number}\r" in block and f"\nПолучательСчет={OUR_ACCOUNT}\r" in block:
            blocks[index] = re.sub(rf"(?m)^{key}=[^\r\n]*", lambda _m: f"{key}={value}",
                                   block, count=1)
            return "СекцияДокумент=".join(blocks).encode("cp1251")
    raise AssertionError(f"no incoming document № {number}")


def statement(*docs: dict, encoding="cp1251", header_encoding="Windows", eol="\n") -> bytes:
    """A small 1CClientBankExchange file written for a test."""
    lines = ["1CClientBankExchange", "ВерсияФормата=1.03", f"Кодировка={header_encoding}",
             "Отправитель=Сбербанк Бизнес Онлайн", "ДатаНачала=01.03.2026",
             "ДатаКонца=01.03.2026", f"РасчСчет={OUR_ACCOUNT}", "СекцияРасчСчет",
             f"РасчСчет={OUR_ACCOUNT}", "НачальныйОстаток=0.00", "КонецРасчСчет"]
    for doc in docs:
        lines += [f"СекцияДокумент={doc.get('kind', 'Платежное поручение')}",
                  f"Номер={doc['number']}", f"Дата={doc.get('date', '01.03.2026')}",
                  f"Сумма={doc['amount']}",
                  f"ПлательщикСчет={doc.get('payer_account', '40817810099910004312')}",
                  f"ПлательщикИНН={doc.get('inn', '')}",
                  f"Плательщик1={doc.get('payer', 'Иванов Иван Иванович')}",
                  f"ПолучательСчет={doc.get('to', OUR_ACCOUNT)}",
                  f"НазначениеПлатежа={doc.get('purpose', '')}", "КонецДокумента"]
    lines.append("КонецФайла")
    return (eol.join(lines) + eol).encode(encoding)


def new_account(number: str, inn: str = "", status=Account.Status.ACTIVE) -> Account:
    client = ClientCardFactory(inn=inn) if inn else ClientCardFactory()
    return Account.objects.create(number=number, client=client, status=status)


def balance(account: Account) -> Decimal:
    return Account.objects.get(pk=account.pk).balance


def nothing_saved() -> bool:
    return not (BankStatement.objects.exists() or BankTransfer.objects.exists()
                or Payment.objects.exists() or LedgerEntry.objects.exists())


# --- The parser --------------------------------------------------------------------------------

def test_parser_reads_the_real_shaped_sample_with_crlf_and_with_lf():
    data = sample()
    parsed = parser_for(data).parse(data)
    assert parsed.format_name == "1CClientBankExchange" and parsed.encoding == "cp1251"
    assert parsed.our_account == OUR_ACCOUNT
    assert str(parsed.date_from) == str(parsed.date_to) == "2016-01-11"
    assert len(parsed.documents) == 13
    incoming = parsed.incoming()
    assert [(d.number, d.amount) for d in incoming] == [
        ("5", Decimal("6000.00")), ("6", Decimal("14000.00")), ("1", Decimal("20000.00"))]
    first = incoming[0]
    assert first.kind == "Платежное поручение"
    assert (first.payer_inn, first.payer_account, first.payer_name) == (
        SAMPLE_INN, "12312312312312312", "Some random payer")
    assert first.line == line_of(data, "Номер=5") - 1
    lf = data.replace(b"\r\n", b"\n")
    assert parser_for(lf).parse(lf).documents == parsed.documents


def test_parser_reads_a_dos_866_file():
    data = statement({"number": "7", "amount": "1500,50", "purpose": "Оплата за интернет"},
                     encoding="cp866", header_encoding="DOS", eol="\r\n")
    parsed = parser_for(data).parse(data)
    assert parsed.encoding == "cp866"
    (doc,) = parsed.incoming()
    assert doc.purpose == "Оплата за интернет" and doc.payer_name == "Иванов Иван Иванович"
    assert doc.amount == Decimal("1500.50")


def test_a_file_claiming_dos_but_written_in_windows_is_refused():
    data = statement({"number": "7", "amount": "1"}, header_encoding="DOS")
    with pytest.raises(StatementError) as error:
        parser_for(data).parse(data)
    assert error.value.line == 3


def test_not_a_statement_is_refused_at_line_one():
    with pytest.raises(StatementError) as error:
        parser_for(b"date;amount\n01.03.2026;100\n")
    assert error.value.line == 1


# --- Import: matching ----------------------------------------------------------------------------

def test_sample_import_credits_by_inn_and_queues_the_rest(accountant):
    """№ 5 and № 1 come from a client's INN; № 6 from an INN we do not know."""
    data = edit_document(sample(), "6", "ПлательщикИНН", "500100732259")
    incoming = parser_for(data).parse(data).incoming()
    known = [doc for doc in incoming if doc.payer_inn == SAMPLE_INN]
    account = new_account("10000001", inn=SAMPLE_INN)

    result = statement_import(data=data, file_name="kl_to_1c.txt", actor=accountant)

    assert (result.imported, result.duplicates, result.unmatched) == (
        len(incoming), 0, len(incoming) - len(known))
    assert (result.imported, result.unmatched) == (3, 1)
    assert result.our_account == OUR_ACCOUNT and result.uploaded_by == accountant
    assert result.format == "1CClientBankExchange" and len(result.sha256) == 64
    assert balance(account) == sum(doc.amount for doc in known) == Decimal("26000.00")
    matched = BankTransfer.objects.filter(status=BankTransfer.Status.MATCHED)
    assert sorted(t.doc_number for t in matched) == ["1", "5"]
    assert all(t.account == account and t.payment.account == account for t in matched)
    payment = Payment.objects.get(external_id="20160111/5/12312312312312312")
    assert payment.channel == Payment.Channel.BANK and payment.amount == Decimal("6000.00")
    assert payment.paid_at == datetime(2016, 1, 11, 12, tzinfo=ZoneInfo("Europe/Moscow"))
    assert payment.payer == "Some random payer" and payment.comment == "Some random string"
    waiting = BankTransfer.objects.get(status=BankTransfer.Status.UNMATCHED)
    assert (waiting.doc_number, waiting.payer_inn, waiting.account, waiting.payment) == (
        "6", "500100732259", None, None)
    # Outgoing documents of the statement are not recorded at all.
    assert BankTransfer.objects.count() == 3


def test_sample_import_with_no_known_payer_queues_every_incoming_document(accountant):
    result = statement_import(data=sample(), file_name="s.txt", actor=accountant)
    assert (result.imported, result.duplicates, result.unmatched) == (3, 0, 3)
    assert not Payment.objects.exists()


def test_an_inn_shared_by_two_clients_is_left_to_the_accountant(accountant):
    new_account("10000001", inn=SAMPLE_INN)
    new_account("10000002", inn=SAMPLE_INN)
    result = statement_import(data=sample(), file_name="s.txt", actor=accountant)
    assert result.unmatched == 3 and not Payment.objects.exists()


def test_a_closed_account_of_the_same_inn_does_not_hide_the_open_one(accountant):
    new_account("10000001", inn=SAMPLE_INN, status=Account.Status.CLOSED)
    current = new_account("10000002", inn=SAMPLE_INN)
    result = statement_import(data=sample(), file_name="s.txt", actor=accountant)
    assert result.unmatched == 0 and balance(current) == Decimal("40000.00")


def test_account_number_in_the_purpose_finds_the_account(accountant):
    first, second, third = (new_account(f"1000000{n}") for n in (1, 2, 3))
    company = new_account("10000004", inn="7701234567")
    closed = new_account("10000005", status=Account.Status.CLOSED)
    data = statement(
        {"number": "11", "amount": "500.00", "purpose": "Оплата за интернет л/с 10000001"},
        {"number": "12", "amount": "750.00", "purpose": "лс10000002 за март, без НДС"},
        {"number": "13", "amount": "1200.00",
         "purpose": "Оплата по договору № 15 от 01.02.2026 счет 10000003"},
        # The number wins over the payer's INN: the client said which account.
        {"number": "14", "amount": "300.00", "inn": "7701234567",
         "purpose": "за Петрова, л/с 10000001"},
        {"number": "15", "amount": "100.00", "inn": "7701234567", "purpose": "Оплата"},
        {"number": "16", "amount": "100.00", "purpose": "л/с 19999999"},  # no such account
        {"number": "17", "amount": "100.00", "purpose": "л/с 10000001 и л/с 10000002"},
        {"number": "18", "amount": "100.00", "purpose": "л/с 10000005"},  # closed
        {"number": "19", "amount": "100.00", "purpose": "ИНН 1000000123, тел 10000001234"},
        {"number": "20", "amount": "999.00", "purpose": "л/с 10000001",
         "to": "40702810900000000999"},  # outgoing: not ours
    )
    result = statement_import(data=data, file_name="march.txt", actor=accountant)

    assert (result.imported, result.duplicates, result.unmatched) == (9, 0, 4)
    assert balance(first) == Decimal("800.00")
    assert balance(second) == Decimal("750.00")
    assert balance(third) == Decimal("1200.00")
    assert balance(company) == Decimal("100.00")
    assert balance(closed) == 0
    waiting = BankTransfer.objects.filter(status=BankTransfer.Status.UNMATCHED)
    assert sorted(t.doc_number for t in waiting) == ["16", "17", "18", "19"]


# --- Import: idempotency, whole or nothing -------------------------------------------------------

def test_the_same_statement_again_imports_nothing(accountant):
    account = new_account("10000001", inn=SAMPLE_INN)
    statement_import(data=sample(), file_name="s.txt", actor=accountant)
    before = (balance(account), Payment.objects.count(), BankTransfer.objects.count())

    again = statement_import(data=sample(), file_name="s (1).txt", actor=accountant)

    assert (again.imported, again.duplicates, again.unmatched) == (0, 3, 0)
    assert (balance(account), Payment.objects.count(), BankTransfer.objects.count()) == before
    assert balance(account) == Decimal("40000.00")
    assert BankStatement.objects.count() == 2  # the upload itself is on record


def _cut_mid_document(data: bytes) -> tuple[bytes, int]:
    text = data.decode("cp1251")
    cut = text.index("Сумма=14000.00")
    truncated = text[:cut].encode("cp1251")
    return truncated, truncated.count(b"\n")  # the last line there is


def _garbage_amount(data: bytes) -> tuple[bytes, int]:
    edited = edit_document(data, "6", "Сумма", "14 ООО,00")
    return edited, line_of(edited, "Сумма=14 ООО,00")


def _no_end_of_file(data: bytes) -> tuple[bytes, int]:
    edited = data.replace("КонецФайла\r\n".encode("cp1251"), b"")
    return edited, edited.count(b"\n")


def _bad_date(data: bytes) -> tuple[bytes, int]:
    edited = edit_document(data, "1", "Дата", "31.02.2016")
    return edited, line_of(edited, "Дата=31.02.2016")


def _line_without_equals(data: bytes) -> tuple[bytes, int]:
    edited = data.replace("НазначениеПлатежа=Some random string\r\nПлательщикКПП=123123123"
                          .encode("cp1251"),
                          "НазначениеПлатежа=Some random\r\nstring\r\nПлательщикКПП=123123123"
                          .encode("cp1251"), 1)
    return edited, line_of(edited, "string")


def _no_number(data: bytes) -> tuple[bytes, int]:
    edited = edit_document(data, "5", "Номер", "")
    return edited, line_of(edited, "Номер=") - 1


@pytest.mark.parametrize("damage", [_cut_mid_document, _garbage_amount, _no_end_of_file,
                                    _bad_date, _line_without_equals, _no_number])
def test_a_damaged_statement_names_the_line_and_saves_nothing(accountant, damage):
    new_account("10000001", inn=SAMPLE_INN)
    data, line = damage(sample())
    with pytest.raises(ValidationError) as error:
        statement_import(data=data, file_name="bad.txt", actor=accountant)
    message = " ".join(error.value.message_dict["detail"])
    assert re.search(rf"\b{line}\b", message), message
    assert error.value.message_dict["file"] == error.value.message_dict["detail"]
    assert nothing_saved()


def test_a_failure_half_way_rolls_the_whole_statement_back(accountant, monkeypatch):
    account = new_account("10000001", inn=SAMPLE_INN)
    calls = []
    real = bank_service.payment_accept

    def flaky(**kwargs):
        calls.append(kwargs)
        if len(calls) == 2:
            raise RuntimeError("database went away")
        return real(**kwargs)

    monkeypatch.setattr(bank_service, "payment_accept", flaky)
    with pytest.raises(RuntimeError):
        statement_import(data=sample(), file_name="s.txt", actor=accountant)
    assert nothing_saved() and balance(account) == 0


def test_the_utf8_copy_is_refused_clearly(accountant):
    with pytest.raises(ValidationError) as error:
        statement_import(data=sample("1c-bank-statement-one-day-utf8.txt"),
                         file_name="utf8.txt", actor=accountant)
    message = error.value.message_dict["detail"][0]
    assert "UTF-8" in message and re.search(r"\b3\b", message)  # Кодировка= is on line 3
    assert nothing_saved()


def test_a_utf8_file_with_a_byte_order_mark_is_refused(accountant):
    data = b"\xef\xbb\xbf" + statement({"number": "1", "amount": "10"}, encoding="utf-8")
    with pytest.raises(ValidationError) as error:
        statement_import(data=data, file_name="bom.txt", actor=accountant)
    assert "UTF-8" in error.value.message_dict["detail"][0]


def test_too_large_and_empty_files_are_refused(accountant):
    for data in (b"", b"1CClientBankExchange\r\n" + b" " * (5 * 1024 * 1024)):
        with pytest.raises(ValidationError):
            statement_import(data=data, file_name="x.txt", actor=accountant)
    assert nothing_saved()


# --- The queue -----------------------------------------------------------------------------------

@pytest.fixture
def queued(accountant):
    statement_import(data=statement({"number": "31", "amount": "640.00",
                                     "purpose": "За интернет, Смирнова"}),
                     file_name="s.txt", actor=accountant)
    return BankTransfer.objects.get(doc_number="31")


def test_assign_credits_the_transfer_once(accountant, queued):
    account = new_account("10000007")
    transfer = transfer_assign(transfer=queued, account="10000007", actor=accountant)
    assert transfer.status == BankTransfer.Status.ASSIGNED and transfer.account == account
    assert transfer.handled_by == accountant and transfer.payment.taken_by == accountant
    assert transfer.payment.external_id == queued.external_id
    assert balance(account) == Decimal("640.00")

    again = transfer_assign(transfer=queued, account=account, actor=accountant)
    assert again.status == BankTransfer.Status.ASSIGNED and balance(account) == Decimal("640.00")
    with pytest.raises(RuleViolation):
        transfer_assign(transfer=queued, account=new_account("10000008"), actor=accountant)
    with pytest.raises(RuleViolation):
        transfer_ignore(transfer=queued, actor=accountant)
    assert Payment.objects.count() == 1


def test_assign_refuses_an_unknown_or_closed_account(accountant, queued):
    with pytest.raises(ValidationError) as error:
        transfer_assign(transfer=queued, account="10099999", actor=accountant)
    assert "account" in error.value.message_dict
    closed = new_account("10000009", status=Account.Status.CLOSED)
    with pytest.raises(RuleViolation):
        transfer_assign(transfer=queued, account=closed, actor=accountant)
    queued.refresh_from_db()
    assert queued.status == BankTransfer.Status.UNMATCHED and not Payment.objects.exists()


def test_ignore_takes_the_transfer_off_the_queue(accountant, queued):
    transfer = transfer_ignore(transfer=queued, actor=accountant)
    assert transfer.status == BankTransfer.Status.IGNORED and transfer.handled_by == accountant
    assert transfer_ignore(transfer=queued, actor=accountant).status == "ignored"
    with pytest.raises(RuleViolation):
        transfer_assign(transfer=queued, account=new_account("10000007"), actor=accountant)
    assert not Payment.objects.exists()


# --- Pages ---------------------------------------------------------------------------------------

def test_upload_page_imports_and_lists_statements(client, accountant):
    new_account("10000001")
    client.force_login(accountant)
    page = client.get("/billing/bank/")
    assert page.status_code == 200 and 'type="file"' in page.content.decode()

    data = statement({"number": "41", "amount": "500", "purpose": "л/с 10000001"},
                     {"number": "42", "amount": "700", "purpose": "кто-то"})
    response = client.post("/billing/bank/", {"file": SimpleUploadedFile("march.txt", data)},
                           follow=True)
    html = response.content.decode()
    uploaded = BankStatement.objects.get()
    assert response.redirect_chain[-1][0] == f"/billing/bank/?statement={uploaded.pk}"
    assert (uploaded.imported, uploaded.unmatched) == (2, 1)
    assert "march.txt" in html and "alert-success" in html
    assert f"/billing/bank/queue/?statement={uploaded.pk}" in html


def test_upload_page_shows_the_line_of_a_damaged_file(client, accountant):
    client.force_login(accountant)
    data = statement({"number": "41", "amount": "пятьсот"})
    bad_line = line_of(data, "Сумма=пятьсот")
    response = client.post("/billing/bank/", {"file": SimpleUploadedFile("bad.txt", data)},
                           follow=True)
    html = response.content.decode()
    assert "alert-danger" in html and re.search(rf"\b{bad_line}\b", html)
    assert nothing_saved()


def test_queue_page_assigns_and_ignores(client, accountant, queued):
    account = new_account("10000007")
    other = BankTransfer.objects.create(
        statement=queued.statement, doc_number="32", doc_date=queued.doc_date,
        amount=Decimal("1.00"), payer_name="Банк", payer_account="30101", purpose="Проценты",
        status=BankTransfer.Status.UNMATCHED)
    client.force_login(accountant)
    html = client.get("/billing/bank/queue/").content.decode()
    assert "За интернет, Смирнова" in html and "640,00\u00a0₽" in html
    assert "Иванов Иван Иванович" in html

    response = client.post(f"/billing/bank/transfers/{queued.pk}/assign/",
                           {"account": "10000007"}, follow=True)
    assert "alert-success" in response.content.decode()
    assert balance(account) == Decimal("640.00")
    new_account("10000008")
    response = client.post(f"/billing/bank/transfers/{queued.pk}/assign/",
                           {"account": "10000008"}, follow=True)
    assert "alert-danger" in response.content.decode()  # already handled
    assert balance(account) == Decimal("640.00")
    response = client.post(f"/billing/bank/transfers/{other.pk}/ignore/", follow=True)
    other.refresh_from_db()
    assert other.status == BankTransfer.Status.IGNORED
    html = response.content.decode()
    assert "Проценты" not in html and "За интернет, Смирнова" not in html  # queue is empty


def test_pages_refuse_a_manager(client, manager, queued):
    client.force_login(manager)
    assert client.get("/billing/bank/").status_code == 403
    assert client.get("/billing/bank/queue/").status_code == 403
    assert client.post(f"/billing/bank/transfers/{queued.pk}/ignore/").status_code == 403


# --- API -----------------------------------------------------------------------------------------

def test_api_imports_a_statement(api, accountant):
    new_account("10000001", inn=SAMPLE_INN)
    client = api.as_user(accountant)
    response = client.post(API_URL, {"file": SimpleUploadedFile("s.txt", sample())},
                           format="multipart")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body == {"id": BankStatement.objects.get().pk, "imported": 3, "duplicates": 0,
                    "unmatched": 0}
    again = client.post(API_URL, {"file": SimpleUploadedFile("s.txt", sample())},
                        format="multipart")
    assert again.status_code == 201
    assert again.json()["imported"] == 0 and again.json()["duplicates"] == 3


def test_api_names_the_line_of_a_malformed_file(api, accountant):
    data, line = _garbage_amount(sample())
    response = api.as_user(accountant).post(
        API_URL, {"file": SimpleUploadedFile("bad.txt", data)}, format="multipart")
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "malformed_statement"
    assert re.search(rf"\b{line}\b", body["detail"]) and body["file"] == [body["detail"]]
    assert nothing_saved()


def test_api_refuses_missing_and_oversized_files(api, accountant):
    client = api.as_user(accountant)
    missing = client.post(API_URL, {}, format="multipart")
    assert missing.status_code == 400 and "file" in missing.json()
    big = SimpleUploadedFile("big.txt", b"1CClientBankExchange\r\n" + b"x" * (5 * 1024 * 1024))
    response = client.post(API_URL, {"file": big}, format="multipart")
    assert response.status_code == 400 and response.json()["code"] == "too_large"
    assert nothing_saved()


def test_api_refuses_a_manager_and_anonymous(api, manager):
    upload = SimpleUploadedFile("s.txt", statement({"number": "1", "amount": "10"}))
    assert api.post(API_URL, {"file": upload}, format="multipart").status_code == 401
    upload.seek(0)
    response = api.as_user(manager).post(API_URL, {"file": upload}, format="multipart")
    assert response.status_code == 403
    assert nothing_saved()


def test_api_schema_describes_a_multipart_file_upload():
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)
    operation = schema["paths"][API_URL]["post"]
    body = operation["requestBody"]["content"]["multipart/form-data"]["schema"]
    ref = body["$ref"].rsplit("/", 1)[-1]
    file_field = schema["components"]["schemas"][ref]["properties"]["file"]
    assert (file_field["type"], file_field["format"]) == ("string", "binary")
    assert schema["components"]["schemas"][ref]["required"] == ["file"]
    assert set(operation["responses"]) >= {"201", "400", "401", "403"}


# --- Concurrency (PostgreSQL row locks) ----------------------------------------------------------

@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_uploads_of_one_statement_credit_once(make_user):
    user = make_user(roles.ACCOUNTANT)
    account = new_account("10000001", inn=SAMPLE_INN)
    data = sample()
    _, errors = run_in_parallel(
        lambda _i: statement_import(data=data, file_name="s.txt", actor=user), 3)
    assert not errors
    assert balance(account) == Decimal("40000.00")
    assert Payment.objects.count() == 3 and BankTransfer.objects.count() == 3
    assert sorted(s.imported for s in BankStatement.objects.all()) == [0, 0, 3]
