"""The headline figures at the top of the board page (posts, reach, engagement, reports), each
beside the period before, and the note on what sandbox accounts added."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from campaigns.formats.reports.values import ALL, OFFENCES
from dashboard.insights.periods import Period
from dashboard.insights.reach import REACH_MEASURES
from dashboard.queries import SANDBOX_LABEL


@dataclass(frozen=True)
class Figure:
    label: str
    value: str
    delta: str | None
    help: str
    #: Reports going up is neither good nor bad, so its change is not coloured.
    coloured: bool = True


def change(now: int, before: int) -> str | None:
    """The change on the previous period, as st.metric shows it: '+120 (+12%)', or 'up from
    none' (short enough for a phone's half width)."""
    if before == 0:
        return None if now == 0 else "up from none"
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
    prefix, whose = "", "real accounts"
    # Labels short enough for two figures side by side on a phone, whole.
    labels = ["Posts", "Reach", "Engagement"]
    if sandbox_only(reach):
        prefix, whose = "sandbox ", "sandbox accounts, which reach no one"
        labels = ["Sandbox posts", "Sandbox reach", "Sandbox actions"]
    posts, shown, engaged = (f"{prefix}{m}" for m in REACH_MEASURES)
    figures = [
        Figure(labels[0], f"{now[posts].sum():,}",
               change(int(now[posts].sum()), int(before[posts].sum())),
               f"Posts sent from {whose} in these weeks. " + compared),
        Figure(labels[1], f"{now[shown].sum():,}",
               change(int(now[shown].sum()), int(before[shown].sum())),
               f"Impressions: times the posts of {whose} were shown, as the networks count "
               "them, gained "
               "in these weeks (by posts of any date). Mastodon and Bluesky do not publish "
               "impressions, so their posts add engagement only. " + compared),
        Figure(labels[2], f"{now[engaged].sum():,}",
               change(int(now[engaged].sum()), int(before[engaged].sum())),
               f"Engagement (actions): likes, reposts, replies and quotes gained by the posts "
               f"of {whose} in these "
               "weeks. " + compared),
    ]
    figures.append(_reports_figure(reports, period, threshold))
    return figures


def _split(frame: pd.DataFrame, period: Period) -> tuple[pd.DataFrame, pd.DataFrame]:
    inside = frame["week"] >= pd.Timestamp(period.first_week)
    return frame[inside], frame[~inside]


def _reports_figure(reports: pd.DataFrame | None, period: Period, threshold: int) -> Figure:
    label = "Reports"
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
