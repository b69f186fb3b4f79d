"""A communications officer's day on the demo data, in the browser, step by step.

The same steps serve the browser test that checks what the officer sees at each one
(tests/browser/test_officers_day.py, a screenshot after each) and the benchmark that times them
(bench/interactions.py): each step is a block run inside `steps.step(name, page)`, which the test
makes a screenshot and the benchmark a stopwatch. A step ends when what the person waits for is
on the screen; the recorder then waits for Streamlit to be idle.

The data is the demo's own: `chorus demo --replay-days 0 --no-dashboard --exit-after-replay`
in a scratch folder (content loaded, sandbox accounts connected, campaigns planned and signed
off by the demo's approver, the demo sign-ins with their passwords in demo-sign-ins.json).
"""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from playwright.sync_api import Browser, Locator, Page, expect

from dashboard.auth import PAGES
from dashboard.startup import SCHEMA_READY_ENV, schema_marker
from tests.browser.conftest import clean_environment
from tests.browser.test_dashboard_browser import IDLE, VIEWPORT
from tests.conftest import ROOT

DEMO_TIMEOUT = 120
#: The campaign the officer adds a post to: Holocaust Memorial Day 2027, months ahead.
CAMPAIGN, CAMPAIGN_NAME = "holocaust-memorial-day-2027", "Holocaust Memorial Day 2027"
POST = "light-a-candle"
LINK = "https://www.report-it.org.uk"
#: One wording per network; the X wording is the lead's, and a partner posting the same words
#: on its own X account is what the planner refuses.
WORDING = {  # the X wording last: leaving it is what brings the planner's refusal
    "Mastodon": "Today we light a candle and remember. If you see antisemitic abuse in York, "
                "you can report it online.",
    "Bluesky": "Today we light a candle and remember. Report antisemitic abuse in York.",
    "X": "Today we light a candle and remember. If you see antisemitic abuse in York, "
         "report it.",
}
PARTNER = "City of York Council"
PARTNER_X = ("York remembers today. Abuse aimed at Jewish people in our city is a hate "
             "crime: tell us what you have seen.")


@dataclass(frozen=True)
class SignIn:
    email: str
    password: str
    name: str


@dataclass(frozen=True)
class Demo:
    database_url: str
    officer: SignIn
    approver: SignIn
    board: SignIn

    def environment(self) -> dict[str, str]:
        """The dashboard's environment, as `chorus demo` starts it (the schema is up to date:
        the demo has upgraded it)."""
        return clean_environment(self.database_url) | {
            "CHORUS_DEMO": "1", SCHEMA_READY_ENV: schema_marker(self.database_url)}


def build_demo(folder: Path, replay_days: int = 0) -> Demo:
    """The demo's data in `folder`/var, built by `chorus demo` itself, replaying its last
    `replay_days` days through the sandbox (none: campaigns planned and signed off, nothing
    sent yet)."""
    var = folder / "var"
    database = var / "chorus.db"
    url = f"sqlite:///{database}"
    environment = clean_environment(None) | {"CHORUS_DATABASE_URL": url}
    done = subprocess.run(
        [sys.executable, "-m", "campaigns", "demo", "--replay-days", str(replay_days),
         "--no-dashboard", "--sandbox-port", "0", "--exit-after-replay", "--var", str(var),
         "--content", str(ROOT / "content")],
        cwd=folder, env=environment, capture_output=True, text=True, timeout=DEMO_TIMEOUT,
        check=False)
    if done.returncode != 0:
        raise RuntimeError(f"chorus demo failed:\n{done.stdout[-3000:]}{done.stderr[-3000:]}")
    passwords: dict[str, str] = json.loads((var / "demo-sign-ins.json").read_text())
    with sqlite3.connect(database) as connection:
        names = dict(connection.execute("SELECT email, name FROM users").fetchall())

    def person(email: str) -> SignIn:
        return SignIn(email, passwords[email], names[email])

    return Demo(url, person("officer@demo.chorus.invalid"),
                person("approver@demo.chorus.invalid"), person("board@demo.chorus.invalid"))


class Steps(Protocol):
    def step(self, name: str, page: Page) -> AbstractContextManager[None]: ...


