"""Stopping everything at once, in a crisis or a pre-election period, and starting again."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from campaigns.storage.deliveries import change_status
from campaigns.storage.models import Campaign, Control, Delivery, DeliveryStatus

PAUSE_KEY = "pause"
PAUSED_PREFIX = "paused"
#: The reason on posts held because their account cannot post until reconnected.
HELD_FOR_ACCOUNT = "held: the account needs reconnecting"
S = DeliveryStatus


class ControlError(ValueError):
    pass


@dataclass(frozen=True)
class PauseResult:
    scope: str
    deliveries: int
    in_flight: int


def is_paused(*, session: Session) -> bool:
    control = session.get(Control, PAUSE_KEY)
    return bool(control and control.value.get("active"))


def pause_state(*, session: Session) -> dict[str, object]:
    control = session.get(Control, PAUSE_KEY)
    if control is None:
        return {"active": False}
    return {**control.value, "since": control.updated_at.isoformat(), "by": control.updated_by}


def pause(
    *, session: Session, now: datetime, by: str, reason: str, campaign_key: str | None = None
) -> PauseResult:
    """Hold every waiting post (of one campaign, or of all). Posts already sending finish."""
    campaign = _campaign(session, campaign_key)
    if campaign is None:
        _set_control(session, {"active": True, "reason": reason}, by, now)
    else:
        campaign.paused = True
    waiting = _deliveries(session, campaign, [S.APPROVED, S.SCHEDULED])
    text = f"{PAUSED_PREFIX} by {by}: {reason}"
    for delivery in waiting:
        change_status(delivery, S.PAUSED, session=session, actor=by, reason=text, now=now)
    sending = _deliveries(session, campaign, [S.SENDING])
    return PauseResult(campaign_key or "everything", len(waiting), len(sending))


def resume(
    *, session: Session, now: datetime, by: str, campaign_key: str | None = None
) -> PauseResult:
    """Release what a pause held; posts whose time has gone by more than the grace end missed."""
    campaign = _campaign(session, campaign_key)
    if campaign is None:
        _set_control(session, {"active": False}, by, now)
    else:
        campaign.paused = False
    if is_paused(session=session):
        return PauseResult(campaign_key or "everything", 0, 0)  # the partnership-wide pause holds
    released = 0
    for delivery in _deliveries(session, campaign, [S.PAUSED]):
        if delivery.status_reason.startswith(PAUSED_PREFIX) and not delivery.campaign.paused:
            change_status(delivery, S.APPROVED, session=session, actor=by, now=now,
                          reason=f"resumed by {by}")
            released += 1
    return PauseResult(campaign_key or "everything", released, 0)


def _campaign(session: Session, key: str | None) -> Campaign | None:
    if key is None:
        return None
    campaign = session.scalars(select(Campaign).where(Campaign.key == key)).one_or_none()
    if campaign is None:
        raise ControlError(f"no campaign {key!r}")
    return campaign


def _deliveries(
    session: Session, campaign: Campaign | None, statuses: list[DeliveryStatus]
) -> list[Delivery]:
    query = select(Delivery).where(Delivery.status.in_(statuses))
    if campaign is not None:
        query = query.where(Delivery.campaign_id == campaign.id)
    return list(session.scalars(query))


def _set_control(session: Session, value: dict[str, object], by: str, now: datetime) -> None:
    control = session.get(Control, PAUSE_KEY)
    if control is None:
        session.add(Control(key=PAUSE_KEY, value=value, updated_at=now, updated_by=by))
    else:
        control.value, control.updated_at, control.updated_by = value, now, by


def release_held(account_id: int, *, session: Session, now: datetime, by: str) -> int:
    """Posts held for a disconnected account go back to the schedule once it is reconnected."""
    query = select(Delivery).where(Delivery.account_id == account_id,
                                   Delivery.status == S.PAUSED)
    released = 0
    for delivery in session.scalars(query):
        if delivery.status_reason.startswith(HELD_FOR_ACCOUNT):
            change_status(delivery, S.APPROVED, session=session, actor=by, now=now,
                          reason="account reconnected")
            released += 1
    return released
