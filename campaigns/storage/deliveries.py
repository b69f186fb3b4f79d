"""Delivery state changes, each written to the audit log in the same transaction."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from campaigns.core.states import check_transition
from campaigns.storage.models import Account, AuditEntry, Campaign, Delivery, DeliveryStatus


def change_status(
    delivery: Delivery,
    new: DeliveryStatus,
    *,
    session: Session,
    actor: str,
    reason: str,
    now: datetime,
) -> None:
    """Move `delivery` to `new`, recording who, when and why."""
    old = delivery.status
    check_transition(old, new)
    delivery.status = new
    delivery.status_reason = reason
    delivery.updated_at = now
    session.add(AuditEntry(at=now, delivery=delivery, actor=actor, old_status=old.value,
                           new_status=new.value, reason=reason))


def list_deliveries(
    *,
    session: Session,
    status: DeliveryStatus | None = None,
    campaign_key: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> list[Delivery]:
    query = (
        select(Delivery)
        .join(Delivery.campaign)
        .join(Delivery.account)
        .order_by(Delivery.send_at, Account.key)
    )
    if status is not None:
        query = query.where(Delivery.status == status)
    if campaign_key is not None:
        query = query.where(Campaign.key == campaign_key)
    if since is not None:
        query = query.where(Delivery.send_at >= since)
    if until is not None:
        query = query.where(Delivery.send_at < until)
    return list(session.scalars(query))


class ResolveError(ValueError):
    pass


def resolve_unconfirmed(
    delivery_id: int,
    *,
    session: Session,
    by: str,
    now: datetime,
    remote_id: str | None = None,
    cancel: bool = False,
) -> Delivery:
    """A person's answer for a post whose outcome Chorus could not decide.

    With `remote_id` the post is on the network: it is recorded as posted. Otherwise it is not
    there, and it is either sent again (scheduled now) or, with `cancel`, not sent at all.
    """
    delivery = session.get(Delivery, delivery_id)
    if delivery is None:
        raise ResolveError(f"no delivery {delivery_id}")
    if delivery.status is not DeliveryStatus.UNCONFIRMED:
        raise ResolveError(f"delivery {delivery_id} is {delivery.status.value}, not unconfirmed")
    if remote_id:
        delivery.remote_id = remote_id
        delivery.posted_at = now
        change_status(delivery, DeliveryStatus.POSTED, session=session, actor=by, now=now,
                      reason=f"confirmed posted by {by} (remote id {remote_id})")
    elif cancel:
        change_status(delivery, DeliveryStatus.FAILED, session=session, actor=by, now=now,
                      reason=f"not posted; {by} decided not to send it")
    else:
        delivery.not_before = now
        delivery.claimed_by = None
        delivery.lease_until = None
        change_status(delivery, DeliveryStatus.SCHEDULED, session=session, actor=by, now=now,
                      reason=f"not posted, checked by {by}; sending again")
    return delivery
