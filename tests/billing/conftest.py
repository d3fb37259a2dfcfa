import pytest

from ispcrm import roles


@pytest.fixture
def accountant(make_user):
    """An accountant: the role imports bank statements and assigns their payments."""
    return make_user(roles.ACCOUNTANT)
