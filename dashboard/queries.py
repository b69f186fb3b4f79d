"""What the dashboard shows: SQL aggregates and listings as DataFrames, scoped to the viewer.

Every function takes `session` and, where data belongs to an organisation, the `viewer`: a
partner's queries are filtered to its own organisation here, in SQL, so a page cannot show
another organisation's rows by forgetting to hide them. No Streamlit in this module.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import pandas as pd
from sqlalchemy import ColumnElement, Select, false, func, or_, select, true
from sqlalchemy.orm import Session

from campaigns.core import calendar
from campaigns.core.planning import NETWORK_NAMES
from campaigns.core.timezones import resolve_local
from campaigns.storage.accounts import list_accounts
from campaigns.storage.approval import editors_of, may_sign_off
from campaigns.storage.control import pause_state
from campaigns.storage.models import (
    Account,
    Campaign,
    Consent,
    Delivery,
    DeliveryStatus,
    Event,
    Organisation,
    Post,
    Variant,
)
from campaigns.storage.reports import summarise
from campaigns.storage.users import ReadOnly, Viewer

if TYPE_CHECKING:  # share kits are built on the partners page only
    from campaigns.formats.sharekit import KitImage, ShareKit

S = DeliveryStatus
#: The life cycle in the order people read it.
STATUS_ORDER = (S.DRAFT, S.APPROVED, S.SCHEDULED, S.SENDING, S.POSTED, S.FAILED,
                S.UNCONFIRMED, S.MISSED, S.EXPIRED, S.PAUSED, S.CANCELLED)
NEEDS_ATTENTION = (S.FAILED, S.UNCONFIRMED, S.MISSED, S.EXPIRED)
WAITING = (S.APPROVED, S.SCHEDULED)
SANDBOX_LABEL = "Sandbox data — not real posts"
SYNTHETIC_LABEL = "Synthetic — not real figures"
#: Most rows a delivery listing returns; the page says when there were more.
MAX_ROWS = 1000
CONSENT_NAMES = {"accounts": "own accounts", "share-kit": "share kit", "declined": "declined"}


# ---- scope ------------------------------------------------------------------------------------


def _own_organisation(viewer: Viewer) -> ColumnElement[bool]:
    """A condition on Organisation: everything for officers and the board, else its own."""
    if viewer.sees_everything:
        return true()
    if viewer.organisation_key is None:
        return false()
    return Organisation.key == viewer.organisation_key


def _visible_campaigns(viewer: Viewer) -> ColumnElement[bool]:
    """Campaigns a partner takes part in: it has a consent row, or its accounts post them."""
    if viewer.sees_everything:
        return true()
    consented = (select(Consent.campaign_id).join(Consent.organisation)
                 .where(_own_organisation(viewer)))
    posting = (select(Delivery.campaign_id).join(Delivery.account).join(Account.organisation)
               .where(_own_organisation(viewer)))
    return or_(Campaign.id.in_(consented), Campaign.id.in_(posting))


def _campaign(session: Session, viewer: Viewer, key: str) -> Campaign | None:
    query = select(Campaign).where(Campaign.key == key, _visible_campaigns(viewer))
    return session.scalars(query).one_or_none()


# ---- formatting -------------------------------------------------------------------------------


def local_text(moment: datetime | None, zone: str) -> str:
    """A UTC instant as people read it: '2026-10-12 10:00 BST'."""
    if moment is None:
        return ""
    return moment.astimezone(ZoneInfo(zone)).strftime("%Y-%m-%d %H:%M %Z")


def account_label(organisation: str, network: str, handle: str) -> str:
    """An account as people name it: 'North Yorkshire Police · X @NYP_YorkHate'."""
    return f"{organisation} · {NETWORK_NAMES.get(network, network)} @{handle.lstrip('@')}"


def _frame(rows: Sequence[dict[str, Any]], columns: Sequence[str]) -> pd.DataFrame:
    return pd.DataFrame(list(rows), columns=list(columns))


# ---- deliveries -------------------------------------------------------------------------------


@dataclass(frozen=True)
class DeliveryFilter:
    statuses: tuple[str, ...] = ()
    campaign_key: str | None = None
    account_key: str | None = None
    since: datetime | None = None
    until: datetime | None = None


#: What a person reads first, then the keys and ids (for details and exports).
DELIVERY_COLUMNS = ("when", "campaign", "post", "account", "status", "reason", "approved by",
                    "sandbox", "text", "id", "campaign key", "account key", "remote id")
IDS = ("id", "campaign key", "account key", "remote id")


def _deliveries_query(viewer: Viewer, wanted: DeliveryFilter) -> Select[*tuple[Any, ...]]:
    query = (
        select(Delivery.id, Delivery.local_time, Campaign.key.label("campaign"),
               Campaign.name.label("campaign_name"), Post.key.label("post"),
               Organisation.name.label("organisation"), Account.key.label("account"),
               Account.handle, Delivery.network, Delivery.status,
               Delivery.status_reason, Delivery.approved_by, Delivery.remote_id,
               Account.is_sandbox, Delivery.text)
        .select_from(Delivery)
        .join(Delivery.campaign).join(Delivery.post).join(Delivery.account)
        .join(Account.organisation)
        .where(_own_organisation(viewer))
        .order_by(Delivery.send_at, Account.key)
    )
    if wanted.statuses:
        query = query.where(Delivery.status.in_([S(s) for s in wanted.statuses]))
    if wanted.campaign_key is not None:
        query = query.where(Campaign.key == wanted.campaign_key)
    if wanted.account_key is not None:
        query = query.where(Account.key == wanted.account_key)
    if wanted.since is not None:
        query = query.where(Delivery.send_at >= wanted.since)
    if wanted.until is not None:
        query = query.where(Delivery.send_at < wanted.until)
    return query


def deliveries(
    *, session: Session, viewer: Viewer, wanted: DeliveryFilter = DeliveryFilter()
) -> pd.DataFrame:
    """Deliveries in send order (at most MAX_ROWS), the viewer's organisation only."""
    rows = session.execute(_deliveries_query(viewer, wanted).limit(MAX_ROWS))
    return _frame([_delivery_row(r) for r in rows], DELIVERY_COLUMNS)


