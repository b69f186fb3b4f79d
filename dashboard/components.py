"""Shared widgets, accessible by construction.

Every chart goes through `chart_with_table`: the chart carries a title and a `description`
(its accessible name), its marks are hidden from assistive technology (`aria=False`, which
axe needs for `svg-img-alt`), and beside it come a summary sentence and the numbers as a
table. Colours come from the Okabe–Ito palette, safe for colour-blind readers, and never carry
meaning alone: every bar is labelled with its category and value.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import altair as alt
import pandas as pd
import streamlit as st

from campaigns.sharekit import NETWORK_NAMES
from dashboard.queries import SANDBOX_LABEL, SYNTHETIC_LABEL

#: Okabe & Ito (2008), distinguishable with every common colour-vision deficiency.
OKABE_ITO = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442",
             "#000000")


def table(frame: pd.DataFrame, *, name: str, height: int | None = None) -> None:
    """A data table with an accessible name; sandbox or synthetic rows make the page say so."""
    st.dataframe(frame, hide_index=True, alt=name, width="stretch",
                 height=height if height is not None else "auto")
    sandbox_notice(frame)


def _flagged(frame: pd.DataFrame, column: str) -> bool:
    return column in frame.columns and bool(frame[column].astype(bool).any())


def sandbox_notice(frame: pd.DataFrame) -> None:
    if _flagged(frame, "sandbox"):
        st.warning(f"{SANDBOX_LABEL}: rows marked so came from the project's sandbox, an "
                   "emulator of the network, and reached no one.", icon=":material/science:")
    if _flagged(frame, "synthetic"):
        st.warning(f"{SYNTHETIC_LABEL}: rows marked so are made-up figures for trying "
                   "Chorus out.", icon=":material/science:")


def sandbox_count_notice(sandbox: int) -> None:
    if sandbox:
        st.warning(f"{SANDBOX_LABEL}: {sandbox:,} of the posts counted here came from sandbox "
                   "accounts and reached no one.", icon=":material/science:")


def chart_with_table(
    chart: alt.Chart | alt.LayerChart,
    *,
    title: str,
    description: str,
    summary: str,
    frame: pd.DataFrame,
    beside: bool = True,
) -> None:
    """The chart under a heading, described for assistive technology, with its summary
    sentence and its data beside it (or below it, for tables too wide to sit beside it)."""
    st.subheader(title)
    st.write(summary)
    chart_area, table_area = st.columns([3, 2]) if beside else (st.container(), st.container())
    with chart_area:
        st.altair_chart(chart.properties(description=description), width="stretch")
    with table_area:
        table(frame, name=f"{title}: the numbers in the chart")


def bar_chart(frame: pd.DataFrame, *, category: str, value: str) -> alt.LayerChart:
    """Horizontal bars, one per category, each labelled with its value."""
    base = alt.Chart(frame).encode(
        y=alt.Y(f"{category}:N", sort=None, title=category),
        x=alt.X(f"{value}:Q", title=value),
        tooltip=[alt.Tooltip(f"{category}:N"), alt.Tooltip(f"{value}:Q", format=",")],
    )
    bars = base.mark_bar(aria=False, color=OKABE_ITO[0])
    labels = base.mark_text(aria=False, align="left", dx=4).encode(
        text=alt.Text(f"{value}:Q", format=","))
    return bars + labels


def timeline_chart(frame: pd.DataFrame, *, label: str, start: str, end: str,
                   group: str) -> alt.LayerChart:
    """One bar per row across its days (`end` inclusive); `group` picks the colour and is also
    written beside each bar."""
    days = frame.assign(**{start: pd.to_datetime(frame[start]),
                           "after end": pd.to_datetime(frame[end]) + pd.Timedelta(days=1)})
    base = alt.Chart(days).encode(
        y=alt.Y(f"{label}:N", sort=None, title=None, axis=alt.Axis(labelLimit=400)),
        tooltip=[alt.Tooltip(f"{label}:N"), alt.Tooltip(f"{start}:T"), alt.Tooltip(f"{end}:N"),
                 alt.Tooltip(f"{group}:N")],
    )
    bars = base.mark_bar(aria=False).encode(
        x=alt.X(f"{start}:T", title="date"), x2="after end:T",
        color=alt.Color(f"{group}:N", scale=alt.Scale(range=list(OKABE_ITO[:2])),
                        legend=alt.Legend(orient="bottom", title=None)))
    labels = base.mark_text(aria=False, align="left", dx=4).encode(
        x=alt.X("after end:T"), text=alt.Text(f"{group}:N"))
    return bars + labels


def previews(frame: pd.DataFrame) -> None:
    """Each post's variants, grouped under the post's key (rows come sorted by post)."""
    current = None
    for row in frame.to_dict("records"):
        if row["post"] != current:
            current = row["post"]
            st.markdown(f"**Post: {current}**")
        post_preview(row)


def post_preview(row: Mapping[str, Any]) -> None:
    """One variant as it will be posted, with its length as the network counts it."""
    network = NETWORK_NAMES.get(str(row["network"]), str(row["network"]))
    verdict = "fits" if row["fits"] == "yes" else f"does not fit: {row['problem']}"
    with st.container(border=True):
        st.caption(f"{network} · {row['wording']} wording · {row['length']} of {row['limit']} "
                   f"· {verdict}")
        st.text(str(row["text"]))


def pause_banner(state: Mapping[str, object]) -> None:
    if state.get("active"):
        st.warning(f"Posting is paused for the whole partnership by {state.get('by')}: "
                   f"{state.get('reason', '')}. Nothing is sent until someone resumes it.",
                   icon=":material/pause_circle:")


def read_only_note() -> None:
    st.caption("You have read-only access: nothing on this page can be changed from your "
               "account.")


FLASH_KEY = "chorus_flash"


def flash_and_rerun(message: str) -> None:
    """Say `message` on the next run, which shows the change just made."""
    st.session_state[FLASH_KEY] = message
    st.rerun()


def show_flash() -> None:
    message = st.session_state.pop(FLASH_KEY, None)
    if message:
        st.success(message, icon=":material/check_circle:")
