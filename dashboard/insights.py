"""What the board overview and the Data page show: SQL aggregates of engagement and reporting
as DataFrames, and the plain steps from them to what the board reads.

Engagement readings are cumulative, so they are never summed (campaigns.analysis.reach says
why). The same rule runs here in SQL: for each delivery and local week, the highest reading of
each counter; a running maximum over the weeks; and each week's gain on the week before, added
up by week, partner or campaign. Only those sums leave the database, never the snapshots.

Report counts are added up in SQL by week, strand and measure (over sources) for one area. Any
table of them finer than force-level annual totals goes through disclosure control
(campaigns.analysis.disclosure.suppress) before it is shown, and a chart of them draws only
what that table shows.

No Streamlit here: `dashboard.data` caches these functions, and the pages lay out what they
return.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from functools import partial
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pandas as pd
from sqlalchemy import (
    ColumnElement,
    Integer,
    Subquery,
    and_,
    case,
    column,
    false,
    func,
    literal,
    select,
    true,
    union_all,
    values,
)
from sqlalchemy.orm import Session

from campaigns.analysis.disclosure import TOTAL, suppress
from campaigns.core import calendar
from campaigns.storage.models import (
    Account,
    Campaign,
    Delivery,
    EngagementSnapshot,
    Event,
    Organisation,
    ReportCount,
    ReportDataset,
    UTCDateTime,
)
from campaigns.storage.reports import (
    ALL,
    MOTIVATING_FACTORS,
    OFFENCES,
    STRANDS,
    CellError,
    ParsedFile,
    Problem,
    ReportsInvalid,
    find_conflicts,
    parse_sheets,
    parse_source,
    read_sheets,
)
from campaigns.storage.users import BOARD, Viewer
from dashboard.queries import SANDBOX_LABEL, SYNTHETIC_LABEL, local_text

#: Lengths of period the board can choose, in weeks.
PERIOD_WEEKS = (4, 13, 26, 52)
DEFAULT_WEEKS = 13
#: Engagements are the public interactions every network reports (campaigns.analysis.reach).
ENGAGEMENT_PARTS = ("likes", "reposts", "replies", "quotes")
COUNTERS = ("impressions", *ENGAGEMENT_PARTS)
STRAND_NAMES = {"race": "race", "religion": "religion", "sexual-orientation": "sexual orientation",
                "disability": "disability", "transgender": "transgender"}
OFFENCES_SERIES = "offences (all strands)"
REAL_ACCOUNTS = "real accounts"


# ---- periods ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Period:
    """Whole weeks, Monday to Sunday, in the partnership's time zone."""

    first_week: date
    weeks: int

    def __post_init__(self) -> None:
        if self.first_week.weekday() != 0 or self.weeks < 1:
            raise ValueError("a period starts on a Monday and lasts at least one week")

    @property
    def last_day(self) -> date:
        return self.first_week + timedelta(weeks=self.weeks, days=-1)

    @property
    def mondays(self) -> list[date]:
        return [self.first_week + timedelta(weeks=n) for n in range(self.weeks)]

    def previous(self) -> Period:
        """The period of the same length just before this one."""
        return Period(self.first_week - timedelta(weeks=self.weeks), self.weeks)

    def describe(self) -> str:
        return (f"the {self.weeks} weeks from Monday {_day(self.first_week)} to Sunday "
                f"{_day(self.last_day)}")


def period_ending(day: date, weeks: int) -> Period:
    """`weeks` whole weeks, the last of them the week containing `day`."""
    monday = day - timedelta(days=day.weekday())
    return Period(monday - timedelta(weeks=weeks - 1), weeks)


def weeks_label(weeks: int) -> str:
    return f"{weeks} weeks"


def _day(value: date) -> str:
    return f"{value.day} {value:%B %Y}"


def _week_bounds(period: Period, zone: str) -> list[tuple[int, datetime, datetime]]:
    """Each week of the period as (index, first instant, first instant after), in UTC."""
    tz = ZoneInfo(zone)
    starts = [datetime.combine(period.first_week + timedelta(weeks=n), time(), tzinfo=tz)
              .astimezone(UTC) for n in range(period.weeks + 1)]
    return [(n, starts[n], starts[n + 1]) for n in range(period.weeks)]


# ---- reach (SQL) ------------------------------------------------------------------------------


def _scope(viewer: Viewer) -> ColumnElement[bool]:
    if viewer.sees_everything:
        return true()
    if viewer.organisation_key is None:
        return false()
    return Organisation.key == viewer.organisation_key


def _weeks(bounds: Sequence[tuple[int, datetime, datetime]]) -> Any:
    return (values(column("week_index", Integer), column("lo", UTCDateTime()),
                   column("hi", UTCDateTime()), name="weeks")
            .data(list(bounds)).cte("weeks"))


def _gained(bounds: Sequence[tuple[int, datetime, datetime]]) -> Subquery:
    """What each delivery gained in each week: (delivery_id, week_index, *COUNTERS).

    Week -1 holds each delivery's highest readings before the period, so that the first week's
    gain is measured from them rather than from zero.
    """
    snap, weeks = EngagementSnapshot, _weeks(bounds)
    start, end = bounds[0][1], bounds[-1][2]
    highest = [func.max(getattr(snap, c)).label(c) for c in COUNTERS]
    in_period = (select(snap.delivery_id, weeks.c.week_index, *highest)
                 .join(weeks, and_(snap.read_at >= weeks.c.lo, snap.read_at < weeks.c.hi))
                 .group_by(snap.delivery_id, weeks.c.week_index))
    read_in_period = select(snap.delivery_id).where(snap.read_at >= start, snap.read_at < end)
    before = (select(snap.delivery_id, literal(-1, Integer).label("week_index"), *highest)
              .where(snap.read_at < start, snap.delivery_id.in_(read_in_period))
              .group_by(snap.delivery_id))
    readings = union_all(in_period, before).subquery("readings")
    by_delivery: dict[str, Any] = {"partition_by": readings.c.delivery_id,
                                   "order_by": readings.c.week_index}
    running = select(readings.c.delivery_id, readings.c.week_index, *[
        func.max(readings.c[c]).over(**by_delivery, rows=(None, 0)).label(c)
        for c in COUNTERS]).subquery("running")
    previous: dict[str, Any] = {"partition_by": running.c.delivery_id,
                                "order_by": running.c.week_index}
    return select(running.c.delivery_id, running.c.week_index, *[
        (running.c[c] - func.coalesce(func.lag(running.c[c]).over(**previous), 0)).label(c)
        for c in COUNTERS]).subquery("gained")