def _delivery_row(row: Any) -> dict[str, Any]:
    return {
        "when": row.local_time, "campaign": row.campaign_name, "post": row.post,
        "account": account_label(row.organisation, row.network, row.handle),
        "status": row.status.value, "reason": row.status_reason,
        "approved by": row.approved_by or ("awaiting sign-off" if row.status == S.DRAFT else ""),
        "sandbox": SANDBOX_LABEL if row.is_sandbox else "", "text": row.text, "id": row.id,
        "campaign key": row.campaign, "account key": row.account,
        "remote id": row.remote_id or "",
    }


def needs_attention(*, session: Session, viewer: Viewer) -> pd.DataFrame:
    """Failed, unconfirmed, missed and expired posts, each with what to do next."""
    wanted = DeliveryFilter(statuses=tuple(s.value for s in NEEDS_ATTENTION))
    frame = deliveries(session=session, viewer=viewer, wanted=wanted)
    frame["what to do next"] = [next_step(s, r) for s, r in
                                zip(frame["status"], frame["reason"], strict=True)]
    return frame[list(ATTENTION_COLUMNS)]


ATTENTION_COLUMNS = ("when", "account", "campaign", "post", "status", "reason",
                     "what to do next", "sandbox", "text", *IDS)


#: A person's answers for an unconfirmed post (campaigns.storage.deliveries.resolve_unconfirmed).
RESOLUTIONS = ("It is there: record it as posted", "It is not there: send it again",
               "It is not there: do not send it")


