"""The delivery life cycle: which state may follow which. Pure."""

from __future__ import annotations

import enum


class DeliveryStatus(enum.StrEnum):
    DRAFT = "draft"
    APPROVED = "approved"
    SCHEDULED = "scheduled"
    SENDING = "sending"
    POSTED = "posted"
    FAILED = "failed"
    UNCONFIRMED = "unconfirmed"
    MISSED = "missed"
    #: Not signed off before its send time: never sent.
    EXPIRED = "expired"
    CANCELLED = "cancelled"
    PAUSED = "paused"


#: States a re-plan may still rewrite; anything past these has been (or is being) sent.
REPLANNABLE = frozenset({DeliveryStatus.DRAFT, DeliveryStatus.APPROVED, DeliveryStatus.PAUSED})


S = DeliveryStatus

ALLOWED: dict[S, frozenset[S]] = {
    S.DRAFT: frozenset({S.APPROVED, S.CANCELLED, S.PAUSED, S.EXPIRED}),
    S.APPROVED: frozenset({S.SCHEDULED, S.DRAFT, S.CANCELLED, S.PAUSED, S.MISSED}),
    S.SCHEDULED: frozenset({S.SENDING, S.DRAFT, S.CANCELLED, S.PAUSED, S.MISSED}),
    S.SENDING: frozenset({S.POSTED, S.FAILED, S.UNCONFIRMED, S.SCHEDULED, S.MISSED, S.PAUSED}),
    S.UNCONFIRMED: frozenset({S.POSTED, S.FAILED, S.SCHEDULED}),
    S.PAUSED: frozenset({S.DRAFT, S.APPROVED, S.SCHEDULED, S.CANCELLED, S.MISSED}),
    S.FAILED: frozenset({S.SCHEDULED, S.CANCELLED}),
    S.MISSED: frozenset({S.CANCELLED}),
    S.EXPIRED: frozenset({S.CANCELLED}),
    S.POSTED: frozenset(),
    S.CANCELLED: frozenset({S.DRAFT}),  # only the planner revives what it cancelled
}


class TransitionError(ValueError):
    pass


def check_transition(old: S, new: S) -> None:
    """Raise TransitionError unless a delivery may go from `old` to `new`."""
    if new not in ALLOWED[old]:
        raise TransitionError(f"a delivery cannot go from {old.value} to {new.value}")
