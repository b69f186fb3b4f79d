"""Board overview: campaign reach against hate-crime reporting, with honest caveats and no
identifiable small counts (read-only for everyone).

The story first: the period, the headline figures and a few plain sentences, which fit a
phone's first screen, with one notice when figures are sandbox or synthetic. Everything else
(charts, tables, effect estimates, how they were worked out, sources) is in sections the
reader opens, drawn only once opened."""

from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd
import streamlit as st

from campaigns.core.clock import utcnow
from dashboard import auth, boardpack, components, data
from dashboard.boardpack import PackChart, PackTable
from dashboard.components import lazy_expander, plain
from dashboard.insights.effect_estimates import Effects
from dashboard.insights.headline import Figure
from dashboard.insights.networks import network_summary
from dashboard.insights.periods import (
    DEFAULT_WEEKS,
    PERIOD_WEEKS,
    last_ended_sunday,
    period_ending,
    weeks_label,
)

#: The effect table as the board reads it: the event, then what the estimate shows and by how
#: much, and whether the figures are real; the dates, the campaign and the statistics are in
#: "How this was worked out".
EFFECT_TABLE = {
    "event": st.column_config.Column("Awareness event", width=190, pinned=True),
    "year": st.column_config.Column("Year", width=60),
    "what it shows": st.column_config.Column("What it shows", width=260),
    "change": st.column_config.Column("Change", width=80),
    "95% interval (change)": st.column_config.Column("Likely range", width=150),
    "figures": st.column_config.Column("Figures", width=200),
}
#: The weekly numbers as a reader scans them, a phone showing the first two or three: the
#: week, its reach and its reports, then the awareness events; each strand and the rest after.
WEEKLY_TABLE = {
    "week": st.column_config.Column("Week", width=95, pinned=True),
    "impressions": st.column_config.Column("Reach", width=90),
    "sandbox impressions": st.column_config.Column("Sandbox reach", width=110),
    "offences (all strands)": st.column_config.Column("Reports", width=80),
    "awareness events": st.column_config.Column("Awareness events", width=220),
}
EFFECT_DETAILS = ("dates", "Chorus campaign", "rate ratio", "95% interval (rate ratio)",
                  "p-value", "weeks of figures")
#: The columns that say a row is sandbox or synthetic. Each table keeps its label in a
#: 'figures' column; the page says what the labels mean once, at the top.
MARKED = {"sandbox": "figures", "synthetic": "figures"}
#: A headline figure's least width: two side by side on a 390 px phone, four on a laptop.
FIGURE_WIDTH = 171
EFFECT_YEAR = "board-effect-year"


def marked(frame: pd.DataFrame) -> pd.DataFrame:
    """`frame` with its sandbox or synthetic label in a 'figures' column (not 'sandbox' or
    'synthetic', after which every table would repeat the page's notice)."""
    return frame.rename(columns={k: v for k, v in MARKED.items() if k in frame.columns})


def table(frame: pd.DataFrame, *, name: str, columns: Mapping[str, Any] | None = None,
          hide: Sequence[str] = (), lines: int = 1) -> None:
    components.table(marked(frame), name=name, columns=columns, hide=hide, lines=lines)


def headline(figures: Sequence[Figure]) -> None:
    with st.container(horizontal=True, gap="small", horizontal_alignment="distribute"):
        for figure in figures:
            st.metric(plain(figure.label), figure.value, figure.delta, help=plain(figure.help),
                      border=True, width=FIGURE_WIDTH,
                      delta_color="normal" if figure.coloured else "off")


viewer = auth.page_viewer("board")
st.title("Board overview")
story = st.container()
today = data.today()
with st.expander("Change the period, reporting area or year", icon=":material/tune:"):
    length, ending, where, which = st.columns(4)
    weeks = length.selectbox("Period", PERIOD_WEEKS, index=PERIOD_WEEKS.index(DEFAULT_WEEKS),
                             format_func=weeks_label)
    # The latest weeks that have ended: this week's figures are still coming in.
    last_day = ending.date_input("Ending with the week of", value=last_ended_sunday(today),
                                 format="DD/MM/YYYY")
    areas = data.reporting_areas()
    area = where.selectbox("Reporting area", areas) if areas else None
    years = data.effect_years(viewer, area) if area is not None else None
    year = (which.selectbox("Awareness windows in", years.years,
                            index=years.years.index(years.default), key=EFFECT_YEAR)
            if years is not None else None)
period = period_ending(last_day, weeks)
board = data.board_overview(viewer, period, area)
effects: Effects | None = (data.effects(viewer, area, year)
                           if area is not None and year is not None else None)

with story:
    st.caption(plain(board.period_line))
    headline(board.figures)
    st.write(plain(" ".join(board.story)))
    if board.notice:
        st.warning(plain(board.notice), icon=":material/science:")

reach = components.reach_chart(board.reach_lines, board.windows, first=period.first_week,
                               last=period.last_day)
reach_text = ("Bar chart of the impressions gained each week, real and sandbox accounts "
              "apart, with the dates of awareness events shaded.")
charts = [(reach, reach_text)]
if board.report_lines is not None:
    reports = components.reports_chart(board.report_lines, board.windows,
                                       first=period.first_week, last=period.last_day,
                                       threshold=board.threshold)
    charts.append((reports, f"Line chart of the weekly hate crime reports in {area}: offences "
                            "and each strand's motivating factors, with the dates of awareness "
                            "events shaded; counts under the disclosure threshold are gaps."))
