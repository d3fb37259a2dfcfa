"""Security headers (issue 8): a strict Content Security Policy on every page, the other
headers browsers act on, HSTS behind TLS in production, and `check --deploy` clean.

The browser side — that the pages really work under the policy — is tests/e2e/test_csp.py.
Here: the header itself, and a scan of the templates for what the policy would block (inline
scripts, style attributes, on…= handlers), so a new one fails before it reaches a browser."""

import json
import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.template import engines
from django.test import Client

from tests.factories import PASSWORD

ROOT = Path(__file__).resolve().parents[2]
APPS = ("ispcrm", "connections", "billing", "tickets", "reports", "cabinet")
# Rendered by WeasyPrint into PDFs, never served to a browser: their styles are no CSP matter.
PDF_TEMPLATES = ("connections/templates/connections/pdf/", "billing/templates/billing/documents/")


def policy(response) -> dict[str, list[str]]:
    header = response["Content-Security-Policy"]
    directives = {}
    for part in header.split(";"):
        name, *values = part.split()
        directives[name] = values
    return directives


@pytest.mark.django_db
@pytest.mark.parametrize("url", ["/accounts/login/", "/my/login/", "/", "/reports/",
                                 "/clients/"])
def test_every_page_has_the_strict_policy(client, manager, url):
    client.force_login(manager)
    response = client.get(url)
    assert response.status_code in (200, 302, 403)
    csp = policy(response)
    assert csp["default-src"] == ["'self'"]
    # No 'unsafe-inline' or 'unsafe-eval' anywhere: inline code runs only with the nonce.
    assert not any("unsafe" in value for values in csp.values() for value in values)
    assert csp["script-src"][0] == "'self'" and csp["style-src"][0] == "'self'"
    assert csp["object-src"] == ["'none'"]
    assert csp["frame-ancestors"] == ["'none'"]
    assert csp["base-uri"] == ["'self'"]
    assert csp["form-action"] == ["'self'"]
    assert csp["img-src"] == ["'self'", "data:"]  # Bootstrap's icons are data: SVGs in CSS
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"


@pytest.mark.django_db
def test_a_page_that_uses_the_nonce_gets_it_in_the_header(client, manager):
    """The API docs (Swagger UI) have one inline script and style: they carry the nonce of
    this response, and a new one for the next response."""
    client.force_login(manager)
    response = client.get("/api/docs/")
    assert response.status_code == 200
    nonces = set(re.findall(r'nonce="([^"]+)"', response.content.decode()))
    assert len(nonces) == 1
    nonce = nonces.pop()
    assert f"'nonce-{nonce}'" in policy(response)["script-src"]
    assert f"'nonce-{nonce}'" in policy(response)["style-src"]
    assert f"'nonce-{nonce}'" not in client.get("/api/docs/")["Content-Security-Policy"]
    # The page's own scripts and style sheet are our static files (drf-spectacular-sidecar).
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js" in (
        response.content.decode())


@pytest.mark.django_db
def test_pages_without_inline_code_send_no_nonce(client, manager):
    client.force_login(manager)
    assert "nonce-" not in client.get("/")["Content-Security-Policy"]


@pytest.mark.django_db
def test_a_payment_providers_page_is_a_form_target_when_configured(monkeypatch):
    """A real card-payment provider: the top-up form is redirected to its page, and browsers
    check that redirect against form-action — PAYMENT_GATEWAY_ORIGINS adds it."""
    code = ("import django, os; os.environ['DJANGO_SETTINGS_MODULE']='ispcrm.settings.base';"
            "django.setup(); from django.conf import settings;"
            "print(settings.SECURE_CSP['form-action'])")
    env = {**os.environ, "PAYMENT_GATEWAY_ORIGINS": "https://pay.bank.example"}
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True,
                         text=True, timeout=120, check=True).stdout
    assert "'self'" in out and "https://pay.bank.example" in out


def _templates() -> list[Path]:
    found = []
    for app in (*APPS, "templates"):
        base = ROOT / app
        for path in base.rglob("*.html"):
            relative = path.relative_to(ROOT).as_posix()
            if not relative.startswith(PDF_TEMPLATES):
                found.append(path)
    return found


INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*\bnonce=)[^>]*>", re.I)
INLINE_STYLE_ELEMENT = re.compile(r"<style(?![^>]*\bnonce=)[^>]*>", re.I)
STYLE_ATTRIBUTE = re.compile(r"\sstyle\s*=", re.I)
HANDLER = re.compile(r"\s(hx-on[:\w-]*|on(?:abort|auxclick|blur|change|click|contextmenu|copy|cut|"
                     r"dblclick|drag\w*|drop|error|focus\w*|input|invalid|key\w+|load\w*|"
                     r"mouse\w+|paste|pointer\w+|reset|resize|scroll|select|submit|toggle|"
                     r"touch\w+|unload|wheel))\s*=", re.I)
