"""Steps the browser journeys share."""

from tests.factories import PASSWORD


def sign_in(page, user, password: str | None = None) -> None:
    """Sign in through the login page as a person would (Russian labels)."""
    page.goto("/accounts/login/")
    page.get_by_label("Логин").fill(user.username)
    page.get_by_label("Пароль").fill(password or PASSWORD)
    page.get_by_role("button", name="Войти").click()
    page.wait_for_url("**/")
