"""Campaign reach by week or month, and reach set beside report counts on one calendar.

Inputs are plain DataFrames, as read from the database at the edge:

snapshots
    `delivery_id`, `read_at` (UTC; naive values are taken as UTC), and the cumulative counters
    `impressions`, `likes`, `reposts`, `replies`, `quotes`, `bookmarks`; optionally
    `link_clicks` (non-public, so often missing: NaN means "not read", not zero). One row per
    reading, as in `EngagementSnapshot`: every reading is a running total since posting.
deliveries
    `delivery_id`, `campaign`, `organisation` (the partner), `network`, `posted_at` (UTC, NaT
    if not posted) and `is_sandbox` (the account is connected to the sandbox, not the network).

Readings are cumulative, so they are never summed. For each delivery and period the latest
reading is taken and the previous period's latest is subtracted: what a post gained is counted
in the period of the reading that first showed it. A reading lower than an earlier one (an
unlike, a network revising its figures, a deleted post read as zero) takes nothing back: each
counter is treated as its running maximum, so a delivery's growth adds up to the most it was
ever seen to reach.

Engagements are likes + reposts + replies + quotes: the public interactions that every network
we post to reports. Bookmarks are kept in their own column and not counted as engagements,
since only some networks report them and they would make networks incomparable.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

import pandas as pd

from campaigns.analysis.periods import Freq, calendar, granularity, period_of

COUNTERS = ("impressions", "likes", "reposts", "replies", "quotes", "bookmarks")
OPTIONAL_COUNTERS = ("link_clicks",)
ENGAGEMENT_PARTS = ("likes", "reposts", "replies", "quotes")
SNAPSHOT_COLUMNS = ("delivery_id", "read_at", *COUNTERS)
DELIVERY_COLUMNS = ("delivery_id", "campaign", "organisation", "network", "posted_at",
                    "is_sandbox")
DIMENSIONS = ("campaign", "organisation", "network")
REPORT_COLUMNS = ("period_start", "period_end", "area", "strand", "source", "measure", "count")
SERIES = ("area", "strand", "source")
DEFAULT_TZ = "Europe/London"


def reach(
    snapshots: pd.DataFrame,
    deliveries: pd.DataFrame,
    *,
    freq: Freq = "week",
    by: Sequence[str] = DIMENSIONS,
    tz: str = DEFAULT_TZ,
) -> pd.DataFrame:
    """Reach gained per period for each combination of the `by` dimensions.

    Periods are local to `tz`: weeks start on Monday, months on the 1st. Returns one row per
    period, `by` value and sandbox flag that gained reach or had a post sent, with columns
    `period` (datetime64, the period's first day), the `by` columns, `is_sandbox` (sandbox
    and real data are never added together), `posted` (deliveries sent in the period),
    `impressions`, `engagements`, the engagement parts, `bookmarks` and, when the snapshots
    have it, `link_clicks`. Every measure is additive, so rows can be summed to coarser groups.
    """
    unknown = [d for d in by if d not in DIMENSIONS]
    if unknown:
        raise ValueError(f"cannot group reach by {unknown}; choose from {DIMENSIONS}")
    _require(snapshots, SNAPSHOT_COLUMNS, "snapshots")
    _require(deliveries, DELIVERY_COLUMNS, "deliveries")
    counters = [*COUNTERS, *(c for c in OPTIONAL_COUNTERS if c in snapshots.columns)]
    keys = ["period", *by, "is_sandbox"]
    gained = _attach(_growth(snapshots, counters, freq, tz), deliveries)
    gained = gained.groupby(keys, dropna=False)[counters].sum()
    posted = _posted(deliveries, freq, tz).groupby(keys, dropna=False).size().rename("posted")
    table = pd.concat([posted, gained], axis=1).fillna(0).astype("int64").reset_index()
    table.insert(len(keys) + 1, "engagements", table[list(ENGAGEMENT_PARTS)].sum(axis=1))
    columns = [*keys, "posted", "impressions", "engagements", *ENGAGEMENT_PARTS, "bookmarks",
               *counters[len(COUNTERS):]]
    return table[columns].sort_values(keys, ignore_index=True)


def weekly_reach(
    snapshots: pd.DataFrame, deliveries: pd.DataFrame, *, by: Sequence[str] = DIMENSIONS,
    tz: str = DEFAULT_TZ,
) -> pd.DataFrame:
    """`reach` by ISO week (Monday to Sunday, local time)."""
    return reach(snapshots, deliveries, freq="week", by=by, tz=tz)


def monthly_reach(
    snapshots: pd.DataFrame, deliveries: pd.DataFrame, *, by: Sequence[str] = DIMENSIONS,
    tz: str = DEFAULT_TZ,
) -> pd.DataFrame:
    """`reach` by calendar month (local time)."""
    return reach(snapshots, deliveries, freq="month", by=by, tz=tz)


def _require(frame: pd.DataFrame, columns: Sequence[str], name: str) -> None:
    absent = [c for c in columns if c not in frame.columns]
    if absent:
        raise ValueError(f"{name} lacks column(s) {absent}")


def _local_period(moments: pd.Series, freq: Freq, tz: str) -> pd.Series:
    utc = pd.to_datetime(moments, utc=True)
    return period_of(utc.dt.tz_convert(tz).dt.tz_localize(None), freq)


def _growth(
    snapshots: pd.DataFrame, counters: list[str], freq: Freq, tz: str
) -> pd.DataFrame:
    """What each delivery gained in each period in which it was read."""
    readings = snapshots[["delivery_id", "read_at", *counters]].copy()
    readings["read_at"] = pd.to_datetime(readings["read_at"], utc=True)
    readings = readings.sort_values(["delivery_id", "read_at"], kind="stable")
    readings["period"] = _local_period(readings["read_at"], freq, tz)
    values = readings[counters].astype("float64")
    running = values.groupby(readings["delivery_id"]).cummax()
    running = running.groupby(readings["delivery_id"]).ffill().fillna(0)
    running[["delivery_id", "period"]] = readings[["delivery_id", "period"]]
    latest = running.groupby(["delivery_id", "period"], sort=True)[counters].last()
    before = latest.groupby(level="delivery_id").shift(1).fillna(0)
    return (latest - before).reset_index()


def _attach(growth: pd.DataFrame, deliveries: pd.DataFrame) -> pd.DataFrame:
    dims = deliveries[list(DELIVERY_COLUMNS)].drop(columns="posted_at")
    if dims["delivery_id"].duplicated().any():
        raise ValueError("deliveries has more than one row for a delivery_id")
    unknown = set(growth["delivery_id"]) - set(dims["delivery_id"])
    if unknown:
        raise ValueError(f"snapshots for unknown deliveries: {sorted(unknown)[:10]}")
    attached = growth.merge(dims, on="delivery_id", how="left")
    attached["is_sandbox"] = attached["is_sandbox"].astype(bool)
    return attached


def _posted(deliveries: pd.DataFrame, freq: Freq, tz: str) -> pd.DataFrame:
    sent = deliveries[deliveries["posted_at"].notna()].copy()
    sent["period"] = _local_period(sent["posted_at"], freq, tz)
    sent["is_sandbox"] = sent["is_sandbox"].astype(bool)
    return sent


# ---- reach beside reports ----------------------------------------------------------------------


@dataclass(frozen=True)
class Aligned:
    """Reach and report counts on one calendar of weeks (or months).

    `reach` has one row per period of the calendar: `period`, the summed reach measures (0 where
    nothing was gained) and `sandbox` (some of the period's reach came from sandbox accounts).
    `reports` has one row per period and report series: `period`, `area`, `strand`, `source`
    and `count` (float; NaN where that series has no figure for the period). `unaligned` holds
    the report rows of the chosen measure whose periods are not single calendar weeks (or
    months), untouched, with a `granularity` column ('week', 'month', 'quarter', 'year' or
    'other'): a month's or a year's figure is never spread over weeks, since how reports fall
    within it is unknown.
    """

    freq: Freq
    reach: pd.DataFrame
    reports: pd.DataFrame
    unaligned: pd.DataFrame

    def wide(self) -> pd.DataFrame:
        """One row per period: the reach columns, then one column per report series."""
        if self.reports.empty:
            return self.reach.copy()
        r = self.reports
        labels = [f"reports: {s} ({src}, {a})" for a, s, src in zip(
            r["area"], r["strand"], r["source"], strict=True)]
        series = r.assign(series=labels).pivot(index="period", columns="series", values="count")
        series.columns.name = None
        return self.reach.merge(series.reset_index(), on="period", how="left")


def align(
    reach_table: pd.DataFrame,
    reports: pd.DataFrame,
    *,
    freq: Freq = "week",
    measure: str = "offences",
    include_sandbox: bool = False,
    start: date | None = None,
    end: date | None = None,
) -> Aligned:
    """Put reach (from `reach`, at the same `freq`) and report counts on one calendar.

    `reports` has the columns of `ReportCount`: `period_start`, `period_end` (inclusive),
    `area`, `strand`, `source`, `measure` and `count`. Only rows of `measure` are used
    ('offences' by default: motivating factors overlap, so the two are never mixed). Only
    report rows covering exactly one calendar week, Monday to Sunday (or, with
    `freq='month'`, one calendar month) are aligned; all others go to `unaligned`.

    Reach is summed over campaigns, partners and networks, so filter `reach_table` first to
    compare one campaign. Sandbox reach is left out unless `include_sandbox`. The calendar runs
    from the period containing `start` to the one containing `end`, each defaulting to the
    earliest or latest period in either input; periods with nothing get zero reach and NaN
    reports.
    """
    _require(reach_table, ("period", "is_sandbox", "impressions", "engagements"), "reach")
    _require(reports, REPORT_COLUMNS, "reports")
    reach_table = _own_reach(reach_table, freq, include_sandbox)
    chosen = reports[reports["measure"] == measure].copy()
    chosen["granularity"] = granularity(chosen["period_start"], chosen["period_end"])
    fits = chosen["granularity"] == freq
    aligned = chosen[fits].assign(period=pd.to_datetime(chosen.loc[fits, "period_start"]))
    if aligned.duplicated(["period", *SERIES]).any():
        raise ValueError("reports has more than one figure for a period, area, strand and source")
    periods = _calendar([reach_table["period"], aligned["period"]], freq, start, end)
    return Aligned(
        freq=freq,
        reach=_reach_on(periods, reach_table),
        reports=_reports_on(periods, aligned),
        unaligned=chosen[~fits].reset_index(drop=True),
    )


def _own_reach(table: pd.DataFrame, freq: Freq, include_sandbox: bool) -> pd.DataFrame:
    table = table.assign(period=pd.to_datetime(table["period"]))
    if not table["period"].eq(period_of(table["period"], freq)).all():
        raise ValueError(f"reach periods are not the starts of {freq}s; use reach(freq={freq!r})")
    if not include_sandbox:
        table = table[~table["is_sandbox"].astype(bool)]
    return table


def _calendar(
    periods: list[pd.Series], freq: Freq, start: date | None, end: date | None
) -> pd.DatetimeIndex:
    known = pd.concat([pd.to_datetime(p) for p in periods], ignore_index=True).dropna()
    first = pd.Timestamp(start) if start is not None else known.min()
    last = pd.Timestamp(end) if end is not None else known.max()
    if pd.isna(first) or pd.isna(last):
        return pd.DatetimeIndex([], dtype="datetime64[ns]", name="period")
    first, last = period_of(pd.Series([first, last]), freq)
    return calendar(first, last, freq).rename("period")


def _reach_on(periods: pd.DatetimeIndex, table: pd.DataFrame) -> pd.DataFrame:
    measures = [c for c in table.columns if c in ("posted", "impressions", "engagements",
                                                  *ENGAGEMENT_PARTS, "bookmarks",
                                                  *OPTIONAL_COUNTERS)]
    grouped = table.groupby("period")
    summed = grouped[measures].sum().reindex(periods, fill_value=0).astype("int64")
    sandbox = grouped["is_sandbox"].any().reindex(periods, fill_value=False).astype(bool)
    return summed.assign(sandbox=sandbox).reset_index()


def _reports_on(periods: pd.DatetimeIndex, aligned: pd.DataFrame) -> pd.DataFrame:
    columns = ["period", *SERIES, "count"]
    series = aligned[list(SERIES)].drop_duplicates()
    if series.empty or periods.empty:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in columns}).astype(
            {"period": "datetime64[ns]", "count": "float64"})
    grid = series.merge(pd.DataFrame({"period": periods}), how="cross")
    counts = aligned[columns].astype({"count": "float64"})
    table = grid.merge(counts, on=["period", *SERIES], how="left")
    return table[columns].sort_values(["period", *SERIES], ignore_index=True)