with lazy_expander("Reach and reports, week by week", key="board-weekly") as opened:
    if opened:
        components.charts_with_table(charts, title="Weekly reach and reports",
                                     summary=board.weekly_summary, frame=marked(board.weekly),
                                     columns=WEEKLY_TABLE, lines=2)
        if area is None:
            st.info("No weekly reporting figures have been imported yet, so reach cannot be "
                    "set beside reporting. Officers import them on the Data page.",
                    icon=":material/info:")

with lazy_expander("The estimated effect of each awareness campaign",
                   key="board-effects") as opened:
    if opened and effects is None:
        st.info("An effect can be estimated once weekly reporting figures are imported.",
                icon=":material/info:")
    elif opened and effects is not None:
        table(effects.table, name=f"Estimated effect of each awareness window on weekly "
                                  f"reports in {area}", columns=EFFECT_TABLE,
              hide=EFFECT_DETAILS, lines=3)
        labels = [r.label for r in effects.estimated]
        if labels:
            chosen = st.selectbox("Explain the estimate for", labels, index=effects.default)
            components.effect_explanation(effects.result(chosen))
        else:
            st.info("No window has enough weekly figures around it for an estimate yet: the "
                    "table says why for each.", icon=":material/info:")

with lazy_expander("How this was worked out", key="board-methods") as opened:
    if opened:
        st.write("Reach is what the networks count: each post's impressions and engagements, "
                 "read for 30 days after it is posted, and added up by the week in which they "
                 "were gained. Sandbox accounts are counted apart, and real figures leave them "
                 "out. Report counts are those of weeks that have ended, all sources added "
                 "together; counts small enough to identify someone are hidden.")
        if effects is not None:
            st.write(plain(effects.note))
            st.write("The statistics, for those who want them: each window's estimate comes "
                     "from a regression of the weekly counts on a trend, the seasons and the "
                     "window, allowing for counts that vary more than chance alone would make "
                     "them (dispersion) and for weeks that follow each other "
                     "(autocorrelation).")
            for result in effects.estimated:
                st.write(plain(result.statistics()))
            table(effects.table, name=f"Every figure of the estimates for {effects.year}",
                  columns=EFFECT_TABLE, lines=3)

partners_chart = components.bar_chart(board.partners, category="partner", value="impressions")
with lazy_expander("Partners' contribution", key="board-partners") as opened:
    if opened and board.partners.empty:
        st.write(plain(board.partners_summary))
    elif opened:
        components.chart_with_table(
            partners_chart, title="Partners' contribution",
            description="Bar chart of the impressions each organisation's accounts gained in "
                        "the period, largest first.",
            summary=board.partners_summary, frame=marked(board.partners))

networks_chart = components.bar_chart(board.networks, category="network", value="engagements")
networks_text = ("Bar chart of the engagements (likes, reposts, replies and quotes) the "
                 "partnership's posts gained on each network in the period, largest first.")
with lazy_expander("Engagement on each network", key="board-networks") as opened:
    if opened and board.networks.empty:
        st.write(plain(network_summary(board.networks)))
    elif opened:
        components.chart_with_table(
            networks_chart, title="Engagement on each network", description=networks_text,
            summary=network_summary(board.networks), frame=marked(board.networks))

with lazy_expander("Reach of each campaign", key="board-campaigns") as opened:
    if opened and board.campaigns.empty:
        st.write("No campaign's posts were sent or gained impressions in these weeks.")
    elif opened:
        table(board.campaigns, hide=["campaign"],
              name="Posts, impressions and engagements of each campaign in the period")

sources = data.datasets()
with lazy_expander("Data freshness and sources", key="board-sources") as opened:
    if opened:
        table(board.freshness, name="How up to date the figures are")
        if sources.empty:
            st.write("No reporting data has been imported yet.")
        else:
            table(sources, name="Reporting figures imported, with their citations")

st.header("Board pack")
tables = [PackTable("Headline figures", board.figures_table),
          PackTable("Weekly reach and reports", board.weekly),
          PackTable("Partners' contribution", board.partners),
          PackTable("Engagement on each network", board.networks),
          PackTable("Reach of each campaign", board.campaigns),
          PackTable("Data freshness", board.freshness),
          PackTable("Sources", sources)]
if effects is not None:
    tables.insert(2, PackTable(f"Estimated effect of each awareness window in {effects.year}",
                               effects.table))
pack_charts = [PackChart("Weekly reach", reach, reach_text)]
if not board.partners.empty:
    pack_charts.append(PackChart("Partners' contribution", partners_chart,
                                 "Bar chart of the impressions each organisation's accounts "
                                 "gained."))
if not board.networks.empty:
    pack_charts.append(PackChart("Engagement on each network", networks_chart, networks_text))
if len(charts) > 1:
    pack_charts.insert(1, PackChart(f"Weekly reports in {area}", *charts[1]))
stamp = utcnow()
components.board_pack(tables, pack_charts, stamp=stamp, readme=boardpack.readme(
    title="Chorus board pack", period=period.describe(), tables=tables, charts=pack_charts,
    notices=board.notices, stamp=f"{stamp:%Y-%m-%d %H:%M} UTC"))
