"""Writing a checked content library to the database: upserts by key, all or nothing.

Loading the same files twice changes nothing. Rows that have left the files are marked
`withdrawn` rather than deleted, so the history of what they sent stays intact.

Loading never silently replaces a campaign edited in the dashboard (campaigns.storage.authoring): if
its file says something else, or it has no file, the load is refused and each conflict named,
unless the caller asks to overwrite.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from campaigns.formats.content import CampaignContent, Library
from campaigns.formats.schema import PostIn
from campaigns.storage.export import ContentConflict, browser_conflicts, digest
from campaigns.storage.models import (
    Account,
    Base,
    Campaign,
    Consent,
    Event,
    Organisation,
    Post,
    ReportingChannel,
    Variant,
)

T = TypeVar("T", bound=Base)


class ContentInvalid(ValueError):
    def __init__(self, library: Library) -> None:
        super().__init__(f"{len(library.errors)} error(s) in {library.root}")
        self.library = library


@dataclass
class LoadResult:
    created: Counter[str] = field(default_factory=Counter)
    updated: Counter[str] = field(default_factory=Counter)
    withdrawn: Counter[str] = field(default_factory=Counter)

    @property
    def changed(self) -> bool:
        return bool(self.created or self.updated or self.withdrawn)


def load_library(
    library: Library, *, session: Session, default_timezone: str, overwrite: bool = False
) -> LoadResult:
    """Upsert everything in an error-free `library`, inside the caller's transaction.

    Raises ContentConflict, before writing anything, when campaigns edited in the browser
    differ from the files; with `overwrite` the files' versions replace them.
    """
    if library.errors:
        raise ContentInvalid(library)
    conflicts = browser_conflicts(library, session=session, default_timezone=default_timezone)
    if conflicts and not overwrite:
        raise ContentConflict(conflicts)
    result = LoadResult()
    _load_events(library, session, result)
    _load_channels(library, session, result)
    organisations = _load_partners(library, session, result)
    for content in library.campaigns:
        campaign = _load_campaign(content, session, result, default_timezone)
        campaign.loaded_hash = digest(content.spec, default_timezone)
        campaign.edited_at = campaign.edited_by = None
    _withdraw_missing(session, Campaign, {c.key for c in library.campaigns}, result)
    session.flush()
    _load_consents(library, session, organisations, result)
    return result


def _upsert(session: Session, model: type[T], key: str, result: LoadResult, **values: Any) -> T:
    row = session.scalars(select(model).where(model.key == key)).one_or_none()  # type: ignore[attr-defined]
    name = model.__tablename__
    if row is None:
        row = model(key=key, **values)
        session.add(row)
        result.created[name] += 1
    elif _assign(row, values):
        result.updated[name] += 1
    return row


def _assign(row: Any, values: dict[str, Any]) -> bool:
    changed = False
    for attribute, value in values.items():
        if getattr(row, attribute) != value:
            setattr(row, attribute, value)
            changed = True
    return changed


def _withdraw_missing(
    session: Session, model: type[Any], keep: set[str], result: LoadResult
) -> None:
    query = select(model).where(model.withdrawn.is_(False))
    if model is Campaign:
        query = query.where(Campaign.event_key.is_not(None))  # bulk imports are not content
    for row in session.scalars(query):
        if row.key not in keep:
            row.withdrawn = True
            result.withdrawn[model.__tablename__] += 1


def _load_events(library: Library, session: Session, result: LoadResult) -> None:
    for event in library.events:
        definition = jsonable(library.event_data[event.key])
        _upsert(session, Event, event.key, result, name=event.name,
                description=event.description or "", url=event.url,
                strands=list(event.strands), definition=definition)


def _load_channels(library: Library, session: Session, result: LoadResult) -> None:
    for channel in library.channels:
        _upsert(session, ReportingChannel, channel.key, result, name=channel.name,
                url=channel.url, phone=channel.phone, description=channel.description)


def _load_partners(
    library: Library, session: Session, result: LoadResult
) -> dict[str, Organisation]:
    organisations = {}
    account_keys = set()
    for partner in library.partners:
        organisation = _upsert(session, Organisation, partner.key, result, name=partner.name,
                               kind=partner.kind, is_lead=partner.lead, website=partner.website)
        session.flush()
        organisations[partner.key] = organisation
        for account in partner.accounts:
            account_keys.add(account.key)
            _upsert(session, Account, account.key, result, organisation_id=organisation.id,
                    network=account.network, handle=account.handle,
                    daily_cap=account.daily_cap, withdrawn=False)
    _withdraw_missing(session, Account, account_keys, result)
    return organisations


def _load_consents(
    library: Library, session: Session, organisations: dict[str, Organisation], result: LoadResult
) -> None:
    campaigns = {c.key: c for c in session.scalars(select(Campaign))}
    existing = {(c.campaign_id, c.organisation_id): c for c in session.scalars(select(Consent))}
    wanted = set()
    for partner in library.partners:
        organisation = organisations[partner.key]
        for campaign_key, mode in partner.consent.items():
            pair = (campaigns[campaign_key].id, organisation.id)
            wanted.add(pair)
            row = existing.get(pair)
            if row is None:
                session.add(Consent(campaign_id=pair[0], organisation_id=pair[1], mode=mode))
                result.created["consents"] += 1
            elif _assign(row, {"mode": mode}):
                result.updated["consents"] += 1
    for pair, row in existing.items():
        if pair not in wanted and row.mode != "declined":
            row.mode = "declined"  # consent not restated in the files is not assumed
            result.withdrawn["consents"] += 1


def _load_campaign(
    content: CampaignContent, session: Session, result: LoadResult, default_timezone: str
) -> Campaign:
    spec = content.spec.campaign
    campaign = _upsert(session, Campaign, spec.key, result, name=spec.name, event_key=spec.event,
                       year=spec.year, timezone=spec.timezone or default_timezone,
                       author=spec.author, summary=spec.summary, withdrawn=False)
    session.flush()
    posts = {p.key: p for p in session.scalars(select(Post).where(Post.campaign_id == campaign.id))}
    for post_in in content.spec.posts:
        post = posts.get(post_in.key)
        values = _post_values(post_in)
        if post is None:
            post = Post(campaign_id=campaign.id, key=post_in.key, **values)
            session.add(post)
            result.created["posts"] += 1
        elif _assign(post, values):
            result.updated["posts"] += 1
        _load_variants(post, post_in, result)
    for key, post in posts.items():
        if key not in {p.key for p in content.spec.posts} and not post.withdrawn:
            post.withdrawn = True
            result.withdrawn["posts"] += 1
    return campaign


def _post_values(post_in: PostIn) -> dict[str, Any]:
    audience = post_in.audience if isinstance(post_in.audience, str) else ",".join(post_in.audience)
    return {
        "send": post_in.send.model_dump(exclude_none=True),
        "audience": audience,
        "link": post_in.link,
        "reporting_channel_key": post_in.reporting_channel,
        "images": [image.model_dump() for image in post_in.images],
        "withdrawn": False,
    }


def _load_variants(post: Post, post_in: PostIn, result: LoadResult) -> None:
    wanted = {(network, ""): wording for network, wording in post_in.variants.items()}
    for partner_key, by_network in post_in.partner_variants.items():
        for network, wording in by_network.items():
            wanted[(network, partner_key)] = wording
    current = {(v.network, v.organisation_key): v for v in post.variants}
    for pair, old in current.items():
        if pair not in wanted:
            post.variants.remove(old)
            result.withdrawn["variants"] += 1
    for (network, organisation_key), wording in wanted.items():
        found = current.get((network, organisation_key))
        if found is None:
            post.variants.append(
                Variant(network=network, organisation_key=organisation_key, text=wording))
            result.created["variants"] += 1
        elif found.text != wording:
            found.text = wording
            result.updated["variants"] += 1


def jsonable(value: Any) -> Any:
    """YAML's dates and integer keys, made safe for a JSON column."""
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if isinstance(value, date | datetime):
        return value.isoformat()
    return value