REACH_KEYS = ("week", "organisation", "campaign", "campaign name", "network", "is_sandbox")
REACH_MEASURES = ("posts", "impressions", "engagements")


def reach_rows(*, session: Session, viewer: Viewer, period: Period, zone: str) -> pd.DataFrame:
    """Posts sent and reach gained in each week of the period, by organisation, campaign,
    network and sandbox flag: two SQL aggregates (gains, posts), never the snapshots themselves.

    Columns: `week` (its Monday), `organisation`, `campaign`, `campaign name`, `network`,
    `is_sandbox`,
    `posts`, `impressions`, `engagements`; only groups that posted or gained something appear.
    Every measure adds up, so `weekly_reach`, `by_organisation` and `by_campaign` roll it up.
    """
    bounds = _week_bounds(period, zone)
    gained = _gained(bounds)
    keys = [Organisation.name.label("organisation"), Campaign.key.label("campaign"),
            Campaign.name.label("campaign name"), Account.network, Account.is_sandbox]
    gain_query = (select(gained.c.week_index, *keys,
                         *[func.sum(gained.c[c]).label(c) for c in COUNTERS])
                  .select_from(gained).join(Delivery, Delivery.id == gained.c.delivery_id)
                  .join(Delivery.account).join(Account.organisation).join(Delivery.campaign)
                  .where(gained.c.week_index >= 0, _scope(viewer))
                  .group_by(gained.c.week_index, *keys))
    weeks = _weeks(bounds)
    # Materialised, so the database picks the period's posts out of the deliveries once
    # rather than scanning them again for every week.
    posted = (select(Delivery.posted_at, Delivery.account_id, Delivery.campaign_id)
              .where(Delivery.posted_at >= bounds[0][1], Delivery.posted_at < bounds[-1][2])
              .cte("posted").prefix_with("MATERIALIZED"))
    post_query = (select(weeks.c.week_index, *keys, func.count().label("posts"))
                  .select_from(posted)
                  .join(weeks, and_(posted.c.posted_at >= weeks.c.lo,
                                    posted.c.posted_at < weeks.c.hi))
                  .join(Account, Account.id == posted.c.account_id).join(Account.organisation)
                  .join(Campaign, Campaign.id == posted.c.campaign_id)
                  .where(_scope(viewer)).group_by(weeks.c.week_index, *keys))
    names = ["week_index", "organisation", "campaign", "campaign name", "network", "is_sandbox"]
    gains = pd.DataFrame([tuple(r) for r in session.execute(gain_query)],
                         columns=[*names, *COUNTERS])
    posts = pd.DataFrame([tuple(r) for r in session.execute(post_query)],
                         columns=[*names, "posts"])
    return _reach_frame(gains, posts, names, period)


def _reach_frame(
    gains: pd.DataFrame, posts: pd.DataFrame, names: list[str], period: Period
) -> pd.DataFrame:
    for frame in (gains, posts):
        frame["is_sandbox"] = frame["is_sandbox"].astype(bool)
    table = posts.merge(gains, on=names, how="outer")
    measures = ["posts", *COUNTERS]
    table[measures] = table[measures].fillna(0).astype("int64")
    table["engagements"] = table[list(ENGAGEMENT_PARTS)].sum(axis=1)
    table["week"] = (pd.Timestamp(period.first_week)
                     + pd.to_timedelta(table["week_index"].astype("int64") * 7, unit="D"))
    table = table[[*REACH_KEYS, *REACH_MEASURES]]
    return table.sort_values(list(REACH_KEYS), ignore_index=True)


def _roll_up(reach: pd.DataFrame, keys: list[str], period: Period | None) -> pd.DataFrame:
    if period is not None:
        reach = reach[reach["week"] >= pd.Timestamp(period.first_week)]
    summed = reach.groupby(keys, as_index=False)[list(REACH_MEASURES)].sum()
    return summed.astype({m: "int64" for m in REACH_MEASURES})


def by_organisation(reach: pd.DataFrame, period: Period | None = None) -> pd.DataFrame:
    """`reach_rows` added up by organisation and sandbox flag (from `period`, if given)."""
    return _roll_up(reach, ["organisation", "is_sandbox"], period)


def by_network(reach: pd.DataFrame, period: Period | None = None) -> pd.DataFrame:
    """`reach_rows` added up by network and sandbox flag (from `period`, if given)."""
    return _roll_up(reach, ["network", "is_sandbox"], period)


def by_campaign(reach: pd.DataFrame, period: Period | None = None) -> pd.DataFrame:
    """`reach_rows` added up by campaign and sandbox flag (from `period`, if given)."""
    return _roll_up(reach, ["campaign", "campaign name", "is_sandbox"], period)


def weekly_reach(reach: pd.DataFrame, period: Period) -> pd.DataFrame:
    """Every week of the period: real and sandbox posts, impressions and engagements apart."""
    weeks = pd.DatetimeIndex([pd.Timestamp(m) for m in period.mondays], name="week")
    measures = list(REACH_MEASURES)
    frame = pd.DataFrame(index=weeks)
    summed = _roll_up(reach, ["week", "is_sandbox"], None)
    for flag, prefix in ((False, ""), (True, "sandbox ")):
        part = summed[summed["is_sandbox"] == flag].set_index("week")[measures]
        frame[[prefix + m for m in measures]] = part.reindex(weeks, fill_value=0).to_numpy()
    return frame.astype("int64").reset_index()


# ---- reports (SQL) ----------------------------------------------------------------------------


def _is_week(start: date, end: date) -> bool:
    return start.weekday() == 0 and (end - start).days == 6


def reporting_areas(*, session: Session) -> list[str]:
    """Areas with weekly offence counts, the one with the most weeks first."""
    query = (select(ReportCount.area, ReportCount.period_start, ReportCount.period_end)
             .where(ReportCount.strand == ALL, ReportCount.measure == OFFENCES).distinct())
    weeks: dict[str, int] = {}
    for area, start, end in session.execute(query):
        if _is_week(start, end):
            weeks[area] = weeks.get(area, 0) + 1
    return sorted(weeks, key=lambda a: (-weeks[a], a))


REPORT_COLUMNS = ("week", "strand", "measure", "count", "sources", "synthetic")


