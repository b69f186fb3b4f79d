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
import textwrap
from collections.abc import Sequence
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


#: A bar's name is written on up to LABEL_LINES lines of at most LABEL_CHARS characters (under
#: LABEL_WIDTH pixels), so it fits beside its bar on a phone; a longer one ends in '…' and is
#: read whole in the tooltip and in the table beside the chart.
LABEL_CHARS, LABEL_LINES, LABEL_WIDTH, LINE_HEIGHT = 18, 3, 130, 13
#: Split a label's lines, which Vega then draws one under another.
LINES_EXPR = "split(datum.label, '\\n')"


def short_labels(names: Sequence[object]) -> list[str]:
    """Each name wrapped onto lines ('\\n' between them) short enough for a chart, no two alike:
    names that would read the same are numbered."""
    labels: list[str] = []
    for name in names:
        lines = textwrap.wrap(str(name), LABEL_CHARS) or [""]
        if len(lines) > LABEL_LINES:
            lines = [*lines[:LABEL_LINES - 1], lines[LABEL_LINES - 1][:LABEL_CHARS - 1] + "…"]
        label, seen = "\n".join(lines), 1
        while label in labels:
            seen += 1
            tail = f" ({seen})"
            label = "\n".join([*lines[:-1], lines[-1][:LABEL_CHARS - len(tail)] + tail])
        labels.append(label)
    return labels


def bar_chart(frame: pd.DataFrame, *, category: str, value: str) -> alt.LayerChart:
    """Horizontal bars, one per category, each named (wrapped, never cut mid-word unless it is
    very long) and labelled with its value; the full name is in the tooltip."""
    named = frame.assign(**{"bar label": short_labels(frame[category])})
    lines = max((label.count("\n") + 1 for label in named["bar label"]), default=1)
    base = alt.Chart(named).encode(
        y=alt.Y("bar label:N", sort=None, title=category, axis=alt.Axis(
            labelExpr=LINES_EXPR, labelLimit=LABEL_WIDTH, labelLineHeight=LINE_HEIGHT)),
        x=alt.X(f"{value}:Q", scale=count_scale(frame[value]),
                axis=count_axis(value, frame[value], labelOverlap="greedy")),
        tooltip=[alt.Tooltip(f"{category}:N"), alt.Tooltip(f"{value}:Q", format=",")],
    )
    bars = base.mark_bar(aria=False, color=OKABE_ITO[0])
    labels = base.mark_text(aria=False, align="left", dx=4).encode(
        text=alt.Text(f"{value}:Q", format=","))
    return (bars + labels).properties(height=alt.Step(max(20, lines * LINE_HEIGHT + 8)))


#: A timeline bar's name takes at most 40 % of the chart's width (400 px on a wide screen, about
#: 130 on a phone, where the table below gives names in full), so the bars always have room.
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
    """The weeks' time scale, from the first Monday to the day after the last: the reach and
    reports charts both use it, so a week and an awareness window sit at the same place in
    both, one above the other."""
    after = last + timedelta(days=1)
    return alt.Scale(domain=[alt.DateTime(year=d.year, month=d.month, date=d.day)
                             for d in (first, after)])


#: The awareness events' key: a row of its own under the chart, one event a line.
WINDOW_KEY = "awareness events"
#: Legends go under a chart, one entry a line, so they never widen it (which would move its
#: weeks away from those of the chart above or below) nor run off a phone's screen.
LEGEND: dict[str, Any] = {"orient": "bottom", "direction": "vertical", "labelLimit": 240}


