"""Charts that read at any width: names wrapped and never alike, legends naming only what is
drawn, awareness windows numbered with a key, one time scale for reach and reports, networks
without impressions shown as "not published", and the board pack's images wide enough for A4."""

from __future__ import annotations

from datetime import date
from typing import Any

import pandas as pd
import pytest

from dashboard import boardpack, charts
from dashboard.boardpack import PackChart
from dashboard.insights.networks import NOT_PUBLISHED, network_reach
from dashboard.insights.reach import REAL_ACCOUNTS
from dashboard.queries import SANDBOX_LABEL

FIRST, LAST = date(2026, 8, 31), date(2026, 11, 29)
WINDOWS = pd.DataFrame({
    "event": ["nhcaw", "ifw", "ukdhm"],
    "name": ["National Hate Crime Awareness Week", "Inter Faith Week",
             "UK Disability History Month"],
    "short": ["NHCAW", "Inter Faith Week", "UKDHM"], "year": [2026] * 3,
    "start": [date(2026, 10, 10), date(2026, 11, 9), date(2026, 11, 19)],
    "end": [date(2026, 10, 17), date(2026, 11, 16), date(2026, 12, 20)],
    "campaign": ["NHCAW 2026", None, None]})
REPORTS = pd.DataFrame({
    "week": pd.to_datetime(["2026-08-31", "2026-09-07"] * 3),
    "series": ["offences (all strands)"] * 2 + ["race"] * 2 + ["religion"] * 2,
    "count": [18.0, 10.0, 13.0, None, None, None]})
REACH = pd.DataFrame({"week": pd.to_datetime(["2026-08-31", "2026-09-07"] * 2),
                      "accounts": [REAL_ACCOUNTS] * 2 + [SANDBOX_LABEL] * 2,
                      "impressions": [120, 40, 0, 0]})
PARTNERS = pd.DataFrame({"partner": ["York Hate Crime Partnership",
                                     "York Hate Crime Reporting Centre",
                                     "North Yorkshire Police (York)"],
                         "impressions": [1200, 900, 40]})


def layers(chart: Any) -> list[dict[str, Any]]:
    return list(chart.to_dict()["layer"])


def legend_domains(chart: Any) -> dict[str, list[str]]:
    """Each legend's field and the entries its scale lists."""
    found = {}
    for layer in layers(chart):
        for channel in ("color", "fill", "strokeDash"):
            encoding = layer.get("encoding", {}).get(channel)
            if encoding and encoding.get("legend") is not None and "field" in encoding:
                found[f"{channel}:{encoding['field']}"] = encoding["scale"]["domain"]
    return found


def test_the_reports_legend_names_only_the_series_drawn() -> None:
    chart = charts.reports_chart(REPORTS, WINDOWS, first=FIRST, last=LAST, threshold=5)
    domains = legend_domains(chart)
    assert domains["color:series"] == ["offences (all strands)", "race"]
    assert domains["strokeDash:series"] == ["offences (all strands)", "race"]


def test_the_reach_legend_names_only_the_accounts_drawn() -> None:
    chart = charts.reach_chart(REACH, WINDOWS, first=FIRST, last=LAST)
    assert legend_domains(chart)["color:accounts"] == [REAL_ACCOUNTS]


def test_awareness_windows_are_numbered_in_the_chart_and_named_in_a_key() -> None:
    chart = charts.reach_chart(REACH, WINDOWS, first=FIRST, last=LAST)
    assert legend_domains(chart)["fill:key"] == [
        "1  NHCAW 2026", "2  Inter Faith Week 2026", "3  UKDHM 2026"]
    texts = [layer for layer in layers(chart) if layer["mark"]["type"] == "text"]
    assert [t["encoding"]["text"]["field"] for t in texts] == ["number"]