def weekly_reports(
    *, session: Session, area: str, first: date | None = None, last: date | None = None,
    offences_only: bool = False,
) -> pd.DataFrame:
    """Weekly report counts for `area`, added up over sources in SQL.

    One row per week (a Monday, between `first` and `last` when given), strand and measure:
    `count`, `sources` (how many sources gave a figure) and `synthetic` (some of it comes from
    a synthetic file). Periods that are not single weeks (months, years) are left out.
    """
    rc = ReportCount
    synthetic = func.max(case((ReportDataset.synthetic, 1), else_=0))
    query = (select(rc.period_start, rc.period_end, rc.strand, rc.measure, func.sum(rc.count),
                    func.count(func.distinct(rc.source)), synthetic)
             .join(ReportDataset, rc.dataset_id == ReportDataset.id)
             .where(rc.area == area)
             .group_by(rc.period_start, rc.period_end, rc.strand, rc.measure)
             .order_by(rc.period_start))
    if first is not None:
        query = query.where(rc.period_start >= first)
    if last is not None:
        query = query.where(rc.period_start <= last)
    if offences_only:
        query = query.where(rc.strand == ALL, rc.measure == OFFENCES)
    rows = [(pd.Timestamp(start), strand, measure, int(total), int(sources), bool(flag))
            for start, end, strand, measure, total, sources, flag in session.execute(query)
            if _is_week(start, end)]
    frame = pd.DataFrame(rows, columns=list(REPORT_COLUMNS))
    return frame.astype({"week": "datetime64[ns]", "count": "int64", "sources": "int64",
                         "synthetic": bool})


# ---- awareness windows ------------------------------------------------------------------------


WINDOW_COLUMNS = ("event", "name", "short", "year", "start", "end", "campaign")


def _planned(session: Session, viewer: Viewer) -> dict[tuple[str, int], list[str]]:
    """The partnership's campaigns by (event, year)."""
    if not viewer.sees_everything:  # the board's pages only; partners see no analysis
        return {}
    query = (select(Campaign.event_key, Campaign.year, Campaign.key)
             .where(Campaign.withdrawn.is_(False), Campaign.event_key.is_not(None)))
    planned: dict[tuple[str, int], list[str]] = {}
    for event_key, year, key in session.execute(query):
        planned.setdefault((str(event_key), year), []).append(key)
    return planned


def event_windows(*, session: Session, viewer: Viewer, years: Iterable[int]) -> pd.DataFrame:
    """The dates in each of `years` of every awareness event the partnership has a campaign
    for (in any year), with that year's campaign, if any."""
    planned = _planned(session, viewer)
    keys = {event_key for event_key, _ in planned}
    events = [calendar.parse_event(e.definition)
              for e in session.scalars(select(Event).where(Event.key.in_(keys)))]
    rows = []
    for event in events:
        for year in sorted(set(years)):
            found = calendar.occurrence(event, year)
            rows.append({"event": event.key, "name": event.name, "short": short_name(event.name),
                         "year": year, "start": found.start, "end": found.end,
                         "campaign": ", ".join(sorted(planned.get((event.key, year), [])))})
    frame = pd.DataFrame(rows, columns=list(WINDOW_COLUMNS))
    return frame.sort_values(["start", "event"], ignore_index=True)


def short_name(name: str) -> str:
    """A label short enough for a chart: long names become their capitals (NHCAW)."""
    if len(name) <= 18:
        return name
    words = re.findall(r"[A-Z][A-Za-z+]*", name.split("(")[0])
    return "".join(w if w.isupper() else w[0] for w in words) or name[:18]


def windows_in(windows: pd.DataFrame, first: date, last: date) -> pd.DataFrame:
    """The windows that overlap `first` to `last` (inclusive)."""
    if windows.empty:
        return windows
    overlap = (windows["start"] <= last) & (windows["end"] >= first)
    return windows[overlap].reset_index(drop=True)


# ---- headline figures (pure) ------------------------------------------------------------------


@dataclass(frozen=True)
class Figure:
    label: str
    value: str
    delta: str | None
    help: str
    #: Reports going up is neither good nor bad, so its change is not coloured.
    coloured: bool = True


def change(now: int, before: int) -> str | None:
    """The change on the previous period, as st.metric shows it: '+120 (+12%)'."""
    if before == 0:
        return None if now == 0 else f"+{now:,} (none before)"
    return f"{now - before:+,} ({(now - before) / before:+.0%})"


def sandbox_only(reach: pd.DataFrame) -> bool:
    """True when no real account posted or gained anything in these weeks but sandbox ones
    did (a demo, or a trial before any account is connected for real)."""
    real = int(reach[list(REACH_MEASURES)].to_numpy().sum())
    sandbox = int(reach[[f"sandbox {m}" for m in REACH_MEASURES]].to_numpy().sum())
    return real == 0 and sandbox > 0


def headline(
    reach: pd.DataFrame, reports: pd.DataFrame | None, period: Period, threshold: int
) -> list[Figure]:
    """Posts, reach, engagement and reports in `period`, each beside the period before.

    `reach` is `weekly_reach` of both periods; `reports` the weekly reports of both (None
    when no area has weekly figures). Sandbox figures are left out: they are not real. Only
    when there is nothing real at all are the sandbox's shown instead, labelled so.
    """
    now, before = _split(reach, period)
    compared = f"Change on the previous {period.weeks} weeks."
    prefix, label, whose = "", "", "real accounts"
    if sandbox_only(reach):
        prefix, label, whose = "sandbox ", " — sandbox", "sandbox accounts, which reach no one"
    posts, shown, engaged = (f"{prefix}{m}" for m in REACH_MEASURES)
    figures = [
        Figure(f"Posts{label}", f"{now[posts].sum():,}",
               change(int(now[posts].sum()), int(before[posts].sum())),
               f"Posts sent from {whose} in these weeks. " + compared),
        Figure(f"Reach (impressions){label}", f"{now[shown].sum():,}",
               change(int(now[shown].sum()), int(before[shown].sum())),
               f"Times the posts of {whose} were shown, as the networks count them, gained "
               "in these weeks (by posts of any date). Mastodon and Bluesky do not publish "
               "impressions, so their posts add engagement only. " + compared),
        Figure(f"Engagement{label}", f"{now[engaged].sum():,}",
               change(int(now[engaged].sum()), int(before[engaged].sum())),
               f"Likes, reposts, replies and quotes gained by the posts of {whose} in these "
               "weeks. " + compared),
    ]
    figures.append(_reports_figure(reports, period, threshold))
    return figures


def _split(frame: pd.DataFrame, period: Period) -> tuple[pd.DataFrame, pd.DataFrame]:
    inside = frame["week"] >= pd.Timestamp(period.first_week)
    return frame[inside], frame[~inside]