JS_URL = re.compile(r"""(href|src|action)\s*=\s*["']?\s*javascript:""", re.I)


def test_no_template_has_code_the_policy_blocks():
    templates = _templates()
    assert len(templates) > 100
    problems = []
    for path in templates:
        text = path.read_text()
        text = re.sub(r"\{#.*?#\}", "", text, flags=re.S)  # comments may name <script>
        for name, pattern in (("inline <script>", INLINE_SCRIPT),
                              ("<style> without the nonce", INLINE_STYLE_ELEMENT),
                              ("style attribute", STYLE_ATTRIBUTE),
                              ("inline event handler", HANDLER), ("javascript: URL", JS_URL)):
            for match in pattern.finditer(text):
                line = text.count("\n", 0, match.start()) + 1
                problems.append(f"{path.relative_to(ROOT)}:{line}: {name}")
    assert not problems, "\n".join(problems)


def test_the_scan_would_catch_each_kind():
    for bad in ('<script>alert(1)</script>', '<div style="color:red">', '<style>a{}</style>',
                '<button onclick="x()">', '<select hx-on:change="x()">',
                '<a href="javascript:x()">'):
        assert any(p.search(bad) for p in (INLINE_SCRIPT, INLINE_STYLE_ELEMENT, STYLE_ATTRIBUTE,
                                           HANDLER, JS_URL)), bad
    for good in ('<script src="/static/js/ispcrm.js" defer></script>',
                 '<script nonce="{{ csp_nonce }}">', '<div class="notes">',
                 '<input data-autosubmit>'):
        assert not any(p.search(good) for p in (INLINE_SCRIPT, INLINE_STYLE_ELEMENT,
                                                STYLE_ATTRIBUTE, HANDLER, JS_URL)), good


def test_python_made_html_has_no_style_attribute_either():
    """Charts and badges are built in Python (format_html, SVG strings)."""
    offenders = []
    for app in APPS:
        for path in (ROOT / app).rglob("*.py"):
            if "migrations" in path.parts:
                continue
            for number, line in enumerate(path.read_text().splitlines(), 1):
                if re.search(r"""style=\\?["'][a-z-]+\s*:""", line) or re.search(r"<script[ >]",
                                                                               line):
                    offenders.append(f"{path.relative_to(ROOT)}:{number}")
    assert not offenders, offenders


def test_htmx_is_told_not_to_inject_its_style_element():
    html = engines["django"].get_template("base.html").template.source
    config = re.search(r"""<meta name="htmx-config" content='([^']+)'>""", html)
    assert config and json.loads(config.group(1))["includeIndicatorStyles"] is False


# --- Production: HSTS behind TLS, check --deploy ----------------------------------------------

def _production(code: str, **extra) -> subprocess.CompletedProcess:
    # As a production host runs it: no test-only variables (the browser tests set
    # DJANGO_ALLOW_ASYNC_UNSAFE, which check --deploy rightly refuses).
    env = {k: v for k, v in os.environ.items()
           if k not in ("DATABASE_URL", "REDIS_URL", "DJANGO_ALLOW_ASYNC_UNSAFE")}
    env.update(DJANGO_SETTINGS_MODULE="ispcrm.settings.production",
               SECRET_KEY=secrets.token_urlsafe(50), ALLOWED_HOSTS="crm.example.com", **extra)
    return subprocess.run([sys.executable, *code], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=180)


def test_check_deploy_is_clean_in_production_settings():
    result = _production(["manage.py", "check", "--deploy", "--fail-level", "WARNING"])
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


HEADERS = """
import django, json
django.setup()
from django.test import Client
web = Client(HTTP_HOST="crm.example.com")
plain = web.get("/api/schema/")
tls = web.get("/api/schema/", HTTP_X_FORWARDED_PROTO="https")
print(json.dumps({"plain": [plain.status_code, plain.get("Location", "")],
                  "tls": [tls.status_code, dict(tls.headers)]}))
"""


def test_production_sends_hsts_over_tls_and_redirects_plain_http():
    result = _production(["-c", HEADERS])
    assert result.returncode == 0, result.stderr
    seen = json.loads(result.stdout.strip().splitlines()[-1])
    assert seen["plain"] == [301, "https://crm.example.com/api/schema/"]
    status, headers = seen["tls"]
    assert status == 200
    assert headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains; preload"
    assert "default-src 'self'" in headers["Content-Security-Policy"]
    assert "form-action 'self'" in headers["Content-Security-Policy"]


@pytest.mark.django_db
def test_the_axes_lockout_page_has_the_policy_too(manager):
    web = Client()
    for _ in range(5):
        web.post("/accounts/login/", {"username": manager.username, "password": "wrong"})
    response = web.post("/accounts/login/", {"username": manager.username,
                                             "password": PASSWORD})
    assert response.status_code == 429
    assert policy(response)["default-src"] == ["'self'"]
