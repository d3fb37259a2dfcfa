"""CSRF on every form (issue 8): every staff, cabinet and admin URL refuses a POST that carries
no CSRF token with 403 — even from a signed-in superuser or client with the CSRF cookie, as a
forged cross-site form would arrive — and nothing in the database changes. The URLs come from
the URL conf, so a new view is covered without being listed here.

The API refuses a session-authenticated write without the token the same way (DRF's
SessionAuthentication); API clients with a token need none. The documented exceptions are
not browsers and prove who they are otherwise:

* ``billing:gateway_callback`` — the payment gateway's notification, signed by the gateway
  (HMAC over the body); a bad signature is 400 and changes nothing;
* ``inbound-telegram`` — Telegram's webhook, authenticated by the secret in its path; a wrong
  secret is 404;
* ``inbound-email`` — the mail gateway posts with an API token (401 without).
"""

import json
import uuid

import pytest
from django.apps import apps
from django.contrib import admin
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from billing.models import OnlinePayment, Payment
from tests.factories import PASSWORD, UserFactory, make_subscriber
from tickets.models import Ticket

pytestmark = pytest.mark.django_db

# Not forms a browser posts, each authenticated another way (see above).
EXEMPT = {"billing:gateway_callback", "inbound-telegram"}
# Rows that change on every request or that the lockout machinery writes: not user data.
VOLATILE = {"sessions.Session", "axes.AccessAttempt", "axes.AccessLog", "axes.AccessFailureLog"}


def fingerprint() -> dict[str, list[str]]:
    """Every row of every table (the test database is small): any change shows."""
    return {model._meta.label: sorted(repr(row) for row in model._default_manager.values_list())
            for model in apps.get_models() if model._meta.label not in VOLATILE}


def _value(name: str, converter, objects: dict):
    kind = type(converter).__name__
    if kind == "IntConverter":
        return objects.get(name, objects["pk"])
    if kind == "UUIDConverter":
        return objects["uuid"]
    return objects.get(name, "x")


def site_urls(objects: dict) -> list[tuple[str, str]]:
    """(name, address) of every URL in the URL conf but the admin's (added from its model
    registry below) and the debug media route; ids are real objects' where it helps."""
    found = []

    def walk(patterns, namespace):
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                if pattern.namespace == "admin":
                    continue
                walk(pattern.url_patterns, pattern.namespace or namespace)
                continue
            if not isinstance(pattern, URLPattern) or not pattern.name:
                continue
            name = f"{namespace}:{pattern.name}" if namespace else pattern.name
            converters = pattern.pattern.converters
            if converters:
                kwargs = {key: _value(key, conv, objects) for key, conv in converters.items()}
            else:  # DRF router patterns are regexes: every group takes an id or a number
                kwargs = {key: objects.get(key, objects["pk"])
                          for key in pattern.pattern.regex.groupindex}
            found.append((name, reverse(name, kwargs=kwargs)))

    walk(get_resolver().url_patterns, "")
    return found


def admin_urls(pk: int) -> list[str]:
    urls = [reverse("admin:login"), reverse("admin:logout"), reverse("admin:password_change")]
    for model in admin.site._registry:
        prefix = f"admin:{model._meta.app_label}_{model._meta.model_name}"
        urls.append(reverse(f"{prefix}_changelist"))
        urls.append(reverse(f"{prefix}_add"))
        urls.append(reverse(f"{prefix}_change", args=[pk]))
        urls.append(reverse(f"{prefix}_delete", args=[pk]))
    return urls


@pytest.fixture
def world():
    """A client with an account, an online payment, a payment and a ticket: the objects the
    forms would change if a forged POST got through."""
    account = make_subscriber()
    card = account.client
    online = OnlinePayment.objects.create(account=account, amount=500, gateway="test")
    from tests.cabinet.test_isolation import stranger_objects  # a ticket, documents, a claim

    stranger_objects(account)
    return {"pk": card.pk, "card_id": card.pk, "number": account.number,
            "public_id": online.public_id, "uuid": online.public_id, "account": account,
            "code": "x", "name": "test", "secret": "x", "token": "x"}


def csrf_refused(caplog, url: str) -> bool:
    """The refusal was Django's CSRF check (it logs each one), not a permission or a missing
    object; the log is emptied for the next request."""
    refused = any(r.name == "django.security.csrf" and url in r.getMessage()
                  for r in caplog.records)
    caplog.clear()
    return refused


