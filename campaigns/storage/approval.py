"""Sign-off: a named approver, who neither wrote nor edited the campaign, approves its planned
posts, or sends them back with a reason. Its author is named in its file; its editors are
everyone who has changed it in the dashboard (Compose), recorded by campaigns.storage.authoring."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from campaigns.storage.deliveries import change_status
from campaigns.storage.models import AuditEntry, Campaign, Delivery, DeliveryStatus


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
    approver, campaign, drafts = _sign_off_of(campaign_key, approver, session=session)
    for delivery in drafts:
        delivery.approved_by = approver
        change_status(delivery, DeliveryStatus.APPROVED, session=session, actor=approver,
                      now=now, reason=f"approved by {approver}")
    campaign.approved_by = approver
    campaign.approved_at = now
    return ApprovalResult(campaign_key, approver, len(drafts))


def send_back(
    campaign_key: str, approver: str, reason: str, *, session: Session, now: datetime
) -> ApprovalResult:
    """Refuse sign-off: the waiting posts stay drafts, never sent, each saying who sent it back
    and why (also in the audit log), until the campaign is changed and sent again."""
    reason = " ".join(reason.split())
    if not reason:
        raise ApprovalError("say why the campaign is sent back, so its author can change it")
    approver, _campaign, drafts = _sign_off_of(campaign_key, approver, session=session)
    said = f"sent back by {approver}: {reason}"
    for delivery in drafts:
        delivery.status_reason = said
        delivery.updated_at = now
        session.add(AuditEntry(at=now, delivery=delivery, actor=approver, old_status="draft",
                               new_status="draft", reason=said))
    return ApprovalResult(campaign_key, approver, len(drafts))


def _sign_off_of(
    campaign_key: str, approver: str, *, session: Session
) -> tuple[str, Campaign, list[Delivery]]:
    """The approver's name, the campaign and its posts awaiting sign-off; ApprovalError when
    this person may not sign it off or nothing awaits sign-off."""
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
    drafts = list(session.scalars(
        select(Delivery).where(Delivery.campaign_id == campaign.id,
                               Delivery.status == DeliveryStatus.DRAFT)
    ))
    if not drafts:
        raise ApprovalError(f"{campaign_key!r} has no planned posts waiting for sign-off; "
                            "run `chorus plan` first")
    return approver, campaign, drafts


def may_sign_off(name: str, campaign: Campaign) -> bool:
    """Whether `name` neither wrote nor edited the campaign (the page offers sign-off only
    then)."""
    return not any(same_person(name, person) for person in [campaign.author,
                                                            *editors_of(campaign)])
