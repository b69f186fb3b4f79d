"""Moving a post to another time, as the dashboard's Schedule page does it.

A move changes the post's own send time (its `send` spec, relative to its event: docs/content.md
"When"), so every delivery of the post, the lead's and each partner's, moves together. The
campaign is then planned again by the planner itself (storage.plans.plan_and_store), with the
rules "Check and plan" applies. A move is refused, and nothing of it is kept, when the planner
refuses the campaign, or when it would not send the post at the time asked (quiet hours, an
account's daily cap, a time the clocks skip or repeat): a person who picked a time should get
that time or be told why not.

Deliveries that were approved or scheduled go back to draft, awaiting sign-off again; one that
is being sent, or has been sent, failed, missed or expired, cannot be moved, and neither can a
post with such a delivery. The mover is recorded as an editor of the campaign, as Compose
records one, so they cannot then sign it off themselves.

Everything happens in the caller's transaction; a refusal raises MoveRefused, so that the
transaction is rolled back whole.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from campaigns.core import calendar
from campaigns.core.planning import Rules
from campaigns.core.states import check_transition
from campaigns.formats.plan_check import PlanFinding
from campaigns.storage.models import AuditEntry, Campaign, Delivery, DeliveryStatus, Post
from campaigns.storage.plans import check_stored, occurrence_of, plan_and_store

S = DeliveryStatus
#: States a post's deliveries may be in for the post to be moved: not yet being sent.
MOVABLE = frozenset({S.DRAFT, S.APPROVED, S.SCHEDULED, S.PAUSED})
#: States that had been signed off: a move sends them back for sign-off.
SIGNED_OFF = (S.APPROVED, S.SCHEDULED)
#: Why a delivery in each state cannot be moved, as a person reads it.
WHY_NOT = {
    S.SENDING: "it is being sent right now",
    S.POSTED: "it has already been posted",
    S.FAILED: "it was tried and failed; see Deliveries for what to do",
    S.UNCONFIRMED: "it may already have been posted; settle it on Deliveries first",
    S.MISSED: "its time passed while Chorus was not running",
    S.EXPIRED: "its time passed before anyone signed it off",
    S.CANCELLED: "it was cancelled",
}


class MoveRefused(ValueError):
    """The move was refused; nothing is stored. The message says why in plain words."""

    def __init__(self, message: str, findings: Sequence[PlanFinding] = ()) -> None:
        super().__init__(message)
        self.findings = tuple(findings)


@dataclass(frozen=True)
class Moved:
    campaign_key: str
    post_key: str
    #: The wall-clock time asked for, in the campaign's zone.
    local: datetime
    timezone: str
    #: The deliveries whose time changed.
    moved: int
    #: Of those, how many had been signed off (approved or scheduled) and now await it again.
    back_to_sign_off: int
    notes: list[str] = field(default_factory=list)

    def summary(self) -> str:
        """'Moved to Tue 14 Oct 10:00. It was approved, so it now awaits sign-off again.'"""
        said = f"Moved to {when_text(self.local)} ({self.timezone})."
        if self.back_to_sign_off:
            said += " It was approved, so it now awaits sign-off again."
        else:
            said += " It awaits sign-off, as before."
        return said


def when_text(local: datetime) -> str:
    """A local time as people say it: 'Tue 14 Oct 2026 10:00'."""
    return f"{local:%a} {local.day} {local:%b %Y %H:%M}"


def why_not_movable(statuses: Sequence[S]) -> str | None:
    """Why a post whose deliveries are in `statuses` cannot be moved; None if it can."""
    live = [s for s in statuses if s is not S.CANCELLED]
    if not statuses:
        return "it has not been planned yet: use Check and plan on Calendar and campaigns"
    if not live:
        return WHY_NOT[S.CANCELLED]
    stuck = [s for s in live if s not in MOVABLE]
    if stuck:
        reasons = list(dict.fromkeys(WHY_NOT[s] for s in stuck))
        return ("some of its posts cannot move: " if len(stuck) < len(live) else "") \
            + "; ".join(reasons)
    return None


def send_spec(local: datetime, occurrence: calendar.Occurrence) -> dict[str, Any]:
    """The post's `send` (docs/content.md "When") for the wall-clock time `local`: a day of
    the event if it falls within it, else days before its first or after its last day."""
    day, at = local.date(), f"{local:%H:%M}"
    if day < occurrence.start:
        return {"days_before": (occurrence.start - day).days, "at": at}
    if day > occurrence.end:
        return {"days_after": (day - occurrence.end).days, "at": at}
    return {"day": (day - occurrence.start).days + 1, "at": at}


def move_post(
    campaign_key: str,
    post_key: str,
    to: datetime,
    rules: Rules,
    *,
    session: Session,
    mover: str,
    now: datetime,
) -> Moved:
    """Move the post to the naive wall-clock time `to` in its campaign's zone and plan the
    campaign again; raises MoveRefused (the caller's transaction must then be rolled back)."""
    campaign, post = _post(session, campaign_key, post_key)
    zone = ZoneInfo(campaign.timezone)
    if to.replace(tzinfo=zone) <= now:
        raise MoveRefused("That time has passed: choose a time still to come.")
    deliveries = list(session.scalars(select(Delivery).where(Delivery.post_id == post.id)))
    refused = why_not_movable([d.status for d in deliveries])
    if refused:
        raise MoveRefused(f"This post cannot be moved: {refused}.")
    spec = send_spec(to, occurrence_of(campaign, session=session))
    if _same_send(post.send, spec):
        raise MoveRefused(f"It is already planned for {when_text(to)}: nothing to move.")
    post.send = spec  # a new dict, so the JSON column is written
    session.flush()
    _check(campaign, post_key, rules, session=session)
    back = _back_to_draft(deliveries, mover, session=session, now=now)
    result = plan_and_store(campaign, rules, session=session, now=now)
    if not result.ok:  # checked above with the same rules; kept in case that ever differs
        raise MoveRefused(_refusal_text(result.findings), result.findings)
    _record_editor(campaign, mover, now)
    moved = sum(1 for d in session.scalars(select(Delivery).where(Delivery.post_id == post.id))
                if d.status is S.DRAFT and d.updated_at == now)
    notes = [f.message for f in result.findings if f.post_key == post_key]
    return Moved(campaign_key, post_key, to, campaign.timezone, moved, back, notes)


def _post(session: Session, campaign_key: str, post_key: str) -> tuple[Campaign, Post]:
    found = session.execute(
        select(Campaign, Post).join(Post, Post.campaign_id == Campaign.id)
        .where(Campaign.key == campaign_key, Post.key == post_key,
               Campaign.event_key.is_not(None))).one_or_none()
    if found is None:
        raise MoveRefused("That post is no longer there: choose another on the calendar.")
    campaign, post = found
    if campaign.withdrawn or post.withdrawn:
        raise MoveRefused("This post was withdrawn from its campaign: there is nothing to move.")
    return campaign, post


def _same_send(stored: Mapping[str, Any], spec: Mapping[str, Any]) -> bool:
    def normal(send: Mapping[str, Any]) -> dict[str, Any]:
        return {k: (str(v).zfill(5) if k == "at" else v) for k, v in send.items()
                if v is not None}

    return normal(stored) == normal(spec)


def _check(campaign: Campaign, post_key: str, rules: Rules, *, session: Session) -> None:
    """Refuse what the planner refuses anywhere in the campaign (nothing could be stored), and
    any move the planner would make of this post away from the time asked."""
    check = check_stored(campaign, rules, session=session)
    errors = [f for f in check.findings if f.severity == "error"]
    if errors:
        raise MoveRefused(_refusal_text(errors), errors)
    shifted = [f for f in check.findings if f.post_key == post_key]
    if shifted:
        raise MoveRefused("The planner would not send it at that time: "
                          + "; ".join(f.message for f in shifted)
                          + ". Nothing was moved: choose another time.", shifted)


def _refusal_text(findings: Sequence[PlanFinding]) -> str:
    said = "; ".join(f"post {f.post_key}: {f.message}" for f in findings
                     if f.severity == "error")
    return f"The planner refused the campaign, so nothing was moved: {said}"


def _back_to_draft(
    deliveries: Sequence[Delivery], mover: str, *, session: Session, now: datetime
) -> int:
    """Signed-off deliveries back to draft, each only if it is still in the state read (the
    worker may claim one meanwhile: then the move is refused rather than racing it)."""
    count = 0
    reason = f"moved by {mover}; needs sign-off again"
    for status in SIGNED_OFF:
        check_transition(status, S.DRAFT)
        ids = [d.id for d in deliveries if d.status is status]
        if not ids:
            continue
        changed = len(list(session.scalars(
            update(Delivery).where(Delivery.id.in_(ids), Delivery.status == status)
            .values(status=S.DRAFT, status_reason=reason, approved_by=None, updated_at=now)
            .returning(Delivery.id).execution_options(synchronize_session=False))))
        if changed != len(ids):
            raise MoveRefused("One of its posts began sending while you were moving it: "
                              "look again.")
        session.add_all(AuditEntry(at=now, delivery_id=i, actor=mover, old_status=status.value,
                                   new_status=S.DRAFT.value, reason=reason) for i in ids)
        count += changed
    for delivery in deliveries:
        session.expire(delivery)  # the UPDATE went around the loaded objects
    return count


def _record_editor(campaign: Campaign, mover: str, now: datetime) -> None:
    """As Compose's save records an edit (storage.authoring.save_campaign)."""
    campaign.edited_at, campaign.edited_by = now, mover
    editors = campaign.editors or []
    if mover not in editors:  # a new list, so that the JSON column is written
        campaign.editors = [*editors, mover]

