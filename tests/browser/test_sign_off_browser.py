"""An approver reads what changed since the last sign-off on the Sign-off page and approves it,
in headless Chromium, on a dashboard of its own (the campaign changed after its sign-off); the
queue with its diff passes the accessibility audit."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect

from campaigns.storage import db
from tests.browser.conftest import CHROMIUM, serving
from tests.browser.test_dashboard_browser import IDLE, check, go_to, open_tab, sign_in
from tests.dashboard.conftest import APPROVER, _build
from tests.dashboard.test_sign_off_queue import APPROVED_NAME, re_plan_with_changes

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(),
    reason=f"{CHROMIUM} is missing: the browser tests drive Debian's chromium package",
)


def test_an_approver_reads_the_changes_since_the_last_sign_off_and_approves(
    browser: Browser, tmp_path: Path
) -> None:
    url = _build(tmp_path / "chorus.db").url
    engine = db.make_engine(url)
    try:
        re_plan_with_changes(db.session_factory(engine))
    finally:
        engine.dispose()
    with serving(url, tmp_path) as app_url:
        page = open_tab(browser, "light")
        try:
            sign_in(page, app_url, APPROVER)
            go_to(page, "sign-off")
            expect(page.get_by_role("heading", name=APPROVED_NAME)).to_be_visible()
            expect(page.get_by_text("[−someone−] [+anyone+]")).to_be_visible()
            expect(page.get_by_text("Its time moved: was Mon 12 Oct 12:30, now Mon 12 Oct "
                                    "13:30.").first).to_be_visible()
            check(page, "approver-sign-off-changes")

            page.get_by_role("button", name=f"Approve 4 posts of {APPROVED_NAME}").click()
            said = page.get_by_test_id("stAlertContentSuccess")
            expect(said).to_contain_text(f"4 posts of {APPROVED_NAME} approved by Ama Approver")
            page.wait_for_function(IDLE)
            expect(page.get_by_role("heading", name=APPROVED_NAME)).to_have_count(0)
            check(page, "approver-sign-off-approved")
        finally:
            page.context.close()