def _reports_figure(reports: pd.DataFrame | None, period: Period, threshold: int) -> Figure:
    label = "Reports (offences)"
    if reports is None:
        return Figure(label, "no figures", None, "No weekly reporting figures have been "
                      "imported (see the Data page).", coloured=False)
    offences = reports[(reports["strand"] == ALL) & (reports["measure"] == OFFENCES)]
    now, before = _split(offences, period)
    if now.empty:
        return Figure(label, "no figures", None, "No weekly figures for these weeks yet.",
                      coloured=False)
    total, earlier = int(now["count"].sum()), int(before["count"].sum())
    complete = len(now) == period.weeks and len(before) == period.weeks
    hidden = total < threshold or earlier < threshold
    shown = f"<{threshold}" if total < threshold else f"{total:,}"
    notes = [f"Hate crime offences reported in these weeks, all sources added together; "
             f"{len(now)} of the {period.weeks} weeks have figures."]
    if not complete:
        notes.append("No change is shown: the two periods do not both have figures for every "
                     "week.")
    elif hidden:
        notes.append(f"No change is shown: a total under {threshold} is not published.")
    return Figure(label, shown, change(total, earlier) if complete and not hidden else None,
                  " ".join(notes), coloured=False)


def sandbox_note(reach: pd.DataFrame, period: Period) -> str:
    """What the sandbox added in the period, which the figures leave out ('' if nothing)."""
    now, _ = _split(reach, period)
    posts, shown = int(now["sandbox posts"].sum()), int(now["sandbox impressions"].sum())
    engaged = int(now["sandbox engagements"].sum())
    if not (posts or shown or engaged):
        return ""
    where = ("No real account posted or gained reach in these weeks, so the figures above are "
             "the sandbox's: they say nothing about real reach." if sandbox_only(reach) else
             "They are left out of the figures above and shown apart in the chart and tables "
             "below.")
    return (f"{SANDBOX_LABEL}: {posts:,} posts, {shown:,} impressions and {engaged:,} "
            "engagements in these weeks came from sandbox accounts, an emulator of the "
            f"networks that reaches no one. {where}")


# ---- reports under disclosure control (pure) --------------------------------------------------


def _week_key(week: pd.Timestamp) -> str:
    return f"{week:%Y-%m-%d}"


def suppressed_reports(reports: pd.DataFrame, threshold: int) -> pd.DataFrame:
    """Weekly offences and motivating factors by strand, as strings safe to publish.

    One row per week with figures (keyed 'YYYY-MM-DD'), then 'Total': offences (all strands),
    each strand and the total of motivating factors, after primary and secondary suppression.
    Offences and strands are protected as two tables: one offence can have several motivating
    factors, so they do not add up to each other.
    """
    columns = [OFFENCES_SERIES, *STRAND_NAMES.values(), "motivating factors"]
    if reports.empty:
        return pd.DataFrame(columns=columns, index=pd.Index([], name="week"))
    keyed = reports.assign(week=reports["week"].map(_week_key))
    offences = keyed[(keyed["strand"] == ALL) & (keyed["measure"] == OFFENCES)]
    strands = keyed[(keyed["measure"] == MOTIVATING_FACTORS) & keyed["strand"].isin(STRANDS)]
    parts = []
    if not offences.empty:
        shown = suppress(offences, "count", threshold=threshold, row_dims=["week"], col_dims=[])
        parts.append(shown.set_axis([OFFENCES_SERIES], axis=1))
    if not strands.empty:
        shown = suppress(strands, "count", threshold=threshold, row_dims=["week"],
                         col_dims=["strand"])
        named = {**STRAND_NAMES, TOTAL: "motivating factors"}
        parts.append(shown.rename(columns=named))
    table = pd.concat(parts, axis=1) if parts else pd.DataFrame()
    table.columns.name = None
    table.index.name = "week"
    return table.reindex(columns=columns).fillna("")


def shown_number(text: str) -> float:
    """A published figure as a number; NaN where it is hidden ('<5', '[c]') or absent."""
    cleaned = text.replace(",", "")
    return float(cleaned) if cleaned.isdigit() else float("nan")


def report_lines(shown: pd.DataFrame) -> pd.DataFrame:
    """Long form of `suppressed_reports` for the chart: week, series, count (NaN if hidden)."""
    weekly = shown.drop(index=TOTAL, errors="ignore").drop(columns="motivating factors")
    if weekly.empty:
        return pd.DataFrame({"week": pd.Series(dtype="datetime64[ns]"),
                             "series": pd.Series(dtype=object), "count": pd.Series(dtype=float)})
    long = weekly.reset_index().melt(id_vars="week", var_name="series", value_name="shown")
    long = long[long["shown"] != ""]
    return pd.DataFrame({"week": pd.to_datetime(long["week"]), "series": long["series"],
                         "count": long["shown"].map(shown_number)}).reset_index(drop=True)


def reach_lines(weekly: pd.DataFrame) -> pd.DataFrame:
    """Long form of `weekly_reach` for the chart: week, accounts (real or sandbox), impressions."""
    real = weekly[["week", "impressions"]].assign(accounts=REAL_ACCOUNTS)
    sandbox = weekly[["week", "sandbox impressions"]].rename(
        columns={"sandbox impressions": "impressions"}).assign(accounts=SANDBOX_LABEL)
    parts = [real] + ([sandbox] if sandbox["impressions"].any() else [])
    return pd.concat(parts, ignore_index=True)[["week", "accounts", "impressions"]]


def weekly_table(
    weekly: pd.DataFrame, shown: pd.DataFrame | None, windows: pd.DataFrame, synthetic: bool
) -> pd.DataFrame:
    """The numbers behind the weekly charts, one row a week and a total: reach, the
    awareness events of the week and (under disclosure control) the reports."""
    table = weekly.assign(week=weekly["week"].map(_week_key))
    if not table["sandbox impressions"].any() and not table["sandbox posts"].any():
        table = table.drop(columns=["sandbox posts", "sandbox impressions",
                                    "sandbox engagements"])
    totals = table.drop(columns="week").sum()
    table = pd.concat([table, pd.DataFrame([{"week": TOTAL, **totals}])], ignore_index=True)
    table.insert(1, "awareness events", [_events_in_week(w, windows) for w in table["week"]])
    if shown is not None:
        table = table.merge(shown.reset_index(), on="week", how="left").fillna("")
        if synthetic:
            table["synthetic"] = SYNTHETIC_LABEL
    return table


def _events_in_week(week: str, windows: pd.DataFrame) -> str:
    if week == TOTAL or windows.empty:
        return ""
    monday = date.fromisoformat(week)
    found = windows_in(windows, monday, monday + timedelta(days=6))
    return "; ".join(f"{n} {y}" for n, y in zip(found["name"], found["year"], strict=True))


