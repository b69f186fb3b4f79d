"""The board page's charts read at every width: in a real browser, on the demo's data, at
1440 × 900, 1024 × 768 and 390 × 844, no word of a chart (axis label or title, legend entry,
number on a bar, key of an awareness window) is cut off or overlaps another.

A word is cut off when its box runs past the chart's SVG, past the clip of the marks it is
drawn with, or when Vega shortened it to its label limit with an ellipsis (a bar's name that
`dashboard.charts.short_labels` itself ended in '…', on its last permitted line, is read whole
in the tooltip and the table, and is not counted). Two words overlap when their boxes share
more than a pixel each way; words Vega hid to avoid overlap (opacity 0) do not count.

The demo is `chorus demo` itself, replaying its last 60 days through the sandbox, so that the
board page's default period has reach, partners and networks to chart.
"""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Browser, Page, ViewportSize, expect

from dashboard.auth import PAGES
from dashboard.charts import LABEL_CHARS, LABEL_LINES
from tests.browser.conftest import CHROMIUM, SCREENSHOTS
from tests.browser.officers_day import Demo, SignIn
from tests.browser.test_board_page_browser import board_at
from tests.browser.test_dashboard_browser import IDLE, TIMEOUT_MS, open_section, settle

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(),
    reason=f"{CHROMIUM} is missing: the browser tests drive Debian's chromium package",
)
SCREENS: dict[str, ViewportSize] = {"1440": {"width": 1440, "height": 900},
                                    "1024": {"width": 1024, "height": 768},
                                    "390": {"width": 390, "height": 844}}
#: The board page's sections that hold charts, and the charts they hold between them.
#: The sections that hold charts, and how many each draws.
SECTIONS = {"Reach and reports, week by week": 2, "Partners' contribution": 1,
            "Engagement on each network": 1}
CHARTS = sum(SECTIONS.values())
#: Overlap allowed between two words' boxes, and how far one may run past its chart, in px:
#: boxes that touch are fine.
SLACK = 1

#: For each chart on the page: its name (its aria-label: the description; else its title), and
#: every problem with its words.
CHART_WORDS = """([slack, labelChars, labelLines]) => {
    const visible = (el, svg) => {
        if (el.getClientRects().length === 0) return false;
        for (let up = el; up && up !== svg.parentElement; up = up.parentElement) {
            const style = getComputedStyle(up);
            if (style.display === 'none' || style.visibility === 'hidden'
                || parseFloat(style.opacity) === 0 || up.getAttribute('opacity') === '0'
                || up.getAttribute('fill-opacity') === '0') return false;
        }
        return true;
    };
    // The clip the text is drawn inside, in the page's coordinates (Vega clips marks with a
    // clipPath rectangle in the user space of the group that refers to it).
    const clipOf = (el, svg) => {
        for (let up = el.parentElement; up && up !== svg; up = up.parentElement) {
            const ref = up.getAttribute('clip-path');
            if (!ref) continue;
            const id = ref.match(/#([^)"']+)/);
            const rect = id && svg.querySelector(`clipPath[id="${id[1]}"] rect`);
            const m = up.getScreenCTM();
            if (!rect || !m) continue;
            const x = +rect.getAttribute('x') || 0, y = +rect.getAttribute('y') || 0;
            const w = +rect.getAttribute('width'), h = +rect.getAttribute('height');
            const xs = [x, x + w].map(v => m.a * v + m.e), ys = [y, y + h].map(v => m.d * v + m.f);
            return {left: Math.min(...xs), right: Math.max(...xs),
                    top: Math.min(...ys), bottom: Math.max(...ys)};
        }
        return null;
    };
    const outside = (r, box) => r.left < box.left - slack || r.right > box.right + slack
        || r.top < box.top - slack || r.bottom > box.bottom + slack;
    const shortened = (el) => {
        const lines = [...el.querySelectorAll('tspan')].map(t => t.textContent);
        const last = lines.length ? lines[lines.length - 1] : el.textContent;
        if (!last.trim().endsWith('\u2026')) return false;
        // short_labels' own ending: its last permitted line, exactly labelChars long.
        return !(lines.length === labelLines && last.length === labelChars);
    };
    return [...document.querySelectorAll('[data-testid="stVegaLiteChart"]')].map((chart, n) => {
        const svg = chart.querySelector('svg');
        if (!svg) return {name: `chart ${n + 1}`, problems: ['no SVG drawn']};
        const title = svg.querySelector('.role-title-text');
        const name = chart.getAttribute('aria-label') || svg.getAttribute('aria-label')
            || title?.textContent || `chart ${n + 1}`;
        const box = svg.getBoundingClientRect();
        const words = [...svg.querySelectorAll('text')]
            .filter(t => t.textContent.trim() && visible(t, svg))
            .map(t => ({text: (t.querySelector('tspan') ? [...t.querySelectorAll('tspan')]
                                   .map(l => l.textContent).join(' ') : t.textContent).trim(),
                        r: t.getBoundingClientRect(),
                        clip: clipOf(t, svg), el: t}));
        const problems = [];
        const at = r => `[${Math.round(r.left)}–${Math.round(r.right)} × ` +
            `${Math.round(r.top)}–${Math.round(r.bottom)}]`;
        words.forEach((a, i) => {
            if (outside(a.r, box)) problems.push(
                `"${a.text}" ${at(a.r)} runs outside the chart ${at(box)}`);
            else if (a.clip && outside(a.r, a.clip)) problems.push(
                `"${a.text}" ${at(a.r)} is cut by its marks' clip ${at(a.clip)}`);
            if (shortened(a.el)) problems.push(`"${a.text}" is cut short with an ellipsis`);
            for (const b of words.slice(i + 1)) {
                const w = Math.min(a.r.right, b.r.right) - Math.max(a.r.left, b.r.left);
                const h = Math.min(a.r.bottom, b.r.bottom) - Math.max(a.r.top, b.r.top);
                if (w > slack && h > slack) problems.push(
                    `"${a.text}" ${at(a.r)} overlaps "${b.text}" ${at(b.r)}`);
            }
        });
        return {name, words: words.length, problems};
    });
}"""


