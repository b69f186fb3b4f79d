"""Hostile text in every field people write makes the browser fetch nothing.

A campaign author of `Jo ![t](http://host/pixel.png)` once made a board member's browser fetch
that address. Here the dashboard runs over a database whose every such field holds images,
links and HTML pointing at one host (tests/dashboard/test_hostile_text.py poisons it); each
role opens each of its pages in Chromium, and every request to that host is intercepted,
recorded and refused: none may happen.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, Request, Route

from campaigns.storage import db
from dashboard.auth import PAGES
from tests.browser.conftest import CHROMIUM, serving
from tests.browser.test_dashboard_browser import (
    IDLE,
    PEOPLE,
    open_tab,
    settle,
    sign_in,
)
from tests.dashboard.conftest import _build
from tests.dashboard.test_hostile_text import HOST, poison

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(),
    reason=f"{CHROMIUM} is missing: the browser tests drive Debian's chromium package "
           "(.ci/run installs it with apt)",
)

TO_HOST = re.compile(rf"^[a-z]+://([^/@]*@)?{re.escape(HOST)}([:/?#]|$)")


@pytest.fixture(scope="module")
def hostile_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    folder = tmp_path_factory.mktemp("hostile-browser")
    url = _build(folder / "chorus.db").url
    engine = db.make_engine(url)
    try:
        poison(db.session_factory(engine), folder)
    finally:
        engine.dispose()
    with serving(url, folder) as base_url:
        yield base_url


def watch(page: Page) -> list[str]:
    """Every request the tab makes to HOST, each refused before it leaves the browser."""
    asked: list[str] = []

    def refuse(route: Route, request: Request) -> None:
        asked.append(request.url)
        route.abort()

    page.context.route(TO_HOST, refuse)
    return asked


@pytest.mark.parametrize("role", PEOPLE)
def test_no_page_fetches_anything_from_a_host_named_in_hostile_text(
    role: str, browser: Browser, hostile_url: str
) -> None:
    page = open_tab(browser, "light")
    try:
        asked = watch(page)
        sign_in(page, hostile_url, PEOPLE[role])
        nav = page.get_by_test_id("stSidebarNav")
        opened, shown = 0, 0
        for key, info in PAGES.items():
            if PEOPLE[role].role not in info.roles:
                continue
            nav.get_by_role("link", name=info.title, exact=True).click()
            heading = "Your organisation" if (role, key) == ("partner", "partners") else None
            settle(page, heading or info.title)
            page.wait_for_function(IDLE)
            # (Error boxes are expected: the compose page checks the lengthened texts.)
            assert page.get_by_test_id("stException").count() == 0, key
            opened += 1
            shown += HOST in page.locator("body").inner_text()  # shown as text, as written
        page.wait_for_timeout(500)  # anything an image started would have asked by now
        assert opened and shown, f"no {role} page showed the hostile text"
        assert asked == [], f"{role} pages fetched {asked}"
        # The interception itself works: a request the page makes on purpose is caught.
        page.evaluate(f"() => fetch('http://{HOST}/probe').catch(() => null)")
        page.wait_for_timeout(200)
        assert asked == [f"http://{HOST}/probe"]
    finally:
        page.context.close()
