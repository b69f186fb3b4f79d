"""Time each click of the officer's day in the dashboard, beside an empty page's rerun.

The day is the browser test's (tests/browser/officers_day.py drives both, on the demo's own
data built by `chorus demo` with no replay): the officer signs in, writes a post in Compose
with a wording per network, sees the planner's refusal and fixes it, saves, checks and plans,
sends for sign-off; the approver signs in in a second browser context and signs off from the
Sign-off queue; the officer opens the post from the Schedule's calendar and moves it, then
pauses and resumes the campaign (ROUNDS times) and reloads the page. The dashboard is served as the
browser tests serve it (`streamlit run dashboard/server.py`, a child process), in Debian's
Chromium driven by Playwright.

Each step is timed from the click to its result on screen: the text that says the result
is visible and Streamlit is idle (no script running, nothing stale; IDLE of the browser
tests). In the same run a one-line app is served on another port and its rerun button clicked
EMPTY_RUNS times: the median time from click to idle there is the "empty page", the least any
click in a Streamlit app costs on this machine. Target: p95 of the steps under 4 x that.

    .venv/bin/python bench/interactions.py        # or: make bench

It stops by itself within BUDGET seconds, and stops its servers, browser and scratch folder
whatever happens.
"""

from __future__ import annotations

import signal
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import streamlit.logger  # noqa: E402

# The seeding below imports the dashboard outside a Streamlit server, whose caches would each
# warn about it.
streamlit.logger.set_log_level("ERROR")

from playwright.sync_api import Browser, Page, expect, sync_playwright  # noqa: E402

from tests.browser import officers_day as day  # noqa: E402
from tests.browser.conftest import (  # noqa: E402
    CHROMIUM,
    CHROMIUM_ARGS,
    clean_environment,
    serve_script,
)
from tests.browser.test_dashboard_browser import IDLE  # noqa: E402

#: The whole run, servers and browser included, is stopped after this many seconds.
BUDGET = 300
STEP_TIMEOUT_MS = 30_000
EMPTY_RUNS = 10
#: Pause-and-resume cycles: the clicks the officer repeats most.
ROUNDS = 3
TARGET_FACTOR = 4.0
#: The empty page: a button, and the run's number so that a click's result can be seen.
EMPTY_APP = """import streamlit as st
st.session_state.runs = st.session_state.get("runs", 0) + 1
st.button("Rerun")
st.write(f"Run {st.session_state.runs}")
"""


class OutOfTime(Exception):
    pass


@dataclass
class Timings:
    steps: list[tuple[str, float]] = field(default_factory=list)

    @contextmanager
    def step(self, name: str, page: Page) -> Iterator[None]:
        """Time the block (a click, then waiting for its result) until Streamlit is idle."""
        start = time.perf_counter()
        yield
        page.wait_for_function(IDLE)
        took = time.perf_counter() - start
        self.steps.append((name, took))
        print(f"  {name:<44} {took:6.2f} s", flush=True)


def the_day(browser: Browser, url: str, demo: day.Demo) -> Timings:
    timings = Timings()
    officer = day.new_tab(browser, STEP_TIMEOUT_MS)
    approver = day.new_tab(browser, STEP_TIMEOUT_MS)
    try:
        day.sign_in(officer, url, demo.officer, timings, "officer")
        day.write_a_post(officer, timings)
        day.fix_and_save(officer, timings)
        day.check_plan_and_send(officer, timings)
        day.sign_in(approver, url, demo.approver, timings, "approver")
        day.approver_signs_off(approver, timings)
        day.see_it_on_the_calendar(officer, timings)
        day.move_it(officer, timings, hour=12)
        day.back_to_the_campaign(officer, timings)
        for round_ in range(1, ROUNDS + 1):
            day.pause_and_resume(officer, timings, f"benchmark round {round_}")
        day.reload_still_signed_in(officer, demo.officer, timings)
    finally:
        officer.context.close()
        approver.context.close()
    return timings


def empty_page(browser: Browser, url: str) -> list[float]:
    page = day.new_tab(browser, STEP_TIMEOUT_MS)
    page.goto(url)
    expect(page.get_by_text("Run 1", exact=True)).to_be_visible()
    page.wait_for_function(IDLE)
    times = []
    for run in range(2, EMPTY_RUNS + 2):
        start = time.perf_counter()
        page.get_by_role("button", name="Rerun").click()
        expect(page.get_by_text(f"Run {run}", exact=True)).to_be_visible()
        page.wait_for_function(IDLE)
        times.append(time.perf_counter() - start)
    page.context.close()
    return times


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    rank = share * (len(ordered) - 1)
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def run(folder: Path) -> bool:
    print("building the demo's data (chorus demo, no replay) ...", flush=True)
    demo = day.build_demo(folder)
    empty_script = folder / "empty.py"
    empty_script.write_text(EMPTY_APP)
    with (serve_script("dashboard/server.py", folder, demo.environment()) as url,
          serve_script(str(empty_script), folder, clean_environment(None)) as empty_url,
          sync_playwright() as driver):
        browser = driver.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            print("the empty page (warming up) ...", flush=True)
            empty_page(browser, empty_url)
            print("the officer's day:", flush=True)
            timings = the_day(browser, url, demo)
            empty = statistics.median(empty_page(browser, empty_url))
        finally:
            browser.close()
    seconds = [took for _, took in timings.steps]
    p50, p95 = statistics.median(seconds), percentile(seconds, 0.95)
    met = p95 < TARGET_FACTOR * empty
    print(f"target: p95 under {TARGET_FACTOR:g} x the empty page ({TARGET_FACTOR * empty:.2f} s):"
          f" {'met' if met else 'not met'} ({p95 / empty:.1f} x)")
    print(f"interactions: p50 {p50:.2f} s, p95 {p95:.2f} s, empty page {empty:.2f} s")
    return met


def out_of_time(signum: int, frame: FrameType | None) -> None:
    raise OutOfTime(f"stopped after {BUDGET} s")


def main() -> int:
    if not CHROMIUM.exists():
        print(f"{CHROMIUM} is missing (Debian's chromium package)", file=sys.stderr)
        return 2
    signal.signal(signal.SIGALRM, out_of_time)
    signal.alarm(BUDGET)
    try:
        with tempfile.TemporaryDirectory(prefix="chorus-bench-interactions-") as scratch:
            run(Path(scratch))
    finally:
        signal.alarm(0)
    return 0


if __name__ == "__main__":
    sys.exit(main())