def next_step(status: str, reason: str) -> str:
    """Plain advice for a post that did not go out as planned."""
    folded = reason.casefold()
    if status == S.UNCONFIRMED:
        return ("Look at the account's timeline. If the post is there, record its id below; "
                "if not, send it again or cancel it.")
    if status == S.FAILED and any(w in folded for w in ("token", "401", "reconnect", "revoked")):
        return "Reconnect the account (chorus accounts connect), then re-plan the campaign."
    if status == S.FAILED and any(w in folded for w in ("duplicate", "too long", "400")):
        return "The network refused the text: change the post's wording, load and re-plan."
    if status == S.FAILED:
        return "Read the reason; if it has passed (e.g. an outage), re-plan to send it again."
    if status == S.MISSED:
        return ("Chorus was not running when it was due. Post it by hand if it is still "
                "timely; otherwise leave it.")
    if status == S.EXPIRED:
        return ("Nobody signed it off before its time, so it was not sent. If it still "
                "matters, have the campaign signed off and plan it again, or post it by hand.")
    return ""


# ---- headline figures -------------------------------------------------------------------------


def status_counts(*, session: Session, viewer: Viewer) -> pd.DataFrame:
    """Posts in each state, in life-cycle order (zeros included), and how many are sandbox."""
    query = (select(Delivery.status, func.count(), func.count().filter(Account.is_sandbox))
             .select_from(Delivery).join(Delivery.account).join(Account.organisation)
             .where(_own_organisation(viewer)).group_by(Delivery.status))
    found = {status: (total, sandbox) for status, total, sandbox in session.execute(query)}
    rows = [{"status": s.value, "posts": found.get(s, (0, 0))[0],
             "of which sandbox": found.get(s, (0, 0))[1]} for s in STATUS_ORDER]
    return _frame(rows, ("status", "posts", "of which sandbox"))


@dataclass(frozen=True)
class Headline:
    posted: int
    waiting: int
    awaiting_sign_off: int
    needs_attention: int
    sandbox: int


def headline(counts: pd.DataFrame) -> Headline:
    """The board's headline figures from `status_counts`."""
    by_status = dict(zip(counts["status"], counts["posts"], strict=True))

    def total(statuses: Sequence[S]) -> int:
        return int(sum(by_status.get(s.value, 0) for s in statuses))

    return Headline(posted=total([S.POSTED]), waiting=total(WAITING),
                    awaiting_sign_off=total([S.DRAFT]), needs_attention=total(NEEDS_ATTENTION),
                    sandbox=int(counts["of which sandbox"].sum()))


def status_summary(counts: pd.DataFrame) -> str:
    """One sentence for screen-reader users (and everyone) beside the status chart."""
    nonzero = [(s, int(n)) for s, n in zip(counts["status"], counts["posts"], strict=True) if n]
    if not nonzero:
        return "No posts are planned yet."
    listed = ", ".join(f"{n:,} {s}" for s, n in nonzero)
    largest = max(nonzero, key=lambda pair: pair[1])
    return (f"{sum(n for _, n in nonzero):,} posts in all: {listed}. "
            f"The largest group is {largest[0]} ({largest[1]:,}).")


# ---- calendar and campaigns -------------------------------------------------------------------


def campaign_years(*, session: Session, viewer: Viewer) -> list[int]:
    query = (select(Campaign.year).where(_visible_campaigns(viewer)).distinct()
             .order_by(Campaign.year))
    return list(session.scalars(query))