def strict_client(user, home: str) -> Client:
    """A browser of a signed-in user that has the CSRF cookie but posts no token — what a
    forged cross-site form sends."""
    web = Client(enforce_csrf_checks=True)
    web.force_login(user)
    assert web.get(home).status_code == 200  # a page with a form sets the csrftoken cookie
    assert "csrftoken" in web.cookies
    return web


def test_every_form_refuses_a_post_without_the_token(world, caplog):
    staff = strict_client(UserFactory(username="root", is_superuser=True, is_staff=True,
                                      roles=()), "/")
    client = strict_client(world["account"].client.cabinet_user, "/my/")
    before = fingerprint()
    urls = site_urls(world)
    assert len(urls) > 150
    refused = []
    for name, url in urls:
        if name in EXEMPT:
            continue
        web = client if name.startswith("cabinet:") else staff
        forged = {"name": "Forged", "amount": "100", "reason": "forged", "body": "forged",
                  "password": "x"}
        if url.startswith("/api/"):  # the API's own refusal: DRF's session CSRF check
            response = web.post(url, forged, content_type="application/json")
            if response.status_code == 415:  # an upload endpoint: multipart only
                response = web.post(url, forged)
            # The docs page is HTML: DRF's template renderer shows a bare 403 page.
            ok = response.status_code == 403 and (
                b"CSRF" in response.content or name == "api-docs")
        else:
            response = web.post(url, forged)
            ok = response.status_code == 403 and csrf_refused(caplog, url)
        if not ok:
            refused.append((url, response.status_code))
    for url in admin_urls(world["pk"]):
        response = staff.post(url, {"post": "yes", "name": "Forged"})
        if response.status_code != 403 or not csrf_refused(caplog, url):
            refused.append((url, response.status_code))
    assert not refused, f"these took a POST without the CSRF token: {refused}"
    assert fingerprint() == before


def test_the_same_form_with_its_token_is_accepted(world):
    """The check above refuses for the token alone: with it, a sign-in goes through."""
    user = UserFactory(username="clerk", roles=())
    web = Client(enforce_csrf_checks=True)
    web.get(reverse("login"))
    response = web.post(reverse("login"), {
        "username": user.username, "password": PASSWORD,
        "csrfmiddlewaretoken": web.cookies["csrftoken"].value})
    assert response.status_code == 302 and "_auth_user_id" in web.session


def test_the_gateway_callback_is_exempt_but_needs_the_gateways_signature(world, settings):
    settings.PAYMENT_GATEWAY = "test"
    online = OnlinePayment.objects.get(public_id=world["public_id"])
    body = json.dumps({"event": "payment.succeeded", "order_id": str(online.public_id),
                       "status": "succeeded", "amount": "500.00", "currency": "RUB",
                       "payment_id": "tg_forged"}).encode()
    web = Client(enforce_csrf_checks=True)
    url = reverse("billing:gateway_callback", args=["test"])
    for headers in ({}, {"HTTP_X_TEST_GATEWAY_SIGNATURE": "0" * 64}):
        response = web.post(url, body, content_type="application/json", **headers)
        assert response.status_code == 400 and response.json()["code"] == "invalid_callback"
    online.refresh_from_db()
    assert online.status == OnlinePayment.Status.CREATED
    assert not Payment.objects.filter(account=online.account, channel="online").exists()


def test_the_telegram_webhook_needs_its_secret(world, settings):
    settings.TELEGRAM_WEBHOOK_SECRET = "s3cret-" + uuid.uuid4().hex
    web = Client(enforce_csrf_checks=True)
    update = {"update_id": 1, "message": {"message_id": 1, "chat": {"id": 5},
                                          "from": {"id": 5}, "text": "forged"}}
    tickets = Ticket.objects.count()
    for secret in ("wrong", settings.TELEGRAM_WEBHOOK_SECRET[:-1]):
        response = web.post(reverse("inbound-telegram", args=[secret]), update,
                            content_type="application/json")
        assert response.status_code == 404
    assert Ticket.objects.count() == tickets


def test_inbound_mail_needs_an_api_token(world):
    web = Client(enforce_csrf_checks=True)
    tickets = Ticket.objects.count()
    response = web.post(reverse("inbound-email"), b"From: a@b.c\r\nSubject: forged\r\n\r\nhi",
                        content_type="message/rfc822")
    assert response.status_code == 401
    assert Ticket.objects.count() == tickets
