"""Browser tests: Debian's chromium driven by Playwright (its own browser download is not
possible here). Skipped, with the reason, where chromium is not installed."""

import os
import shutil

import pytest

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"

# live_server runs the app in a thread of this process; Playwright's sync API runs an event
# loop in the test's thread, which Django otherwise refuses to mix with ORM calls.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture(scope="session")
def browser():
    if not os.path.exists(CHROMIUM):
        pytest.skip("chromium is not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--no-first-run"],
        )
        yield browser
        browser.close()


@pytest.fixture
def page(browser, live_server):
    context = browser.new_context(base_url=live_server.url, locale="ru-RU",
                                  viewport={"width": 1366, "height": 900})
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()



@pytest.fixture
def cabinet_page(page, subscriber, live_server):
    """A browser page signed in to the cabinet as ``subscriber`` (phone-sized viewport is
    the cabinet's first target: see mobile_page for that)."""
    _sign_in(page, subscriber.client.cabinet_user, live_server)
    return page


@pytest.fixture
def mobile_page(browser, live_server, subscriber):
    """A phone-sized page (390×844), signed in to the cabinet as ``subscriber``."""
    context = browser.new_context(base_url=live_server.url, locale="ru-RU",
                                  viewport={"width": 390, "height": 844}, is_mobile=True,
                                  has_touch=True)
    page = context.new_page()
    page.set_default_timeout(10_000)
    _sign_in(page, subscriber.client.cabinet_user, live_server)
    yield page
    context.close()


def _sign_in(page, user, live_server):
    from django.conf import settings
    from django.test import Client

    web = Client()
    web.force_login(user)
    cookie = web.cookies[settings.SESSION_COOKIE_NAME]
    page.context.add_cookies([{"name": settings.SESSION_COOKIE_NAME, "value": cookie.value,
                               "url": live_server.url}])