def new_tab(browser: Browser, timeout_ms: int) -> Page:
    context = browser.new_context(viewport=VIEWPORT)
    context.set_default_timeout(timeout_ms)
    expect.set_options(timeout=timeout_ms)
    return context.new_page()


def idle(page: Page) -> None:
    page.wait_for_function(IDLE)


def success(page: Page, text: str) -> Locator:
    return page.get_by_test_id("stAlertContentSuccess").filter(has_text=text)


def pick(page: Page, label: str, option: str) -> None:
    """Choose `option` in the select box labelled `label`, by typing as a person would."""
    box = page.get_by_role("combobox", name=label, exact=True)
    box.click()
    box.press_sequentially(option)
    expect(page.get_by_role("option", name=option).first).to_be_visible()
    box.press("Enter")


def open_page(page: Page, key: str) -> None:
    """Open a page from the navigation; the step ends when its heading shows (go_to of the
    page-by-page tests also waits for its charts, which a timed step must not)."""
    title = PAGES[key].title
    page.get_by_test_id("stSidebarNav").get_by_role("link", name=title, exact=True).click()
    expect(page.get_by_role("heading", level=1, name=title)).to_be_visible()


# ---- the day ------------------------------------------------------------------------------------


def sign_in(page: Page, url: str, who: SignIn, steps: Steps, role: str) -> None:
    page.goto(url)
    expect(page.get_by_role("button", name="Sign in")).to_be_visible()
    idle(page)
    page.get_by_role("textbox", name="E-mail address").fill(who.email)
    page.get_by_role("textbox", name="Password").fill(who.password)
    with steps.step(f"{role}: sign in", page):
        page.get_by_role("button", name="Sign in").click()
        expect(page.get_by_test_id("stSidebar")).to_contain_text(who.name)


def write_a_post(page: Page, steps: Steps) -> None:
    """A new post in Compose with a wording per network; the planner's refusal of the same X
    words on the council's account shows beside the X wording before anything is saved."""
    with steps.step("officer: open Compose", page):
        open_page(page, "compose")
    idle(page)
    with steps.step("officer: choose the campaign", page):
        pick(page, "Campaign", CAMPAIGN_NAME)
        expect(page.get_by_role("textbox", name="Name", exact=True)).to_have_value(CAMPAIGN_NAME)
    idle(page)
    with steps.step("officer: start a new post", page):
        pick(page, "Post to write", "A new post")
        expect(page.get_by_role("textbox", name="Post key")).to_be_visible()
    idle(page)
    page.get_by_role("textbox", name="Post key").fill(POST)
    page.get_by_role("radio", name="All: the lead and every partner that consents").check()
    idle(page)
    page.get_by_role("textbox", name="Link", exact=False).fill(LINK)
    for network, words in WORDING.items():  # each field is checked as it is left
        page.keyboard.press("Tab")
        idle(page)
        page.get_by_role("textbox", name=f"{network} wording", exact=True).fill(words)
    expect(refusal(page)).to_have_count(0)
    with steps.step("officer: leave the X wording: the checks", page):
        page.keyboard.press("Tab")
        expect(refusal(page).first).to_be_visible()


def refusal(page: Page) -> Locator:
    return page.get_by_test_id("stAlertContentError").filter(
        has_text="would post the same words")


def fix_and_save(page: Page, steps: Steps) -> None:
    """Give the council its own X wording, as the refusal says, and save."""
    pick(page, "Partners with their own wording", PARTNER)
    page.keyboard.press("Escape")
    idle(page)
    page.get_by_role("textbox", name=f"{PARTNER}: X wording", exact=True).fill(PARTNER_X)
    with steps.step("officer: the checks after fixing", page):
        page.keyboard.press("Tab")
        expect(refusal(page)).to_have_count(0)
    idle(page)
    with steps.step("officer: Save campaign", page):
        page.get_by_role("button", name="Save campaign").click()
        expect(success(page, "Saved")).to_be_visible()


def back_to_the_campaign(page: Page, steps: Steps) -> None:
    with steps.step("officer: open Calendar and campaigns", page):
        open_page(page, "campaigns")
    idle(page)
    with steps.step("officer: choose the campaign", page):
        pick(page, "Campaign", CAMPAIGN_NAME)
        expect(page.get_by_role("heading", level=3, name=CAMPAIGN_NAME)).to_be_visible()
    idle(page)


