"""What every listing shares: the life cycle's order, the labels of sandbox and synthetic
data, the viewer's scope (in SQL) and how times and accounts are written.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pandas as pd
from sqlalchemy import ColumnElement, false, or_, select, true
from sqlalchemy.orm import Session

from campaigns.core.planning import NETWORK_NAMES
from campaigns.storage.models import (
    Account,
    Campaign,
    Consent,
    Delivery,
    DeliveryStatus,
    Organisation,
)
from campaigns.storage.users import Viewer

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



def _organisation_names(session: Session) -> dict[str, str]:
    return {key: name for key, name in session.execute(select(Organisation.key, Organisation.name))}



def day_text(moment: datetime | None, zone: str) -> str:
    """The day of a UTC instant in `zone`, as people say it: '1 December 2026'."""
    if moment is None:
        return ""
    local = moment.astimezone(ZoneInfo(zone))
    return f"{local.day} {local:%B %Y}"