def test_reach_and_reports_share_one_time_scale_and_y_axis_width() -> None:
    reach = layers(charts.reach_chart(REACH, WINDOWS, first=FIRST, last=LAST))
    reports = layers(charts.reports_chart(REPORTS, WINDOWS, first=FIRST, last=LAST,
                                          threshold=5))

    def x_domains(spec: list[dict[str, Any]]) -> list[Any]:
        return [layer["encoding"]["x"]["scale"]["domain"] for layer in spec
                if "scale" in layer.get("encoding", {}).get("x", {})]

    def y_extents(spec: list[dict[str, Any]]) -> list[tuple[int, int]]:
        return [(a["minExtent"], a["maxExtent"]) for layer in spec
                if (a := layer.get("encoding", {}).get("y", {}).get("axis"))]

    domains = x_domains(reach) + x_domains(reports)
    assert len(domains) >= 4 and all(d == domains[0] for d in domains)
    assert set(y_extents(reach)) == set(y_extents(reports)) == {
        (charts.Y_AXIS_WIDTH, charts.Y_AXIS_WIDTH)}


def test_week_labels_drop_rather_than_overlap_and_stay_inside_the_chart() -> None:
    axis = charts._week_axis("week starting", FIRST, LAST).to_dict()
    assert (axis["labelOverlap"], axis["labelFlush"], axis["labelBound"]) == (
        "greedy", True, True)


def test_bar_names_wrap_within_their_limit_and_two_never_read_alike() -> None:
    labels = charts.short_labels(["York Hate Crime Partnership",
                                  "York Hate Crime Reporting Centre",
                                  "International Day Against Homophobia, Biphobia and "
                                  "Transphobia (IDAHOBIT)",
                                  "International Day Against Homophobia, Biphobia and "
                                  "Transphobia (IDAHOBIT) 2"])
    assert labels[:2] == ["York Hate Crime\nPartnership", "York Hate Crime\nReporting Centre"]
    assert len(set(labels)) == len(labels)
    for label in labels:
        lines = label.split("\n")
        assert len(lines) <= charts.LABEL_LINES
        assert all(len(line) <= charts.LABEL_CHARS for line in lines), label


def test_bars_show_wrapped_names_with_a_label_limit_and_the_full_name_in_the_tooltip() -> None:
    spec = layers(charts.bar_chart(PARTNERS, category="partner", value="impressions"))[0]
    axis = spec["encoding"]["y"]["axis"]
    assert axis["labelLimit"] == charts.LABEL_WIDTH and axis["labelExpr"] == charts.LINES_EXPR
    assert spec["encoding"]["tooltip"][0]["field"] == "partner"


def test_charts_keep_their_accessible_name_and_hide_their_marks() -> None:
    chart = charts.described(charts.reports_chart(REPORTS, WINDOWS, first=FIRST, last=LAST,
                                                  threshold=5), "Line chart of reports.")
    spec = chart.to_dict()
    assert spec["description"] == "Line chart of reports."
    assert all(layer["mark"].get("aria") is False for layer in spec["layer"])


@pytest.mark.parametrize("network", ["mastodon", "bluesky"])
def test_networks_that_publish_no_impressions_say_so_rather_than_zero(network: str) -> None:
    reach = pd.DataFrame({"network": [network, "x"], "is_sandbox": [False, False],
                          "posts": [2, 3], "impressions": [0, 1500], "engagements": [9, 4]})
    shown = network_reach(reach).set_index("network")["impressions"].to_dict()
    assert shown == {charts_name(network): NOT_PUBLISHED, "X": "1,500"}


def charts_name(network: str) -> str:
    return {"mastodon": "Mastodon", "bluesky": "Bluesky"}[network]


@pytest.mark.skipif(not boardpack.images_available(),
                    reason="drawing charts needs vl-convert-python")
@pytest.mark.parametrize("chart", [
    charts.reports_chart(REPORTS, WINDOWS, first=FIRST, last=LAST, threshold=5),
    charts.bar_chart(PARTNERS, category="partner", value="impressions"),
], ids=["reports", "partners"])
def test_the_board_packs_images_are_wide_enough_to_print_legibly_on_a4(chart: Any) -> None:
    png = boardpack.png_bytes(PackChart("Weekly reports", chart, "A chart."))
    width = int.from_bytes(png[16:20], "big")  # the PNG's IHDR: width, then height
    assert width >= 1600