def open_charts(browser: Browser, url: str, who: SignIn, screen: ViewportSize) -> Page:
    """The board overview, signed in as `who`, with every section that holds a chart open and
    every chart drawn."""
    page = board_at(browser, url, who, screen)
    for name, drawn in SECTIONS.items():
        open_section(page, name)
        section = page.get_by_test_id("stExpander").filter(
            has=page.locator("summary").filter(has_text=name))
        expect(section.get_by_test_id("stVegaLiteChart"),
               f"the charts of {name!r}").to_have_count(drawn, timeout=TIMEOUT_MS)
    settle(page, PAGES["board"].title)
    charts = page.get_by_test_id("stVegaLiteChart")
    expect(charts).to_have_count(CHARTS, timeout=TIMEOUT_MS)  # each section drawn once opened
    for chart in charts.all():
        expect(chart.locator("svg text").first).to_be_attached()
    page.wait_for_function(IDLE)
    return page


def chart_problems(page: Page) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = page.evaluate(CHART_WORDS, [SLACK, LABEL_CHARS, LABEL_LINES])
    return found


def describe(charts: list[dict[str, Any]]) -> str:
    lines = []
    for chart in charts:
        if chart["problems"]:
            lines.append(f"{chart['name']}:")
            lines.extend(f"  - {problem}" for problem in chart["problems"])
    return "\n".join(lines)


@pytest.mark.parametrize("screen", SCREENS)
def test_no_chart_word_is_cut_off_or_overlaps_another(
    browser: Browser, replayed_demo_url: str, replayed_demo: Demo, screen: str
) -> None:
    page = open_charts(browser, replayed_demo_url, replayed_demo.board, SCREENS[screen])
    try:
        charts = chart_problems(page)
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        for n, chart in enumerate(page.get_by_test_id("stVegaLiteChart").all()):
            # In the middle of the window, clear of Streamlit's header, which stays on top.
            chart.evaluate("chart => chart.scrollIntoView({block: 'center'})")
            chart.screenshot(path=SCREENSHOTS / f"board-chart-{n + 1}-{screen}.png",
                             animations="disabled")
        assert len(charts) == CHARTS and all(chart["words"] for chart in charts), charts
        assert not any(chart["problems"] for chart in charts), (
            f"at {screen} px, chart words cut off or overlapping:\n{describe(charts)}")
    finally:
        page.context.close()
