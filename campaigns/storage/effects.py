"""Effect estimates kept in the database, so that each is fitted once, not on every view.

An estimate is stored under the fingerprint of what it was fitted on (the weekly counts, the
window, the model's version: campaigns.analysis.effect.fingerprint). New or corrected figures
give a new fingerprint, so a stored estimate is never shown for figures it was not fitted on,
and nothing has to be cleared when reports are imported.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from campaigns.analysis.effect import EffectEstimate, from_record, to_record
from campaigns.storage.models import StoredEffectEstimate


def stored_estimate(fingerprint: str, *, session: Session) -> EffectEstimate | None:
    """The estimate stored under `fingerprint`; None if there is none, or if it was written in
    a shape this code cannot read (it is then fitted and stored again)."""
    record = session.scalar(select(StoredEffectEstimate.estimate)
                            .where(StoredEffectEstimate.fingerprint == fingerprint))
    if record is None:
        return None
    try:
        return from_record(record)
    except ValueError:
        return None


def store_estimates(
    estimates: Mapping[str, EffectEstimate], *, session: Session, now: datetime
) -> None:
    """Keep each estimate under its fingerprint, replacing what is there: another process may
    have stored the same one meanwhile (it is the same estimate), or an unreadable one."""
    if not estimates:
        return
    rows = [{"fingerprint": key, "estimate": to_record(estimate), "fitted_at": now}
            for key, estimate in estimates.items()]
    from sqlalchemy.dialects import postgresql, sqlite  # only when something is stored

    dialect = session.get_bind().dialect.name  # Chorus runs on SQLite or PostgreSQL
    insert = (sqlite.insert if dialect == "sqlite" else postgresql.insert)(StoredEffectEstimate)
    upsert = insert.on_conflict_do_update(
        index_elements=[StoredEffectEstimate.fingerprint],
        set_={"estimate": insert.excluded.estimate, "fitted_at": insert.excluded.fitted_at})
    session.execute(upsert, rows)