def reach_summary(weekly: pd.DataFrame, period: Period) -> str:
    total = int(weekly["impressions"].sum())
    sandbox = int(weekly["sandbox impressions"].sum())
    extra = (f" Sandbox accounts, which reach no one, added {sandbox:,} more, shown apart."
             if sandbox else "")
    if not total:
        return f"No impressions were recorded for real accounts in {period.describe()}.{extra}"
    best = weekly.loc[weekly["impressions"].idxmax()]
    return (f"In {period.describe()}, the partnership's posts gained {total:,} impressions "
            f"and {int(weekly['engagements'].sum()):,} engagements; the most impressions came "
            f"in the week of {_day(best['week'].date())} ({int(best['impressions']):,})."
            + extra)


def reports_summary(shown: pd.DataFrame, area: str, threshold: int) -> str:
    if shown.empty or OFFENCES_SERIES not in shown.columns:
        return f"There are no weekly reporting figures for {area} in these weeks."
    weeks = len(shown) - 1
    total = shown.loc[TOTAL, OFFENCES_SERIES] or "no figure"
    numbers = shown.drop(index=TOTAL)[OFFENCES_SERIES].map(shown_number)
    busiest = (f"; the busiest week was that of {_day(date.fromisoformat(str(numbers.idxmax())))}"
               f" ({int(numbers.max())})" if numbers.notna().any() else "")
    return (f"In {area}, {total} hate crime offences were reported in the {weeks} weeks with "
            f"figures, all sources added together{busiest}. Lines show offences and, for each "
            f"strand, the motivating factors (one offence can have several). Counts under "
            f"{threshold}, and others that would give them away, are hidden in the chart and "
            "the table, so some lines have gaps.")


# ---- partners and campaigns (pure) ------------------------------------------------------------


def contribution(reach: pd.DataFrame) -> pd.DataFrame:
    """Reach by organisation: real first, the largest first, each with its share."""
    real_total = int(reach.loc[~reach["is_sandbox"], "impressions"].sum())
    frame = reach.assign(
        partner=[f"{o} (sandbox)" if s else o
                 for o, s in zip(reach["organisation"], reach["is_sandbox"], strict=True)],
        share=[f"{i / real_total:.0%}" if real_total and not s else ""
               for i, s in zip(reach["impressions"], reach["is_sandbox"], strict=True)],
        sandbox=[SANDBOX_LABEL if s else "" for s in reach["is_sandbox"]])
    frame = frame.sort_values(["is_sandbox", "impressions", "partner"],
                              ascending=[True, False, True], ignore_index=True)
    return frame[["partner", "posts", "impressions", "engagements", "share", "sandbox"]].rename(
        columns={"share": "share of real impressions"})


def contribution_summary(partners: pd.DataFrame) -> str:
    real = partners[partners["sandbox"] == ""]
    if real.empty or not real["impressions"].sum():
        return "No real account gained impressions in these weeks."
    top = real.iloc[0]
    return (f"{len(real)} organisations' real accounts gained "
            f"{int(real['impressions'].sum()):,} impressions in these weeks; "
            f"{top['partner']} gained the most ({int(top['impressions']):,}, "
            f"{top['share of real impressions']}).")


NETWORK_NAMES = {"x": "X", "mastodon": "Mastodon", "bluesky": "Bluesky"}


def network_reach(reach: pd.DataFrame) -> pd.DataFrame:
    """`by_network` as the board reads it: real first, busiest first, sandbox labelled."""
    frame = reach.assign(
        network=[NETWORK_NAMES.get(n, n) + (" (sandbox)" if s else "")
                 for n, s in zip(reach["network"], reach["is_sandbox"], strict=True)],
        sandbox=[SANDBOX_LABEL if s else "" for s in reach["is_sandbox"]])
    frame = frame.sort_values(["is_sandbox", "engagements", "network"],
                              ascending=[True, False, True], ignore_index=True)
    return frame[["network", "posts", "impressions", "engagements", "sandbox"]]


def network_summary(networks: pd.DataFrame) -> str:
    if networks.empty:
        return "No posts were sent or gained engagement on any network in these weeks."
    parts = [f"{row.network}: {row.posts:,} posts, {row.engagements:,} engagements"
             for row in networks.itertuples()]
    return ("Posts and engagement on each network in the period. " + "; ".join(parts) + ". "
            "Mastodon and Bluesky do not publish impressions, so compare networks by "
            "engagement.")


def campaign_reach(reach: pd.DataFrame) -> pd.DataFrame:
    frame = reach.assign(sandbox=[SANDBOX_LABEL if s else "" for s in reach["is_sandbox"]])
    frame = frame.sort_values(["is_sandbox", "impressions"], ascending=[True, False],
                              ignore_index=True)
    return frame[["campaign", "campaign name", "posts", "impressions", "engagements", "sandbox"]]


# ---- freshness (SQL) --------------------------------------------------------------------------


def freshness(*, session: Session, zone: str, area: str | None) -> pd.DataFrame:
    """How up to date the figures are: engagement readings, reporting figures, imports."""
    read = session.scalar(select(func.max(EngagementSnapshot.read_at)))
    rows = [{"what": "Engagement last read", "latest": local_text(read, zone) or "never",
             "detail": "the collector reads each post's public counts for 30 days after "
                       "posting"}]
    latest_any = session.scalar(select(func.max(ReportCount.period_end)))
    if area is not None:
        latest = session.scalar(select(func.max(ReportCount.period_end))
                                .where(ReportCount.area == area))
        rows.append({"what": f"Latest reporting figures for {area}",
                     "latest": _day(latest) if latest else "none", "detail": "end of the "
                     "latest period with a count"})
    rows.append({"what": "Latest reporting figures, any area",
                 "latest": _day(latest_any) if latest_any else "none",
                 "detail": "end of the latest period with a count"})
    last = session.execute(select(ReportDataset.imported_at, ReportDataset.file_name,
                                  ReportDataset.imported_by)
                           .order_by(ReportDataset.imported_at.desc()).limit(1)).one_or_none()
    rows.append({"what": "Last import of reporting figures",
                 "latest": local_text(last[0], zone) if last else "never",
                 "detail": f"{last[1]}, by {last[2] or 'the command line'}" if last else ""})
    return pd.DataFrame(rows, columns=["what", "latest", "detail"])


# ---- the board overview -----------------------------------------------------------------------