def _window_layers(windows: pd.DataFrame, first: date,
                   last: date) -> tuple[list[alt.Chart], list[alt.Chart]]:
    """Awareness windows as shaded bands (to go behind the data) with a number each at the top
    (to go in front, in the middle of the band's part in the chart, alternating rows), and a
    key under the chart that names each number, one a line: names never overlap each other nor
    run off the chart, whatever its width. The tooltip gives the full name."""
    if windows.empty:
        return [], []
    scale = _time_scale(first, last)
    start = pd.to_datetime(windows["start"])
    until = pd.to_datetime(windows["end"]) + pd.Timedelta(days=1)
    shown_from = start.clip(lower=pd.Timestamp(first))
    shown_until = until.clip(upper=pd.Timestamp(last + timedelta(days=1)))
    numbers = [str(n + 1) for n in range(len(windows))]
    bands = pd.DataFrame({
        "event": [f"{n} {y}" for n, y in zip(windows["name"], windows["year"], strict=True)],
        "number": numbers,
        "key": [f"{n}  {s} {y}" for n, s, y in zip(numbers, windows["short"], windows["year"],
                                                     strict=True)],
        "start": start, "until": until,
        "middle": shown_from + (shown_until - shown_from) / 2,
        "campaign": [c or "none recorded" for c in windows["campaign"]],
        "row": [4 + 13 * (n % 2) for n in range(len(windows))],
    })
    shade = alt.Chart(bands).mark_rect(aria=False, clip=True, opacity=0.18).encode(
        x=alt.X("start:T", scale=scale), x2="until:T",
        fill=alt.Fill("key:N", title=WINDOW_KEY, sort=None, scale=alt.Scale(
            domain=list(bands["key"]), range=[WINDOW_SHADE] * len(bands)),
            legend=alt.Legend(symbolType="square", symbolOpacity=0.35, **LEGEND)),
        tooltip=[alt.Tooltip("number:N", title="key"), alt.Tooltip("event:N"),
                 alt.Tooltip("start:T", title="from"),
                 alt.Tooltip("campaign:N", title="Chorus campaign")])
    names = alt.Chart(bands).mark_text(aria=False, clip=True, align="center", baseline="top",
                                       fontSize=10, fontWeight="bold").encode(
        x=alt.X("middle:T", scale=scale), y=alt.Y("row:Q", scale=None), text="number:N")
    return [shade], [names]