def events_for_year(*, session: Session, viewer: Viewer, year: int) -> pd.DataFrame:
    """The awareness events starting in `year`, with the viewer's campaigns for each."""
    definitions = [calendar.parse_event(e.definition) for e in session.scalars(select(Event))]
    planned: dict[str, list[str]] = {}
    query = (select(Campaign.event_key, Campaign.key)
             .where(Campaign.year == year, Campaign.withdrawn.is_(False),
                    _visible_campaigns(viewer)).order_by(Campaign.key))
    for event_key, campaign_key in session.execute(query):
        planned.setdefault(event_key or "", []).append(campaign_key)
    rows = [{"start": o.start, "end": o.end, "event": o.name, "key": o.key,
             "campaign": ", ".join(planned.get(o.key, [])),
             "plan": PLANNED if o.key in planned else NOT_PLANNED,
             "dates from": "the usual pattern" if o.from_rule else o.source}
            for o in calendar.occurrences(definitions, year)]
    return _frame(rows, ("start", "end", "event", "key", "campaign", "plan", "dates from"))


PLANNED = "campaign planned"
NOT_PLANNED = "no campaign"


def events_summary(events: pd.DataFrame, year: int) -> str:
    """One sentence for the calendar chart."""
    if events.empty:
        return f"No awareness events are recorded for {year}."
    planned = events.loc[events["plan"] == PLANNED, "event"].tolist()
    first, last = events.iloc[0], events.iloc[-1]
    listed = "; ".join(planned) if planned else "none yet"
    return (f"{len(events)} awareness events in {year}, from {first['event']} "
            f"(starting {first['start']:%d %B}) to {last['event']} (starting "
            f"{last['start']:%d %B}). Campaigns are planned for {len(planned)}: {listed}.")


CAMPAIGN_COLUMNS = ("key", "campaign", "event", "start", "end", "author", "approved by",
                    "paused", "awaiting sign-off", "waiting to send", "posted",
                    "needs attention", "all posts")


def campaigns(*, session: Session, viewer: Viewer) -> pd.DataFrame:
    """Each campaign the viewer may see: its window, sign-off, pause and its posts by state."""
    chosen = session.scalars(
        select(Campaign).where(Campaign.withdrawn.is_(False), _visible_campaigns(viewer))
        .order_by(Campaign.year, Campaign.key)).all()
    counts = _counts_by_campaign(session, viewer)
    windows = _windows(session, chosen)
    rows = []
    for c in chosen:
        found = counts.get(c.id, {})
        start, end = windows.get(c.key, (None, None))
        rows.append({
            "key": c.key, "campaign": c.name, "event": c.event_key or "one-off posts",
            "start": start, "end": end, "author": c.author, "approved by": c.approved_by or "",
            "paused": "paused" if c.paused else "",
            "awaiting sign-off": found.get(S.DRAFT, 0),
            "waiting to send": sum(found.get(s, 0) for s in WAITING),
            "posted": found.get(S.POSTED, 0),
            "needs attention": sum(found.get(s, 0) for s in NEEDS_ATTENTION),
            "all posts": sum(found.values()),
        })
    return _frame(rows, CAMPAIGN_COLUMNS)


def _counts_by_campaign(session: Session, viewer: Viewer) -> dict[int, dict[S, int]]:
    query = (select(Delivery.campaign_id, Delivery.status, func.count())
             .select_from(Delivery).join(Delivery.account).join(Account.organisation)
             .where(_own_organisation(viewer))
             .group_by(Delivery.campaign_id, Delivery.status))
    counts: dict[int, dict[S, int]] = {}
    for campaign_id, status, n in session.execute(query):
        counts.setdefault(campaign_id, {})[status] = n
    return counts


def _windows(session: Session, chosen: Sequence[Campaign]) -> dict[str, tuple[Any, Any]]:
    keys = {c.event_key for c in chosen if c.event_key}
    events = {e.key: calendar.parse_event(e.definition)
              for e in session.scalars(select(Event).where(Event.key.in_(keys)))}
    windows = {}
    for c in chosen:
        if c.event_key in events:
            found = calendar.occurrence(events[c.event_key], c.year)
            windows[c.key] = (found.start, found.end)
    return windows


