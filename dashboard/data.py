"""The dashboard's edge: settings and engine built once per process, query results cached for
a short while, and the few changes an officer can make (each clears the cached results).

Nothing here connects at import time. Query functions live in `dashboard.queries`; this
module only opens sessions for them and caches what they return.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from tempfile import TemporaryDirectory
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import pandas as pd
import streamlit as st
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from campaigns.config.settings import Settings, load_settings
from campaigns.core.clock import utcnow
from campaigns.core.planning import Rules
from campaigns.storage import db
from campaigns.storage.approval import ApprovalResult, send_back
from campaigns.storage.control import PauseResult, pause, resume
from campaigns.storage.deliveries import resolve_unconfirmed
from campaigns.storage.users import PARTNER, Viewer
from dashboard import queries, startup
from dashboard.insights import effect_estimates, overview, reports, uploads
from dashboard.insights.effect_estimates import Effects, EffectYears
from dashboard.insights.overview import BoardOverview
from dashboard.insights.periods import Period
from dashboard.insights.uploads import UploadPreview
from dashboard.queries import CampaignInfo, DeliveryFilter

if TYPE_CHECKING:  # imported where used: the board page needs none of them
    from campaigns.storage.plans import PlanPreview, PlanResult
    from campaigns.storage.reports import ImportResult

#: Seconds a query result is reused: the worker changes statuses behind the dashboard's back.
TTL = 30
#: Where content (and its images, for share kits) lives; `chorus dashboard --content` sets it.
CONTENT_DIR_ENV = "CHORUS_CONTENT_DIR"  # the environment variable behind Settings.content_dir

logger = logging.getLogger(__name__)


@st.cache_resource(show_spinner=False)
def settings() -> Settings:
    return load_settings()


@st.cache_resource(show_spinner=False, on_release=Engine.dispose)
def _engine(url: str) -> Engine:
    engine = db.make_engine(url)
    if not startup.schema_ready(url, os.environ):  # `chorus dashboard` has upgraded it
        db.upgrade(engine)  # as the CLI does: a fresh database is usable at once
    return engine


@st.cache_resource(show_spinner=False)
def _sessions(url: str) -> sessionmaker[Session]:
    return db.session_factory(_engine(url))


def sessions() -> sessionmaker[Session]:
    return _sessions(settings().database_url)


@contextmanager
def reading() -> Iterator[Session]:
    with sessions()() as session:
        yield session


def rules() -> Rules:
    """The planner's rules, as `chorus plan` reads them from the settings."""
    from campaigns.formats.plan_check import rules_from  # as `hand_made_choices` says

    return rules_from(settings())


def content_dir() -> Path:
    return settings().content_dir


def zone() -> str:
    return settings().timezone


# ---- cached reads -----------------------------------------------------------------------------


@st.cache_data(ttl=TTL, show_spinner=False)
def deliveries(viewer: Viewer, wanted: DeliveryFilter) -> pd.DataFrame:
    with reading() as session:
        return queries.deliveries(session=session, viewer=viewer, wanted=wanted)


@st.cache_data(ttl=TTL, show_spinner=False)
def needs_attention(viewer: Viewer) -> pd.DataFrame:
    with reading() as session:
        return queries.needs_attention(session=session, viewer=viewer)


@st.cache_data(ttl=TTL, show_spinner=False)
def status_counts(viewer: Viewer) -> pd.DataFrame:
    with reading() as session:
        return queries.status_counts(session=session, viewer=viewer)


@st.cache_data(ttl=TTL, show_spinner=False)
def campaigns(viewer: Viewer) -> pd.DataFrame:
    with reading() as session:
        return queries.campaigns(session=session, viewer=viewer)


@st.cache_data(ttl=TTL, show_spinner=False)
def campaign_years(viewer: Viewer) -> list[int]:
    with reading() as session:
        return queries.campaign_years(session=session, viewer=viewer)


@st.cache_data(ttl=TTL, show_spinner=False)
def events_for_year(viewer: Viewer, year: int) -> pd.DataFrame:
    with reading() as session:
        return queries.events_for_year(session=session, viewer=viewer, year=year)


@st.cache_data(ttl=TTL, show_spinner=False)
def campaign_info(viewer: Viewer, key: str) -> CampaignInfo | None:
    with reading() as session:
        return queries.campaign_info(session=session, viewer=viewer, key=key, zone=zone())


@st.cache_data(ttl=TTL, show_spinner=False)
def variant_previews(viewer: Viewer, campaign_key: str) -> pd.DataFrame:
    with reading() as session:
        return queries.variant_previews(session=session, viewer=viewer,
                                        campaign_key=campaign_key)


@st.cache_data(ttl=TTL, show_spinner=False)
def account_health(viewer: Viewer) -> pd.DataFrame:
    with reading() as session:
        return queries.account_health(session=session, viewer=viewer, zone=zone())


