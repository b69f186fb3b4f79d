"""The one clock. Code that decides what is due takes `now` as an argument; edges call this."""

from __future__ import annotations

from datetime import UTC, datetime


def utcnow() -> datetime:
    """The current time as an aware UTC datetime."""
    return datetime.now(UTC)
