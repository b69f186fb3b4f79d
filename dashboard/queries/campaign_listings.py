"""The calendar and the campaigns: events of a year, each campaign's posts by state, where
its sign-off stands, and its variants as each network will count them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from campaigns.core import calendar
from campaigns.storage.approval import editors_of, may_sign_off
from campaigns.storage.models import (
    Account,
    Campaign,
    Delivery,
    Event,
    Post,
    Variant,
)
from campaigns.storage.users import Viewer
from dashboard.queries.common import (
    NEEDS_ATTENTION,
    WAITING,
    S,
    _campaign,
    _frame,
    _organisation_names,
    _own_organisation,
    _visible_campaigns,
    day_text,
    local_text,
)

# ---- calendar and campaigns -------------------------------------------------------------------


def campaign_years(*, session: Session, viewer: Viewer) -> list[int]:
    query = (select(Campaign.year).where(_visible_campaigns(viewer)).distinct()
             .order_by(Campaign.year))
    return list(session.scalars(query))


#: What a person reads first; the event's key last (left out of the page's table).
EVENT_COLUMNS = ("start", "end", "event", "campaign", "plan", "dates from", "key")


def events_for_year(*, session: Session, viewer: Viewer, year: int) -> pd.DataFrame:
    """The awareness events starting in `year`, with the names of the viewer's campaigns for
    each; the event's key comes last (for exports, not for the page)."""
    definitions = [calendar.parse_event(e.definition) for e in session.scalars(select(Event))]
    planned: dict[str, list[str]] = {}
    query = (select(Campaign.event_key, Campaign.name)
             .where(Campaign.year == year, Campaign.withdrawn.is_(False),
                    _visible_campaigns(viewer)).order_by(Campaign.key))
    for event_key, campaign_name in session.execute(query):
        planned.setdefault(event_key or "", []).append(campaign_name)
    rows = [{"start": o.start, "end": o.end, "event": o.name,
             "campaign": ", ".join(planned.get(o.key, [])),
             "plan": PLANNED if o.key in planned else NOT_PLANNED,
             "dates from": "the usual pattern" if o.from_rule else o.source, "key": o.key}
            for o in calendar.occurrences(definitions, year)]
    return _frame(rows, EVENT_COLUMNS)


PLANNED = "campaign planned"
NOT_PLANNED = "no campaign"


def events_summary(events: pd.DataFrame, year: int) -> str:
    """One sentence for the calendar chart."""
    if events.empty:
        return f"No awareness events are recorded for {year}."
    planned = events.loc[events["plan"] == PLANNED, "event"].tolist()
    first, last = events.iloc[0], events.iloc[-1]
    listed = "; ".join(planned) if planned else "none yet"
    return (f"{len(events)} awareness events in {year}, from {first['event']} "
            f"(starting {first['start']:%d %B}) to {last['event']} (starting "
            f"{last['start']:%d %B}). Campaigns are planned for {len(planned)}: {listed}.")


#: The campaign's name and where its sign-off and posts stand first; its key last, for the
#: page's choice of campaign and for exports (never shown in the table itself).
CAMPAIGN_COLUMNS = ("campaign", "awaiting sign-off", "approved by", "needs attention",
                    "waiting to send", "posted", "all posts", "paused", "event", "start", "end",
                    "author", "key")


def campaigns(*, session: Session, viewer: Viewer) -> pd.DataFrame:
    """Each campaign the viewer may see: its window, sign-off, pause and its posts by state."""
    chosen = session.scalars(
        select(Campaign).where(Campaign.withdrawn.is_(False), _visible_campaigns(viewer))
        .order_by(Campaign.year, Campaign.key)).all()
    counts = _counts_by_campaign(session, viewer)
    windows, event_names = _windows(session, chosen)
    rows = []
    for c in chosen:
        found = counts.get(c.id, {})
        start, end = windows.get(c.key, (None, None))
        rows.append({
            "key": c.key, "campaign": c.name,
            "event": event_names.get(c.event_key or "", "one-off posts"),
            "start": start, "end": end, "author": c.author, "approved by": c.approved_by or "",
            "paused": "paused" if c.paused else "",
            "awaiting sign-off": found.get(S.DRAFT, 0),
            "waiting to send": sum(found.get(s, 0) for s in WAITING),
            "posted": found.get(S.POSTED, 0),
            "needs attention": sum(found.get(s, 0) for s in NEEDS_ATTENTION),
            "all posts": sum(found.values()),
        })
    return _frame(rows, CAMPAIGN_COLUMNS)


def _counts_by_campaign(session: Session, viewer: Viewer) -> dict[int, dict[S, int]]:
    query = (select(Delivery.campaign_id, Delivery.status, func.count())
             .select_from(Delivery).join(Delivery.account).join(Account.organisation)
             .where(_own_organisation(viewer))
             .group_by(Delivery.campaign_id, Delivery.status))
    counts: dict[int, dict[S, int]] = {}
    for campaign_id, status, n in session.execute(query):
        counts.setdefault(campaign_id, {})[status] = n
    return counts