@st.cache_data(ttl=TTL, show_spinner=False)
def account_keys(viewer: Viewer) -> list[str]:
    with reading() as session:
        return queries.account_keys(session=session, viewer=viewer)


@st.cache_data(ttl=TTL, show_spinner=False)
def posting_pause() -> dict[str, object]:
    with reading() as session:
        return queries.posting_pause(session=session)


@st.cache_data(ttl=TTL, show_spinner=False)
def partners(viewer: Viewer) -> pd.DataFrame:
    with reading() as session:
        return queries.partners(session=session, viewer=viewer)


@st.cache_data(ttl=TTL, show_spinner=False)
def consent_matrix(viewer: Viewer) -> pd.DataFrame:
    with reading() as session:
        return queries.consent_matrix(session=session, viewer=viewer)


@st.cache_data(ttl=TTL, show_spinner=False)
def share_kit_options(viewer: Viewer) -> pd.DataFrame:
    with reading() as session:
        return queries.share_kit_options(session=session, viewer=viewer)


@st.cache_data(ttl=TTL, show_spinner=False)
def share_kit_zip(viewer: Viewer, partner_key: str, campaign_key: str) -> tuple[str, bytes]:
    """The kit's file name and ZIP bytes."""
    with reading() as session:
        kit = queries.share_kit(session=session, viewer=viewer, partner_key=partner_key,
                                campaign_key=campaign_key, content_dir=content_dir())
    from campaigns.formats.sharekit import build_zip

    return kit.file_name, build_zip(kit, stamp=utcnow())


@st.cache_data(ttl=TTL, show_spinner=False)
def datasets() -> pd.DataFrame:
    with reading() as session:
        return queries.datasets(session=session, zone=zone())


# ---- changes (officers; sign-off also approvers) ----------------------------------------


#: Everything that shows a delivery's state, a campaign's sign-off or the pause.
_AFFECTED_BY_CHANGES = (deliveries, needs_attention, status_counts, campaigns, campaign_info,
                        variant_previews, posting_pause, events_for_year, share_kit_zip)


def _changed() -> None:
    for cached in _AFFECTED_BY_CHANGES:
        cached.clear()


@contextmanager
def _changing(viewer: Viewer) -> Iterator[Session]:
    viewer.require_change()
    with db.transaction(sessions()) as session:
        yield session
    _changed()


@contextmanager
def _signing_off(viewer: Viewer) -> Iterator[Session]:
    viewer.require_sign_off()
    with db.transaction(sessions()) as session:
        yield session
    _changed()


def send_back_posts(viewer: Viewer, campaign_key: str, reason: str) -> ApprovalResult:
    """Refuse sign-off with a reason: the posts stay drafts, never sent, saying why."""
    with _signing_off(viewer) as session:
        return send_back(campaign_key, viewer.name, reason, session=session, now=utcnow())


def plan_preview(viewer: Viewer, campaign_key: str) -> PlanPreview | None:
    """What planning the campaign would store (officers only); writes nothing."""
    from campaigns.storage.plans import preview_plan  # as `hand_made_choices` says

    viewer.require_change()
    with reading() as session:
        return preview_plan(campaign_key, rules(), session=session)


def send_for_sign_off(viewer: Viewer, campaign_key: str) -> PlanResult:
    """Plan the campaign and store its deliveries, awaiting sign-off, as `chorus plan` does;
    if the planner refuses, nothing is stored and the result says why."""
    from campaigns.storage.plans import campaigns_to_plan, plan_and_store

    with _changing(viewer) as session:
        [campaign] = campaigns_to_plan(session=session, campaign_key=campaign_key)
        return plan_and_store(campaign, rules(), session=session, now=utcnow())


def pause_posting(viewer: Viewer, reason: str, campaign_key: str | None = None) -> PauseResult:
    with _changing(viewer) as session:
        return pause(session=session, now=utcnow(), by=viewer.name, reason=reason,
                     campaign_key=campaign_key)


def resume_posting(viewer: Viewer, campaign_key: str | None = None) -> PauseResult:
    with _changing(viewer) as session:
        return resume(session=session, now=utcnow(), by=viewer.name, campaign_key=campaign_key)


def resolve(viewer: Viewer, delivery_id: int, *, remote_id: str | None, cancel: bool) -> str:
    """Settle an unconfirmed post; returns its new state and reason, for the page to say."""
    with _changing(viewer) as session:
        delivery = resolve_unconfirmed(delivery_id, session=session, by=viewer.name,
                                       now=utcnow(), remote_id=remote_id, cancel=cancel)
        return f"{delivery.status.value}: {delivery.status_reason}"


# ---- posts made by hand (officers, and partners for their own organisation) -------------------


