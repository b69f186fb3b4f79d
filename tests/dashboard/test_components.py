"""Charts drawn sensibly whatever the data: count axes start at zero, hold whole numbers, and
still have a range to label when there is nothing to count."""

from __future__ import annotations

from datetime import date
from typing import Any

import pandas as pd
import pytest

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
