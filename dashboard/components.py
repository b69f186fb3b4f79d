"""Shared widgets, accessible by construction.

Every chart goes through `chart_with_table` (or `charts_with_table`): the chart, built in
`dashboard.charts` (whose names this module also offers), is shown under a heading with its
accessible description, and beside it come a summary sentence and the numbers as a table.

Streamlit reads Markdown in nearly every piece of text it shows (st.write, st.markdown,
captions, alerts, headings, and the labels of widgets, expanders and metrics), and Markdown can
fetch images and make links. So every piece of text that came from people (names, campaign and
post texts, citations, file names, error messages that repeat what was typed) goes through
`plain` on its way there; tables (st.dataframe) and st.text show text as it is, without it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import datetime
from functools import partial
from typing import Any

import altair as alt
import pandas as pd
import streamlit as st

from dashboard.boardpack import (
    PackChart,
    PackTable,
    csv_bytes,
    images_available,
    pack_zip,
    png_bytes,
    svg_bytes,
)
from dashboard.charts import (  # noqa: F401 (offered here too, where pages have found them)
    CHART_TEXT,
    LABEL_LIMIT,
    MAX_TICKS,
    OKABE_ITO,
    WINDOW_SHADE,
    Y_AXIS_WIDTH,
    _described,
    _time_scale,
    _week_axis,
    _window_layers,
    bar_chart,
    count_axis,
    count_scale,
    described,
    reach_chart,
    reports_chart,
    timeline_chart,
)
from dashboard.insights.effect_estimates import EffectResult
from dashboard.insights.headline import Figure
from dashboard.insights.networks import NETWORK_NAMES
from dashboard.queries import SANDBOX_LABEL, SYNTHETIC_LABEL, account_label

#: Characters that make something of text anywhere in a line in Streamlit's Markdown
#: (CommonMark, GitHub's tables and strikethrough, KaTeX between dollars): images and links
#: need brackets, HTML and autolinks angle brackets. Each can be escaped with a backslash.
#: Parentheses and colons are left: without brackets they make no link, nor a coloured text.
_MARKDOWN_ANYWHERE = re.compile(r"([\\`*_\[\]<>!#|~$])")
#: What makes a list or a heading of a line it starts ('-', '+', '=', or a number and '.').
_MARKDOWN_LINE_START = re.compile(r"^(\s*\d*)([-+=.])", re.MULTILINE)
_LINE_BREAKS = re.compile(r"\s*[\r\n\u2028\u2029\x0b\x0c\x85]+\s*")


def plain(text: object, *, inline: bool = True) -> str:
    """`text` as Streamlit's Markdown shows it, character for character: no image, link,
    HTML, emphasis, heading, list, table, icon or formula can come of it.

    Inline (the default: in a sentence, a heading, a label), line breaks become spaces; else
    they are kept, as the line breaks of a paragraph.
    """
    value = str(text)
    if inline:
        value = _LINE_BREAKS.sub(" ", value)
    value = _MARKDOWN_ANYWHERE.sub(r"\\\1", value)
    return _MARKDOWN_LINE_START.sub(r"\1\\\2", value)


def table(frame: pd.DataFrame, *, name: str, height: int | None = None,
          columns: Mapping[str, Any] | None = None, hide: Sequence[str] = (),
          lines: int = 1) -> None:
    """A data table with an accessible name; sandbox or synthetic rows make the page say so.
    `columns`: st.column_config by column, in the order they are shown (the frame's other
    columns follow); `hide`: columns left out (keys and ids); `lines`: of text in a cell
    (long texts wrap onto them)."""
    shown = frame.drop(columns=[c for c in hide if c in frame.columns])
    st.dataframe(shown, hide_index=True, alt=name, width="stretch", column_config=columns,
                 column_order=shown_order(shown.columns, columns or {}),
                 row_height=row_height(lines),
                 height=height if height is not None else "auto")
    sandbox_notice(frame)


def row_height(lines: int) -> int | None:
    """Pixels for rows of `lines` lines of text; None (Streamlit's own) for one. Streamlit
    wraps a cell's text only in rows taller than 4rem (64 px)."""
    return None if lines <= 1 else max(LINE * lines + ROW_PADDING, 65)


#: A line of table text and a row's padding, in pixels.
LINE, ROW_PADDING = 21, 10


def shown_order(present: Sequence[str], columns: Mapping[str, Any]) -> list[str]:
    """The configured columns first, in their order, then the rest as the frame has them."""
    first = [c for c in columns if c in present]
    return first + [c for c in present if c not in first]


def _text(label: str, width: int | str) -> Any:
    return st.column_config.TextColumn(label, width=width)  # type: ignore[arg-type]


def _count(label: str, width: int) -> Any:
    return st.column_config.NumberColumn(label, width=width, format="%d")


#: The main area is about 820 px wide on a 1280 px screen with the sidebar open: each table's
#: columns a person needs fit in it, and long texts (the post's words) come last.
#: Deliveries as a person reads them: when, status, which campaign, which account, and why;
#: then the post, sign-off and the text.
DELIVERY_TABLE = {
    "when": _text("When (local time)", 145), "status": _text("Status", 100),
    "campaign": _text("Campaign", 170), "account": _text("Account", 215),
    "reason": _text("Why", 180), "post": _text("Post", 90),
    "approved by": _text("Approved by", 140), "sandbox": _text("Sandbox", 90),
    "text": _text("Post text", "large"),
}
#: Posts that need attention: what went wrong and what to do next come before whose it is.
ATTENTION_TABLE = {
    "when": _text("When (local time)", 145), "status": _text("Status", 100),
    "reason": _text("Why", 150), "what to do next": _text("What to do next", 245),
    "account": _text("Account", 180), "campaign": _text("Campaign", 170),
    "post": _text("Post", 90), "sandbox": _text("Sandbox", 90),
    "text": _text("Post text", "large"),
}
#: Accounts: which, its state in words, what to do about it and its last error.
ACCOUNT_TABLE = {
    "account": _text("Account", 240), "state": _text("State", 130),
    "what to do next": _text("What to do next", 270), "last error": _text("Last error", 180),
    "back-off until": _text("Back off until", 150), "token stored": _text("Token stored", 100),
    "sandbox": _text("Sandbox", 90),
}
#: Campaigns: the name and where sign-off and posting stand; the event and dates after.
CAMPAIGN_TABLE = {
    "campaign": _text("Campaign", 290), "awaiting sign-off": _count("Awaiting sign-off", 120),
    "approved by": _text("Approved by", 140), "needs attention": _count("Needs attention", 110),
    "waiting to send": _count("Waiting to send", 110), "posted": _count("Posted", 70),
    "all posts": _count("All posts", 70), "paused": _text("Paused", 70),
    "event": _text("Awareness event", 230), "start": st.column_config.DateColumn("Starts"),
    "end": st.column_config.DateColumn("Ends"), "author": _text("Written by", 200),
}
#: The year's awareness events, each with its campaigns by name.
EVENT_TABLE = {
    "event": _text("Awareness event", 280), "start": st.column_config.DateColumn("Starts"),
    "end": st.column_config.DateColumn("Ends"), "campaign": _text("Campaign", 230),
    "plan": _text("Plan", 130), "dates from": _text("Dates from", 200),
}
#: Partners (rows) by campaigns (columns, by name).
CONSENT_TABLE = {"partner": _text("Partner", 240)}
PARTNER_TABLE = {
    "organisation": _text("Organisation", 280), "kind": _text("Kind", 160),
    "role": _text("Role", 80), "accounts": _count("Accounts", 80),
    "website": st.column_config.LinkColumn("Website"),
}


def ids_and_export(frame: pd.DataFrame, ids: Sequence[str], *, name: str, file_name: str,
                   beside: Sequence[str] = ("when", "account")) -> None:
    """The keys and remote ids left out of a table, `beside` the columns that say which row
    is which, under an expander, and the whole table as CSV (ids included) for support and the
    networks' own records."""
    with lazy_expander(f"{plain(name)}: ids for support, and the table as CSV",
                       key=f"ids-{file_name}") as opened:
        if not opened:
            return
        st.caption("Chorus's own numbers and keys, and each post's id on its network: what "
                   "support or a network's help desk asks for.")
        st.dataframe(frame[[*beside, *ids]], hide_index=True, width="stretch",
                     alt=f"{name}: ids")
        st.download_button("Download as CSV (with ids)", csv_bytes(frame), file_name=file_name,
                           mime="text/csv", on_click="ignore", icon=":material/download:",
                           key=f"csv-{file_name}")


@contextmanager
def lazy_expander(label: str, *, key: str) -> Iterator[bool]:
    """An expander whose content is drawn only while it is open (opening it reruns the page,
    or the fragment it is in): a closed one costs the page nothing. Yields whether it is open;
    the caller draws its content only then."""
    expander = st.expander(label, key=key, on_change="rerun")
    with expander:
        yield bool(expander.open)


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
    columns: Mapping[str, Any] | None = None,
    hide: Sequence[str] = (),
) -> None:
    """The chart under a heading, described for assistive technology, with its summary
    sentence and its data beside it (or below it, for tables too wide to sit beside it);
    `columns` and `hide` as for `table`."""
    st.header(plain(title))
    st.write(plain(summary))
    chart_area, table_area = st.columns([3, 2]) if beside else (st.container(), st.container())
    with chart_area:
        st.altair_chart(described(chart, description), width="stretch")
    with table_area:
        table(frame, name=f"{title}: the numbers in the chart", columns=columns, hide=hide)



