"""A board member reading on a phone (390 × 844 px): the Schedule, Board overview and Data
pages fit the phone's width (nothing to scroll sideways but a table's own cells), and the
calendar's buttons, Month, Week and List among them, are all on the screen."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, ViewportSize, expect

from dashboard.auth import PAGES
from tests.browser.conftest import CHROMIUM
from tests.browser.test_dashboard_browser import IDLE, TIMEOUT_MS, settle
from tests.browser.test_schedule_browser import calendar_frame
from tests.dashboard.conftest import BOARD, PASSWORD

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(),
    reason=f"{CHROMIUM} is missing: the browser tests drive Debian's chromium package",
)
PHONE: ViewportSize = {"width": 390, "height": 844}
#: The page does not scroll sideways: the main area is no wider than the screen.
FITS = """() => {
    const main = document.querySelector('[data-testid="stMain"]');
    return [main.scrollWidth, main.clientWidth, document.documentElement.scrollWidth,
            window.innerWidth];
}"""


@pytest.fixture
def phone(browser: Browser, app_url: str) -> Iterator[Page]:
    context = browser.new_context(viewport=PHONE, color_scheme="dark", is_mobile=True,
                                  has_touch=True)
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    page.goto(app_url)
    settle(page, "Chorus")
    page.get_by_role("textbox", name="E-mail address").fill(BOARD.email)
    page.get_by_role("textbox", name="Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    settle(page, PAGES["board"].title)  # the board's home; the menu is folded away on a phone
    yield page
    context.close()


def open_page(page: Page, app_url: str, key: str) -> None:
    page.goto(f"{app_url}/{PAGES[key].url}")
    settle(page, PAGES[key].title)


@pytest.mark.parametrize("key", ["schedule", "board", "data"])
def test_a_board_member_reads_each_page_on_a_phone_without_scrolling_sideways(
    phone: Page, app_url: str, key: str
) -> None:
    open_page(phone, app_url, key)
    main_width, main_view, page_width, screen = phone.evaluate(FITS)
    assert main_width <= main_view and page_width <= screen, (main_width, main_view,
                                                              page_width, screen)


def test_the_calendars_buttons_are_all_on_a_phones_screen(phone: Page, app_url: str) -> None:
    open_page(phone, app_url, "schedule")
    frame = calendar_frame(phone)
    width = phone.locator('iframe[title="streamlit_calendar.calendar"]').bounding_box()
    assert width is not None
    for name in ("Today", "Previous", "Next", "Month", "Week", "List"):
        button = frame.get_by_role("button", name=name, exact=True)
        expect(button).to_be_visible()
        box = button.bounding_box()
        assert box is not None
        assert width["x"] <= box["x"] and box["x"] + box["width"] <= width["x"] + width["width"] \
            and box["x"] + box["width"] <= PHONE["width"], f"{name} is off the screen: {box}"
    frame.get_by_role("button", name="List", exact=True).click()
    phone.wait_for_function(IDLE)
    expect(frame.locator(".fc-list, .fc-list-empty").first).to_be_visible()