def may_record_by_hand(viewer: Viewer) -> bool:
    """Officers, and a partner's own users (storage.manual_posts.record_as checks again)."""
    return viewer.may_change or (viewer.role == PARTNER and viewer.organisation_key is not None)


@st.cache_data(ttl=TTL, show_spinner=False)
def hand_made_choices(viewer: Viewer) -> dict[str, tuple[str, list[str]]]:
    """The campaigns (key -> name and post keys) the viewer may record a hand-made post of:
    all for officers, those its organisation takes part in for a partner, none for others."""
    # Imported here: it loads the content schema, slow to load, which the board page (where
    # a first visit waits) does not need.
    from campaigns.storage.manual_posts import campaign_posts

    if not may_record_by_hand(viewer):
        return {}
    with reading() as session:
        return campaign_posts(session=session, organisation_key=None if viewer.may_change
                              else viewer.organisation_key)


def record_by_hand(
    viewer: Viewer, link: str, *, organisation_key: str, campaign_key: str, post_key: str
) -> int:
    """Record a partner's hand-made post as the signed-in user; the new delivery's id.
    Raises ManualPostError (nothing written) if the link or the choice does not fit, or if
    the user may not record it."""
    from campaigns.storage.manual_posts import record_as  # as `hand_made_choices` says

    with db.transaction(sessions()) as session:
        recorded = record_as(viewer, link, session=session, organisation_key=organisation_key,
                             campaign_key=campaign_key, post_key=post_key, now=utcnow())
        recorded_id = recorded.id
    _changed()
    return recorded_id


# ---- board overview and the Data page (dashboard.insights) --------------------------------------


def today() -> date:
    """Today in the partnership's time zone."""
    return utcnow().astimezone(ZoneInfo(zone())).date()


@st.cache_data(ttl=TTL, show_spinner=False)
def reporting_areas() -> list[str]:
    with reading() as session:
        return reports.reporting_areas(session=session)


@st.cache_data(ttl=TTL, show_spinner=False)
def board_overview(viewer: Viewer, period: Period, area: str | None) -> BoardOverview:
    with reading() as session:
        return overview.board_overview(session=session, viewer=viewer, period=period,
                                       area=area, zone=zone(),
                                       threshold=settings().suppression_threshold)


@st.cache_data(ttl=TTL, show_spinner=False)
def effect_years(viewer: Viewer, area: str) -> EffectYears | None:
    with reading() as session:
        return effect_estimates.effect_years(session=session, viewer=viewer, area=area,
                                             today=today())


@st.cache_data(ttl=TTL, show_spinner=False)
def effects(viewer: Viewer, area: str, year: int) -> Effects:
    """Each window's estimate: stored ones as they are, the others fitted and then stored (a
    cache of derived figures, which even a read-only viewer's visit may fill)."""
    with reading() as session:
        found = effect_estimates.effects(session=session, viewer=viewer, area=area, year=year,
                                         today=today())
    _store_fitted(found)
    return found


def _store_fitted(found: Effects) -> None:
    """Store what was fitted; if the database refuses (busy, or a read-only replica), the
    estimates are still shown and will be fitted again by the next process."""
    if not any(r.fitted for r in found.results):
        return
    try:
        with db.transaction(sessions()) as session:
            effect_estimates.store_fitted(found, session=session, now=utcnow())
    except SQLAlchemyError as refused:
        logger.warning("effect estimates not stored: %s", refused.__class__.__name__)


@st.cache_data(ttl=TTL, show_spinner=False, max_entries=8)
def upload_preview(content: bytes, name: str, source: str | None) -> UploadPreview:
    """What importing the uploaded file would store, or its problems; writes nothing."""
    with reading() as session:
        return uploads.preview_upload(content, name=name, source=source, session=session,
                                      zone=zone())


def import_reports(
    viewer: Viewer, content: bytes, name: str, *, source: str | None, citation: str | None
) -> ImportResult:
    """Import an uploaded reporting file as the signed-in officer (all of it, or nothing).

    The importer reads a path, so the upload is written under its own name to a scratch folder
    that is removed at once; the dataset keeps the uploaded file's name.
    """
    from campaigns.storage.reports import import_report_file

    with _changing(viewer) as session, TemporaryDirectory(prefix="chorus-upload-") as folder:
        path = Path(folder) / uploads.upload_file_name(name)
        path.write_bytes(content)
        result = import_report_file(path, session=session, now=utcnow(), source=source,
                                    citation=citation, imported_by=viewer.name)
    for cached in (datasets, reporting_areas, board_overview, effect_years, effects,
                   upload_preview):
        cached.clear()
    # Now, while the officer waits, rather than on the board's next visit.
    startup.fit_first_effects(sessions(), now=utcnow(), zone=zone())
    return result
