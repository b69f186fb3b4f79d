"""Planning against the database: read a campaign, plan it, and reconcile its deliveries.

Re-planning is idempotent. Deliveries that have been (or are being) sent are never touched;
a delivery whose words, account or time changed after sign-off goes back to draft.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import insert, select
from sqlalchemy.orm import Session, selectinload

from campaigns.core import calendar
from campaigns.core.planning import (
    NETWORK_NAMES,
    AccountSpec,
    CampaignSpec,
    DuplicateText,
    PlannedDelivery,
    PostSpec,
    Rules,
)
from campaigns.core.states import REPLANNABLE
from campaigns.formats.content import compose, send_local
from campaigns.formats.plan_check import PlanCheck, PlanFinding, check_plan
from campaigns.formats.plan_check import rules_from as rules_from
from campaigns.formats.schema import SendIn
from campaigns.storage.deliveries import change_status
from campaigns.storage.models import (
    Account,
    Campaign,
    Delivery,
    DeliveryStatus,
    Event,
    Organisation,
    Post,
)

ACTOR = "planner"
#: How far past a campaign's last post the daily cap looks for other campaigns' posts.
BOOKING_HORIZON = timedelta(days=60)
UNPLANNED = "no longer in the plan (consent withdrawn, or the post, variant or account removed)"


@dataclass
class PlanResult:
    campaign_key: str
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    kept_sent: int = 0
    cancelled: int = 0
    back_to_draft: int = 0
    notes: list[str] = field(default_factory=list)
    refusals: list[DuplicateText] = field(default_factory=list)
    #: What the planner refused or moved, post by post, in plain words (formats.plan_check).
    findings: list[PlanFinding] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.refusals


def campaigns_to_plan(
    *, session: Session, campaign_key: str | None = None, year: int | None = None
) -> list[Campaign]:
    query = (select(Campaign).where(Campaign.event_key.is_not(None))
             .order_by(Campaign.year, Campaign.key))
    if campaign_key is not None:
        query = query.where(Campaign.key == campaign_key)
    if year is not None:
        query = query.where(Campaign.year == year)
    return list(session.scalars(query))


def plan_and_store(
    campaign: Campaign, rules: Rules, *, session: Session, now: datetime
) -> PlanResult:
    """Plan `campaign` and bring its stored deliveries in line, inside the caller's transaction."""
    accounts = _accounts(session)
    check = check_stored(campaign, rules, session=session, accounts=accounts)
    result = PlanResult(campaign.key, refusals=check.plan.refusals, findings=check.findings)
    if not check.plan.ok:
        return result
    _reconcile(campaign, check.plan.deliveries, accounts, result, session=session, now=now)
    return result


def check_stored(
    campaign: Campaign, rules: Rules, *, session: Session,
    accounts: dict[str, tuple[AccountSpec, Account]] | None = None,
) -> PlanCheck:
    """The content check's planner part (formats.plan_check) for a stored campaign, against
    the accounts, consent and other campaigns' posts in the database. Writes nothing."""
    accounts = _accounts(session) if accounts is None else accounts
    spec = campaign_spec(campaign, session=session)
    booked = _booked(session, campaign, spec, ZoneInfo(campaign.timezone))
    return check_plan(spec, [a for a, _ in accounts.values()], rules, booked=booked)


def account_specs(*, session: Session) -> list[AccountSpec]:
    """Every account that can post, as the planner sees it."""
    return [spec for spec, _ in _accounts(session).values()]


def booked_for(
    campaign_key: str, spec: CampaignSpec, *, session: Session
) -> dict[tuple[str, date], int]:
    """Other campaigns' deliveries on each account's local days near `spec`'s posts."""
    stored = session.scalars(select(Campaign).where(Campaign.key == campaign_key)).one_or_none()
    return _booked(session, stored, spec, ZoneInfo(spec.timezone))


def occurrence_of(campaign: Campaign, *, session: Session) -> calendar.Occurrence:
    """The dates of the event a campaign is tied to, in the campaign's year."""
    event = session.scalars(select(Event).where(Event.key == campaign.event_key)).one()
    return calendar.occurrence(calendar.parse_event(event.definition), campaign.year)


def campaign_spec(campaign: Campaign, *, session: Session) -> CampaignSpec:
    """The pure planner's view of a stored campaign."""
    occurrence = occurrence_of(campaign, session=session)
    posts = [] if campaign.withdrawn else [
        _post_spec(post, occurrence) for post in _posts(session, campaign) if not post.withdrawn
    ]
    consenting = frozenset(
        c.organisation.key for c in campaign.consents if c.mode == "accounts"
    )
    return CampaignSpec(campaign.key, campaign.timezone, posts, consenting)


def _posts(session: Session, campaign: Campaign) -> list[Post]:
    query = (select(Post).where(Post.campaign_id == campaign.id)
             .options(selectinload(Post.variants)).order_by(Post.key))
    return list(session.scalars(query))


def _post_spec(post: Post, occurrence: calendar.Occurrence) -> PostSpec:
    audience: str | tuple[str, ...] = post.audience
    if post.audience not in ("all", "lead"):
        audience = tuple(post.audience.split(","))
    variants = {(v.network, v.organisation_key): compose(v.text, post.link) for v in post.variants}
    local = send_local(SendIn.model_validate(post.send), occurrence)
    return PostSpec(post.key, local, audience, variants)


def _accounts(session: Session) -> dict[str, tuple[AccountSpec, Account]]:
    query = (select(Account, Organisation).join(Account.organisation)
             .where(Account.withdrawn.is_(False)).order_by(Organisation.key, Account.key))
    found = {}
    for account, organisation in session.execute(query):
        spec = AccountSpec(account.key, organisation.key, account.network, account.handle,
                           organisation.is_lead, account.daily_cap, organisation.name)
        found[account.key] = (spec, account)
    return found


