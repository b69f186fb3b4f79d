"""Sign-off deadlines: which posts awaiting sign-off have run out of time, and which campaigns
need a reminder. Pure: it takes `now` and the waiting posts, and decides.

A post not signed off by its send time ends `expired` (never sent, and never left as a draft
for ever); a campaign with a post due within the reminder window gets one reminder, raised as
an alert whose incident key names the campaign and its last sign-off, so it is raised once per
round of sign-off.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

EXPIRED_REASON = "not signed off before its time"


@dataclass(frozen=True)
class Waiting:
    """A post awaiting sign-off (a draft delivery)."""

    delivery_id: int
    campaign_id: int
    send_at: datetime


@dataclass(frozen=True)
class Deadlines:
    #: Deliveries whose send time has come without sign-off.
    expire: tuple[int, ...]
    #: Campaign id -> the earliest send time of its posts due soon and still awaiting sign-off.
    remind: dict[int, datetime]


def decide(waiting: Iterable[Waiting], *, now: datetime, remind_before: timedelta) -> Deadlines:
    """What to do at `now`: expire posts due by now; remind each campaign with a post due
    within `remind_before` (and not yet due)."""
    expire: list[int] = []
    remind: dict[int, datetime] = {}
    for post in waiting:
        if post.send_at <= now:
            expire.append(post.delivery_id)
        elif post.send_at <= now + remind_before:
            first = remind.get(post.campaign_id)
            remind[post.campaign_id] = post.send_at if first is None else min(first,
                                                                                post.send_at)
    return Deadlines(tuple(sorted(expire)), remind)


def reminder_key(campaign_key: str, last_sign_off: datetime | None) -> str:
    """The incident key of a campaign's reminder: one per round of sign-off."""
    since = last_sign_off.isoformat() if last_sign_off is not None else "never"
    return f"sign-off-due:{campaign_key}:{since}"