def _windows(
    session: Session, chosen: Sequence[Campaign]
) -> tuple[dict[str, tuple[Any, Any]], dict[str, str]]:
    """Each campaign's event window (by campaign key), and the events' names (by event key)."""
    keys = {c.event_key for c in chosen if c.event_key}
    found_events = list(session.scalars(select(Event).where(Event.key.in_(keys))))
    events = {e.key: calendar.parse_event(e.definition) for e in found_events}
    windows = {}
    for c in chosen:
        if c.event_key in events:
            found = calendar.occurrence(events[c.event_key], c.year)
            windows[c.key] = (found.start, found.end)
    return windows, {e.key: e.name for e in found_events}


@dataclass(frozen=True)
class CampaignInfo:
    key: str
    name: str
    summary: str
    author: str
    timezone: str
    approved_by: str | None
    approved_at: str
    paused: bool
    awaiting_sign_off: int
    #: Everyone who has changed it in the dashboard: none of them may approve it.
    editors: tuple[str, ...] = ()
    #: The day of the last sign-off as people say it: '1 December 2026'.
    approved_on: str = ""
    #: Why its waiting posts were sent back ('sent back by NAME: REASON'), if they were.
    sent_back: str = ""
    #: Whether the viewer may sign it off: their role does, and they neither wrote nor
    #: edited it.
    may_sign_off: bool = False
    #: The posts awaiting sign-off as the page shows them (delivery id, content hash): an
    #: approval from the page approves these and refuses if any changed in the meantime.
    awaiting: tuple[tuple[int, str], ...] = ()

    def sign_off_state(self) -> str:
        """Where sign-off stands, as the page says it."""
        waiting = self.awaiting_sign_off
        posts = "1 post" if waiting == 1 else f"{waiting} posts"
        if waiting and self.approved_by:
            return (f"{posts} changed since {self.approved_by} signed off on "
                    f"{self.approved_on}: awaiting sign-off.")
        if waiting:
            return f"{posts} awaiting sign-off: nothing is sent until it is signed off."
        if self.approved_by:
            return f"Signed off by {self.approved_by} on {self.approved_on}."
        return "Not planned yet: nothing awaits sign-off."

    def who_signs_off(self) -> str:
        """For a viewer who may not sign it off: who can."""
        return ("An approver, or a communications officer who neither wrote nor edited this "
                f"campaign, can sign it off (not {self._not_them()}).")

    def _not_them(self) -> str:
        people = list(dict.fromkeys([self.author, *self.editors]))
        return people[0] if len(people) == 1 else ", ".join(people[:-1]) + " or " + people[-1]



def campaign_info(
    *, session: Session, viewer: Viewer, key: str, zone: str
) -> CampaignInfo | None:
    campaign = _campaign(session, viewer, key)
    if campaign is None:
        return None
    drafts = session.execute(
        select(Delivery.id, Delivery.content_hash, Delivery.status_reason)
        .join(Delivery.account).join(Account.organisation)
        .where(Delivery.campaign_id == campaign.id, Delivery.status == S.DRAFT,
               _own_organisation(viewer)).order_by(Delivery.id)).all()
    reasons = [draft.status_reason for draft in drafts]
    sent_back = next((r for r in reasons if r.startswith("sent back by ")), "")
    return CampaignInfo(campaign.key, campaign.name, campaign.summary, campaign.author,
                        campaign.timezone, campaign.approved_by,
                        local_text(campaign.approved_at, zone), campaign.paused, len(reasons),
                        tuple(dict.fromkeys(editors_of(campaign))),
                        day_text(campaign.approved_at, zone), sent_back,
                        viewer.may_sign_off and may_sign_off(viewer.name, campaign),
                        tuple((draft.id, draft.content_hash) for draft in drafts))


PREVIEW_COLUMNS = ("post", "network", "wording", "length", "limit", "fits", "problem", "text")


def variant_previews(*, session: Session, viewer: Viewer, campaign_key: str) -> pd.DataFrame:
    """Each post's text per network as it will be sent (link added), measured as that
    network measures it. A partner sees the shared wording and its own, no one else's."""
    campaign = _campaign(session, viewer, campaign_key)
    if campaign is None:
        return _frame([], PREVIEW_COLUMNS)
    wordings = [""] if viewer.sees_everything else ["", viewer.organisation_key or ""]
    query = (select(Post.key, Post.link, Variant.network, Variant.organisation_key, Variant.text)
             .join(Variant.post)
             .where(Post.campaign_id == campaign.id, Post.withdrawn.is_(False))
             .order_by(Post.key, Variant.organisation_key, Variant.network))
    if not viewer.sees_everything:
        query = query.where(Variant.organisation_key.in_(wordings))
    # Imported here: the content schema and the text measurer are slow to load, and only
    # this and the share kits need them (not the board page, where a first visit waits).
    from campaigns.core import text
    from campaigns.formats.content import compose

    names = _organisation_names(session)
    rows = []
    for post_key, link, network, organisation_key, wording in session.execute(query):
        composed = compose(wording, link)
        measured = text.measure(composed, network)
        rows.append({
            "post": post_key, "network": network,
            "wording": names.get(organisation_key, organisation_key) or "shared",
            "length": measured.length, "limit": measured.limit,
            "fits": "yes" if measured.valid else "no",
            "problem": measured.problem or "", "text": composed,
        })
    return _frame(rows, PREVIEW_COLUMNS)
