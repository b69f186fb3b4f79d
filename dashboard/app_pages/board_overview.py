"""Board overview: campaign reach against hate-crime reporting, with honest caveats and no
identifiable small counts (read-only for everyone)."""

import streamlit as st

from campaigns.core.clock import utcnow
from dashboard import auth, boardpack, components, data
from dashboard.boardpack import PackChart, PackTable
from dashboard.components import plain
from dashboard.insights.networks import network_summary
from dashboard.insights.periods import DEFAULT_WEEKS, PERIOD_WEEKS, period_ending, weeks_label
from dashboard.queries import SYNTHETIC_LABEL

#: The effect table as the board reads it: the event, then what the estimate shows and by how
#: much, in view at 1280 px; the dates, the campaign and the statistics after.
EFFECT_TABLE = {
    "event": st.column_config.Column("Awareness event", width=190, pinned=True),
    "year": st.column_config.Column("Year", width=60),
    "what it shows": st.column_config.Column("What it shows", width=260),
    "change": st.column_config.Column("Change", width=80),
    "95% interval (change)": st.column_config.Column("95% interval (change)", width=150),
    "dates": st.column_config.Column("Dates", width=170),
    "Chorus campaign": st.column_config.Column("Chorus campaign", width=220),
}

viewer = auth.page_viewer("board")
st.title("Board overview")
st.write("The partnership's campaign reach set beside hate-crime reporting, week by week, "
         "with the estimated effect of each awareness campaign and what it can and cannot say.")

length, ending, where = st.columns(3)
weeks = length.selectbox("Period", PERIOD_WEEKS, index=PERIOD_WEEKS.index(DEFAULT_WEEKS),
                         format_func=weeks_label)
last_day = ending.date_input("Ending with the week of", value=data.today(),
                             format="DD/MM/YYYY")
areas = data.reporting_areas()
area = where.selectbox("Reporting area", areas) if areas else None
period = period_ending(last_day, weeks)
board = data.board_overview(viewer, period, area)

st.caption(plain(f"Figures for {period.describe()}, each compared with the {weeks} weeks "
                 "before."))
if board.synthetic:
    st.warning(plain(f"{SYNTHETIC_LABEL}: the reporting figures for {area} come from a "
                     "synthetic demo file, made up for trying Chorus out. They say nothing "
                     "about real reporting."), icon=":material/science:")
components.headline_figures(board.figures)
if board.sandbox_note:
    st.warning(plain(board.sandbox_note), icon=":material/science:")

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
components.charts_with_table(
    charts, title="Weekly reach and reports",
    summary=board.weekly_summary, frame=board.weekly)
if area is None:
    st.info("No weekly reporting figures have been imported yet, so reach cannot be set "
            "beside reporting. Officers import them on the Data page.", icon=":material/info:")

st.header("Campaigns and reporting: the estimated effect")
years = data.effect_years(viewer, area) if area is not None else None
effects = None
if area is None or years is None:
    st.info("An effect can be estimated once weekly reporting figures are imported.",
            icon=":material/info:")
else:
    year = st.selectbox("Awareness windows in", years.years,
                        index=years.years.index(years.default))
    effects = data.effects(viewer, area, year)
    st.write(plain(effects.note))
    components.table(effects.table, name=f"Estimated effect of each awareness window on weekly "
                                         f"reports in {area}", columns=EFFECT_TABLE, lines=3)
    labels = [r.label for r in effects.estimated]
    if labels:
        chosen = st.selectbox("Explain the estimate for", labels, index=effects.default)
        components.effect_explanation(effects.result(chosen))
    else:
        st.info("No window has enough weekly figures around it for an estimate yet: the table "
                "says why for each.", icon=":material/info:")

partners_chart = components.bar_chart(board.partners, category="partner", value="impressions")
if board.partners.empty:
    st.header("Partners' contribution")
    st.write(plain(board.partners_summary))
else:
    components.chart_with_table(
        partners_chart, title="Partners' contribution",
        description="Bar chart of the impressions each organisation's accounts gained in the "
                    "period, largest first.",
        summary=board.partners_summary, frame=board.partners)

networks_chart = components.bar_chart(board.networks, category="network", value="engagements")
networks_text = ("Bar chart of the engagements (likes, reposts, replies and quotes) the "
                 "partnership's posts gained on each network in the period, largest first.")
if board.networks.empty:
    st.header("Engagement on each network")
    st.write(plain(network_summary(board.networks)))
else:
    components.chart_with_table(
        networks_chart, title="Engagement on each network", description=networks_text,
        summary=network_summary(board.networks), frame=board.networks)

st.header("Reach of each campaign")
if board.campaigns.empty:
    st.write("No campaign's posts were sent or gained impressions in these weeks.")
else:
    components.table(board.campaigns, name="Posts, impressions and engagements of each "
                                           "campaign in the period")

st.header("Data freshness and sources")
components.table(board.freshness, name="How up to date the figures are")
sources = data.datasets()
if sources.empty:
    st.write("No reporting data has been imported yet.")
else:
    components.table(sources, name="Reporting figures imported, with their citations")

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
