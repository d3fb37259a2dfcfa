from decimal import Decimal

import pytest
from rest_framework.test import APIClient

from ispcrm import roles
from tests.factories import BranchFactory, UserFactory


@pytest.fixture
def branch(db):
    return BranchFactory()


@pytest.fixture
def make_user(db, branch):
    """make_user("manager") → a staff member of the default branch with that role."""

    def make(*role_names: str, **fields):
        fields.setdefault("username", "_".join(role_names) or "norole")
        return UserFactory(roles=role_names, branch=fields.pop("branch", branch), **fields)

    return make


@pytest.fixture
def manager(make_user):
    return make_user(roles.MANAGER)


@pytest.fixture
def api(db):
    """An API client; api.as_user(user) authenticates it with the user's token."""
    from rest_framework.authtoken.models import Token

    client = APIClient()

    def as_user(user):
        token, _ = Token.objects.get_or_create(user=user)
        client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
        return client

    client.as_user = as_user
    return client


def pytest_collection_modifyitems(config, items):
    """Tests marked `postgres` need its row locks; on the embedded SQLite they skip."""
    from django.db import connection

    if connection.vendor == "postgresql":
        return
    skip = pytest.mark.skip(reason="needs PostgreSQL: set DATABASE_URL=postgres://…")
    for item in items:
        if "postgres" in item.keywords:
            item.add_marker(skip)


@pytest.fixture
def subscriber(db):
    """A cabinet client: an active account (balance 900,00 ₽) whose card has a login."""
    from tests.factories import make_subscriber

    return make_subscriber()


@pytest.fixture
def stranger(db):
    """Another cabinet client: each of his ids must be a 404 to ``subscriber``."""
    from tests.factories import make_subscriber

    return make_subscriber(balance=Decimal("100.00"))


@pytest.fixture
def cabinet_web(subscriber):
    """A test client signed in to the cabinet as ``subscriber``."""
    from django.test import Client

    web = Client()
    web.force_login(subscriber.client.cabinet_user)
    return web
