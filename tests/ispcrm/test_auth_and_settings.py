"""Sign-in, throttling, language and the production settings guard."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import override_settings

from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parents[2]


def test_pages_need_sign_in(client):
    response = client.get("/clients/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_sign_in_and_out(client, manager):
    page = client.get("/accounts/login/")
    assert page.status_code == 200 and "csrfmiddlewaretoken" in page.content.decode()
    response = client.post("/accounts/login/", {"username": manager.username,
                                                "password": PASSWORD})
    assert response.status_code == 302 and response["Location"] == "/"
    assert client.get("/").status_code == 200
    client.post("/accounts/logout/")
    assert client.get("/").status_code == 302


def test_repeated_failed_sign_in_locks_the_login_even_with_the_right_password(client, manager):
    for _ in range(5):
        client.post("/accounts/login/", {"username": manager.username, "password": "wrong"})
    response = client.post("/accounts/login/", {"username": manager.username,
                                                "password": PASSWORD})
    assert response.status_code == 429
    assert "_auth_user_id" not in client.session


def test_csrf_is_enforced_on_forms(manager):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    response = strict.post("/accounts/login/", {"username": manager.username,
                                                "password": PASSWORD})
    assert response.status_code == 403


def test_russian_by_default_english_on_request(client, manager):
    client.force_login(manager)
    assert 'lang="ru"' in client.get("/").content.decode()
    client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    assert 'lang="en"' in client.get("/").content.decode()


@override_settings(SESSION_COOKIE_HTTPONLY=True)
def test_session_cookie_is_hardened(client, manager):
    response = client.post("/accounts/login/", {"username": manager.username,
                                                "password": PASSWORD})
    cookie = response.cookies["sessionid"]
    assert cookie["httponly"] and cookie["samesite"] == "Lax"


def _run_with_production_settings(env_extra: dict) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "SECRET_KEY"}
    env.update(DJANGO_SETTINGS_MODULE="ispcrm.settings.production", **env_extra)
    return subprocess.run([sys.executable, "manage.py", "check"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)


def test_production_settings_refuse_to_start_without_secret_key():
    result = _run_with_production_settings({})
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


def test_production_settings_start_with_a_secret_key():
    result = _run_with_production_settings({"SECRET_KEY": "x" * 60})
    assert result.returncode == 0, result.stderr
