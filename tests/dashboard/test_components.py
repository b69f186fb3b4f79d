"""Charts drawn sensibly whatever the data: count axes start at zero, hold whole numbers, and
still have a range to label when there is nothing to count."""

from __future__ import annotations

import html
import re
from datetime import date
from typing import Any

import pandas as pd
import pytest
from markdown_it import MarkdownIt

from dashboard import components
from dashboard.insights.awareness import WINDOW_COLUMNS
from dashboard.insights.periods import Period
from dashboard.insights.reach import REACH_MEASURES, reach_lines

PERIOD = Period(date(2025, 10, 13), 4)
NO_WINDOWS = pd.DataFrame(columns=list(WINDOW_COLUMNS))


def weekly(impressions: list[int]) -> pd.DataFrame:
    frame = pd.DataFrame({"week": [pd.Timestamp(m) for m in PERIOD.mondays]})
    for measure in REACH_MEASURES:
        frame[measure] = impressions if measure == "impressions" else 0
        frame[f"sandbox {measure}"] = 0
    return frame


def count_encoding(spec: dict[str, Any], channel: str) -> dict[str, Any]:
    """The encoding of `channel` in the layer that draws the counts."""
    return next(layer["encoding"][channel] for layer in spec["layer"]
                if channel in layer.get("encoding", {})
                and layer["encoding"][channel].get("type") == "quantitative")


@pytest.mark.parametrize(("impressions", "domain", "ticks"), [
    ([0, 0, 0, 0], [0, 1], 1),
    ([0, 2, 1, 0], None, 2),
    ([0, 1200, 40, 0], None, components.MAX_TICKS),
], ids=["nothing-gained", "a-little", "some-reach"])
def test_the_reach_axis_counts_from_zero_even_with_nothing_to_count(
    impressions: list[int], domain: list[int] | None, ticks: int
) -> None:
    chart = components.reach_chart(reach_lines(weekly(impressions)), NO_WINDOWS,
                                   first=PERIOD.first_week, last=PERIOD.last_day)
    y = count_encoding(chart.to_dict(), "y")
    assert y["scale"].get("domain") == domain
    assert (y["axis"]["format"], y["axis"]["tickCount"]) == (",d", ticks)


@pytest.mark.parametrize(("values", "domain", "ticks"), [
    ([], [0, 1], 1), ([0, 0], [0, 1], 1), ([0, 3], None, 3), ([0, 35], None, 8),
], ids=["no-partners", "no-reach", "a-little", "some-reach"])
def test_bars_have_a_count_axis_of_whole_numbers_whatever_their_values(
    values: list[int], domain: list[int] | None, ticks: int
) -> None:
    frame = pd.DataFrame({"partner": [f"P{n}" for n in range(len(values))],
                          "impressions": pd.Series(values, dtype="int64")})
    x = count_encoding(components.bar_chart(frame, category="partner", value="impressions")
                       .to_dict(), "x")
    assert x["scale"].get("domain") == domain
    assert (x["axis"]["format"], x["axis"]["tickCount"]) == (",d", ticks)


# ---- text people wrote, shown as written ---------------------------------------------------

_MARKDOWN = MarkdownIt("commonmark").enable(["table", "strikethrough"])


def _shown(markdown: str) -> str:
    """What a reader sees of `markdown`: its rendered HTML without tags, entities decoded."""
    return html.unescape(re.sub(r"<[^>]+>", "", _MARKDOWN.render(markdown))).strip()


@pytest.mark.parametrize("text", [
    "Jo ![t](http://evil.example/pixel.png)",
    "[click](javascript:alert(1)) <img src=x onerror=alert(1)>",
    "<http://evil.example/auto> <script>alert(1)</script>",
    "**bold** _it_ `code` ~~gone~~ | a | b | $x^2$ \\*kept\\*",
    "# heading",
    "- a list",
    "+ another",
    "1. numbered",
    "> quoted",
    "Jo Clarke (Communications Officer), 12:30 & more",
])
def test_plain_text_renders_as_exactly_that_text_and_nothing_else(text: str) -> None:
    escaped = components.plain(text)
    rendered = _MARKDOWN.render(escaped)
    assert "<img" not in rendered and "<a " not in rendered and "<script" not in rendered
    assert "<em>" not in rendered and "<strong>" not in rendered and "<code>" not in rendered
    assert "<h1>" not in rendered and "<li>" not in rendered and "<blockquote>" not in rendered
    assert _shown(escaped) == text


def test_plain_text_keeps_its_line_breaks_only_when_it_is_a_paragraph() -> None:
    text = "First line\n- not a list\n# not a heading"
    assert _shown(components.plain(text)) == "First line - not a list # not a heading"
    assert _shown(components.plain(text, inline=False)) == text


def test_a_tables_configured_columns_come_first_in_their_order_then_the_rest() -> None:
    assert components.shown_order(["id", "text", "campaign", "when", "status"],
                                  {"when": None, "status": None, "campaign": None,
                                   "not there": None}) == [
        "when", "status", "campaign", "id", "text"]


@pytest.mark.parametrize(("config", "needed"), [
    (components.DELIVERY_TABLE, 5), (components.ATTENTION_TABLE, 5),
    (components.CAMPAIGN_TABLE, 5), (components.ACCOUNT_TABLE, 4)])
def test_the_columns_a_person_reads_first_fit_a_1280_px_screen(
    config: dict[str, Any], needed: int
) -> None:
    """The main area is about 820 px wide at 1280 px with the sidebar open: the columns a
    person needs (when, status, campaign, account, why; or an account's state, what to do and
    its last error) fit in it."""
    widths = [column["width"] for column in list(config.values())[:needed]]
    assert all(isinstance(w, int) for w in widths) and sum(widths) <= 820, widths
