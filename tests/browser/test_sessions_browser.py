"""Sessions that behave like a web app's, in headless Chromium: a reload and a new tab stay
signed in through the HttpOnly session cookie, and signing out or being disabled ends every
open tab of that user on its next run, and every copy of the cookie.

Each test signs in as a user of its own, so that ending their sessions touches no other test.
"""

from __future__ import annotations

import urllib.error
import urllib.request
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, BrowserContext, Cookie, Page, expect

from campaigns.storage import db
from campaigns.storage.users import add_user, set_disabled
from dashboard.session_cookie import COOKIE
from tests.browser.conftest import CHROMIUM, SCREENSHOTS
from tests.browser.test_dashboard_browser import IDLE, TIMEOUT_MS, VIEWPORT, settle
from tests.conftest import NOW
from tests.dashboard.conftest import PASSWORD

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(),
    reason=f"{CHROMIUM} is missing: the browser tests drive Debian's chromium package "
           "(.ci/run installs it with apt)",
)


def _add_officer(database_url: str, email: str, name: str) -> None:
    engine = db.make_engine(database_url)
    try:
        with db.transaction(db.session_factory(engine)) as session:
            add_user(session=session, email=email, name=name, role="officer", now=NOW,
                     password=PASSWORD)
    finally:
        engine.dispose()


def _disable(database_url: str, email: str) -> None:
    engine = db.make_engine(database_url)
    try:
        with db.transaction(db.session_factory(engine)) as session:
            set_disabled(email, True, session=session)
    finally:
        engine.dispose()


@pytest.fixture
def context(browser: Browser) -> Iterator[BrowserContext]:
    context = browser.new_context(viewport=VIEWPORT)
    context.set_default_timeout(TIMEOUT_MS)
    yield context
    context.close()


def sign_in(page: Page, app_url: str, email: str) -> None:
    page.goto(app_url)
    settle(page, "Chorus")
    page.get_by_role("textbox", name="E-mail address").fill(email)
    page.get_by_role("textbox", name="Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect_signed_in(page)


def expect_signed_in(page: Page) -> None:
    expect(page.get_by_test_id("stSidebarNav")).to_be_visible()
    expect(page.get_by_text("Signed in as")).to_be_visible()
    page.wait_for_function(IDLE)


def expect_signed_out(page: Page) -> None:
    expect(page.get_by_role("textbox", name="Password")).to_be_visible()
    expect(page.get_by_test_id("stSidebarNav")).to_have_count(0)
    page.wait_for_function(IDLE)


def session_cookie(context: BrowserContext) -> Cookie:
    """The session cookie, once the page has collected it (it does so just after signing in)."""
    for _ in range(50):
        found = [cookie for cookie in context.cookies() if cookie["name"] == COOKIE]
        if found:
            return found[0]
        context.pages[0].wait_for_timeout(100)
    raise AssertionError(f"no {COOKIE} cookie in {context.cookies()}")


def cookie_gone(context: BrowserContext) -> bool:
    for _ in range(50):
        if not any(cookie["name"] == COOKIE for cookie in context.cookies()):
            return True
        context.pages[0].wait_for_timeout(100)
    return False


def rerun(page: Page) -> None:
    """Make the tab run its page again, as any click would."""
    page.get_by_test_id("stSidebarNav").get_by_role("link", name="Deliveries").click()


def test_a_reload_and_a_new_tab_stay_signed_in_until_signing_out_ends_every_tab(
    context: BrowserContext, app_url: str, app_database_url: str, browser: Browser
) -> None:
    _add_officer(app_database_url, "rita.reload@chorus.example", "Rita Reload")
    first = context.new_page()
    sign_in(first, app_url, "rita.reload@chorus.example")
    cookie = session_cookie(context)
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict" and cookie["path"] == "/"
    assert cookie["expires"] > 0, "a session cookie that outlives the browser needs an expiry"
    assert COOKIE not in first.evaluate("document.cookie"), "page scripts must not read it"

    first.reload()
    expect_signed_in(first)
    first.screenshot(path=SCREENSHOTS / "session-after-reload.png")

    second = context.new_page()
    second.goto(f"{app_url}/deliveries")
    settle(second, "Deliveries")
    expect_signed_in(second)

    # A link followed from elsewhere (an e-mail, a chat): the page's own connection, from this
    # site, still carries the SameSite=Strict cookie.
    linked = context.new_page()
    linked.set_content(f'<a href="{app_url}/partners">Partners</a>')
    linked.get_by_role("link", name="Partners").click()
    settle(linked, "Partners")
    expect_signed_in(linked)
    linked.close()

    first.get_by_test_id("stSidebar").get_by_role("button", name="Sign out").click()
    expect_signed_out(first)
    assert cookie_gone(context), "signing out removes the cookie from this browser"
    rerun(second)
    expect_signed_out(second)
    second.screenshot(path=SCREENSHOTS / "session-other-tab-signed-out.png")

    # A copy of the cookie taken before signing out (another device, a thief) is dead too.
    elsewhere = browser.new_context(viewport=VIEWPORT)
    try:
        elsewhere.add_cookies([cookie])
        page = elsewhere.new_page()
        page.goto(app_url)
        settle(page, "Chorus")
        expect_signed_out(page)
    finally:
        elsewhere.close()


def test_disabling_a_user_ends_their_open_tabs_and_their_cookie(
    context: BrowserContext, app_url: str, app_database_url: str
) -> None:
    _add_officer(app_database_url, "dan.disabled@chorus.example", "Dan Disabled")
    first = context.new_page()
    sign_in(first, app_url, "dan.disabled@chorus.example")
    session_cookie(context)
    second = context.new_page()
    second.goto(app_url)
    expect_signed_in(second)

    _disable(app_database_url, "dan.disabled@chorus.example")
    rerun(first)
    expect_signed_out(first)
    second.reload()
    expect_signed_out(second)


def test_a_tampered_cookie_signs_nobody_in(
    context: BrowserContext, app_url: str, app_database_url: str, browser: Browser
) -> None:
    _add_officer(app_database_url, "tom.tamper@chorus.example", "Tom Tamper")
    first = context.new_page()
    sign_in(first, app_url, "tom.tamper@chorus.example")
    cookie = session_cookie(context)
    version, purpose, user_id, expires, nonce, mac = cookie["value"].split(".")
    longer = ".".join((version, purpose, user_id, str(int(expires) + 86_400), nonce, mac))
    other = browser.new_context(viewport=VIEWPORT)
    try:
        other.add_cookies([{**cookie, "value": longer}])
        page = other.new_page()
        page.goto(app_url)
        settle(page, "Chorus")
        expect_signed_out(page)
    finally:
        other.close()


def test_the_cookie_route_refuses_other_sites(app_url: str) -> None:
    request = urllib.request.Request(f"{app_url}/chorus/session", data=b"anything",
                                     method="POST", headers={"Origin": "https://evil.example"})
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=5)
    assert refused.value.code == 403
