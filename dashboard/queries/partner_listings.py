"""Partners, their consent, share kits, and the reporting files imported."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import pandas as pd
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from campaigns.core.timezones import resolve_local
from campaigns.storage.models import (
    Account,
    Campaign,
    Consent,
    Organisation,
    Post,
)
from campaigns.storage.reports import summarise
from campaigns.storage.users import ReadOnly, Viewer
from dashboard.queries.common import (
    CONSENT_NAMES,
    SYNTHETIC_LABEL,
    _frame,
    _own_organisation,
    local_text,
)

if TYPE_CHECKING:  # share kits are built on the partners page only
    from campaigns.formats.sharekit import KitImage, ShareKit


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
