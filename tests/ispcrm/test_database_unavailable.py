"""The database out of reach or giving up on a transaction while a view runs: a 503 with
Retry-After (JSON under /api/), logged, and the next request is served as usual — the
answer a caller or a load balancer retries, where a 500 would read as a bug."""

from unittest import mock

import pytest
from django.db import OperationalError
from django.db.backends.utils import CursorWrapper

pytestmark = pytest.mark.django_db


def failing(table: str):
    """Every query on ``table`` fails as when PostgreSQL restarts under the connection."""
    execute = CursorWrapper.execute

    def fake(self, sql, params=None):
        if table in sql:
            raise OperationalError("server closed the connection unexpectedly")
        return execute(self, sql, params)

    return mock.patch.object(CursorWrapper, "execute", fake)


def test_the_api_answers_503_with_retry_after_and_recovers(api, make_user, caplog):
    client = api.as_user(make_user("accountant"))
    client.raise_request_exception = False
    with failing("billing_tariff"):
        response = client.get("/api/v1/tariffs/")
    assert response.status_code == 503 and response["Retry-After"] == "5"
    assert response.json()["code"] == "unavailable"
    assert "try again" in response.json()["detail"] or "повторите" in response.json()["detail"]
    assert any(record.name == "django.request" and record.exc_info
               for record in caplog.records)
    assert client.get("/api/v1/tariffs/").status_code == 200


def test_a_staff_page_answers_503_with_a_page_that_says_to_try_again(client, make_user):
    """Also when the first query is in a middleware (the session), not the view."""
    client.force_login(make_user("manager"))
    client.raise_request_exception = False
    with failing("django_session"):
        response = client.get("/clients/")
    assert response.status_code == 503 and response["Retry-After"] == "5"
    assert "Сервис недоступен" in response.content.decode() or \
        "Service unavailable" in response.content.decode()
    assert client.get("/clients/").status_code == 200


def test_other_errors_are_still_a_500(api, make_user):
    client = api.as_user(make_user("accountant"))
    client.raise_request_exception = False
    with mock.patch("billing.api.views.TariffViewSet.list", side_effect=ValueError("bug")):
        assert client.get("/api/v1/tariffs/").status_code == 500
