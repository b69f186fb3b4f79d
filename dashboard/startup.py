"""What is done once, before the first visitor, so that no visitor waits for it.

`chorus dashboard` brings the schema up to date (as every command does) and says so to the
app through SCHEMA_READY_ENV, so that the app does not load Alembic to check it again on its
first page; and it fits and stores the effect estimates the board page shows first. Then the
Streamlit server process imports the app's modules (`import_app_modules`, from
dashboard/server.py) before it serves anyone. No Streamlit imported here: the command, the app
and bench/dashboard.py all use this module.
"""

from __future__ import annotations

import hashlib
import importlib
import pkgutil
from collections.abc import Mapping
from datetime import datetime

from sqlalchemy.orm import Session, sessionmaker

from campaigns.storage import db
from dashboard.insights import effect_estimates

#: The dashboard's Streamlit scripts, run by Streamlit on each visit rather than imported.
SCRIPTS = frozenset({"dashboard.app", "dashboard.server"})
#: Loaded by Streamlit only when a page first draws a table or a chart (it sends DataFrames
#: as Arrow), so a server that did not import it would make its first visitor wait for it.
DRAWING_MODULES = ("pyarrow",)

#: Holds `schema_marker(url)` once `url`'s schema is up to date.
SCHEMA_READY_ENV = "CHORUS_DASHBOARD_SCHEMA_READY"


def schema_marker(url: str) -> str:
    """A digest of the database's address, so that the address (and any password in it) is
    not copied into another variable, and a marker for one database never vouches for
    another."""
    return hashlib.sha256(url.encode()).hexdigest()


def schema_ready(url: str, environment: Mapping[str, str]) -> bool:
    return environment.get(SCHEMA_READY_ENV) == schema_marker(url)


def fit_first_effects(
    sessions: sessionmaker[Session], *, now: datetime, zone: str | None = None
) -> int:
    """Fit and store the estimates the board page shows first; how many were fitted (none
    when they are stored already). The day is `now`'s in `zone` (default: the configured
    time zone, the board page's), so that the estimates fitted are those the page asks for."""
    if zone is None:
        from campaigns.config.settings import load_settings

        zone = load_settings().timezone
    with db.transaction(sessions) as session:
        return effect_estimates.fit_first_effects(session=session, now=now, zone=zone)


def import_app_modules() -> list[str]:
    """Import every module of the dashboard package that its pages import (not its scripts,
    which Streamlit runs), and so pandas, Altair, SQLAlchemy and pydantic with them, plus
    what Streamlit loads to draw a table or a chart; the names imported.

    The server process calls this before it serves anyone: a module is imported once per
    process (sys.modules), so the pages' own imports then cost nothing. Imports only: nothing
    here connects to a database or reads settings (dashboard.data builds its engine on
    first use).
    """
    import dashboard

    names = [module.name for module in pkgutil.walk_packages(dashboard.__path__, "dashboard.")
             if module.name not in SCRIPTS]
    for name in [*names, *DRAWING_MODULES]:
        importlib.import_module(name)
    return names
