"""The analysis calendar: weeks start on Monday (ISO 8601), months on the 1st.

Periods are plain local dates held as midnight `datetime64` values with no time zone, so
weekly reach and weekly report counts compare equal when they mean the same week.
"""

from __future__ import annotations

from datetime import date
from typing import Literal

import numpy as np
import pandas as pd

#: Weeks of reports before a campaign that an effect estimate needs (kept here, not in
#: effect.py, so that asking it does not load statsmodels).
MIN_BASELINE_WEEKS = 26

Freq = Literal["week", "month"]
FREQS: tuple[Freq, ...] = ("week", "month")


def period_of(days: pd.Series, freq: Freq) -> pd.Series:
    """The start of the week (Monday) or month containing each date."""
    days = pd.to_datetime(days).dt.normalize()
    if freq == "week":
        return days - pd.to_timedelta(days.dt.day_of_week, unit="D")
    if freq == "month":
        return days - pd.to_timedelta(days.dt.day - 1, unit="D")
    raise ValueError(f"freq must be one of {FREQS}, not {freq!r}")


def calendar(first: pd.Timestamp, last: pd.Timestamp, freq: Freq) -> pd.DatetimeIndex:
    """Every period from the one starting at `first` to the one starting at `last`."""
    return pd.date_range(first, last, freq="W-MON" if freq == "week" else "MS")


def weeks_from(first_week: date, n_weeks: int) -> pd.DatetimeIndex:
    return pd.date_range(pd.Timestamp(first_week), periods=n_weeks, freq="7D")


def campaign_exposure(
    weeks: pd.DatetimeIndex, start: date, end: date | None = None
) -> np.ndarray:
    """The share of each week's seven days that fall inside the campaign window.

    `end` is inclusive; None means the campaign's effect is taken to last to the end of the
    series (a sustained change). A week the campaign starts on Wednesday gets 5/7.
    """
    first = np.datetime64(start, "D")
    last = np.datetime64(end, "D") if end is not None else np.datetime64("9999-12-31", "D")
    if last < first:
        raise ValueError(f"campaign ends ({end}) before it starts ({start})")
    week_first = weeks.to_numpy().astype("datetime64[D]")
    week_last = week_first + np.timedelta64(6, "D")
    overlap_first = np.maximum(week_first, first)
    overlap_last = np.minimum(week_last, last)
    days = (overlap_last - overlap_first).astype(int) + 1
    return np.clip(days, 0, 7) / 7.0


def granularity(start: pd.Series, end: pd.Series) -> pd.Series:
    """'week', 'month', 'quarter', 'year' or 'other' for periods with inclusive ends.

    A week must run Monday to Sunday; months, quarters and years must start on the 1st and end
    on the last day of a month (so financial years, April to March, count as years).
    """
    start = pd.to_datetime(start)
    end = pd.to_datetime(end)
    label = pd.Series("other", index=start.index, dtype=object)
    is_week = (start.dt.day_of_week == 0) & (end - start == pd.Timedelta(days=6))
    month_aligned = (start.dt.day == 1) & (end + pd.Timedelta(days=1)).dt.is_month_start
    months = (end.dt.year - start.dt.year) * 12 + end.dt.month - start.dt.month + 1
    label[is_week] = "week"
    for name, length in (("month", 1), ("quarter", 3), ("year", 12)):
        label[month_aligned & (months == length)] = name
    return label
