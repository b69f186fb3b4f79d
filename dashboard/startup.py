"""What `chorus dashboard` does once, before it starts Streamlit, so that no visitor waits for it.

It brings the schema up to date (as every command does) and says so to the app through
SCHEMA_READY_ENV, so that the app does not load Alembic to check it again on its first page;
and it fits and stores the effect estimates the board page shows first. No Streamlit here:
the command, the app and bench/dashboard.py all use it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from datetime import datetime

from sqlalchemy.orm import Session, sessionmaker

from campaigns.storage import db
from dashboard.insights import effect_estimates

#: Holds `schema_marker(url)` once `url`'s schema is up to date.
SCHEMA_READY_ENV = "CHORUS_DASHBOARD_SCHEMA_READY"


def schema_marker(url: str) -> str:
    """A digest of the database's address, so that the address (and any password in it) is
    not copied into another variable, and a marker for one database never vouches for
    another."""
    return hashlib.sha256(url.encode()).hexdigest()


def schema_ready(url: str, environment: Mapping[str, str]) -> bool:
    return environment.get(SCHEMA_READY_ENV) == schema_marker(url)


def fit_first_effects(sessions: sessionmaker[Session], *, now: datetime) -> int:
    """Fit and store the estimates the board page shows first; how many were fitted (none
    when they are stored already)."""
    with db.transaction(sessions) as session:
        return effect_estimates.fit_first_effects(session=session, now=now)
