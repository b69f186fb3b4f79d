"""The Sign-off page's edge: the queue of what awaits sign-off, cached, and approving what the
approver was shown.

The cached queue is keyed by a cheap version of it (which posts await sign-off, with which
content hashes), read on every run, so a plan sent for sign-off in another tab, or a post the
worker expired, shows at once rather than after the cache's time. Query functions live in
campaigns.storage.sign_off_queue; sessions and the other caches come from dashboard.data.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta

import streamlit as st

from campaigns.core.clock import utcnow
from campaigns.storage import sign_off_queue
from campaigns.storage.approval import ApprovalResult, approve_campaign
from campaigns.storage.sign_off_queue import QueuedCampaign
from campaigns.storage.users import Viewer
from dashboard import data


def remind_before() -> timedelta:
    """How long before a post is due its campaign is reminded (CHORUS_SIGN_OFF_REMINDER_HOURS)."""
    return timedelta(hours=data.settings().sign_off_reminder_hours)


def queue(viewer: Viewer) -> tuple[QueuedCampaign, ...]:
    """What awaits sign-off, campaign by campaign, the earliest due first (empty for anyone
    who does not sign off)."""
    with data.reading() as session:
        version = sign_off_queue.queue_version(session=session)
    return _queue(viewer, version)


@st.cache_data(ttl=data.TTL, show_spinner=False)
def _queue(viewer: Viewer, version: str) -> tuple[QueuedCampaign, ...]:
    """`version` (queue_version) is here only as part of the cache's key."""
    with data.reading() as session:
        return sign_off_queue.sign_off_queue(session=session, viewer=viewer, zone=data.zone(),
                                             now=utcnow(), remind_before=remind_before())


def approve(viewer: Viewer, campaign_key: str, seen: Mapping[int, str]) -> ApprovalResult:
    """Sign off the posts the viewer was shown (delivery id -> content hash), as the viewer;
    ApprovalError if they may not, or if what awaits sign-off is no longer what they saw."""
    with data._signing_off(viewer) as session:
        result = approve_campaign(campaign_key, viewer.name, session=session, now=utcnow(),
                                  seen=dict(seen))
    _queue.clear()
    return result


def send_back(viewer: Viewer, campaign_key: str, reason: str) -> ApprovalResult:
    """Refuse sign-off with a reason, as the campaign page does."""
    result = data.send_back_posts(viewer, campaign_key, reason)
    _queue.clear()
    return result