@dataclass(frozen=True)
class CampaignInfo:
    key: str
    name: str
    summary: str
    author: str
    timezone: str
    approved_by: str | None
    approved_at: str
    paused: bool
    awaiting_sign_off: int
    #: Everyone who has changed it in the dashboard: none of them may approve it.
    editors: tuple[str, ...] = ()
    #: The day of the last sign-off as people say it: '1 December 2026'.
    approved_on: str = ""
    #: Why its waiting posts were sent back ('sent back by NAME: REASON'), if they were.
    sent_back: str = ""
    #: Whether the viewer may sign it off: their role does, and they neither wrote nor
    #: edited it.
    may_sign_off: bool = False

    def sign_off_state(self) -> str:
        """Where sign-off stands, as the page says it."""
        waiting = self.awaiting_sign_off
        posts = "1 post" if waiting == 1 else f"{waiting} posts"
        if waiting and self.approved_by:
            return (f"{posts} changed since {self.approved_by} signed off on "
                    f"{self.approved_on}: awaiting sign-off.")
        if waiting:
            return f"{posts} awaiting sign-off: nothing is sent until it is signed off."
        if self.approved_by:
            return f"Signed off by {self.approved_by} on {self.approved_on}."
        return "Not planned yet: nothing awaits sign-off."

    def who_signs_off(self) -> str:
        """For a viewer who may not sign it off: who can."""
        return ("An approver, or a communications officer who neither wrote nor edited this "
                f"campaign, can sign it off (not {self._not_them()}).")

    def _not_them(self) -> str:
        people = list(dict.fromkeys([self.author, *self.editors]))
        return people[0] if len(people) == 1 else ", ".join(people[:-1]) + " or " + people[-1]


def day_text(moment: datetime | None, zone: str) -> str:
    """The day of a UTC instant in `zone`, as people say it: '1 December 2026'."""
    if moment is None:
        return ""
    local = moment.astimezone(ZoneInfo(zone))
    return f"{local.day} {local:%B %Y}"


def campaign_info(
    *, session: Session, viewer: Viewer, key: str, zone: str
) -> CampaignInfo | None:
    campaign = _campaign(session, viewer, key)
    if campaign is None:
        return None
    reasons = list(session.scalars(
        select(Delivery.status_reason).join(Delivery.account).join(Account.organisation)
        .where(Delivery.campaign_id == campaign.id, Delivery.status == S.DRAFT,
               _own_organisation(viewer))))
    sent_back = next((r for r in reasons if r.startswith("sent back by ")), "")
    return CampaignInfo(campaign.key, campaign.name, campaign.summary, campaign.author,
                        campaign.timezone, campaign.approved_by,
                        local_text(campaign.approved_at, zone), campaign.paused, len(reasons),
                        tuple(dict.fromkeys(editors_of(campaign))),
                        day_text(campaign.approved_at, zone), sent_back,
                        viewer.may_sign_off and may_sign_off(viewer.name, campaign))


PREVIEW_COLUMNS = ("post", "network", "wording", "length", "limit", "fits", "problem", "text")


def variant_previews(*, session: Session, viewer: Viewer, campaign_key: str) -> pd.DataFrame:
    """Each post's text per network as it will be sent (link added), measured as that
    network measures it. A partner sees the shared wording and its own, no one else's."""
    campaign = _campaign(session, viewer, campaign_key)
    if campaign is None:
        return _frame([], PREVIEW_COLUMNS)
    wordings = [""] if viewer.sees_everything else ["", viewer.organisation_key or ""]
    query = (select(Post.key, Post.link, Variant.network, Variant.organisation_key, Variant.text)
             .join(Variant.post)
             .where(Post.campaign_id == campaign.id, Post.withdrawn.is_(False))
             .order_by(Post.key, Variant.organisation_key, Variant.network))
    if not viewer.sees_everything:
        query = query.where(Variant.organisation_key.in_(wordings))
    # Imported here: the content schema and the text measurer are slow to load, and only
    # this and the share kits need them (not the board page, where a first visit waits).
    from campaigns.core import text
    from campaigns.formats.content import compose

    names = _organisation_names(session)
    rows = []
    for post_key, link, network, organisation_key, wording in session.execute(query):
        composed = compose(wording, link)
        measured = text.measure(composed, network)
        rows.append({
            "post": post_key, "network": network,
            "wording": names.get(organisation_key, organisation_key) or "shared",
            "length": measured.length, "limit": measured.limit,
            "fits": "yes" if measured.valid else "no",
            "problem": measured.problem or "", "text": composed,
        })
    return _frame(rows, PREVIEW_COLUMNS)