@dataclass(frozen=True)
class BoardOverview:
    period: Period
    area: str | None
    threshold: int
    figures: list[Figure]
    sandbox_note: str
    synthetic: bool
    weekly: pd.DataFrame
    reach_lines: pd.DataFrame
    report_lines: pd.DataFrame | None
    windows: pd.DataFrame
    reach_summary: str
    reports_summary: str
    partners: pd.DataFrame
    partners_summary: str
    networks: pd.DataFrame
    campaigns: pd.DataFrame
    freshness: pd.DataFrame

    @property
    def weekly_summary(self) -> str:
        return " ".join(s for s in (self.reach_summary, self.reports_summary) if s)

    @property
    def notices(self) -> list[str]:
        """What a reader of the board pack must know about the figures' origin."""
        synthetic = (f"{SYNTHETIC_LABEL}: the reporting figures for {self.area} come from a "
                     "synthetic demo file and say nothing about real reporting."
                     if self.synthetic else "")
        disclosure = (f"Disclosure control: report counts under {self.threshold}, and others "
                      "that would give them away, are not shown ('<"
                      f"{self.threshold}', '[c]') in any table or chart of reports."
                      if self.area is not None else "")
        return [n for n in (synthetic, self.sandbox_note, disclosure) if n]

    @property
    def figures_table(self) -> pd.DataFrame:
        """The headline figures as a table, for the board pack."""
        return pd.DataFrame(
            [{"figure": f.label, "value": f.value, "change": f.delta or "", "about": f.help}
             for f in self.figures])


def board_overview(
    *, session: Session, viewer: Viewer, period: Period, area: str | None, zone: str,
    threshold: int,
) -> BoardOverview:
    both = Period(period.previous().first_week, 2 * period.weeks)
    rows = reach_rows(session=session, viewer=viewer, period=both, zone=zone)
    reach = weekly_reach(rows, both)
    reports = (weekly_reports(session=session, area=area, first=both.first_week,
                              last=period.last_day) if area is not None else None)
    current = reach[reach["week"] >= pd.Timestamp(period.first_week)].reset_index(drop=True)
    years = range(period.first_week.year - 1, period.last_day.year + 1)
    windows = windows_in(event_windows(session=session, viewer=viewer, years=years),
                         period.first_week, period.last_day)
    shown = None
    if reports is not None:
        now = reports[reports["week"] >= pd.Timestamp(period.first_week)]
        shown = suppressed_reports(now, threshold)
    partners = contribution(by_organisation(rows, period))
    synthetic = bool(reports is not None and reports["synthetic"].any())
    return BoardOverview(
        period=period, area=area, threshold=threshold,
        figures=headline(reach, reports, period, threshold),
        sandbox_note=sandbox_note(reach, period), synthetic=synthetic,
        weekly=weekly_table(current, shown, windows, synthetic),
        reach_lines=reach_lines(current),
        report_lines=report_lines(shown) if shown is not None else None,
        windows=windows,
        reach_summary=reach_summary(current, period),
        reports_summary=(reports_summary(shown, area, threshold)
                         if shown is not None and area is not None else ""),
        partners=partners, partners_summary=contribution_summary(partners),
        networks=network_reach(by_network(rows, period)),
        campaigns=campaign_reach(by_campaign(rows, period)),
        freshness=freshness(session=session, zone=zone, area=area),
    )


# ---- campaign effects -------------------------------------------------------------------------


#: A window shorter than this share of a week cannot be seen in weekly figures.
MIN_EXPOSURE_WEEKS = 1.0
#: Each window is fitted on the weeks from three years before it to one year after: enough
#: for the seasonal pattern (two years before are needed for it to be well known), and short
#: enough that a straight-line trend is a fair description of the reporting rate.
SPAN_BEFORE = timedelta(weeks=156)
SPAN_AFTER = timedelta(weeks=52)
#: Windows this close to each other cannot be told apart by the model.
NEARBY = timedelta(weeks=4)
EFFECT_COLUMNS = ("event", "year", "dates", "Chorus campaign", "rate ratio", "change",
                  "95% interval (rate ratio)", "95% interval (change)", "p-value",
                  "weeks of figures", "what it shows", "figures")


@dataclass(frozen=True)
class EffectResult:
    """One awareness window's estimated effect on weekly reports, or why there is none."""

    name: str
    year: int
    start: date
    end: date
    campaign: str
    estimate: Any = None  # campaigns.analysis.effect.EffectEstimate
    reason: str = ""
    notes: tuple[str, ...] = ()
    #: What the estimate was fitted on (campaigns.analysis.effect.fingerprint), and whether it
    #: was fitted just now rather than found already stored under it.
    fingerprint: str = ""
    fitted: bool = False

    @property
    def label(self) -> str:
        return f"{self.name} {self.year}"

    @property
    def dates(self) -> str:
        return _dates(self.start, self.end)

    @property
    def caveats(self) -> list[str]:
        return [*(self.estimate.caveats if self.estimate is not None else []), *self.notes]

    def explanation(self) -> str:
        """The estimate in plain English (campaigns.analysis.effect.describe), without its
        caveats, which `caveats` lists."""
        from campaigns.analysis.effect import describe

        whose = (f"The partnership's campaign {self.campaign} ran in this window."
                 if self.campaign else
                 f"No campaign for {self.label} is recorded in Chorus: this asks only "
                 "whether reports moved during the event's dates.")
        if self.estimate is None:
            return f"{whose} No estimate: {self.reason}"
        return f"{whose} {describe(replace(self.estimate, caveats=[]))}"


@dataclass(frozen=True)
class EffectYears:
    """The years whose awareness windows can be looked at, newest first, and the one to show
    first: the latest with a window that has figures around it."""

    years: list[int]
    default: int


def effect_years(*, session: Session, viewer: Viewer, area: str) -> EffectYears | None:
    """The years of weekly figures for `area` and of the partnership's campaigns; None when
    `area` has no weekly offence counts."""
    from campaigns.analysis.periods import MIN_BASELINE_WEEKS

    series = weekly_offences(weekly_reports(session=session, area=area, offences_only=True))
    if series.empty:
        return None
    first, last = series["week"].min(), series["week"].max() + pd.Timedelta(days=6)
    campaigns = {year for _, year in _planned(session, viewer)}
    years = sorted(set(range(first.year, last.year + 1)) | campaigns, reverse=True)
    windows = event_windows(session=session, viewer=viewer, years=years)
    earliest = (first + pd.Timedelta(weeks=MIN_BASELINE_WEEKS)).date()
    measurable = windows[(windows["start"] >= earliest) & (windows["end"] <= last.date())]
    default = int(measurable["year"].max()) if not measurable.empty else years[0]
    return EffectYears(years, default)


@dataclass(frozen=True)
class Effects:
    area: str
    year: int
    synthetic: bool
    results: tuple[EffectResult, ...]
    note: str
    table: pd.DataFrame = field(compare=False)

    @property
    def estimated(self) -> list[EffectResult]:
        return [r for r in self.results if r.estimate is not None]

    def result(self, label: str) -> EffectResult:
        return next(r for r in self.results if r.label == label)

    @property
    def default(self) -> int:
        """The position in `estimated` to explain first: the latest Chorus campaign's."""
        estimated = self.estimated
        with_campaign = [n for n, r in enumerate(estimated) if r.campaign]
        return with_campaign[-1] if with_campaign else max(len(estimated) - 1, 0)


