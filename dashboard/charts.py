"""Charts as Altair specifications, accessible by construction, with no Streamlit.

Every chart carries a title and a `description` (its accessible name, see `described`), its
marks are hidden from assistive technology (`aria=False`, which axe needs for `svg-img-alt`),
and the page shows its numbers as a table beside it (`dashboard.components.chart_with_table`).
Colours come from the Okabe–Ito palette, safe for colour-blind readers, and never carry meaning
alone: every bar is labelled with its category and value. A chart's words (axes, legend,
labels) are drawn in the page's own text colour, so they stay legible in light and dark themes.
"""

from __future__ import annotations

import math
from datetime import date, timedelta
from typing import Any

import altair as alt
import pandas as pd

from dashboard.insights.reach import REAL_ACCOUNTS
from dashboard.queries import SANDBOX_LABEL

#: Okabe & Ito (2008), distinguishable with every common colour-vision deficiency.
OKABE_ITO = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442",
             "#000000")
#: The colour of a chart's words. Streamlit's chart theme greys axis labels and titles
#: (#808495, 3.7:1 on white, under WCAG 2.2 AA's 4.5:1), and Vega draws text marks black, which
#: vanishes in the dark theme. Charts are drawn as SVG, where `currentColor` is the colour of the
#: text around the chart: the theme's own text colour, light or dark.
CHART_TEXT = "currentColor"
#: Most ticks on a count axis.
MAX_TICKS = 8


def _largest(counts: pd.Series) -> float:
    return float(counts.max()) if not counts.empty and counts.max() > 0 else 0.0


def count_scale(counts: pd.Series) -> alt.Scale:
    """A scale for counts, from zero. With nothing above zero (no data, or only zeros) it runs
    to one: Vega cannot divide an empty range into ticks and labels it 'NaN' or '0.000000'."""
    return alt.Scale(zero=True) if _largest(counts) else alt.Scale(domain=[0, 1])


def count_axis(title: str, counts: pd.Series, **options: Any) -> alt.Axis:
    """An axis of whole counts written out in full (1,200; never 1.2k, 0.5 or 1e+3): Vega
    steps its ticks by at least the range over their number, so asking for no more ticks than
    the largest count keeps every step a whole one (Vega does not honour tickMinStep alone)."""
    ticks = min(MAX_TICKS, max(1, math.ceil(_largest(counts))))
    return alt.Axis(title=title, format=",d", tickCount=ticks, tickMinStep=1, **options)


def bar_chart(frame: pd.DataFrame, *, category: str, value: str) -> alt.LayerChart:
    """Horizontal bars, one per category, each labelled with its value."""
    base = alt.Chart(frame).encode(
        y=alt.Y(f"{category}:N", sort=None, title=category),
        x=alt.X(f"{value}:Q", scale=count_scale(frame[value]),
                axis=count_axis(value, frame[value])),
        tooltip=[alt.Tooltip(f"{category}:N"), alt.Tooltip(f"{value}:Q", format=",")],
    )
    bars = base.mark_bar(aria=False, color=OKABE_ITO[0])
    labels = base.mark_text(aria=False, align="left", dx=4).encode(
        text=alt.Text(f"{value}:Q", format=","))
    return bars + labels


#: A bar's name takes at most 40 % of the chart's width (400 px on a wide screen, about 130 on
#: a phone, where the table below gives names in full), so the bars always have room.
LABEL_LIMIT = alt.ExprRef(expr="clamp(containerSize()[0] * 0.4, 100, 400)")