# ---- accounts ---------------------------------------------------------------------------------


ACCOUNT_COLUMNS = ("account", "state", "last error", "back-off until", "token stored",
                   "sandbox", "account key")


def account_health(*, session: Session, viewer: Viewer, zone: str) -> pd.DataFrame:
    """Connection state, back-off and last error of each account. Never a token: only
    whether one is stored (campaigns.storage.accounts never hands one out)."""
    names = _organisation_names(session)
    rows = [
        {"account": account_label(names.get(a.organisation, a.organisation), a.network, a.handle),
         "state": a.state, "last error": a.last_error,
         "back-off until": local_text(a.backoff_until, zone),
         "token stored": "yes" if a.token_stored else "no",
         "sandbox": SANDBOX_LABEL if a.sandbox else "", "account key": a.key}
        for a in list_accounts(session=session)
        if viewer.sees_everything or a.organisation == viewer.organisation_key
    ]
    return _frame(rows, ACCOUNT_COLUMNS)


def _organisation_names(session: Session) -> dict[str, str]:
    return {key: name for key, name in session.execute(select(Organisation.key, Organisation.name))}


def account_keys(*, session: Session, viewer: Viewer) -> list[str]:
    query = (select(Account.key).join(Account.organisation)
             .where(Account.withdrawn.is_(False), _own_organisation(viewer))
             .order_by(Account.key))
    return list(session.scalars(query))


def posting_pause(*, session: Session) -> dict[str, object]:
    """The partnership-wide pause: {"active": bool, "reason", "since", "by"}."""
    return pause_state(session=session)


# ---- partners ---------------------------------------------------------------------------------


def partners(*, session: Session, viewer: Viewer) -> pd.DataFrame:
    accounts = (select(Account.organisation_id, func.count().label("n"))
                .where(Account.withdrawn.is_(False)).group_by(Account.organisation_id)
                .subquery())
    query = (select(Organisation.key, Organisation.name, Organisation.kind, Organisation.is_lead,
                    Organisation.website, func.coalesce(accounts.c.n, 0))
             .outerjoin(accounts, accounts.c.organisation_id == Organisation.id)
             .where(_own_organisation(viewer))
             .order_by(Organisation.is_lead.desc(), Organisation.name))
    rows = [{"key": key, "organisation": name, "kind": kind, "role": "lead" if lead else "partner",
             "accounts": n, "website": website or ""}
            for key, name, kind, lead, website, n in session.execute(query)]
    return _frame(rows, ("key", "organisation", "kind", "role", "accounts", "website"))


def consent_matrix(*, session: Session, viewer: Viewer) -> pd.DataFrame:
    """Partners (rows) by campaigns (columns): how each takes part. The lead posts every
    campaign and is left out."""
    campaign_names = {key: name for key, name in session.execute(
        select(Campaign.key, Campaign.name).where(Campaign.withdrawn.is_(False),
                                                  Campaign.event_key.is_not(None))
        .order_by(Campaign.year, Campaign.key))}
    organisations = session.execute(
        select(Organisation.id, Organisation.name)
        .where(Organisation.is_lead.is_(False), _own_organisation(viewer))
        .order_by(Organisation.name)).all()
    modes = {(organisation_id, key): mode for organisation_id, key, mode in session.execute(
        select(Consent.organisation_id, Campaign.key, Consent.mode).join(Consent.campaign))}
    rows = [{"partner": name, **{n: CONSENT_NAMES.get(modes.get((oid, k), ""), "not asked")
                                 for k, n in campaign_names.items()}}
            for oid, name in organisations]
    return _frame(rows, ("partner", *campaign_names.values()))


