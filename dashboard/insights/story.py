"""The story at the top of the board page: the period, then two or three plain sentences on
what happened (posts and reach), what the reporting figures did, and what can and cannot be
concluded; and the one notice the page gives when its figures are sandbox or synthetic.

Written from the same totals as the headline figures, in words a board member reads at a
glance: no statistical terms, no keys, and a tense that is true on `today` (a week or an
awareness window that has not ended is 'so far', never the past).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from dashboard.insights.periods import Period, long_date
from dashboard.queries import SANDBOX_LABEL, SYNTHETIC_LABEL

#: A change smaller than this (in per cent) is written as 'about the same'.
SAME = 0.5


@dataclass(frozen=True)
class Totals:
    """The period's totals behind the headline figures, and those of the period before.

    `sandbox_only`: the reach figures are the sandbox's (no real account did anything).
    `reports` is None when `area` has no weekly figures for these weeks (or no area has any);
    `report_weeks` counts the weeks with figures, in the period and the one before.
    """

    weeks: int
    posts: int
    impressions: int
    engagements: int
    impressions_before: int
    sandbox_only: bool = False
    area: str | None = None
    reports: int | None = None
    reports_before: int | None = None
    report_weeks: int = 0
    report_weeks_before: int = 0
    threshold: int = 5
    synthetic: bool = False


@dataclass(frozen=True)
class Window:
    """An awareness window in the period, by the name the board knows it by."""

    name: str
    start: date
    end: date


def plural(count: int, one: str, many: str | None = None) -> str:
    return f"{count:,} {one if count == 1 else (many or one + 's')}"


def trend(now: int, before: int, weeks: int) -> str:
    """'up 40%', 'down 12%' or 'about the same as' on the weeks before, or 'up from none'."""
    if before == 0:
        return f"none in the {weeks} weeks before either" if now == 0 else "up from none before"
    percent = (now - before) / before * 100
    if abs(percent) < SAME:
        return f"about the same as the {weeks} weeks before"
    return f"{'up' if percent > 0 else 'down'} {abs(percent):.0f}% on the {weeks} weeks before"


def period_line(period: Period, today: date) -> str:
    """The period in a line, saying 'so far' when its last week has not ended."""
    first, last = period.first_week, period.last_day
    start = f"{first.day} {first:%B}" if first.year == last.year else long_date(first)
    line = f"{start} to {long_date(last)} ({period.weeks} weeks)"
    return f"{line}, so far: this week is not over yet" if last >= today else line


def reach_sentence(totals: Totals) -> str:
    if not (totals.posts or totals.impressions or totals.engagements):
        before = (f" (there were {plural(totals.impressions_before, 'impression')} in the "
                  f"{totals.weeks} weeks before)" if totals.impressions_before else "")
        return f"No posts were sent and no reach was recorded in these weeks{before}."
    whose = ("Only sandbox accounts, which reach no one, posted:" if totals.sandbox_only
             else "The partnership's accounts sent")
    change = trend(totals.impressions, totals.impressions_before, totals.weeks)
    return (f"{whose} {plural(totals.posts, 'post')}, seen "
            f"{plural(totals.impressions, 'time')} ({change}), with "
            f"{plural(totals.engagements, 'like, repost or reply', 'likes, reposts and replies')}.")


def reports_sentence(totals: Totals) -> str:
    area, weeks = totals.area, totals.weeks
    if area is None:
        return ("No weekly hate crime reporting figures have been imported yet, so reach "
                "cannot be set beside reporting.")
    if totals.reports is None:
        return f"There are no weekly hate crime reporting figures for {area} for these weeks yet."
    where = f"{area}'s synthetic figures" if totals.synthetic else area
    if totals.reports < totals.threshold:
        return (f"In {where}, fewer than {totals.threshold} hate crime offences were reported; "
                "a count so small is not published.")
    counted = f"{plural(totals.reports, 'hate crime offence')} were reported"
    if totals.report_weeks < weeks or totals.report_weeks_before < weeks:
        return (f"In {where}, {counted} in the {plural(totals.report_weeks, 'week')} of these "
                f"{weeks} with figures; with weeks missing, no change can be given.")
    before = totals.reports_before or 0
    if before < totals.threshold:
        return f"In {where}, {counted}."
    return f"In {where}, {counted}: {trend(totals.reports, before, weeks)}."


def conclusion(totals: Totals) -> str:
    """What can and cannot be concluded from the figures of these weeks."""
    made_up = [part for part, flag in (("the reach", totals.sandbox_only),
                                       ("the reports", totals.synthetic
                                        and totals.reports is not None))
               if flag]
    if made_up:
        what, many = " and ".join(made_up), len(made_up) > 1
        return (f"As {what} {'are' if many else 'is'} not real, nothing can be concluded "
                f"from {'them' if many else 'it'}.")
    if totals.area is None or totals.reports is None:
        return ""
    return ("Reports moving while a campaign runs do not show that it caused the change: more "
            "reports can mean more confidence to report, not more hate crime.")


def still_running(windows: Sequence[Window], today: date) -> str:
    """A sentence on the awareness windows of the period that have not ended."""
    running = [w for w in windows if w.start <= today <= w.end]
    if not running:
        return ""
    names = " and ".join(f"{w.name} (until {long_date(w.end)})" for w in running)
    one = len(running) == 1
    return (f"{names} {'runs' if one else 'run'} on: what can be said of "
            f"{'it' if one else 'them'} so far is provisional.")


def summary(totals: Totals, *, windows: Sequence[Window] = (), today: date) -> list[str]:
    """The sentences under the headline figures, in the order they are read."""
    sentences = [reach_sentence(totals), reports_sentence(totals), conclusion(totals),
                 still_running(windows, today)]
    return [s for s in sentences if s]


def notice(*, synthetic_area: str | None, sandbox_note: str) -> str:
    """The page's one notice on figures that are not real ('' when all are): the synthetic
    reporting figures of `synthetic_area` (None if they are real), and what the sandbox added
    (headline.sandbox_note)."""
    synthetic = (f"{SYNTHETIC_LABEL}: the reporting figures for {synthetic_area} come from a "
                 "synthetic demo file, made up for trying Chorus out; they say nothing about "
                 "real reporting." if synthetic_area is not None else "")
    parts = [p for p in (synthetic, sandbox_note) if p]
    if not parts:
        return ""
    marked = " and ".join(f"'{label}'" for label, part in ((SYNTHETIC_LABEL, synthetic),
                                                           (SANDBOX_LABEL, sandbox_note))
                          if part)
    return " ".join([*parts, f"Every table, chart and download below marks these figures "
                             f"{marked}."])