def timeline_chart(frame: pd.DataFrame, *, label: str, start: str, end: str,
                   group: str) -> alt.LayerChart:
    """One bar per row across its days (`end` inclusive); `group` picks the colour and is also
    written beside each bar."""
    days = frame.assign(**{start: pd.to_datetime(frame[start]),
                           "after end": pd.to_datetime(frame[end]) + pd.Timedelta(days=1)})
    base = alt.Chart(days).encode(
        y=alt.Y(f"{label}:N", sort=None, title=None, axis=alt.Axis(labelLimit=LABEL_LIMIT)),
        tooltip=[alt.Tooltip(f"{label}:N"), alt.Tooltip(f"{start}:T"), alt.Tooltip(f"{end}:N"),
                 alt.Tooltip(f"{group}:N")],
    )
    bars = base.mark_bar(aria=False).encode(
        x=alt.X(f"{start}:T", title="date"), x2="after end:T",
        color=alt.Color(f"{group}:N", scale=alt.Scale(range=list(OKABE_ITO[:2])),
                        legend=alt.Legend(orient="bottom", title=None, columns=1)))
    labels = base.mark_text(aria=False, align="left", dx=4).encode(
        x=alt.X("after end:T"), text=alt.Text(f"{group}:N"))
    return bars + labels

#: Shading of awareness windows, behind the marks; grey, so it never competes with data colours.
WINDOW_SHADE = "#888888"
#: Both weekly charts give their y axis this width, so their weeks line up one above the other.
Y_AXIS_WIDTH = 64


def _time_scale(first: date, last: date) -> alt.Scale:
    after = last + timedelta(days=1)
    return alt.Scale(domain=[alt.DateTime(year=d.year, month=d.month, date=d.day)
                             for d in (first, after)])


def _window_layers(windows: pd.DataFrame, scale: alt.Scale) -> tuple[list[alt.Chart],
                                                                      list[alt.Chart]]:
    """Awareness windows as shaded bands (to go behind the data) and their names at the top
    (to go in front), in alternating rows so that neighbours' names do not overlap."""
    if windows.empty:
        return [], []
    bands = pd.DataFrame({
        "event": [f"{n} {y}" for n, y in zip(windows["name"], windows["year"], strict=True)],
        "label": [f"{s} {y}" for s, y in zip(windows["short"], windows["year"], strict=True)],
        "start": pd.to_datetime(windows["start"]),
        "until": pd.to_datetime(windows["end"]) + pd.Timedelta(days=1),
        "campaign": [c or "none recorded" for c in windows["campaign"]],
        "row": [4 + 13 * (n % 2) for n in range(len(windows))],
    })
    shade = alt.Chart(bands).mark_rect(aria=False, clip=True, color=WINDOW_SHADE,
                                       opacity=0.18).encode(
        x=alt.X("start:T", scale=scale), x2="until:T",
        tooltip=[alt.Tooltip("event:N"), alt.Tooltip("start:T", title="from"),
                 alt.Tooltip("campaign:N", title="Chorus campaign")])
    names = alt.Chart(bands).mark_text(aria=False, clip=True, align="left", baseline="top",
                                       dx=3, fontSize=10).encode(
        x=alt.X("start:T", scale=scale), y=alt.Y("row:Q", scale=None), text="label:N")
    return [shade], [names]