def share_kit_options(*, session: Session, viewer: Viewer) -> pd.DataFrame:
    """The (partner, campaign) pairs with a share kit: the partner posts that campaign by hand."""
    query = (select(Organisation.key, Organisation.name, Campaign.key, Campaign.name)
             .select_from(Consent).join(Consent.organisation).join(Consent.campaign)
             .where(Consent.mode == "share-kit", Campaign.withdrawn.is_(False),
                    _own_organisation(viewer))
             .order_by(Organisation.name, Campaign.year, Campaign.key))
    rows = [{"partner key": pk, "partner": pn, "campaign key": ck, "campaign": cn}
            for pk, pn, ck, cn in session.execute(query)]
    return _frame(rows, ("partner key", "partner", "campaign key", "campaign"))


def share_kit(
    *, session: Session, viewer: Viewer, partner_key: str, campaign_key: str, content_dir: Path
) -> ShareKit:
    """The kit for one partner and campaign: posts meant for partners ('all'), in that
    partner's own wording where it has one, with images read from `content_dir`."""
    from campaigns.formats.sharekit import KitPost, ShareKit

    if not viewer.sees_everything and partner_key != viewer.organisation_key:
        raise ReadOnly("a partner can take only its own organisation's share kits")
    found = session.execute(
        select(Organisation, Campaign).select_from(Consent)
        .join(Consent.organisation).join(Consent.campaign)
        .where(Organisation.key == partner_key, Campaign.key == campaign_key,
               Consent.mode == "share-kit")).one_or_none()
    if found is None:
        raise LookupError(f"{partner_key} has no share kit for {campaign_key}")
    from campaigns.storage.plans import campaign_spec  # as `variant_previews` says

    organisation, campaign = found
    zone = ZoneInfo(campaign.timezone)
    images = {p.key: p.images for p in session.scalars(
        select(Post).where(Post.campaign_id == campaign.id))}
    posts = []
    for post in campaign_spec(campaign, session=session).posts:
        if post.audience != "all":
            continue
        send_at, _ = resolve_local(post.local_time, zone)
        texts = {network: post.variants.get((network, partner_key), wording)
                 for (network, owner), wording in post.variants.items() if owner == ""}
        posts.append(KitPost(
            post.key, send_at, send_at.astimezone(zone).strftime("%a %d %b %Y, %H:%M %Z"),
            texts, [_kit_image(content_dir, i) for i in images.get(post.key, [])]))
    return ShareKit(partner_key, organisation.name, campaign.key, campaign.name, posts)


def _kit_image(content_dir: Path, image: dict[str, str]) -> KitImage:
    from campaigns.formats.images import ImageRefused, read_image
    from campaigns.formats.sharekit import KitImage

    try:  # only an image inside the content directory, of a type and size a network takes
        data: bytes | None = read_image(content_dir, image["file"])
    except ImageRefused:
        data = None
    return KitImage(Path(image["file"]).name, image["alt"], data)


# ---- reporting data ---------------------------------------------------------------------------


def datasets(*, session: Session, zone: str) -> pd.DataFrame:
    """The reporting files imported so far (campaigns.storage.reports); synthetic ones say so."""
    rows = [{"file": d.file, "source": d.source, "citation": d.citation,
             "synthetic": SYNTHETIC_LABEL if d.synthetic else "", "counts": d.counts,
             "imported": local_text(d.imported_at, zone), "imported by": d.imported_by}
            for d in summarise(session=session).datasets]
    return _frame(rows, ("file", "source", "citation", "synthetic", "counts", "imported",
                         "imported by"))
