"""The Schedule page in headless Chromium: the calendar (streamlit-calendar's FullCalendar in a
component frame) draws the posts titled with their state in words and the awareness weeks as
bands; a click on a post opens it below; the officer moves it with the form and reads that it
awaits sign-off again. axe-core must find no serious or critical violation on the page, nor
inside the calendar's frame (which the page-wide audit cannot see into)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, Frame, Page, expect

from tests.browser.conftest import CHROMIUM
from tests.browser.test_dashboard_browser import (
    BLOCKING,
    IDLE,
    check,
    describe,
    go_to,
    open_tab,
    sign_in,
)
from tests.dashboard.conftest import OFFICER

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(),
    reason=f"{CHROMIUM} is missing: the browser tests drive Debian's chromium package",
)
#: Approved in the seed, none of it sent: on Wednesday 14 October 2026.
POST = "(reporting-centres)"
TITLE = "National Hate Crime Awareness Week 2026: post reporting-centres"


def calendar_frame(page: Page) -> Frame:
    handle = page.locator('iframe[title="streamlit_calendar.calendar"]').element_handle()
    assert handle is not None
    frame = handle.content_frame()
    assert frame is not None
    return frame


def go_to_month(frame: Frame, month: str) -> None:
    """Step the calendar back (at most a year) until it shows `month`, e.g. 'October 2026'."""
    for _ in range(12):
        if frame.locator(".fc-toolbar-title").inner_text() == month:
            return
        frame.get_by_role("button", name="Previous").click()
    expect(frame.locator(".fc-toolbar-title")).to_have_text(month)


def frame_violations(frame: Frame) -> list[dict[str, object]]:
    axe = Axe()
    frame.evaluate(axe.axe_script)
    found = frame.evaluate("axe.run(document, {resultTypes: ['violations']})")
    return [v for v in found["violations"] if v["impact"] in BLOCKING]


def test_the_officer_opens_a_post_from_the_calendar_and_moves_it(
    browser: Browser, app_url: str
) -> None:
    page = open_tab(browser, "light")
    try:
        sign_in(page, app_url, OFFICER)
        go_to(page, "schedule")
        year = page.get_by_role("combobox", name="Year")
        if "2026" not in year.inner_text():
            year.click()
            page.get_by_role("option", name="2026", exact=True).click()
            page.wait_for_function(IDLE)
        frame = calendar_frame(page)
        expect(frame.locator(".fc-bg-event").first).to_be_attached()
        go_to_month(frame, "October 2026")
        expect(frame.locator(".fc-bg-event").filter(
            has_text="National Hate Crime Awareness Week").first).to_be_visible()
        entry = frame.locator(".fc-event:not(.fc-bg-event)").filter(has_text=POST).first
        expect(entry).to_contain_text("Approved ·")
        blocking = frame_violations(frame)
        assert not blocking, describe(blocking)  # type: ignore[arg-type]

        entry.click()
        expect(page.get_by_role("heading", name=TITLE)).to_be_visible()
        page.wait_for_function(IDLE)
        expect(page.get_by_role("heading", name="Move this post to")).to_be_visible()
        check(page, "officer-schedule-opened")

        soon = date.today() + timedelta(days=10)
        # Streamlit's date and time fields are spin buttons, one a part, typed into by keyboard.
        for part, value in (("day", f"{soon:%d}"), ("month", f"{soon:%m}"),
                            ("year", f"{soon:%Y}")):
            page.get_by_role("spinbutton", name=f"{part}, New date").press_sequentially(value)
        time_field = "New time (Europe/London)"
        for part, value in (("hour", "10"), ("minute", "00")):
            page.get_by_role("spinbutton", name=f"{part}, {time_field}").press_sequentially(value)
        page.get_by_role("button", name="Move this post").click()
        said = page.get_by_test_id("stAlertContentSuccess").filter(has_text="Moved to")
        expect(said).to_contain_text(f"{soon:%a} {soon.day} {soon:%b %Y} 10:00")
        expect(said).to_contain_text("It was approved, so it now awaits sign-off again.")
        page.wait_for_function(IDLE)
        check(page, "officer-schedule-moved")
    finally:
        page.context.close()


def test_the_calendar_frame_passes_axe_in_the_dark_theme(browser: Browser, app_url: str) -> None:
    page = open_tab(browser, "dark")
    try:
        sign_in(page, app_url, OFFICER)
        go_to(page, "schedule")
        frame = calendar_frame(page)
        expect(frame.locator(".fc-bg-event").first).to_be_attached()
        go_to_month(frame, "October 2026")
        expect(frame.locator(".fc-event:not(.fc-bg-event)").first).to_be_visible()
        blocking = frame_violations(frame)
        assert not blocking, describe(blocking)  # type: ignore[arg-type]
        check(page, "officer-schedule-dark-october")
    finally:
        page.context.close()


def _overlap(a: dict[str, float], b: dict[str, float]) -> bool:
    return (a["x"] < b["x"] + b["width"] and b["x"] < a["x"] + a["width"]
            and a["y"] < b["y"] + b["height"] and b["y"] < a["y"] + a["height"])


def test_awareness_week_names_overlap_neither_each_other_nor_the_posts(
    browser: Browser, app_url: str
) -> None:
    """In October 2026 Black History Month and National Hate Crime Awareness Week share days,
    and posts fall on them: each name is read whole, on a line of its own, under the posts."""
    page = open_tab(browser, "light")
    try:
        sign_in(page, app_url, OFFICER)
        go_to(page, "schedule")
        frame = calendar_frame(page)
        expect(frame.locator(".fc-bg-event").first).to_be_attached()
        go_to_month(frame, "October 2026")
        names = frame.locator(".fc-daygrid-day-bg .fc-bg-event .fc-event-title")
        expect(names.filter(has_text="National Hate Crime Awareness Week").first).to_be_visible()
        posts = frame.locator(".fc-daygrid-event")
        expect(posts.first).to_be_visible()
        name_boxes = [(n.inner_text(), n.bounding_box()) for n in names.all()]
        post_boxes = [(p.inner_text(), p.bounding_box()) for p in posts.all()]
        for n, (text, box) in enumerate(name_boxes):
            assert box is not None
            for other, other_box in name_boxes[n + 1:]:
                assert other_box is not None
                assert not _overlap(box, other_box), f"{text!r} overlaps {other!r}"
            for post, post_box in post_boxes:
                assert post_box is not None
                assert not _overlap(box, post_box), f"{text!r} overlaps the post {post!r}"
    finally:
        page.context.close()