def _week_axis(title: str, first: date, last: date) -> alt.Axis:
    """Ticks on Mondays (about thirteen of them), as the weeks are counted."""
    mondays = pd.date_range(first, last, freq="W-MON")
    step = max(1, len(mondays) // 13)
    return alt.Axis(title=title, format="%d %b", labelAngle=0, values=[
        alt.DateTime(year=m.year, month=m.month, date=m.day) for m in mondays[::step]])


def reach_chart(lines: pd.DataFrame, windows: pd.DataFrame, *, first: date,
                last: date) -> alt.LayerChart:
    """Weekly impressions as bars across each week, sandbox stacked on real and named apart in
    the legend, over the shaded awareness windows."""
    scale = _time_scale(first, last)
    order = [a for a in (REAL_ACCOUNTS, SANDBOX_LABEL) if a in set(lines["accounts"])]
    stacked = lines.assign(
        until=lines["week"] + pd.Timedelta(days=6),
        rank=lines["accounts"].map({a: n for n, a in enumerate(order)})).sort_values(
        ["week", "rank"])
    stacked["top"] = stacked.groupby("week")["impressions"].cumsum()
    stacked["bottom"] = stacked["top"] - stacked["impressions"]
    bars = alt.Chart(stacked).mark_rect(aria=False, clip=True).encode(
        x=alt.X("week:T", scale=scale, axis=_week_axis("week starting", first, last)),
        x2="until:T",
        y=alt.Y("bottom:Q", scale=count_scale(stacked["top"]),
                axis=count_axis("impressions gained", stacked["top"], minExtent=Y_AXIS_WIDTH,
                                maxExtent=Y_AXIS_WIDTH)),
        y2="top:Q",
        color=alt.Color("accounts:N", title=None, scale=alt.Scale(
            domain=order, range=list(OKABE_ITO[:len(order)])),
            legend=alt.Legend(orient="bottom")),
        tooltip=[alt.Tooltip("week:T", title="week starting"), alt.Tooltip("accounts:N"),
                 alt.Tooltip("impressions:Q", format=",")])
    behind, front = _window_layers(windows, scale)
    return alt.LayerChart(layer=[*behind, bars, *front])


def reports_chart(lines: pd.DataFrame, windows: pd.DataFrame, *, first: date, last: date,
                  threshold: int) -> alt.LayerChart:
    """Weekly reports, a line with points per series (colour and dash both tell them apart),
    drawn mid-week under the reach bars; hidden counts are gaps, and a grey band marks the
    range under the disclosure threshold where no count is drawn."""
    scale = _time_scale(first, last)
    series = list(dict.fromkeys(lines["series"]))
    points = lines.assign(midweek=lines["week"] + pd.Timedelta(days=3, hours=12))
    encoding: dict[str, Any] = {
        "x": alt.X("midweek:T", scale=scale, axis=_week_axis("week starting", first, last)),
        "y": alt.Y("count:Q", title="reports", axis=alt.Axis(
            format="d", tickMinStep=1, minExtent=Y_AXIS_WIDTH, maxExtent=Y_AXIS_WIDTH)),
        "color": alt.Color("series:N", title=None, scale=alt.Scale(
            # The first series (all strands) in the text colour, not OKABE_ITO's black, which
            # vanishes on the dark theme's background.
            domain=series, range=[CHART_TEXT, *OKABE_ITO[:6]][:len(series)]),
            legend=alt.Legend(orient="bottom", columns=3)),
        "strokeDash": alt.StrokeDash("series:N", title=None, scale=alt.Scale(
            domain=series, range=[[1, 0], [6, 3], [2, 2], [8, 2, 2, 2], [4, 4], [1, 3]]
            [:len(series)])),
        "tooltip": [alt.Tooltip("week:T", title="week starting"), alt.Tooltip("series:N"),
                    alt.Tooltip("count:Q")],
    }
    drawn = alt.Chart(points).mark_line(
        aria=False, clip=True, point=alt.OverlayMarkDef(aria=False, filled=True, size=30),
    ).encode(**encoding)
    hidden = pd.DataFrame({"low": [0], "high": [threshold - 0.5],
                           "note": [f"counts under {threshold} are not shown"]})
    band = alt.Chart(hidden).mark_rect(aria=False, color=WINDOW_SHADE, opacity=0.25).encode(
        y=alt.Y("low:Q"), y2="high:Q")
    note = alt.Chart(hidden).mark_text(aria=False, align="right", baseline="bottom", dx=-4,
                                       fontSize=10).encode(
        x=alt.value("width"), y=alt.Y("high:Q"), text="note:N")
    behind, front = _window_layers(windows, scale)
    return alt.LayerChart(layer=[band, note, *behind, drawn, *front])


def described(chart: Any, description: str) -> Any:
    """A chart as the page shows it: its accessible name, its words in the text colour."""
    return (chart.properties(description=description)
            .configure_axis(labelColor=CHART_TEXT, titleColor=CHART_TEXT)
            .configure_legend(labelColor=CHART_TEXT, titleColor=CHART_TEXT)
            .configure_text(color=CHART_TEXT))


_described = described
