"""Sign-off: a named approver, who neither wrote nor edited the campaign, approves its planned
posts. Its author is named in its file; its editors are everyone who has changed it in the
dashboard (Compose), recorded by campaigns.storage.authoring."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from campaigns.storage.deliveries import change_status
from campaigns.storage.models import Campaign, Delivery, DeliveryStatus


class ApprovalError(ValueError):
    pass


@dataclass(frozen=True)
class ApprovalResult:
    campaign_key: str
    approver: str
    approved: int


def same_person(a: str, b: str) -> bool:
    return " ".join(a.casefold().split()) == " ".join(b.casefold().split())


def editors_of(campaign: Campaign) -> list[str]:
    """Everyone who has changed the campaign in the dashboard (the last of them too, for a
    campaign edited before editors were recorded)."""
    last = [campaign.edited_by] if campaign.edited_by else []
    return [*(campaign.editors or []), *last]


def approve_campaign(
    campaign_key: str, approver: str, *, session: Session, now: datetime
) -> ApprovalResult:
    """Approve every draft delivery of the campaign; only approved deliveries are ever sent."""
    approver = " ".join(approver.split())
    if not approver:
        raise ApprovalError("name the approver with --as")
    campaign = session.scalars(select(Campaign).where(Campaign.key == campaign_key)).one_or_none()
    if campaign is None:
        raise ApprovalError(f"no campaign {campaign_key!r}; see `chorus plan` for the keys")
    if same_person(approver, campaign.author):
        raise ApprovalError(
            f"{approver} wrote {campaign_key!r}; someone other than its author must approve it")
    if any(same_person(approver, editor) for editor in editors_of(campaign)):
        raise ApprovalError(
            f"{approver} edited {campaign_key!r} in the dashboard; someone who has neither "
            "written nor edited it must approve it")
    drafts = session.scalars(
        select(Delivery).where(Delivery.campaign_id == campaign.id,
                               Delivery.status == DeliveryStatus.DRAFT)
    ).all()
    if not drafts:
        raise ApprovalError(f"{campaign_key!r} has no planned posts waiting for sign-off; "
                            "run `chorus plan` first")
    for delivery in drafts:
        delivery.approved_by = approver
        change_status(delivery, DeliveryStatus.APPROVED, session=session, actor=approver,
                      now=now, reason=f"approved by {approver}")
    campaign.approved_by = approver
    campaign.approved_at = now
    return ApprovalResult(campaign_key, approver, len(drafts))