def previews(frame: pd.DataFrame) -> None:
    """Each post's variants, grouped under the post's key (rows come sorted by post)."""
    current = None
    for row in frame.to_dict("records"):
        if row["post"] != current:
            current = row["post"]
            st.markdown(f"**Post: {plain(current)}**")
        post_preview(row)


def post_preview(row: Mapping[str, Any]) -> None:
    """One variant as it will be posted, with its length as the network counts it."""
    network = NETWORK_NAMES.get(str(row["network"]), str(row["network"]))
    verdict = "fits" if row["fits"] == "yes" else f"does not fit: {row['problem']}"
    with st.container(border=True):
        st.caption(plain(f"{network} · {row['wording']} wording · {row['length']} of "
                         f"{row['limit']} · {verdict}"))
        st.text(str(row["text"]))


def plan_schedule(schedule: Sequence[Any], *, name: str) -> None:
    """What planning would store, one row a post on one account, as a person reads it: each
    column within the page at 1280 px, the post's text wrapped in its own."""
    frame = pd.DataFrame([{
        "When (local time)": item.local_time,
        "Account": account_label(item.organisation, item.network, item.handle),
        "Post": item.post_key, "Text": item.text, "Notes": "; ".join(item.notes),
    } for item in schedule], columns=["When (local time)", "Account", "Post", "Text", "Notes"])
    st.dataframe(frame, hide_index=True, alt=name, width="stretch", row_height=row_height(4),
                 column_config={"When (local time)": _text("When (local time)", 135),
                                "Account": _text("Account", 190), "Post": _text("Post", 80),
                                "Text": _text("Text", 290), "Notes": _text("Notes", 120)})


