"""Delivery state changes, each written to the audit log in the same transaction."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from campaigns.models import Account, AuditEntry, Campaign, Delivery, DeliveryStatus
from campaigns.states import check_transition


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