def _week_axis(title: str, first: date, last: date) -> alt.Axis:
    """Ticks on Mondays (about thirteen of them, fewer where they would overlap), as the weeks
    are counted; the first and last labels kept inside the chart."""
    mondays = pd.date_range(first, last, freq="W-MON")
    step = max(1, len(mondays) // 13)
    return alt.Axis(title=title, format="%d %b", labelAngle=0, labelOverlap="greedy",
                    labelFlush=True, labelBound=True, values=[
                        alt.DateTime(year=m.year, month=m.month, date=m.day)
                        for m in mondays[::step]])


def _count_title(title: str) -> dict[str, Any]:
    """A count axis's title, never cut, at a width both weekly charts share."""
    return {"title": title, "titleLimit": 0, "minExtent": Y_AXIS_WIDTH, "maxExtent": Y_AXIS_WIDTH}


def reach_chart(lines: pd.DataFrame, windows: pd.DataFrame, *, first: date,
                last: date) -> alt.LayerChart:
    """Weekly impressions as bars across each week, sandbox stacked on real and named apart in
    the legend (which names only the accounts drawn), over the shaded awareness windows."""
    scale = _time_scale(first, last)
    drawn = lines[lines["impressions"] > 0]
    order = [a for a in (REAL_ACCOUNTS, SANDBOX_LABEL)
             if a in set(drawn["accounts"]) or (a == REAL_ACCOUNTS and drawn.empty)]
    stacked = lines[lines["accounts"].isin(order)].assign(
        until=lines["week"] + pd.Timedelta(days=6),
        rank=lines["accounts"].map({a: n for n, a in enumerate(order)})).sort_values(
        ["week", "rank"])
    stacked["top"] = stacked.groupby("week")["impressions"].cumsum()
    stacked["bottom"] = stacked["top"] - stacked["impressions"]
    bars = alt.Chart(stacked).mark_rect(aria=False, clip=True).encode(
        x=alt.X("week:T", scale=scale, axis=_week_axis("week starting", first, last)),
        x2="until:T",
        y=alt.Y("bottom:Q", scale=count_scale(stacked["top"]),
                axis=count_axis("impressions", stacked["top"], titleLimit=0,
                                minExtent=Y_AXIS_WIDTH, maxExtent=Y_AXIS_WIDTH)),
        y2="top:Q",
        color=alt.Color("accounts:N", title=None, scale=alt.Scale(
            domain=order, range=list(OKABE_ITO[:len(order)])), legend=alt.Legend(**LEGEND)),
        tooltip=[alt.Tooltip("week:T", title="week starting"), alt.Tooltip("accounts:N"),
                 alt.Tooltip("impressions:Q", format=",")])
    behind, front = _window_layers(windows, first, last)
    return alt.LayerChart(layer=[*behind, bars, *front])


def drawn_series(lines: pd.DataFrame) -> list[str]:
    """The report series with at least one count drawn, in their order: a strand whose every
    count is hidden draws nothing, so the legend does not name it."""
    shown = lines[lines["count"].notna()]
    return [s for s in dict.fromkeys(lines["series"]) if s in set(shown["series"])]


def reports_chart(lines: pd.DataFrame, windows: pd.DataFrame, *, first: date, last: date,
                  threshold: int) -> alt.LayerChart:
    """Weekly reports, a line with points per series (colour and dash both tell them apart),
    drawn mid-week under the reach bars; hidden counts are gaps, and a grey band marks the
    range under the disclosure threshold where no count is drawn. The legend names only the
    series drawn."""
    scale = _time_scale(first, last)
    series = drawn_series(lines)
    points = lines[lines["series"].isin(series)].assign(
        midweek=lines["week"] + pd.Timedelta(days=3, hours=12))
    encoding: dict[str, Any] = {
        "x": alt.X("midweek:T", scale=scale, axis=_week_axis("week starting", first, last)),
        "y": alt.Y("count:Q", axis=alt.Axis(format="d", tickMinStep=1, **_count_title("reports"))),
        "color": alt.Color("series:N", title=None, scale=alt.Scale(
            # The first series (all strands) in the text colour, not OKABE_ITO's black, which
            # vanishes on the dark theme's background.
            domain=series, range=[CHART_TEXT, *OKABE_ITO[:6]][:len(series)]),
            legend=alt.Legend(**LEGEND)),
        "strokeDash": alt.StrokeDash("series:N", title=None, scale=alt.Scale(
            domain=series, range=[[1, 0], [6, 3], [2, 2], [8, 2, 2, 2], [4, 4], [1, 3]]
            [:len(series)]), legend=alt.Legend(**LEGEND)),
        "tooltip": [alt.Tooltip("week:T", title="week starting"), alt.Tooltip("series:N"),
                    alt.Tooltip("count:Q")],
    }
    drawn = alt.Chart(points).mark_line(
        aria=False, clip=True, point=alt.OverlayMarkDef(aria=False, filled=True, size=30),
    ).encode(**encoding)
    hidden = pd.DataFrame({"low": [0], "high": [threshold - 0.5],
                           "note": [f"under {threshold}: not shown"]})
    band = alt.Chart(hidden).mark_rect(aria=False, color=WINDOW_SHADE, opacity=0.25).encode(
        y=alt.Y("low:Q"), y2="high:Q")
    note = alt.Chart(hidden).mark_text(aria=False, align="left", baseline="top", dx=4, dy=2,
                                       fontSize=10).encode(
        x=alt.value(0), y=alt.Y("high:Q"), text="note:N")
    behind, front = _window_layers(windows, first, last)
    return alt.LayerChart(layer=[band, *behind, drawn, note, *front])


#: Several legends under a chart go one under another, at its left, never side by side (which
#: would widen the chart past a phone's screen).
LEGEND_LAYOUT = alt.ExprRef(expr="{bottom: {direction: 'vertical', anchor: 'start', margin: 8}}")


#: Room round the chart, so that the edge of a y-axis title, which Vega measures a little short
#: once it is turned, is not cut.
PADDING = {"left": 8, "top": 5, "right": 5, "bottom": 10}


def described(chart: Any, description: str, *, text: str = CHART_TEXT) -> Any:
    """A chart as it is shown: its accessible name, its words in the `text` colour (the page's
    own, by default), and its legends one under another."""
    return (chart.properties(description=description, padding=PADDING)
            .configure_axis(labelColor=text, titleColor=text)
            .configure_legend(labelColor=text, titleColor=text, layout=LEGEND_LAYOUT)
            .configure_text(color=text))


_described = described