def check_plan_and_send(page: Page, steps: Steps) -> None:
    back_to_the_campaign(page, steps)
    with steps.step("officer: Check and plan", page):
        page.get_by_role("button", name="Check and plan").click()
        expect(page.get_by_text("posts would be planned, shown in local time")).to_be_visible()
    idle(page)
    with steps.step("officer: Send for sign-off", page):
        page.get_by_role("button", name="Send for sign-off").click()
        expect(success(page, "Sent for sign-off")).to_be_visible()


def approver_signs_off(page: Page, steps: Steps) -> Locator:
    """The approver's queue: the campaign, its new post's words as each account will post them;
    Approve. Returns the Approve button (gone once nothing of the campaign awaits sign-off)."""
    with steps.step("approver: open Sign-off", page):
        open_page(page, "sign-off")
        expect(page.get_by_role("heading", level=2, name="Awaiting sign-off")).to_be_visible()
    idle(page)
    expect(page.get_by_role("heading", level=3, name=CAMPAIGN_NAME)).to_be_visible()
    expect(page.get_by_text("New since the last sign-off.").first).to_be_visible()
    expect(page.get_by_text(PARTNER_X)).to_be_visible()
    approve = page.get_by_role("button", name=f"of {CAMPAIGN_NAME}")
    with steps.step("approver: Approve", page):
        approve.click()
        expect(success(page, f"of {CAMPAIGN_NAME} approved by")).to_be_visible()
    return approve


def calendar_entries(page: Page) -> Locator:
    """The new post's entries on the Schedule page's calendar (the bands are awareness weeks)."""
    frame = page.frame_locator('iframe[title="streamlit_calendar.calendar"]')
    return frame.locator(".fc-event:not(.fc-bg-event)").filter(has_text=f"({POST})")


def see_it_on_the_calendar(page: Page, steps: Steps) -> Locator:
    """Schedule: step on to the campaign's month; its entries; open the post from one."""
    with steps.step("officer: open Schedule", page):
        open_page(page, "schedule")
        expect(page.locator('iframe[title="streamlit_calendar.calendar"]')).to_be_visible()
    idle(page)
    frame = page.frame_locator('iframe[title="streamlit_calendar.calendar"]')
    title = frame.locator(".fc-toolbar-title")
    for _ in range(12):  # the calendar opens on this month
        if "January 2027" in (title.text_content() or ""):
            break
        frame.get_by_role("button", name="Next").click()
    expect(title).to_have_text("January 2027")
    entries = calendar_entries(page)
    expect(entries.first).to_be_visible()
    with steps.step("officer: open the post from the calendar", page):
        entries.first.click()
        expect(page.get_by_role("heading", name=f"{CAMPAIGN_NAME}: post {POST}")).to_be_visible()
    return entries


def move_it(page: Page, steps: Steps, hour: int) -> None:
    """Move the opened post to `hour` o'clock on its day, with the form beside it."""
    page.get_by_role("spinbutton", name="hour, New time", exact=False).first.click()
    page.keyboard.type(f"{hour:02d}")
    page.get_by_role("spinbutton", name="minute, New time", exact=False).first.click()
    page.keyboard.type("00")
    with steps.step("officer: Move this post", page):
        page.get_by_role("button", name="Move this post").click()
        expect(success(page, "Moved to")).to_be_visible()


def pause_and_resume(page: Page, steps: Steps, reason: str) -> None:
    page.get_by_role("textbox", name="Why pause? (shown on every held post)").fill(reason)
    with steps.step("officer: Pause this campaign", page):
        page.get_by_role("button", name="Pause this campaign").click()
        expect(success(page, "Paused")).to_be_visible()
    idle(page)
    with steps.step("officer: Resume this campaign", page):
        page.get_by_role("button", name="Resume this campaign").click()
        expect(success(page, "Resumed")).to_be_visible()


def reload_still_signed_in(page: Page, who: SignIn, steps: Steps) -> None:
    with steps.step("officer: reload the page", page):
        page.reload()
        expect(page.get_by_test_id("stSidebar")).to_contain_text(who.name)