def pause_banner(state: Mapping[str, object]) -> None:
    if state.get("active"):
        st.warning(plain(f"Posting is paused for the whole partnership by {state.get('by')}: "
                         f"{state.get('reason', '')}. Nothing is sent until someone resumes "
                         "it."), icon=":material/pause_circle:")


def read_only_note() -> None:
    st.caption("You have read-only access: nothing on this page can be changed from your "
               "account.")


FLASH_KEY = "chorus_flash"


def flash_and_rerun(message: str, *, beside: str | None = None) -> None:
    """Say `message` (plain text, shown as it is) on the next run, which shows the change just
    made: at the top of the page, or, `beside` an action, where that page calls `show_flash`
    with the same name (under the button clicked). An alert, which a screen reader announces,
    and never a toast: Streamlit's toast is a dialog without an accessible name (axe's
    aria-dialog-name, serious)."""
    st.session_state[FLASH_KEY if beside is None else f"{FLASH_KEY}:{beside}"] = message
    st.rerun()


def show_flash(*, beside: str | None = None) -> None:
    message = st.session_state.pop(FLASH_KEY if beside is None else f"{FLASH_KEY}:{beside}",
                                   None)
    if message:
        st.success(plain(message), icon=":material/check_circle:")


# ---- the board overview -----------------------------------------------------------------------


