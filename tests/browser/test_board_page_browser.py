"""The board page as a board member reads it, on the demo's data, on a laptop (1440 × 900) and
a phone (390 × 844): the headline figures and the summary on the first screen; no text cut
off; no 'NaN', key or remote id; one notice that the figures are sandbox or synthetic; an
awareness window that has not ended is written about as one (so far, provisional); a
screenshot of the first screen and of every section opened; and axe finds nothing serious.

The demo is `chorus demo` itself, replaying its last 60 days through the sandbox, so that the
page has sandbox posts and reach beside the synthetic reporting figures.
"""

from __future__ import annotations

import re
import sqlite3
from datetime import date
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Browser, Page, ViewportSize, expect

from campaigns.core.clock import utcnow
from dashboard.auth import PAGES
from dashboard.queries import SANDBOX_LABEL, SYNTHETIC_LABEL
from tests.browser.conftest import CHROMIUM, SCREENSHOTS
from tests.browser.officers_day import Demo, SignIn, pick
from tests.browser.test_dashboard_browser import (
    IDLE,
    TIMEOUT_MS,
    assert_no_error_box,
    blocking_violations,
    describe,
    open_section,
    settle,
)

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(),
    reason=f"{CHROMIUM} is missing: the browser tests drive Debian's chromium package",
)
SCREENS: dict[str, ViewportSize] = {"laptop": {"width": 1440, "height": 900},
                                    "phone": {"width": 390, "height": 844}}
SECTIONS = ("Reach and reports, week by week", "The estimated effect of each awareness campaign",
            "How this was worked out", "Partners' contribution", "Engagement on each network",
            "Reach of each campaign", "Data freshness and sources")
#: Every element with text of its own that is cut off: wider inside than its box, and not
#: one the reader scrolls (a table's cells are drawn on a canvas, and scroll).
CLIPPED = """() => {
    const main = document.querySelector('[data-testid="stMain"]');
    const found = [];
    for (const el of main.querySelectorAll('*')) {
        const own = [...el.childNodes].some(n => n.nodeType === 3 && n.textContent.trim());
        if (!own || el.closest('svg') || el.getClientRects().length === 0) continue;
        const style = getComputedStyle(el);
        if (['auto', 'scroll'].includes(style.overflowX)) continue;
        // The text's own box, and the box that cuts it off (its nearest ancestor that hides
        // overflow: Streamlit's labels end in an ellipsis there).
        let cut = el;
        for (let up = el; up && up !== main; up = up.parentElement) {
            if (['hidden', 'clip'].includes(getComputedStyle(up).overflowX)) { cut = up; break; }
        }
        const wide = Math.max(el.scrollWidth, el.getBoundingClientRect().width);
        if (el.scrollWidth > el.clientWidth + 1 || (cut !== el && wide > cut.clientWidth + 1)
                || cut.scrollWidth > cut.clientWidth + 1) {
            found.push([el.textContent.trim().slice(0, 80), wide, cut.clientWidth]);
        }
    }
    return found;
}"""
def forbidden_words(database_url: str) -> set[str]:
    """Campaign and account keys and the posts' remote ids: never for the board's eyes."""
    with sqlite3.connect(database_url.removeprefix("sqlite:///")) as connection:
        keys = {k for (k,) in connection.execute("SELECT key FROM campaigns UNION "
                                                  "SELECT key FROM accounts")}
        ids = {r for (r,) in connection.execute("SELECT remote_id FROM deliveries "
                                                 "WHERE remote_id IS NOT NULL")}
    return keys | {i for i in ids if len(i) >= 8}


def running_windows(database_url: str, today: date) -> list[str]:
    """The awareness windows with a campaign this year that have started and not ended."""
    from sqlalchemy import create_engine
    from sqlalchemy.orm import Session

    from dashboard.insights.awareness import event_windows
    from dashboard.insights.effect_estimates import EVERYTHING

    engine = create_engine(database_url)
    try:
        with Session(engine) as session:
            windows = event_windows(session=session, viewer=EVERYTHING, years=[today.year])
    finally:
        engine.dispose()
    running = windows[(windows["start"] <= today) & (windows["end"] >= today)
                      & (windows["campaign"] != "")]
    return [f"{n} {y}" for n, y in zip(running["name"], running["year"], strict=True)]


def open_board(browser: Browser, url: str, who: SignIn, screen: str) -> Page:
    return board_at(browser, url, who, SCREENS[screen])


def board_at(browser: Browser, url: str, who: SignIn, viewport: ViewportSize) -> Page:
    """A new browser at `viewport` (a phone below 600 px), signed in as `who` on the board
    overview, the board's home page."""
    phone = viewport["width"] < 600
    context = browser.new_context(viewport=viewport, is_mobile=phone, has_touch=phone)
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    page.goto(url)
    settle(page, "Chorus")
    page.get_by_role("textbox", name="E-mail address").fill(who.email)
    page.get_by_role("textbox", name="Password").fill(who.password)
    page.get_by_role("button", name="Sign in").click()
    settle(page, PAGES["board"].title)  # the board's home page
    return page


def on_first_screen(page: Page, what: str, height: int) -> None:
    box = page.locator(what).first.bounding_box() if what.startswith("[") else \
        page.get_by_text(re.compile(what)).first.bounding_box()
    assert box is not None, what
    assert box["y"] >= 0 and box["y"] + box["height"] <= height, (what, box, height)


