"""Posts a partner made by hand, recorded from their links so that their reach is counted.

A partner that takes a share kit posts by hand. Pasting its post's address records a delivery
of the campaign's post from that partner's account, already posted, with the remote id the
address carries. The engagement collector then reads its public metrics like any other posted
delivery (it is due a first reading at once), and the board sees the partnership's whole reach.

Only X addresses are understood so far: https://x.com/<account>/status/<id> (or twitter.com,
mobile. and www. forms, and /i/web/status/<id>). Anything else is refused with the reason.

In the dashboard (`record_as`), an officer records posts for any partner; a partner's own
user records its own organisation's posts, for campaigns it takes part in, and nothing else.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from campaigns.formats.content import compose
from campaigns.storage.models import (
    Account,
    AuditEntry,
    Campaign,
    Consent,
    Delivery,
    DeliveryStatus,
    Organisation,
    Post,
)
from campaigns.storage.users import PARTNER, Viewer

X_HOSTS = frozenset({"x.com", "twitter.com"})
_HOST_PREFIXES = ("www.", "mobile.")
_STATUS_PATH = re.compile(
    r"^/(?:i(?:/web)?|(?P<user>[A-Za-z0-9_]{1,15}))/status/(?P<id>[1-9][0-9]{0,18})"
    r"(?:/(?:photo|video)/[1-4])?/?$")
MAX_ID = 2**63 - 1
#: X's ids are snowflakes: the milliseconds since this moment, shifted left 22 bits.
X_EPOCH = datetime(2010, 11, 4, 1, 42, 54, 657000, tzinfo=UTC)
EXAMPLE = "https://x.com/YourAccount/status/1850000000000000000"
#: Consent modes in which a partner takes part in a campaign (not "declined").
TAKING_PART = ("accounts", "share-kit")


class ManualPostError(ValueError):
    """The post cannot be recorded; the message says why and what to do."""


@dataclass(frozen=True)
class PostLink:
    network: str
    remote_id: str
    #: The account named in the address (without "@"); None for /i/web/status/ addresses.
    handle: str | None


def parse_post_url(url: str) -> PostLink:
    """The network, remote id and author of a post's address; ManualPostError if it is not
    exactly the address of one X post."""
    text = url.strip()
    if not text or any(c.isspace() for c in text) or not text.isascii():
        raise ManualPostError(f"paste the post's address alone, such as {EXAMPLE}")
    parts = urlsplit(text)
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        raise ManualPostError(f"paste the whole address, starting https://, such as {EXAMPLE}")
    host = parts.netloc.lower()
    if "@" in host or ":" in host:
        raise ManualPostError("the address has a user name or port in it: paste the post's "
                              "address as X shows it")
    for prefix in _HOST_PREFIXES:
        host = host.removeprefix(prefix)
    if host not in X_HOSTS:
        raise ManualPostError(f"{parts.netloc} is not X: only X posts (x.com or twitter.com) "
                              "can be recorded so far")
    found = _STATUS_PATH.match(parts.path)
    if found is None or int(found["id"]) > MAX_ID:
        raise ManualPostError(f"that is not the address of one X post: it should look like "
                              f"{EXAMPLE}")
    return PostLink("x", found["id"], found["user"])


def snowflake_time(remote_id: str) -> datetime:
    """When X says a post was made, from its id."""
    return X_EPOCH + timedelta(milliseconds=int(remote_id) >> 22)


def record_manual_post(
    url: str,
    *,
    session: Session,
    organisation_key: str,
    campaign_key: str,
    post_key: str,
    by: str,
    now: datetime,
) -> Delivery:
    """Record a partner's hand-made post of a campaign's post as a posted delivery from its
    account, due its first engagement reading now. Raises ManualPostError, writing nothing,
    when the address, partner, account, campaign or post does not fit."""
    link = parse_post_url(url)
    organisation = session.scalars(
        select(Organisation).where(Organisation.key == organisation_key)).one_or_none()
    if organisation is None:
        raise ManualPostError(f"no partner {organisation_key!r}")
    account = _account(session, organisation, link)
    campaign, post = _campaign_post(session, campaign_key, post_key)
    _check_new(session, link, account, post)
    posted_at = _posted_at(link, now)
    zone = ZoneInfo(campaign.timezone)
    delivery = Delivery(
        campaign_id=campaign.id, post_id=post.id, account_id=account.id, network=link.network,
        text=_wording(post, organisation.key, link.network), send_at=posted_at,
        local_time=f"{posted_at.astimezone(zone):%Y-%m-%d %H:%M %Z}",
        status=DeliveryStatus.POSTED,
        status_reason=f"posted by hand by {organisation.name}; recorded by {by} from {url.strip()}",
        plan_notes="", content_hash=_hash(account.key, link.remote_id), remote_id=link.remote_id,
        posted_at=posted_at, metrics_due_at=now, created_at=now, updated_at=now, attempts=0)
    session.add(delivery)
    session.add(AuditEntry(at=now, delivery=delivery, actor=by, old_status=None,
                           new_status=DeliveryStatus.POSTED.value,
                           reason=delivery.status_reason))
    session.flush()
    return delivery


def record_as(
    viewer: Viewer,
    url: str,
    *,
    session: Session,
    organisation_key: str,
    campaign_key: str,
    post_key: str,
    now: datetime,
) -> Delivery:
    """`record_manual_post` for someone signed in to the dashboard, in their name. Officers
    record for any partner. A partner's user records only for its own organisation, and only
    for a campaign it takes part in; the board records nothing. Raises ManualPostError,
    writing nothing, for anyone else, whatever their browser sent."""
    if not viewer.may_change:
        if viewer.role != PARTNER or viewer.organisation_key is None:
            raise ManualPostError(f"{viewer.role} accounts cannot record posts; ask a "
                                  "communications officer")
        if organisation_key != viewer.organisation_key:
            raise ManualPostError("you can record only your own organisation's posts")
        if campaign_key not in campaign_posts(session=session, organisation_key=organisation_key):
            raise ManualPostError(f"your organisation does not take part in {campaign_key!r}")
    return record_manual_post(url, session=session, organisation_key=organisation_key,
                              campaign_key=campaign_key, post_key=post_key, by=viewer.name,
                              now=now)


def campaign_posts(
    *, session: Session, organisation_key: str | None = None
) -> dict[str, tuple[str, list[str]]]:
    """Campaigns a hand-made post can be recorded against: key -> (name, its post keys).
    With `organisation_key`, only those that organisation takes part in (TAKING_PART)."""
    query = (select(Campaign.key, Campaign.name, Post.key)
             .join(Post, Post.campaign_id == Campaign.id)
             .where(Campaign.withdrawn.is_(False), Campaign.event_key.is_not(None),
                    Post.withdrawn.is_(False))
             .order_by(Campaign.year, Campaign.key, Post.key))
    if organisation_key is not None:
        query = (query.join(Consent, Consent.campaign_id == Campaign.id)
                 .join(Organisation, Organisation.id == Consent.organisation_id)
                 .where(Organisation.key == organisation_key, Consent.mode.in_(TAKING_PART)))
    found: dict[str, tuple[str, list[str]]] = {}
    for campaign_key, name, post_key in session.execute(query):
        found.setdefault(campaign_key, (name, []))[1].append(post_key)
    return found


def _account(session: Session, organisation: Organisation, link: PostLink) -> Account:
    accounts = list(session.scalars(
        select(Account).where(Account.organisation_id == organisation.id,
                              Account.network == link.network, Account.withdrawn.is_(False))
        .order_by(Account.key)))
    if not accounts:
        raise ManualPostError(
            f"{organisation.name} has no {_network_name(link.network)} account in Chorus: add it "
            "to partners.yaml (accounts) and load the content, then record the post")
    if link.handle is None:
        if len(accounts) > 1:
            raise ManualPostError("the address does not say which account posted it: copy "
                                  "the address from the post itself (x.com/<account>/status/…)")
        return accounts[0]
    for account in accounts:
        if _bare(account.handle) == link.handle.casefold():
            return account
    handles = ", ".join(a.handle for a in accounts)
    raise ManualPostError(f"that post is by @{link.handle}, not by {organisation.name}'s "
                          f"{_network_name(link.network)} account ({handles})")


def _campaign_post(session: Session, campaign_key: str, post_key: str) -> tuple[Campaign, Post]:
    campaign = session.scalars(select(Campaign).where(Campaign.key == campaign_key)).one_or_none()
    if campaign is None or campaign.withdrawn:
        raise ManualPostError(f"no campaign {campaign_key!r}")
    post = session.scalars(select(Post).where(Post.campaign_id == campaign.id,
                                              Post.key == post_key)).one_or_none()
    if post is None or post.withdrawn:
        raise ManualPostError(f"campaign {campaign_key!r} has no post {post_key!r}")
    return campaign, post


def _check_new(session: Session, link: PostLink, account: Account, post: Post) -> None:
    recorded = session.scalars(select(Delivery).where(
        Delivery.network == link.network, Delivery.remote_id == link.remote_id)).first()
    if recorded is not None:
        raise ManualPostError(f"that post is already recorded (delivery {recorded.id})")
    planned = session.scalars(select(Delivery).where(
        Delivery.post_id == post.id, Delivery.account_id == account.id)).one_or_none()
    if planned is not None:
        raise ManualPostError(
            f"{account.key} already has a delivery of {post.key!r} ({planned.status.value}, "
            f"delivery {planned.id}): record this link against another post, or settle that "
            "delivery on the Deliveries page")


def _posted_at(link: PostLink, now: datetime) -> datetime:
    """X's own time for the post; `now` if the id does not carry a believable one."""
    made = snowflake_time(link.remote_id)
    return made if X_EPOCH < made <= now + timedelta(minutes=5) else now


def _wording(post: Post, organisation_key: str, network: str) -> str:
    """The words the partner was given for this network (its own, else the shared ones)."""
    texts = {v.organisation_key: v.text for v in post.variants if v.network == network}
    wording = texts.get(organisation_key, texts.get(""))
    return compose(wording, post.link) if wording else "(posted by hand; words not recorded)"


def _hash(account_key: str, remote_id: str) -> str:
    return hashlib.sha256(f"by hand\x1f{account_key}\x1f{remote_id}".encode()).hexdigest()


def _bare(handle: str) -> str:
    return handle.strip().removeprefix("@").split("@")[0].casefold()


def _network_name(network: str) -> str:
    return {"x": "X", "mastodon": "Mastodon", "bluesky": "Bluesky"}.get(network, network)