def _booked(
    session: Session, campaign: Campaign | None, spec: CampaignSpec, zone: ZoneInfo
) -> dict[tuple[str, date], int]:
    """Deliveries other campaigns already put on each account's local days near this one's
    (`campaign` None: one not stored yet, so every stored delivery is another campaign's)."""
    if not spec.posts:
        return {}
    times = [p.local_time for p in spec.posts]
    start = min(times).replace(tzinfo=zone) - timedelta(days=1)
    end = max(times).replace(tzinfo=zone) + BOOKING_HORIZON
    query = (select(Account.key, Delivery.send_at).join(Delivery.account)
             .where(Delivery.status != DeliveryStatus.CANCELLED,
                    Delivery.send_at >= start, Delivery.send_at < end))
    if campaign is not None:
        query = query.where(Delivery.campaign_id != campaign.id)
    booked: dict[tuple[str, date], int] = defaultdict(int)
    for account_key, send_at in session.execute(query):
        booked[(account_key, send_at.astimezone(zone).date())] += 1
    return booked


def _reconcile(
    campaign: Campaign,
    planned: list[PlannedDelivery],
    accounts: dict[str, tuple[AccountSpec, Account]],
    result: PlanResult,
    *,
    session: Session,
    now: datetime,
) -> None:
    posts = {p.key: p for p in _posts(session, campaign)}
    existing = {
        (d.post_id, d.account_id): d
        for d in session.scalars(select(Delivery).where(Delivery.campaign_id == campaign.id))
    }
    seen = set()
    new_rows = []
    for item in planned:
        post, account = posts[item.post_key], accounts[item.account_key][1]
        seen.add((post.id, account.id))
        result.notes.extend(f"{item.post_key} @ {item.account_key}: {n}" for n in item.notes)
        delivery = existing.get((post.id, account.id))
        if delivery is None:
            new_rows.append(_new_delivery(campaign, post, account, item, now))
        else:
            _update(delivery, item, result, session=session, now=now)
    if new_rows:
        session.execute(insert(Delivery), new_rows)
        result.created += len(new_rows)
    for pair, delivery in existing.items():
        if pair not in seen and delivery.status in REPLANNABLE:
            change_status(delivery, DeliveryStatus.CANCELLED, session=session, actor=ACTOR,
                          now=now, reason=UNPLANNED)
            result.cancelled += 1


def _new_delivery(
    campaign: Campaign, post: Post, account: Account, item: PlannedDelivery, now: datetime
) -> dict[str, object]:
    return {
        "campaign_id": campaign.id, "post_id": post.id, "account_id": account.id,
        "network": item.network, "text": item.text, "send_at": item.send_at,
        "local_time": item.local_time, "status": DeliveryStatus.DRAFT,
        "status_reason": "planned; waiting for sign-off", "plan_notes": "\n".join(item.notes),
        "content_hash": item.content_hash, "created_at": now, "updated_at": now,
    }


def _update(
    delivery: Delivery, item: PlannedDelivery, result: PlanResult, *, session: Session,
    now: datetime,
) -> None:
    revived = delivery.status is DeliveryStatus.CANCELLED and delivery.status_reason == UNPLANNED
    if delivery.status not in REPLANNABLE and not revived:
        result.kept_sent += 1
        return
    if delivery.content_hash == item.content_hash and not revived:
        result.unchanged += 1
        return
    delivery.text = item.text
    delivery.send_at = item.send_at
    delivery.local_time = item.local_time
    delivery.plan_notes = "\n".join(item.notes)
    delivery.content_hash = item.content_hash
    delivery.updated_at = now
    result.updated += 1
    if delivery.status is not DeliveryStatus.DRAFT:
        delivery.approved_by = None
        change_status(delivery, DeliveryStatus.DRAFT, session=session, actor=ACTOR, now=now,
                      reason="back in the plan; needs approval" if revived
                      else "changed after sign-off; needs approval again")
        result.back_to_draft += 1


# ---- what planning would do, before anything is stored ---------------------------------------


@dataclass(frozen=True)
class ScheduledPost:
    """One delivery the plan would store, as a person reads it."""

    local_time: str
    organisation: str
    network: str
    handle: str
    post_key: str
    text: str
    notes: tuple[str, ...]


@dataclass(frozen=True)
class PlanPreview:
    campaign_key: str
    schedule: tuple[ScheduledPost, ...]
    #: What the planner refused (errors) or moved (warnings), in plain words.
    findings: tuple[PlanFinding, ...]

    @property
    def ok(self) -> bool:
        return not any(f.severity == "error" for f in self.findings)


def preview_plan(campaign_key: str, rules: Rules, *, session: Session) -> PlanPreview | None:
    """The schedule `plan_and_store` would store for the campaign, with the same rules and
    the same check; None if there is no such campaign. Writes nothing."""
    stored = session.scalars(select(Campaign).where(Campaign.key == campaign_key,
                                                    Campaign.event_key.is_not(None))).one_or_none()
    if stored is None:
        return None
    accounts = _accounts(session)
    check = check_stored(stored, rules, session=session, accounts=accounts)
    schedule = []
    for item in sorted(check.plan.deliveries, key=lambda d: (d.send_at, d.account_key)):
        spec = accounts[item.account_key][0]
        schedule.append(ScheduledPost(
            item.local_time, spec.organisation_name, NETWORK_NAMES.get(spec.network, spec.network),
            spec.handle, item.post_key, item.text, item.notes))
    return PlanPreview(campaign_key, tuple(schedule), tuple(check.findings))