def headline_figures(figures: Sequence[Figure]) -> None:
    for area, figure in zip(st.columns(len(figures)), figures, strict=True):
        area.metric(plain(figure.label), figure.value, figure.delta, help=plain(figure.help),
                    border=True,
                    delta_color="normal" if figure.coloured else "off")


def charts_with_table(
    charts: Sequence[tuple[alt.LayerChart, str]], *, title: str, summary: str,
    frame: pd.DataFrame, columns: Mapping[str, Any] | None = None, hide: Sequence[str] = (),
    lines: int = 1,
) -> None:
    """Charts one above the other, each with its description, then the summary sentence and
    the table of every number they draw; `columns`, `hide` and `lines` as for `table`. Charts
    of weeks share one time scale and one y-axis width (`dashboard.charts`), so a week or an
    awareness window sits at the same place in each."""
    st.header(plain(title))
    st.write(plain(summary))
    for chart, description in charts:
        st.altair_chart(described(chart, description), width="stretch")
    table(frame, name=f"{title}: the numbers in the charts", columns=columns, hide=hide,
          lines=lines)


def effect_explanation(result: EffectResult) -> None:
    """One window's estimate in plain English, then every caveat as a list."""
    st.write(plain(result.explanation()))
    if result.caveats:
        st.markdown("\n".join(f"- {plain(caveat)}" for caveat in result.caveats))


def board_pack(
    tables: Sequence[PackTable], charts: Sequence[PackChart], *, readme: str, stamp: datetime,
) -> None:
    """Downloads: the whole pack as one ZIP, and each file on its own. Images are drawn only
    when asked for (a callable), so showing the page costs nothing."""
    st.download_button(
        "Download the board pack (ZIP)", partial(pack_zip, tables, charts, readme=readme,
                                                 stamp=stamp),
        file_name=f"board-pack-{stamp:%Y-%m-%d}.zip", mime="application/zip",
        on_click="ignore", icon=":material/download:", type="primary")
    if not images_available():
        st.caption("Charts cannot be drawn as images on this installation (vl-convert-python "
                   "is missing); the pack holds their numbers as tables.")
    with st.expander("Single files"):
        for pack_table in tables:
            st.download_button(f"{plain(pack_table.title)} (CSV)", csv_bytes(pack_table.frame),
                               file_name=pack_table.file_name, mime="text/csv",
                               on_click="ignore", key=f"pack-{pack_table.file_name}")
        if images_available():
            for chart in charts:
                for kind, draw, mime in (("svg", svg_bytes, "image/svg+xml"),
                                         ("png", png_bytes, "image/png")):
                    st.download_button(f"{plain(chart.title)} ({kind.upper()})",
                                       partial(draw, chart),
                                       file_name=chart.file_name(kind), mime=mime,
                                       on_click="ignore", key=f"pack-{chart.file_name(kind)}")
