"""The periods the board looks at: whole weeks, Monday to Sunday, in the partnership's time
zone; and how a day or a week is written on the page."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import pandas as pd

#: Lengths of period the board can choose, in weeks.
PERIOD_WEEKS = (4, 13, 26, 52)
DEFAULT_WEEKS = 13
#: The partnership's time zone when none is configured (campaigns.config.settings' default).
DEFAULT_ZONE = "Europe/London"


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
        return (f"the {self.weeks} weeks from Monday {long_date(self.first_week)} to Sunday "
                f"{long_date(self.last_day)}")


def period_ending(day: date, weeks: int) -> Period:
    """`weeks` whole weeks, the last of them the week containing `day`."""
    monday = day - timedelta(days=day.weekday())
    return Period(monday - timedelta(weeks=weeks - 1), weeks)


def last_ended_sunday(today: date) -> date:
    """The last day of the latest week that has ended by `today` (a week ends when its Sunday
    is over, so on a Sunday it is the Sunday before)."""
    return today - timedelta(days=today.weekday() + 1)


def ended_weeks(frame: pd.DataFrame, today: date) -> pd.DataFrame:
    """The rows of weeks (a 'week' column of Mondays) that have ended by `today`: figures for
    a week still going on, or dated in the future (a synthetic file), are left out."""
    return frame[frame["week"] <= pd.Timestamp(last_ended_sunday(today) - timedelta(days=6))]


def local_today(zone: str) -> date:
    """Today in `zone`, by the one clock (for callers at the edge that are not given it)."""
    from zoneinfo import ZoneInfo

    from campaigns.core.clock import utcnow

    return utcnow().astimezone(ZoneInfo(zone)).date()


def weeks_label(weeks: int) -> str:
    return f"{weeks} weeks"


def long_date(value: date) -> str:
    return f"{value.day} {value:%B %Y}"


def week_key(week: pd.Timestamp) -> str:
    return f"{week:%Y-%m-%d}"