def notices(page: Page) -> list[str]:
    alerts = page.get_by_test_id("stAlertContainer").all_inner_texts()
    return [a for a in alerts if re.search(r"sandbox|synthetic", a, re.IGNORECASE)]


def open_sections(page: Page) -> None:
    for name in SECTIONS:
        open_section(page, name)
    for chart in page.get_by_test_id("stVegaLiteChart").all():
        expect(chart.locator("svg").first).to_be_attached()
    page.wait_for_function(IDLE)


def picture(page: Page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SCREENSHOTS / f"{name}.png", animations="disabled")


def whole_page(page: Page, name: str, screen: str) -> None:
    """A screenshot of the whole page: Streamlit scrolls its main area, so the window is made
    as tall as it for the picture."""
    height = int(page.evaluate(
        "() => document.querySelector('[data-testid=\"stMain\"]').scrollHeight"))
    page.set_viewport_size({"width": SCREENS[screen]["width"], "height": height})
    page.wait_for_function(IDLE)
    picture(page, name)
    page.set_viewport_size(SCREENS[screen])
    page.wait_for_function(IDLE)


@pytest.mark.parametrize("screen", SCREENS)
def test_a_board_member_reads_the_story_first_and_the_details_on_demand(
    browser: Browser, replayed_demo_url: str, replayed_demo: Demo, screen: str
) -> None:
    page = open_board(browser, replayed_demo_url, replayed_demo.board, screen)
    height = SCREENS[screen]["height"]
    try:
        assert_no_error_box(page)
        picture(page, f"board-first-screen-{screen}")
        figures = page.get_by_test_id("stMetric")
        assert figures.count() == 4
        for n in range(figures.count()):
            on_first_screen(page, f'[data-testid="stMetric"] >> nth={n}', height)
        on_first_screen(page, r"(sent \d[\d,]* posts?|posted: \d|No posts were sent)", height)
        on_first_screen(page, r"hate crime (offences|reporting figures)", height)
        assert len(notices(page)) == 1, notices(page)
        assert SYNTHETIC_LABEL in notices(page)[0] and SANDBOX_LABEL in notices(page)[0]

        open_sections(page)
        assert_no_error_box(page)
        text = page.get_by_test_id("stMain").inner_text()
        assert not re.search(r"\bNaN\b", text)
        shown = [w for w in forbidden_words(replayed_demo.database_url)
                 if re.search(rf"(?<![\w-]){re.escape(w)}(?![\w-])", text)]
        assert not shown, shown
        assert len(notices(page)) == 1, notices(page)
        clipped = page.evaluate(CLIPPED)
        assert not clipped, clipped
        whole_page(page, f"board-opened-{screen}", screen)
        blocking = blocking_violations(page)
        assert not blocking, describe(blocking)
    finally:
        page.context.close()


def test_a_window_that_has_not_ended_is_provisional_and_in_the_present_tense(
    browser: Browser, replayed_demo_url: str, replayed_demo: Demo
) -> None:
    today = utcnow().astimezone(ZoneInfo("Europe/London")).date()
    running = running_windows(replayed_demo.database_url, today)
    page = open_board(browser, replayed_demo_url, replayed_demo.board, "laptop")
    try:
        open_section(page, "The estimated effect of each awareness campaign")
        explain = page.get_by_role("combobox", name="Explain the estimate for")
        offered = [o for o in running if o]
        story = page.get_by_test_id("stMain").inner_text()
        explain.click()
        estimated = page.get_by_role("option").all_inner_texts()
        page.keyboard.press("Escape")
        for name in offered:
            assert f"{name} (until" in story and "so far is provisional" in story, story[:2000]
            if name not in estimated:  # no estimate yet: its row in the table says why
                continue
            pick(page, "Explain the estimate for", name)
            page.wait_for_function(IDLE)
            said = page.get_by_test_id("stExpander").filter(
                has_text="Explain the estimate for").inner_text()
            assert "is running in this window" in said, said
            assert "so far in the campaign" in said and "provisional" in said, said
            assert "weekly reports were" not in said, said
        if not offered:  # no window is running today: every explanation is in the past
            said = page.get_by_test_id("stExpander").filter(
                has_text="Explain the estimate for").inner_text()
            assert "so far" not in said and "were an estimated" in said, said
    finally:
        page.context.close()


def test_the_latest_reporting_figures_are_of_a_week_that_has_ended(
    browser: Browser, replayed_demo_url: str, replayed_demo: Demo
) -> None:
    page = open_board(browser, replayed_demo_url, replayed_demo.board, "laptop")
    try:
        # The end of a window still running is the one date after today the page may give.
        text = re.sub(r"\(until [^)]*\)", "", page.get_by_test_id("stMain").inner_text())
        today = utcnow().astimezone(ZoneInfo("Europe/London")).date()
        dates = re.findall(r"(\d{1,2}) ([A-Z][a-z]+) (\d{4})", text)
        assert dates
        for day, month, year in dates:
            assert date(int(year), _month(month), int(day)) <= today, (day, month, year)
    finally:
        page.context.close()


def _month(name: str) -> int:
    return ["January", "February", "March", "April", "May", "June", "July", "August",
            "September", "October", "November", "December"].index(name) + 1

