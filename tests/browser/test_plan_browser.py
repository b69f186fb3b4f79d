"""An officer checks and plans a campaign, sees the schedule, and sends it for sign-off, in
headless Chromium; the view with the schedule passes the accessibility audit."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, ViewportSize, expect

from tests.browser.conftest import CHROMIUM, SCREENSHOTS
from tests.browser.test_dashboard_browser import IDLE, check, go_to, open_tab, sign_in
from tests.dashboard.conftest import OFFICER

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(),
    reason=f"{CHROMIUM} is missing: the browser tests drive Debian's chromium package",
)
#: The campaign as the picker names it (its key is refugee-week-2027).
CAMPAIGN = "Refugee Week 2027"


def test_an_officer_checks_and_plans_then_sends_for_sign_off(
    browser: Browser, app_url: str
) -> None:
    page = open_tab(browser, "light")
    try:
        sign_in(page, app_url, OFFICER)
        go_to(page, "campaigns")
        year = page.get_by_role("combobox", name="Year")  # the page opens on this year
        year.click()
        page.get_by_role("option", name=CAMPAIGN[-4:], exact=True).click()
        page.wait_for_function(IDLE)
        choice = page.get_by_role("combobox", name="Campaign")
        choice.click()
        choice.press_sequentially(CAMPAIGN)
        expect(page.get_by_role("option", name=CAMPAIGN, exact=True)).to_be_visible()
        choice.press("Enter")
        page.wait_for_function(IDLE)
        page.wait_for_function(IDLE)

        page.get_by_role("button", name="Check and plan").click()
        expect(page.get_by_text("posts would be planned, shown in local time")).to_be_visible()
        page.wait_for_function(IDLE)
        schedule = (page.get_by_test_id("stDataFrame").filter(has_text="When (local time)")
                    .filter(has_text="Notes"))  # the campaign's deliveries have no notes
        expect(schedule).to_contain_text("Account")
        check(page, "officer-campaigns-check-and-plan")

        page.get_by_role("button", name="Send for sign-off").click()
        said = page.get_by_test_id("stAlertContentSuccess").filter(has_text="Sent for sign-off")
        expect(said).to_contain_text("posts now await sign-off")
        page.wait_for_function(IDLE)
        expect(page.get_by_role("button", name="Check and plan")).to_be_visible()
        expect(page.get_by_role("button", name="Approve ")).to_have_count(1)
        check(page, "officer-campaigns-sent-for-sign-off")
    finally:
        page.context.close()


PHONE: ViewportSize = {"width": 390, "height": 844}


def test_on_a_phone_the_campaigns_page_names_campaigns_and_its_tables_start_with_them(
    browser: Browser, app_url: str
) -> None:
    """At 390 px the sidebar folds away and tables scroll sideways: the columns a person
    needs first are the ones on screen, and the picker names campaigns."""
    page = open_tab(browser, "light")
    try:
        sign_in(page, app_url, OFFICER)
        go_to(page, "campaigns")
        page.set_viewport_size(PHONE)
        page.wait_for_function(IDLE)
        campaigns = page.get_by_test_id("stDataFrame").filter(has_text="Awaiting sign-off")
        campaigns.scroll_into_view_if_needed()
        box = campaigns.bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"]
        expect(campaigns).to_contain_text("National Hate Crime Awareness Week 2026")
        expect(campaigns).not_to_contain_text("nhcaw-2026")
        choice = page.get_by_role("combobox", name="Campaign")
        expect(choice).to_be_in_viewport()
        choice.click()
        expect(page.get_by_role("option", name="National Hate Crime Awareness Week 2026",
                                exact=True)).to_be_visible()
        expect(page.get_by_role("option", name="nhcaw-2026")).to_have_count(0)
        page.keyboard.press("Escape")
        page.wait_for_function(IDLE)
        page.screenshot(path=SCREENSHOTS / "officer-campaigns-390.png", full_page=True)
    finally:
        page.context.close()
