"""Every page of the dashboard, for every role, in headless Chromium.

Each role signs in through the form, opens each page its navigation offers, and the page must
finish running with no error box; a full-page screenshot goes to var/screenshots/, and axe-core
must find no serious or critical accessibility violation, nor a skipped heading level (UK
public bodies must meet WCAG 2.2 AA). The officer, who sees every page, also goes round in the
dark colour scheme: Streamlit follows the visitor's system setting, so both themes reach real
readers.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any, Literal

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, Page, ViewportSize, expect

from dashboard.auth import PAGES
from tests.browser.conftest import CHROMIUM, SCREENSHOTS
from tests.dashboard.conftest import BOARD, COUNCIL, OFFICER, PASSWORD, Person

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(),
    reason=f"{CHROMIUM} is missing: the browser tests drive Debian's chromium package "
           "(.ci/run installs it with apt)",
)

Scheme = Literal["light", "dark"]
#: Who signs in for each role; the partner is one organisation among several.
PEOPLE: dict[str, Person] = {"officer": OFFICER, "board": BOARD, "partner": COUNCIL}
CASES = [
    *(pytest.param(role, key, "light", id=f"{role}-{key}")
      for role, person in PEOPLE.items()
      for key, page in PAGES.items() if person.role in page.roles),
    *(pytest.param("officer", key, "dark", id=f"officer-{key}-dark") for key in PAGES),
]
#: A partner's Partners page is about its own organisation, and is headed so.
HEADINGS = {("partner", "partners"): "Your organisation"}
BLOCKING = frozenset({"serious", "critical"})
#: Rules that fail the test at any impact: axe calls a skipped heading level moderate, but a
#: screen-reader user moving by headings loses the page's structure with it.
BLOCKING_RULES = frozenset({"heading-order"})
TIMEOUT_MS = 20_000
VIEWPORT: ViewportSize = {"width": 1280, "height": 900}

#: Streamlit is done: connected, the script not running, no "Running..." widget, no stale
#: (greyed) element, and no skeleton standing in for a widget whose code is still loading.
IDLE = """() => {
    const app = document.querySelector('[data-testid="stApp"]');
    return app !== null
        && app.getAttribute('data-test-connection-state') === 'CONNECTED'
        && app.getAttribute('data-test-script-state') === 'notRunning'
        && document.querySelector('[data-testid="stStatusWidget"]') === null
        && document.querySelector('[data-stale="true"]') === null
        && document.querySelector('[data-testid="stSkeleton"]') === null;
}"""
#: Streamlit scrolls its main area, not the document, so a full-page screenshot alone stops at
#: the window's height: the window is made as tall as the page for the picture.
PAGE_HEIGHT = """() => Math.max(...['stMain', 'stSidebarContent'].map(id =>
    document.querySelector(`[data-testid="${id}"]`)?.scrollHeight ?? 0))"""
ERROR_BOXES = ('[data-testid="stException"]', '[data-testid="stAlertContentError"]')


def settle(page: Page, heading: str) -> None:
    """Wait until Streamlit has finished the page headed `heading` and drawn its charts."""
    expect(page.get_by_role("heading", level=1, name=heading)).to_be_visible()
    page.wait_for_function(IDLE)
    for chart in page.get_by_test_id("stVegaLiteChart").all():
        expect(chart.locator("svg, canvas").first).to_be_attached()
    page.wait_for_function(IDLE)


def go_to(page: Page, key: str, heading: str | None = None) -> None:
    """Open page `key` of PAGES from the navigation, as a person does, and wait until it is
    done (headed `heading`, the page's title unless given)."""
    title = PAGES[key].title
    page.get_by_test_id("stSidebarNav").get_by_role("link", name=title, exact=True).click()
    settle(page, heading or title)


def open_section(page: Page, name: str) -> None:
    """Open the expander whose heading says `name` and wait until its content is drawn (a
    lazy expander draws it in the rerun its opening starts: idle alone can come before)."""
    expander = page.get_by_test_id("stExpander").filter(
        has=page.locator("summary").filter(has_text=name))
    if expander.locator("details[open]").count() == 0:  # a click on an open one closes it
        expander.locator("summary").click()
    expect(expander.locator("details[open]")).to_have_count(1, timeout=TIMEOUT_MS)
    expect(expander.get_by_test_id("stExpanderDetails").locator("[data-testid]").first
           ).to_be_attached(timeout=TIMEOUT_MS)
    page.wait_for_function(IDLE)


def assert_no_error_box(page: Page) -> None:
    for selector in ERROR_BOXES:
        boxes = page.locator(selector)
        assert boxes.count() == 0, f"{page.url}: {selector}: {boxes.all_inner_texts()}"
    text = page.locator("body").inner_text()
    assert "Traceback" not in text, f"{page.url}:\n{text}"


def screenshot(page: Page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    height = VIEWPORT["height"]
    for _ in range(3):  # a taller window can reflow the page; stop once it fits
        needed = int(page.evaluate(PAGE_HEIGHT))
        if needed <= height:
            break
        height = needed
        page.set_viewport_size({"width": VIEWPORT["width"], "height": height})
        page.wait_for_function(IDLE)
    try:
        page.screenshot(path=SCREENSHOTS / f"{name}.png", full_page=True, animations="disabled")
    finally:
        page.set_viewport_size(VIEWPORT)


def blocking_violations(page: Page) -> list[dict[str, Any]]:
    """axe-core over the whole page (every rule it runs by default): serious or critical
    violations, and those of BLOCKING_RULES.

    Nothing is excluded: every violation found so far came from something Chorus controls and
    was fixed there (the theme's caption contrast in .streamlit/config.toml; chart text in
    dashboard/components.py; headings one level under another, st.header under st.title).
    """
    violations: list[dict[str, Any]] = Axe().run(page).response["violations"]
    return [violation for violation in violations
            if violation["impact"] in BLOCKING or violation["id"] in BLOCKING_RULES]


def describe(violations: list[dict[str, Any]]) -> str:
    lines = [f"{len(violations)} blocking accessibility violation(s):"]
    for violation in violations:
        lines.append(f"- {violation['id']} ({violation['impact']}): {violation['help']} "
                     f"<{violation['helpUrl']}>")
        for node in violation["nodes"]:
            lines.append(f"    at {' '.join(map(str, node['target']))}")
            lines.append(f"       {node['html'][:300]}")
            lines.append(f"       {' '.join(node.get('failureSummary', '').split())}")
    return "\n".join(lines)


def check(page: Page, name: str) -> None:
    """No error box, a screenshot, then the accessibility audit."""
    assert_no_error_box(page)
    screenshot(page, name)
    blocking = blocking_violations(page)
    assert not blocking, f"{page.url}\n{describe(blocking)}"


def open_tab(browser: Browser, scheme: Scheme) -> Page:
    context = browser.new_context(viewport=VIEWPORT, color_scheme=scheme)
    context.set_default_timeout(TIMEOUT_MS)
    return context.new_page()


def sign_in(page: Page, app_url: str, person: Person) -> None:
    page.goto(app_url)
    settle(page, "Chorus")
    page.get_by_role("textbox", name="E-mail address").fill(person.email)
    page.get_by_role("textbox", name="Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_test_id("stSidebarNav")).to_be_visible()
    page.wait_for_function(IDLE)


@pytest.fixture(scope="module")
def signed_in(browser: Browser, app_url: str) -> Iterator[Callable[[str, Scheme], Page]]:
    """A tab per role and colour scheme, signed in once through the form and kept (Streamlit's
    session lives as long as the tab's connection) for that role's pages."""
    tabs: dict[tuple[str, Scheme], Page] = {}

    def tab(role: str, scheme: Scheme = "light") -> Page:
        if (role, scheme) not in tabs:
            page = open_tab(browser, scheme)
            sign_in(page, app_url, PEOPLE[role])
            tabs[role, scheme] = page
        return tabs[role, scheme]

    yield tab
    for page in tabs.values():
        page.context.close()


def test_sign_in_page(browser: Browser, app_url: str) -> None:
    page = open_tab(browser, "light")
    try:
        page.goto(app_url)
        settle(page, "Chorus")
        check(page, "signed-out-sign-in")
    finally:
        page.context.close()


@pytest.mark.parametrize("role", PEOPLE)
def test_navigation_offers_the_roles_pages(
    role: str, signed_in: Callable[[str, Scheme], Page]
) -> None:
    nav = signed_in(role, "light").get_by_test_id("stSidebarNav")
    titles = nav.get_by_role("link").get_by_test_id("stMarkdownContainer").all_inner_texts()
    assert titles == [page.title for page in PAGES.values() if PEOPLE[role].role in page.roles]


@pytest.mark.parametrize(("role", "key", "scheme"), CASES)
def test_page(role: str, key: str, scheme: Scheme,
              signed_in: Callable[[str, Scheme], Page]) -> None:
    page = signed_in(role, scheme)
    go_to(page, key, HEADINGS.get((role, key)))
    check(page, f"{role}-{key}" if scheme == "light" else f"{role}-{key}-{scheme}")