def weekly_offences(reports: pd.DataFrame) -> pd.DataFrame:
    """The series `estimate_effect` takes: week, count (offences, all sources), sources."""
    offences = reports[(reports["strand"] == ALL) & (reports["measure"] == OFFENCES)]
    return offences[["week", "count", "sources"]].sort_values("week", ignore_index=True)


def local_series(series: pd.DataFrame, start: date, end: date) -> pd.DataFrame:
    """The weeks a window is fitted on: SPAN_BEFORE before its start to SPAN_AFTER after."""
    first, last = pd.Timestamp(start - SPAN_BEFORE), pd.Timestamp(end + SPAN_AFTER)
    return series[series["week"].between(first, last)].reset_index(drop=True)


def _none_stored(_fingerprint: str) -> Any:
    return None


def estimate_effects(
    series: pd.DataFrame, windows: pd.DataFrame, *, synthetic: bool,
    neighbours: pd.DataFrame | None = None,
    stored: Callable[[str], Any] = _none_stored,
) -> list[EffectResult]:
    """An estimate for each window with enough figures around it; the reason for the others.

    `neighbours` are the windows (these and others) whose nearness is worth a caveat.
    `stored` gives the estimate already fitted on the same figures (by their fingerprint), or
    None; only the windows it has none for are fitted.
    """
    from campaigns.analysis.effect import estimate_effect, fingerprint
    from campaigns.analysis.periods import campaign_exposure

    nearby = windows if neighbours is None else neighbours
    results = []
    for window in windows.to_dict("records"):
        start, end = window["start"], window["end"]
        base = EffectResult(window["name"], int(window["year"]), start, end,
                            window["campaign"])
        local = local_series(series, start, end)
        weeks = pd.DatetimeIndex(local["week"])
        exposure = float(campaign_exposure(weeks, start, end).sum()) if len(weeks) else 0.0
        days = (end - start).days + 1
        if exposure == 0 and not window["campaign"]:
            continue  # an event year outside the figures, with no campaign to account for
        if exposure == 0:
            when = ("before the first weekly figures" if len(series) and
                    pd.Timestamp(end) < series["week"].min() else "yet")
            results.append(replace(base, reason=f"there are no weekly figures for these dates "
                                                f"{when}."))
            continue
        if days < 7 * MIN_EXPOSURE_WEEKS:
            results.append(replace(base, reason=f"the event lasts {days} day(s); weekly "
                                                "figures cannot show the effect of so short a "
                                                "window."))
            continue
        key = fingerprint(local, start, end, synthetic=synthetic)
        estimate = stored(key)
        fitted = estimate is None
        if estimate is None:
            try:
                estimate = estimate_effect(local, start, end, synthetic=synthetic)
            except ValueError as exc:
                results.append(replace(base, reason=_sentence(str(exc))))
                continue
        notes = [*_coverage_note(exposure, days), *_nearby_note(window, nearby),
                 *_sources_note(local)]
        results.append(replace(base, estimate=estimate, notes=tuple(notes), fingerprint=key,
                               fitted=fitted))
    return results


def _dates(start: date, end: date) -> str:
    return _day(start) if start == end else f"{_day(start)} to {_day(end)}"


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:] + ("" if text.endswith(".") else ".")


def _coverage_note(exposure: float, days: int) -> list[str]:
    covered = round(exposure * 7)
    if covered >= days:
        return []
    return [f"Figures cover only {covered} of the window's {days} days."]


def _nearby_note(window: dict[str, Any], windows: pd.DataFrame) -> list[str]:
    start, end = window["start"], window["end"]
    near = windows[(windows["start"] <= end + NEARBY) & (windows["end"] >= start - NEARBY)
                   & ~((windows["event"] == window["event"]) & (windows["year"] == window["year"]))]
    if near.empty:
        return []
    listed = ", ".join(f"{n} {y} ({_dates(s, e)})" for n, y, s, e in
                       zip(near["name"], near["year"], near["start"], near["end"], strict=True))
    return [f"Other awareness events fall within four weeks of this window: {listed}. Any "
            "effect of theirs that lasts beyond their dates counts here as ordinary weeks or "
            "as this window's effect; the model cannot tell them apart."]


def _sources_note(series: pd.DataFrame) -> list[str]:
    if series.empty or series["sources"].nunique() <= 1:
        return []
    return [f"Not every week has figures from every source (from {series['sources'].min()} "
            f"to {series['sources'].max()} sources a week), which moves the totals whatever "
            "the campaigns did."]


def effect_table(results: Sequence[EffectResult], synthetic: bool) -> pd.DataFrame:
    rows = []
    for r in results:
        e = r.estimate
        row = {"event": r.name, "year": r.year, "dates": r.dates,
               "Chorus campaign": r.campaign or "none recorded",
               "figures": SYNTHETIC_LABEL if synthetic else ""}
        if e is None:
            rows.append({**row, "what it shows": f"Not estimated: {r.reason}"})
            continue
        low, high = e.percent_ci
        rows.append({
            **row, "rate ratio": f"{e.rate_ratio:.2f}", "change": f"{e.percent_change:+.0f}%",
            "95% interval (rate ratio)": f"{e.ci_low:.2f} to {e.ci_high:.2f}",
            "95% interval (change)": f"{low:+.0f}% to {high:+.0f}%",
            "p-value": "<0.001" if e.p_value < 0.001 else f"{e.p_value:.3f}",
            "weeks of figures": str(e.n_weeks), "what it shows": _verdict(e),
        })
    frame = pd.DataFrame(rows, columns=list(EFFECT_COLUMNS))
    return frame.astype({c: object for c in EFFECT_COLUMNS if c != "year"}).fillna("")


def _verdict(estimate: Any) -> str:
    if not estimate.excludes_no_change:
        return "cannot be told apart from chance"
    direction = "more" if estimate.rate_ratio > 1 else "fewer"
    return f"{direction} reports than expected; unlikely to be chance alone"


def effects_note(results: Sequence[EffectResult]) -> str:
    count = sum(r.estimate is not None for r in results)
    return (
        "Each estimate compares the weekly offences reported during an awareness event's dates "
        "(from the awareness calendar) with what the trend and the seasonal pattern of the "
        "weeks around it predict, from three years before the event to one year after. Reports "
        "may also move in the weeks after an event; those weeks count here as ordinary ones, "
        "which pulls an estimate towards no change. "
        f"{count} estimates are shown for this year: even if no campaign had any effect, about "
        "one in twenty would look 'unlikely to be chance alone' by chance, so read any single "
        "one with care. A hate crime reported both to a third-party centre and to the police "
        "may be counted in both sources."
    )


