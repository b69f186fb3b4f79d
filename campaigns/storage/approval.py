"""Sign-off: a named approver, who neither wrote nor edited the campaign, approves its planned
posts, or sends them back with a reason. Its author is named in its file; its editors are
everyone who has changed it in the dashboard (Compose), recorded by campaigns.storage.authoring."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import case, func, select, update
from sqlalchemy.orm import Session

from campaigns.core.states import check_transition
from campaigns.storage.models import AuditEntry, Campaign, Delivery, DeliveryStatus


class ApprovalError(ValueError):
    pass


@dataclass(frozen=True)
class ApprovalResult:
    campaign_key: str
    approver: str
    approved: int
    #: Posts read as awaiting sign-off that expired (or changed) before they could be
    #: approved: not approved, and not counted in `approved`.
    not_approved: int = 0


def same_person(a: str, b: str) -> bool:
    return " ".join(a.casefold().split()) == " ".join(b.casefold().split())


def editors_of(campaign: Campaign) -> list[str]:
    """Everyone who has changed the campaign in the dashboard (the last of them too, for a
    campaign edited before editors were recorded)."""
    last = [campaign.edited_by] if campaign.edited_by else []
    return [*(campaign.editors or []), *last]


#: What an approver is told when the posts on their page are no longer the ones awaiting
#: sign-off: approving would sign off words they have not read.
CHANGED_WHILE_READING = "These posts changed while you were reading: look again"


def approve_campaign(
    campaign_key: str, approver: str, *, session: Session, now: datetime,
    seen: Mapping[int, str] | None = None,
) -> ApprovalResult:
    """Approve the campaign's posts awaiting sign-off; only approved deliveries are ever sent.

    `seen`: the posts (delivery id -> content hash) the approver was shown. Then a post that
    has changed, or one that has come to await sign-off, since they read the page refuses the
    whole approval (CHANGED_WHILE_READING), never approving words unseen. Without it (the
    command line) the drafts read here are what is approved.

    Whatever the worker does meanwhile, each post is approved only if it is still the draft,
    with the words, that was read: the write is conditional (and the rows are locked while
    read, on PostgreSQL), so a post that expired in between stays expired and is not counted.
    """
    approver, campaign, drafts = _sign_off_of(campaign_key, approver, session=session,
                                              lock=True)
    wanted = {d.id: d.content_hash for d in drafts}
    if seen is not None:
        if any(wanted.get(i, h) != h for i, h in seen.items()) or wanted.keys() - seen.keys():
            raise ApprovalError(CHANGED_WHILE_READING)
        wanted = {i: h for i, h in wanted.items() if i in seen}
    approved = _approve_unchanged(wanted, approver, session=session, now=now)
    for delivery in drafts:
        session.expire(delivery)  # the conditional UPDATE went around the loaded objects
    if seen is not None and _still_waiting(wanted.keys() - approved, session=session):
        raise ApprovalError(CHANGED_WHILE_READING)  # changed between the read and the write
    if not approved:
        raise ApprovalError(f"{campaign_key!r} has no posts waiting for sign-off any more "
                            "(they expired or changed while you were reading): look again")
    campaign.approved_by = approver
    campaign.approved_at = now
    return ApprovalResult(campaign_key, approver, len(approved),
                          not_approved=len(drafts) - len(approved))


def _approve_unchanged(
    wanted: Mapping[int, str], approver: str, *, session: Session, now: datetime
) -> set[int]:
    """Approve each delivery in `wanted` that is still a draft with that content hash, keeping
    the words and time signed off; the ids approved."""
    if not wanted:
        return set()
    check_transition(DeliveryStatus.DRAFT, DeliveryStatus.APPROVED)
    reason = f"approved by {approver}"
    statement = (
        update(Delivery)
        .where(Delivery.id.in_(wanted), Delivery.status == DeliveryStatus.DRAFT,
               Delivery.content_hash == case(dict(wanted), value=Delivery.id))
        .values(status=DeliveryStatus.APPROVED, status_reason=reason, approved_by=approver,
                signed_off_text=Delivery.text, signed_off_send_at=Delivery.send_at,
                updated_at=now)
        .returning(Delivery.id)
        .execution_options(synchronize_session=False)
    )
    approved = set(session.scalars(statement))
    session.add_all(AuditEntry(at=now, delivery_id=i, actor=approver, old_status="draft",
                               new_status="approved", reason=reason) for i in sorted(approved))
    return approved


def _still_waiting(ids: Iterable[int], *, session: Session) -> bool:
    ids = list(ids)
    return bool(ids) and session.scalar(
        select(func.count()).select_from(Delivery)
        .where(Delivery.id.in_(ids), Delivery.status == DeliveryStatus.DRAFT)) != 0


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
    campaign_key: str, approver: str, *, session: Session, lock: bool = False
) -> tuple[str, Campaign, list[Delivery]]:
    """The approver's name, the campaign and its posts awaiting sign-off; ApprovalError when
    this person may not sign it off or nothing awaits sign-off. With `lock`, on PostgreSQL,
    the posts stay locked until the transaction ends (the worker's expiry skips them)."""
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
    query = (select(Delivery).where(Delivery.campaign_id == campaign.id,
                                    Delivery.status == DeliveryStatus.DRAFT)
             .order_by(Delivery.id))
    if lock and session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(of=Delivery)
    drafts = list(session.scalars(query))
    if not drafts:
        raise ApprovalError(f"{campaign_key!r} has no planned posts waiting for sign-off; "
                            "run `chorus plan` first")
    return approver, campaign, drafts


def may_sign_off(name: str, campaign: Campaign) -> bool:
    """Whether `name` neither wrote nor edited the campaign (the page offers sign-off only
    then)."""
    return not any(same_person(name, person) for person in [campaign.author,
                                                            *editors_of(campaign)])
