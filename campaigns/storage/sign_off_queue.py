"""The sign-off queue: what awaits sign-off, campaign by campaign, and for each post what
changed since the last sign-off (its words, word by word, and its time).

Approving keeps the words and the time signed off on each delivery (campaigns.storage.approval);
a re-plan that changes an approved delivery sends it back to draft and keeps them, so the
difference can be shown here. The diff itself is a pure function of two texts.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from difflib import SequenceMatcher
from enum import StrEnum
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session, joinedload

from campaigns.core import sign_off_deadlines
from campaigns.core.planning import NETWORK_NAMES
from campaigns.storage.approval import editors_of, may_sign_off
from campaigns.storage.models import (
    Account,
    AuditEntry,
    Campaign,
    Delivery,
    DeliveryStatus,
    Organisation,
    Post,
)
from campaigns.storage.users import Viewer

#: How removed and added words are marked, in words and signs rather than colour alone.
REMOVED = ("[−", "−]")
ADDED = ("[+", "+]")
MARKS_EXPLAINED = (f"Words between {REMOVED[0]} and {REMOVED[1]} were removed since the last "
                   f"sign-off; words between {ADDED[0]} and {ADDED[1]} were added.")


# ---- the difference between two texts (pure) -------------------------------------------------


class Kind(StrEnum):
    SAME = "same"
    REMOVED = "removed"
    ADDED = "added"


@dataclass(frozen=True)
class Words:
    """A run of words in a diff: kept, removed or added."""

    kind: Kind
    text: str


def word_diff(before: str, after: str) -> tuple[Words, ...]:
    """The words of `after` against those of `before`: runs kept, removed and added, in
    reading order (a replaced run is its removed words, then its added ones)."""
    old, new = before.split(), after.split()
    runs: list[Words] = []
    for tag, i1, i2, j1, j2 in SequenceMatcher(None, old, new, autojunk=False).get_opcodes():
        if tag == "equal":
            runs.append(Words(Kind.SAME, " ".join(old[i1:i2])))
            continue
        if i2 > i1:
            runs.append(Words(Kind.REMOVED, " ".join(old[i1:i2])))
        if j2 > j1:
            runs.append(Words(Kind.ADDED, " ".join(new[j1:j2])))
    return tuple(runs)


def marked(runs: Iterable[Words]) -> str:
    """A diff as one line of plain text: 'Join us [−on Monday−] [+on Tuesday+] at noon'."""
    parts = []
    for run in runs:
        if run.kind is Kind.REMOVED:
            parts.append(f"{REMOVED[0]}{run.text}{REMOVED[1]}")
        elif run.kind is Kind.ADDED:
            parts.append(f"{ADDED[0]}{run.text}{ADDED[1]}")
        else:
            parts.append(run.text)
    return " ".join(parts)


def when_text(moment: datetime, zone: str) -> str:
    """A UTC instant in `zone` as people say it in a sentence: 'Tue 14 Oct 09:00'."""
    local = moment.astimezone(ZoneInfo(zone))
    return f"{local:%a} {local.day} {local:%b %H:%M}"


# ---- the queue --------------------------------------------------------------------------------


class Change(StrEnum):
    """How a post awaiting sign-off stands against the last sign-off."""

    #: Never signed off (the first sign-off, or a post added since).
    NEW = "new"
    #: Signed off before; its words or its time have changed since.
    CHANGED = "changed"
    #: Signed off before with these very words at this very time.
    SAME = "same"
    #: Signed off before the words signed off were kept (an older database).
    NOT_KEPT = "not kept"


@dataclass(frozen=True)
class QueuedPost:
    delivery_id: int
    #: What the approver is shown, so approving refuses if it changes (approval's `seen`).
    content_hash: str
    post_key: str
    #: 'North Yorkshire Police · X @NYP_YorkHate'
    account: str
    #: Its send time, local: 'Tue 14 Oct 09:00'.
    when: str
    text: str
    change: Change
    #: The words since the last sign-off; empty unless CHANGED.
    diff: tuple[Words, ...] = ()
    #: 'was Tue 14 Oct 09:00, now Wed 15 Oct 10:00' if its time moved, else ''.
    moved: str = ""

    @property
    def words_changed(self) -> bool:
        return any(run.kind is not Kind.SAME for run in self.diff)

    def what_changed(self) -> str:
        """What changed since the last sign-off, in a sentence (the words' diff apart)."""
        if self.change is Change.NEW:
            return "New since the last sign-off."
        if self.change is Change.NOT_KEPT:
            return ("Signed off before, but the words then signed off were not kept: read it "
                    "whole.")
        if self.change is Change.SAME:
            return "Unchanged since the last sign-off (planned again as it was)."
        said = []
        if self.words_changed:
            said.append("Its words changed since the last sign-off.")
        elif not self.moved:
            said.append("Only its layout (line breaks or spaces) changed since the last "
                        "sign-off.")
        if self.moved:
            said.append(f"Its time moved: {self.moved}.")
        return " ".join(said)


@dataclass(frozen=True)
class QueuedCampaign:
    key: str
    name: str
    author: str
    #: Everyone who has changed it in the dashboard.
    editors: tuple[str, ...]
    #: 'Sam Approver on 1 December 2026', or '' if never signed off.
    last_sign_off: str
    #: 'sent back by NAME: REASON' if its waiting posts were sent back.
    sent_back: str
    #: Whether the viewer may sign it off (their role does, and they neither wrote nor
    #: edited it).
    may_sign_off: bool
    #: The sign-off deadline: its first waiting post's time, local ('Tue 14 Oct 09:00').
    first_due: str
    #: When the reminder is raised (CHORUS_SIGN_OFF_REMINDER_HOURS before the first post),
    #: local.
    remind_from: str
    #: Hours before the first post that the reminder is raised.
    remind_hours: float
    #: How many waiting posts' time has already come (they expire, unsent).
    overdue: int
    #: Whether the first post is due within the reminder window.
    due_soon: bool
    posts: tuple[QueuedPost, ...]

    @property
    def awaiting(self) -> int:
        return len(self.posts)

    @property
    def seen(self) -> dict[int, str]:
        """The posts shown (delivery id -> content hash), for approval to check."""
        return {p.delivery_id: p.content_hash for p in self.posts}

    def written_by(self) -> str:
        edited = [e for e in self.editors if e != self.author]
        if not edited:
            return f"Written by {self.author}."
        return f"Written by {self.author}; edited in the dashboard by {', '.join(edited)}."

    def waiting_text(self) -> str:
        posts = "1 post awaits" if self.awaiting == 1 else f"{self.awaiting} posts await"
        since = (f" (last signed off by {self.last_sign_off})" if self.last_sign_off
                 else " (never signed off before)")
        return f"{posts} sign-off{since}."

    def deadline_text(self) -> str:
        """The sign-off deadline and the reminder, as the page says them."""
        if self.overdue:
            posts = "1 post's" if self.overdue == 1 else f"{self.overdue} posts'"
            said = (f"{posts} time has passed without sign-off: "
                    f"{'it' if self.overdue == 1 else 'they'} will not be sent (expired).")
            return said if self.overdue == self.awaiting else (
                f"{said} Sign off the rest before their times.")
        hours = "1 hour" if self.remind_hours == 1 else f"{self.remind_hours:g} hours"
        soon = " That is within the reminder window: the reminder has been raised." \
            if self.due_soon else ""
        return (f"Sign off by {self.first_due}, the earliest post's time: a post not signed "
                f"off by its time is never sent. A reminder is raised {hours} before "
                f"({self.remind_from}).{soon}")

    def who_signs_off(self) -> str:
        """For a viewer who may not sign it off: who can."""
        people = list(dict.fromkeys([self.author, *self.editors]))
        them = people[0] if len(people) == 1 else ", ".join(people[:-1]) + " or " + people[-1]
        return ("An approver, or a communications officer who neither wrote nor edited this "
                f"campaign, can sign it off (not {them}).")


def sign_off_queue(
    *, session: Session, viewer: Viewer, zone: str, now: datetime, remind_before: timedelta
) -> tuple[QueuedCampaign, ...]:
    """Every campaign with posts awaiting sign-off, the earliest due first, each post with
    what changed since its last sign-off. Only for those who sign off (officers, approvers):
    anyone else gets an empty queue. `zone`: the partnership's, for the last sign-off's day."""
    if not viewer.may_sign_off:
        return ()
    query = (select(Delivery, Account.network, Account.handle, Organisation.name, Post.key)
             .join(Delivery.account).join(Account.organisation).join(Delivery.post)
             .where(Delivery.status == DeliveryStatus.DRAFT)
             .options(joinedload(Delivery.campaign))
             .order_by(Delivery.send_at, Organisation.name, Account.network, Delivery.id))
    rows = list(session.execute(query))
    not_kept = _approved_before(
        [d.id for d, *_ in rows if d.signed_off_text is None], session=session)
    waiting: dict[int, list[tuple[Delivery, QueuedPost]]] = {}
    for delivery, network, handle, organisation, post_key in rows:
        account = f"{organisation} · {NETWORK_NAMES.get(network, network)} @{handle.lstrip('@')}"
        post = _queued(delivery, post_key, account, delivery.campaign.timezone,
                       delivery.id in not_kept)
        waiting.setdefault(delivery.campaign_id, []).append((delivery, post))
    decided = sign_off_deadlines.decide(
        (sign_off_deadlines.Waiting(d.id, d.campaign_id, d.send_at)
         for d, _ in (pair for pairs in waiting.values() for pair in pairs)),
        now=now, remind_before=remind_before)
    return tuple(_campaign(pairs, viewer=viewer, zone=zone, remind_before=remind_before,
                           decided=decided) for pairs in waiting.values())


def _queued(delivery: Delivery, post_key: str, account: str, zone: str,
            not_kept: bool) -> QueuedPost:
    common = (delivery.id, delivery.content_hash, post_key, account,
              when_text(delivery.send_at, zone), delivery.text)
    if delivery.signed_off_text is None:
        return QueuedPost(*common, Change.NOT_KEPT if not_kept else Change.NEW)
    was = delivery.signed_off_send_at
    moved = (f"was {when_text(was, zone)}, now {when_text(delivery.send_at, zone)}"
             if was is not None and was != delivery.send_at else "")
    if delivery.signed_off_text == delivery.text and not moved:
        return QueuedPost(*common, Change.SAME)
    return QueuedPost(*common, Change.CHANGED, word_diff(delivery.signed_off_text,
                                                         delivery.text), moved)


def _campaign(
    pairs: Sequence[tuple[Delivery, QueuedPost]], *, viewer: Viewer, zone: str,
    remind_before: timedelta, decided: sign_off_deadlines.Deadlines,
) -> QueuedCampaign:
    """One campaign's entry in the queue, from its waiting posts (the earliest first)."""
    first = pairs[0][0]
    campaign = first.campaign
    last = ""
    if campaign.approved_by and campaign.approved_at is not None:
        local = campaign.approved_at.astimezone(ZoneInfo(zone))
        last = f"{campaign.approved_by} on {local.day} {local:%B %Y}"
    sent_back = next((d.status_reason for d, _ in pairs
                      if d.status_reason.startswith("sent back by ")), "")
    return QueuedCampaign(
        campaign.key, campaign.name, campaign.author, tuple(dict.fromkeys(editors_of(campaign))),
        last, sent_back, may_sign_off(viewer.name, campaign),
        when_text(first.send_at, campaign.timezone),
        when_text(first.send_at - remind_before, campaign.timezone),
        remind_before.total_seconds() / 3600,
        sum(1 for d, _ in pairs if d.id in decided.expire), campaign.id in decided.remind,
        tuple(post for _, post in pairs))


def _approved_before(ids: Sequence[int], *, session: Session) -> set[int]:
    """Of these deliveries, those the audit log says were approved once."""
    if not ids:
        return set()
    return set(session.scalars(
        select(AuditEntry.delivery_id).distinct()
        .where(AuditEntry.delivery_id.in_(ids), AuditEntry.new_status == "approved")))


def queue_version(*, session: Session) -> str:
    """Changes whenever the queue may have: which posts await sign-off, with which words and
    notes, and when a campaign was last edited or signed off. Cheap (no text is read), so a
    cached queue can be keyed by it and never shown stale."""
    digest = hashlib.sha256()
    waiting = (select(Delivery.id, Delivery.content_hash, Delivery.updated_at,
                      Delivery.status_reason)
               .where(Delivery.status == DeliveryStatus.DRAFT).order_by(Delivery.id))
    campaigns = select(func.max(Campaign.edited_at), func.max(Campaign.approved_at))
    for row in [*session.execute(waiting), *session.execute(campaigns)]:
        digest.update(repr(tuple(row)).encode())
    return digest.hexdigest()
