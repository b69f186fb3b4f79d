"""Awareness windows: the dates of the awareness events the partnership campaigns for, year by
year, with each year's campaign, as the charts shade them and the effect estimates use them."""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date

import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from campaigns.core import calendar
from campaigns.storage.models import Campaign, Event
from campaigns.storage.users import Viewer

WINDOW_COLUMNS = ("event", "name", "short", "year", "start", "end", "campaign")


def campaigns_by_event(session: Session, viewer: Viewer) -> dict[tuple[str, int], list[str]]:
    """The names of the partnership's campaigns by (event, year): names, not keys, since the
    board reads them in the effect table, its explanation and the charts' tooltips."""
    if not viewer.sees_everything:  # the board's pages only; partners see no analysis
        return {}
    query = (select(Campaign.event_key, Campaign.year, Campaign.name)
             .where(Campaign.withdrawn.is_(False), Campaign.event_key.is_not(None)))
    planned: dict[tuple[str, int], list[str]] = {}
    for event_key, year, name in session.execute(query):
        planned.setdefault((str(event_key), year), []).append(name)
    return planned


def event_windows(*, session: Session, viewer: Viewer, years: Iterable[int]) -> pd.DataFrame:
    """The dates in each of `years` of every awareness event the partnership has a campaign
    for (in any year), with that year's campaign, if any."""
    planned = campaigns_by_event(session, viewer)
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
