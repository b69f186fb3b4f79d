"""Reach: posts sent and impressions and engagements gained each week, from SQL aggregates of
the engagement snapshots, rolled up by partner, network or campaign; and the reach chart's lines.

Engagement readings are cumulative, so they are never summed (campaigns.analysis.reach says
why). The same rule runs here in SQL: for each delivery and local week, the highest reading of
each counter; a running maximum over the weeks; and each week's gain on the week before, added
up by week, partner or campaign. Only those sums leave the database, never the snapshots.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pandas as pd
from sqlalchemy import (
    ColumnElement,
    Integer,
    Subquery,
    and_,
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

from campaigns.storage.models import (
    Account,
    Campaign,
    Delivery,
    EngagementSnapshot,
    Organisation,
    UTCDateTime,
)
from campaigns.storage.users import Viewer
from dashboard.insights.periods import Period, long_date
from dashboard.queries import SANDBOX_LABEL

# ---- reach (SQL) ------------------------------------------------------------------------------


#: Engagements are the public interactions every network reports (campaigns.analysis.reach).
ENGAGEMENT_PARTS = ("likes", "reposts", "replies", "quotes")
COUNTERS = ("impressions", *ENGAGEMENT_PARTS)


def _week_bounds(period: Period, zone: str) -> list[tuple[int, datetime, datetime]]:
    """Each week of the period as (index, first instant, first instant after), in UTC."""
    tz = ZoneInfo(zone)
    starts = [datetime.combine(period.first_week + timedelta(weeks=n), time(), tzinfo=tz)
              .astimezone(UTC) for n in range(period.weeks + 1)]
    return [(n, starts[n], starts[n + 1]) for n in range(period.weeks)]


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


# ---- the reach chart and its summary (pure) ---------------------------------------------------


REAL_ACCOUNTS = "real accounts"


def reach_lines(weekly: pd.DataFrame) -> pd.DataFrame:
    """Long form of `weekly_reach` for the chart: week, accounts (real or sandbox), impressions."""
    real = weekly[["week", "impressions"]].assign(accounts=REAL_ACCOUNTS)
    sandbox = weekly[["week", "sandbox impressions"]].rename(
        columns={"sandbox impressions": "impressions"}).assign(accounts=SANDBOX_LABEL)
    parts = [real] + ([sandbox] if sandbox["impressions"].any() else [])
    return pd.concat(parts, ignore_index=True)[["week", "accounts", "impressions"]]


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
            f"in the week of {long_date(best['week'].date())} ({int(best['impressions']):,})."
            + extra)
