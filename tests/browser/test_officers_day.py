"""The officer's day on the demo data in headless Chromium, with no command line: sign in,
write a post with a wording per network, see the planner's refusal in Compose and fix it,
check and plan, send for sign-off; the approver signs off in a second browser; the officer sees
the posts scheduled on the calendar, moves one and sees it back awaiting sign-off, pauses and
resumes, and reloads still signed in. Each step asserts what the person sees; a screenshot of
each goes to var/screenshots/officers-day-*.png."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser import officers_day as day
from tests.browser.conftest import CHROMIUM, SCREENSHOTS, serving
from tests.browser.test_dashboard_browser import blocking_violations, describe, screenshot

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(),
    reason=f"{CHROMIUM} is missing: the browser tests drive Debian's chromium package",
)
TIMEOUT_MS = 30_000


class Screenshots:
    """Each step's screen, numbered in the order of the day, and the accessibility audit of
    what it shows (every view of the day, the messages after each click included)."""

    def __init__(self) -> None:
        self.taken: list[Path] = []
        self.violations: list[str] = []

    @contextmanager
    def step(self, name: str, page: Page) -> Iterator[None]:
        yield
        day.idle(page)
        slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
        shot = f"officers-day-{len(self.taken) + 1:02d}-{slug}"
        screenshot(page, shot)
        self.taken.append(SCREENSHOTS / f"{shot}.png")
        blocking = blocking_violations(page)
        if blocking:
            self.violations.append(f"{name}: {describe(blocking)}")


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> day.Demo:
    return day.build_demo(tmp_path_factory.mktemp("officers-day"))


@pytest.fixture(scope="module")
def demo_url(demo: day.Demo, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with serving(demo.database_url, tmp_path_factory.mktemp("officers-day-server"),
                 environment=demo.environment()) as url:
        yield url


def test_an_officer_takes_a_post_from_idea_to_scheduled_in_the_browser(
    browser: Browser, demo: day.Demo, demo_url: str
) -> None:
    steps = Screenshots()
    officer = day.new_tab(browser, TIMEOUT_MS)
    approver = day.new_tab(browser, TIMEOUT_MS)
    try:
        day.sign_in(officer, demo_url, demo.officer, steps, "officer")
        expect(officer.get_by_role("heading", level=1)).to_have_text("Calendar and campaigns")

        day.write_a_post(officer, steps)
        shown = day.refusal(officer)
        expect(shown).to_have_count(2)  # beside the X wording, and in the list under Checks
        for refusal in shown.all():
            expect(refusal).to_contain_text("X does not allow the same text on several accounts")
            expect(refusal).to_contain_text(day.PARTNER)
        x_wording, beside, next_field = (box.bounding_box() for box in (
            officer.get_by_role("textbox", name="X wording", exact=True), shown.first,
            officer.get_by_role("textbox", name="Mastodon wording", exact=True)))
        assert x_wording and beside and next_field
        assert x_wording["y"] < beside["y"] < next_field["y"]
        day.fix_and_save(officer, steps)

        day.check_plan_and_send(officer, steps)
        expect(officer.get_by_test_id("stAlertContentSuccess")).to_contain_text(
            "posts now await sign-off")

        day.sign_in(approver, demo_url, demo.approver, steps, "approver")
        approve = day.approver_signs_off(approver, steps)
        expect(approver.get_by_test_id("stAlertContentSuccess")).to_contain_text(
            demo.approver.name)
        expect(approve).to_have_count(0)  # nothing of it awaits sign-off any more

        entries = day.see_it_on_the_calendar(officer, steps)
        expect(entries).to_have_count(5)  # the lead's three networks, the council's two
        for entry in entries.all():
            expect(entry).to_contain_text("Approved")
        expect(officer.get_by_text("Approved or scheduled: will be sent")).to_be_visible()

        day.move_it(officer, steps, hour=12)
        moved = officer.get_by_test_id("stAlertContentSuccess")
        expect(moved).to_contain_text("Moved to Wed 27 Jan 2027 12:00")
        expect(moved).to_contain_text("It was approved, so it now awaits sign-off again")
        for entry in entries.all():
            expect(entry).to_contain_text("Awaiting sign-off")

        day.back_to_the_campaign(officer, steps)
        expect(officer.get_by_text(f"5 posts changed since {demo.approver.name} signed off",
                                   exact=False)).to_contain_text("awaiting sign-off")
        day.pause_and_resume(officer, steps, "checking the wording with the council")
        day.reload_still_signed_in(officer, demo.officer, steps)
        expect(officer.get_by_role("button", name="Sign out")).to_be_visible()
    finally:
        officer.context.close()
        approver.context.close()
    assert all(path.stat().st_size > 0 for path in steps.taken)
    assert not steps.violations, "\n".join(steps.violations)
