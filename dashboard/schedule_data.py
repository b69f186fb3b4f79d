"""The Schedule page's reads and its one change: deliveries on a calendar, one post opened,
and moving a post to another time (campaigns.storage.moves).

The reads are scoped to the viewer as every dashboard listing is (dashboard.queries: a partner
sees its own organisation's deliveries only) and cached like dashboard.data's; a move clears
them, and dashboard.data's too, since every page shows delivery times and states.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pandas as pd
import streamlit as st
from sqlalchemy import select
from sqlalchemy.orm import Session

from campaigns.core.clock import utcnow
from campaigns.core.planning import NETWORK_NAMES
from campaigns.storage.models import Account, Campaign, Delivery, DeliveryStatus, Organisation, Post
from campaigns.storage.moves import Moved, move_post, why_not_movable
from campaigns.storage.users import Viewer
from dashboard import data, queries

S = DeliveryStatus


@dataclass(frozen=True)
class Look:
    """How a state is shown: its plain word, and the colours of its calendar entries."""

    word: str
    background: str
    text: str


#: Okabe–Ito colours (dashboard.components.OKABE_ITO), with the text colour of each that keeps
#: a 4.5:1 contrast; the word is always in the entry's title, so colour is never the only cue.
_SIGNED_OFF = ("#0072B2", "#FFFFFF")
_ENDED = ("#BBBBBB", "#000000")
LOOKS: dict[S, Look] = {
    S.DRAFT: Look("awaiting sign-off", "#E69F00", "#000000"),
    S.APPROVED: Look("approved", *_SIGNED_OFF),
    S.SCHEDULED: Look("scheduled", *_SIGNED_OFF),
    S.SENDING: Look("sending", "#56B4E9", "#000000"),
    S.POSTED: Look("posted", "#009E73", "#000000"),
    S.FAILED: Look("failed", "#D55E00", "#000000"),
    S.UNCONFIRMED: Look("may have posted (unconfirmed)", "#D55E00", "#000000"),
    S.PAUSED: Look("paused", "#CC79A7", "#000000"),
    S.MISSED: Look("missed", *_ENDED),
    S.EXPIRED: Look("expired: not signed off in time", *_ENDED),
    S.CANCELLED: Look("cancelled", *_ENDED),
}
#: The legend: each colour once, with every word it stands for.
LEGEND = (
    ("Awaiting sign-off (draft)", LOOKS[S.DRAFT]),
    ("Approved or scheduled: will be sent", LOOKS[S.SCHEDULED]),
    ("Sending", LOOKS[S.SENDING]),
    ("Posted", LOOKS[S.POSTED]),
    ("Failed, or unconfirmed", LOOKS[S.FAILED]),
    ("Paused", LOOKS[S.PAUSED]),
    ("Missed, expired or cancelled: not sent", LOOKS[S.MISSED]),
)
#: Awareness weeks, behind the posts: a see-through grey, so the theme's own text colour stays
#: legible over it in the light and the dark theme alike.
WEEK_COLOUR = "rgba(128, 128, 128, 0.25)"
#: How long a post's entry lasts in the week view (posts are instants).
ENTRY_MINUTES = 20
SCHEDULE_COLUMNS = ("id", "start", "campaign key", "campaign", "post", "organisation",
                    "network", "account", "status", "status word", "reason")


def status_word(status: S, reason: str = "") -> str:
    if status is S.DRAFT and reason.startswith("sent back by "):
        return "sent back: awaiting changes and sign-off"
    return LOOKS[status].word


# ---- queries (no Streamlit) --------------------------------------------------------------------


#: How far past its year the calendar of a year reaches, so that in December the officer can
#: step on into the first months of the next year (and in January back into the last).
MARGIN = timedelta(days=92)


def _year_window(year: int, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """The year, with a quarter either side."""
    start = datetime(year, 1, 1, tzinfo=zone) - MARGIN
    end = datetime(year + 1, 1, 1, tzinfo=zone) + MARGIN
    return start.astimezone(UTC), end.astimezone(UTC)


def schedule_rows(*, session: Session, viewer: Viewer, year: int, zone: str) -> pd.DataFrame:
    """Deliveries sent or due in `year` (and a quarter either side), the viewer's organisation
    only, each with its local start time in `zone` as the calendar reads it."""
    where = ZoneInfo(zone)
    since, until = _year_window(year, where)
    query = (
        select(Delivery.id, Delivery.send_at, Delivery.network, Delivery.status,
               Delivery.status_reason, Campaign.key.label("campaign_key"),
               Campaign.name.label("campaign"), Post.key.label("post"),
               Organisation.name.label("organisation"), Account.handle)
        .select_from(Delivery).join(Delivery.campaign).join(Delivery.post)
        .join(Delivery.account).join(Account.organisation)
        .where(queries._own_organisation(viewer), Delivery.send_at >= since,
               Delivery.send_at < until)
        .order_by(Delivery.send_at, Organisation.name, Delivery.network)
        .limit(queries.MAX_ROWS * 4))
    rows = [{
        "id": r.id, "start": r.send_at.astimezone(where).strftime("%Y-%m-%dT%H:%M:%S"),
        "campaign key": r.campaign_key, "campaign": r.campaign, "post": r.post,
        "organisation": r.organisation, "network": NETWORK_NAMES.get(r.network, r.network),
        "account": queries.account_label(r.organisation, r.network, r.handle),
        "status": r.status.value, "status word": status_word(r.status, r.status_reason),
        "reason": r.status_reason,
    } for r in session.execute(query)]
    return pd.DataFrame(rows, columns=list(SCHEDULE_COLUMNS))


@dataclass(frozen=True)
class OpenedPost:
    """One post as the page opens it: its words per network, and each delivery."""

    campaign_key: str
    campaign: str
    post_key: str
    timezone: str
    #: When the post asks to be sent (the lead's time), naive, in the campaign's zone.
    local: datetime
    #: Each delivery: when (local), account, network, status word, why, text, and the ids.
    deliveries: pd.DataFrame
    #: The words per network and wording, as dashboard.components.post_preview shows them.
    previews: pd.DataFrame
    #: Why it cannot be moved, in plain words; None when it can.
    not_movable: str | None


OPENED_COLUMNS = ("when", "account", "status", "why", "approved by", "text", "id",
                  "campaign key", "account key", "remote id")


def opened_post(
    *, session: Session, viewer: Viewer, campaign_key: str, post_key: str
) -> OpenedPost | None:
    """The post, if the viewer may see it (a partner: only its own organisation's
    deliveries, and only the wordings it may see)."""
    found = session.execute(
        select(Campaign, Post).join(Post, Post.campaign_id == Campaign.id)
        .where(Campaign.key == campaign_key, Post.key == post_key,
               queries._visible_campaigns(viewer))).one_or_none()
    if found is None:
        return None
    campaign, post = found
    zone = ZoneInfo(campaign.timezone)
    query = (select(Delivery, Account, Organisation).join(Delivery.account)
             .join(Account.organisation)
             .where(Delivery.post_id == post.id, queries._own_organisation(viewer))
             .order_by(Delivery.send_at, Organisation.name, Delivery.network))
    rows, statuses, first = [], [], None
    for delivery, account, organisation in session.execute(query):
        local = delivery.send_at.astimezone(zone)
        first = local if first is None or local < first else first
        statuses.append(delivery.status)
        rows.append({
            "when": f"{local:%a} {local.day} {local:%b %Y %H:%M %Z}",
            "account": queries.account_label(organisation.name, delivery.network,
                                             account.handle),
            "status": status_word(delivery.status, delivery.status_reason),
            "why": delivery.status_reason, "approved by": delivery.approved_by or "",
            "text": delivery.text, "id": delivery.id, "campaign key": campaign.key,
            "account key": account.key, "remote id": delivery.remote_id or "",
        })
    if first is None:
        return None
    # Every delivery of the post is in `statuses` for officers; a partner's view never moves.
    not_movable = why_not_movable(statuses) if viewer.may_change else None
    previews = queries.variant_previews(session=session, viewer=viewer,
                                        campaign_key=campaign.key)
    return OpenedPost(campaign.key, campaign.name, post.key, campaign.timezone,
                      first.replace(tzinfo=None), pd.DataFrame(rows, columns=OPENED_COLUMNS),
                      previews[previews["post"] == post.key].reset_index(drop=True),
                      not_movable)


def calendar_events(rows: pd.DataFrame, weeks: pd.DataFrame) -> list[dict[str, Any]]:
    """FullCalendar's events: awareness weeks as named bands behind, then each delivery,
    titled with its state in words (FullCalendar shows titles as text, never as HTML)."""
    events: list[dict[str, Any]] = [{
        "id": f"week:{n}", "title": str(w["event"]), "start": str(w["start"]),
        "end": str(pd.Timestamp(w["end"]).date() + timedelta(days=1)), "display": "background",
        "color": WEEK_COLOUR, "allDay": True,
    } for n, w in enumerate(weeks.to_dict("records"))]
    for row in rows.to_dict("records"):
        look = LOOKS[S(row["status"])]
        start = datetime.fromisoformat(row["start"])
        events.append({
            "id": str(row["id"]),
            "title": f"{row['status word'].capitalize()} · {row['network']} · "
                     f"{row['organisation']} · {row['campaign']} ({row['post']})",
            "start": row["start"],
            "end": (start + timedelta(minutes=ENTRY_MINUTES)).isoformat(),
            "backgroundColor": look.background, "borderColor": look.background,
            "textColor": look.text,
        })
    return events


# ---- cached reads ------------------------------------------------------------------------------


@st.cache_data(ttl=data.TTL, show_spinner=False)
def schedule(viewer: Viewer, year: int) -> pd.DataFrame:
    with data.reading() as session:
        return schedule_rows(session=session, viewer=viewer, year=year, zone=data.zone())


@st.cache_data(ttl=data.TTL, show_spinner=False)
def post(viewer: Viewer, campaign_key: str, post_key: str) -> OpenedPost | None:
    with data.reading() as session:
        return opened_post(session=session, viewer=viewer, campaign_key=campaign_key,
                           post_key=post_key)


def years(viewer: Viewer) -> list[int]:
    return sorted({*data.campaign_years(viewer), today().year})


def today() -> date:
    return data.today()


def now_local() -> datetime:
    """Now in the partnership's zone, naive, as the calendar's start times are."""
    return utcnow().astimezone(ZoneInfo(data.zone())).replace(tzinfo=None)


#: States of a post still to be sent (or to be signed off first).
COMING = frozenset({S.DRAFT, S.APPROVED, S.SCHEDULED, S.PAUSED})


def next_due(rows: pd.DataFrame, now: datetime) -> dict[str, Any] | None:
    """The first delivery still to be sent at or after `now` (local, naive), or None."""
    for row in rows.to_dict("records"):
        if S(row["status"]) in COMING and datetime.fromisoformat(row["start"]) >= now:
            return row
    return None


# ---- the change ----------------------------------------------------------------------------


def move(viewer: Viewer, campaign_key: str, post_key: str, day: date, at: time) -> Moved:
    """Move the post to `day` at `at` in its campaign's zone, as the signed-in officer, and
    plan its campaign again; raises MoveRefused (nothing stored) when it cannot be."""
    with data._changing(viewer) as session:
        moved = move_post(campaign_key, post_key, datetime.combine(day, at), data.rules(),
                          session=session, mover=viewer.name, now=utcnow())
    for cached in (schedule, post):
        cached.clear()
    return moved