def effects(*, session: Session, viewer: Viewer, area: str, year: int) -> Effects:
    """The estimated effect of each awareness window of `year` on weekly offences reported in
    `area`, with all sources added together. Estimates stored earlier for the same figures
    (campaigns.storage.effects) are used as they are; `store_fitted` keeps the others."""
    from campaigns.storage.effects import stored_estimate

    reports = weekly_reports(session=session, area=area, offences_only=True)
    series = weekly_offences(reports)
    synthetic = bool(reports["synthetic"].any())
    around = event_windows(session=session, viewer=viewer, years=[year - 1, year, year + 1])
    windows = around[around["year"] == year].reset_index(drop=True)
    results = estimate_effects(series, windows, synthetic=synthetic, neighbours=around,
                               stored=partial(stored_estimate, session=session))
    return Effects(area, year, synthetic, tuple(results), effects_note(results),
                   effect_table(results, synthetic))


def store_fitted(found: Effects, *, session: Session, now: datetime) -> int:
    """Keep the estimates `effects` had to fit, so that no view fits them again; how many."""
    from campaigns.storage.effects import store_estimates

    fitted = {r.fingerprint: r.estimate for r in found.results if r.fitted}
    store_estimates(fitted, session=session, now=now)
    return len(fitted)


#: What the board sees, for estimates fitted before anyone signs in (`chorus dashboard`).
EVERYTHING = Viewer(id=0, email="", name="chorus dashboard", role=BOARD, organisation_key=None)


def fit_first_effects(*, session: Session, now: datetime) -> int:
    """Fit and store, for each reporting area, the estimates the board page shows first (its
    default year), unless they are stored already; how many were fitted. `chorus dashboard`
    runs this before it starts, so that the first visitor does not wait for the fitting."""
    fitted = 0
    for area in reporting_areas(session=session):
        years = effect_years(session=session, viewer=EVERYTHING, area=area)
        if years is not None:
            found = effects(session=session, viewer=EVERYTHING, area=area, year=years.default)
            fitted += store_fitted(found, session=session, now=now)
    return fitted


# ---- the Data page: a preview of an upload ----------------------------------------------------


PROBLEM_COLUMNS = ("file", "sheet", "row", "column", "message")
PREVIEW_COLUMNS = ("sheet", "row", "period_start", "period_end", "area", "strand", "source",
                   "measure", "count")
#: Most parsed counts the preview lists; the page says how many there are in all.
MAX_PREVIEW_ROWS = 500
SUFFIXES = (".csv", ".xlsx", ".ods")


@dataclass(frozen=True)
class UploadPreview:
    """What importing an uploaded file would store, or every problem with it."""

    name: str
    problems: pd.DataFrame
    counts: pd.DataFrame
    total_counts: int = 0
    data_rows: int = 0
    layouts: tuple[str, ...] = ()
    synthetic: bool = False
    citation: str = ""
    skipped_sheets: tuple[str, ...] = ()
    #: How the same file was imported before ('' if it was not).
    imported_before: str = ""

    @property
    def importable(self) -> bool:
        return self.problems.empty and self.total_counts > 0 and not self.imported_before

    def summary(self) -> str:
        if self.imported_before:
            return (f"{self.name} was imported before ({self.imported_before}); importing it "
                    "again would change nothing.")
        if not self.problems.empty:
            return (f"{len(self.problems)} problem(s) in {self.name}: nothing can be imported "
                    "until every one is put right. Nothing has been written.")
        layouts = " and ".join(self.layouts)
        skipped = (f" Sheets without a recognised header were skipped: "
                   f"{', '.join(self.skipped_sheets)}." if self.skipped_sheets else "")
        return (f"{self.name} is valid: {self.data_rows:,} data rows give {self.total_counts:,} "
                f"counts ({layouts} layout). Nothing has been written yet.{skipped}")


def upload_file_name(name: str) -> str:
    """The uploaded file's own name, without any folders, safe to write in a scratch folder."""
    base = Path(name.replace("\\", "/")).name.strip() or "upload"
    cleaned = re.sub(r"[^\w.\- ()]+", "_", base).lstrip(".") or "upload"
    return cleaned[-200:]


def preview_upload(
    content: bytes, *, name: str, source: str | None, session: Session, zone: str
) -> UploadPreview:
    """Read and check an uploaded file as `import_report_file` would, writing nothing."""
    name = upload_file_name(name)
    earlier = session.scalars(select(ReportDataset).where(
        ReportDataset.file_hash == hashlib.sha256(content).hexdigest())).one_or_none()
    if earlier is not None:
        when = f"as {earlier.file_name} on {local_text(earlier.imported_at, zone)}"
        by = f" by {earlier.imported_by}" if earlier.imported_by else ""
        return UploadPreview(name, _problems([]), _counts(None), imported_before=when + by)
    try:
        source = parse_source(source) if source else None
        parsed = parse_sheets(read_sheets(content, name=name, suffix=Path(name).suffix),
                              name=name, source=source)
    except CellError as exc:
        return UploadPreview(name, _problems([Problem(name, f"source: {exc}")]), _counts(None))
    except ReportsInvalid as invalid:
        return UploadPreview(name, _problems(invalid.problems), _counts(None))
    problems = parsed.problems or find_conflicts(parsed, session=session)
    return UploadPreview(
        name, _problems(problems), _counts(parsed), total_counts=len(parsed.counts),
        data_rows=parsed.data_rows, layouts=tuple(parsed.layouts), synthetic=parsed.synthetic,
        citation=parsed.citation, skipped_sheets=tuple(parsed.skipped_sheets))


def _problems(problems: Sequence[Problem]) -> pd.DataFrame:
    rows = [{"file": p.file, "sheet": p.sheet or "", "row": p.row or "", "column": p.column,
             "message": p.message} for p in problems]
    return pd.DataFrame(rows, columns=list(PROBLEM_COLUMNS)).astype({"row": str})


def _counts(parsed: ParsedFile | None) -> pd.DataFrame:
    items = list(parsed.counts.items())[:MAX_PREVIEW_ROWS] if parsed is not None else []
    rows = [{"sheet": tally.places[0].sheet or "", "row": tally.places[0].row,
             "period_start": key.period_start, "period_end": key.period_end, "area": key.area,
             "strand": key.strand, "source": key.source, "measure": key.measure,
             "count": tally.count} for key, tally in items]
    return pd.DataFrame(rows, columns=list(PREVIEW_COLUMNS))
