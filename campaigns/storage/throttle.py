"""Sign-in throttling: after too many failed sign-ins, refuse further tries for a while.

Failures are counted against the e-mail address typed (whether or not it is a user's, so the
refusal says nothing about which addresses exist) and against the client's network address.
Each is a counter with its own rule: LIMIT failures within WINDOW lock it for FIRST_LOCK, and
each further lock-out within a day doubles, up to LONGEST_LOCK. While locked, even the right
password is refused. Failures are rows in the database, so every dashboard replica and every
restart sees the same count; rows older than HISTORY are deleted as new ones are written.

`locked_until` is the rule itself, a pure function of the failure times; the rest is storage.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from campaigns.storage.models import SignInFailure

ACCOUNT = "account"
CLIENT = "client"
#: How long failures are kept, and so how long lock-outs keep growing.
HISTORY = timedelta(days=1)


@dataclass(frozen=True)
class Rule:
    limit: int
    window: timedelta
    first_lock: timedelta
    longest_lock: timedelta

    def lock(self, strikes: int) -> timedelta:
        """The length of the `strikes`-th lock-out in a row: doubling, up to the longest."""
        return min(self.first_lock * 2 ** min(strikes - 1, 16), self.longest_lock)


#: One person mistyping a password rarely fails five times in a quarter of an hour.
ACCOUNT_RULE = Rule(limit=5, window=timedelta(minutes=15), first_lock=timedelta(minutes=15),
                    longest_lock=timedelta(hours=8))
#: Several people may share one network address (an office, a council's proxy), so more.
CLIENT_RULE = Rule(limit=20, window=timedelta(minutes=15), first_lock=timedelta(minutes=15),
                   longest_lock=timedelta(hours=8))


@dataclass(frozen=True)
class Counter:
    """What failures are counted against: a scope and a digest of the address."""

    scope: str
    key: str
    rule: Rule


def _digest(scope: str, value: str) -> str:
    return hashlib.sha256(f"{scope}:{value}".encode()).hexdigest()


def account_counter(normalised_email: str) -> Counter:
    return Counter(ACCOUNT, _digest(ACCOUNT, normalised_email), ACCOUNT_RULE)


def client_counter(address: str | None) -> Counter | None:
    """The counter of a client's network address; None when the address is not known."""
    address = (address or "").strip().casefold()
    return Counter(CLIENT, _digest(CLIENT, address), CLIENT_RULE) if address else None


class Locked(PermissionError):
    """Too many failed sign-ins; `until` says when the next try is allowed."""

    def __init__(self, scope: str, until: datetime, now: datetime) -> None:
        self.scope, self.until = scope, until
        minutes = max(1, math.ceil((until - now).total_seconds() / 60))
        wait = f"{minutes} minute{'s' if minutes != 1 else ''}"
        whose = ("with this e-mail address" if scope == ACCOUNT
                 else "from your network address")
        super().__init__(
            f"Too many failed sign-ins {whose}, so signing in is paused. Please try again in "
            f"{wait} (after {until:%H:%M} UTC on {until.day} {until:%B}). If you cannot wait, "
            "a communications officer can lift the pause for your address (chorus users "
            "unlock).")


def locked_until(failures: Iterable[datetime], rule: Rule) -> datetime | None:
    """When the latest lock-out that `failures` earn ends (None if they earn none).

    Failures are taken in order: each LIMIT within a WINDOW of each other lock the counter,
    and failures during a lock-out (which only a race between replicas lets in) do not count.
    """
    until: datetime | None = None
    strikes = 0
    counted: list[datetime] = []
    for at in sorted(failures):
        if until is not None and at < until:
            continue
        counted = [*(t for t in counted if t > at - rule.window), at]
        if len(counted) >= rule.limit:
            strikes += 1
            until = at + rule.lock(strikes)
            counted = []
    return until


def refuse_if_locked(counters: Sequence[Counter], *, session: Session, now: datetime) -> None:
    """Raise Locked if any of `counters` is locked at `now`."""
    for counter in counters:
        failures = session.scalars(select(SignInFailure.at).where(
            SignInFailure.scope == counter.scope, SignInFailure.key == counter.key,
            SignInFailure.at > now - HISTORY))
        until = locked_until(failures, counter.rule)
        if until is not None and until > now:
            raise Locked(counter.scope, until, now)


def record_failure(counters: Sequence[Counter], *, session: Session, now: datetime) -> None:
    """Count a failed sign-in against each of `counters`, forgetting failures over a day old."""
    session.execute(delete(SignInFailure).where(SignInFailure.at <= now - HISTORY))
    session.add_all(SignInFailure(scope=c.scope, key=c.key, at=now) for c in counters)
    session.flush()


def clear(counter: Counter, *, session: Session) -> int:
    """Forget `counter`'s failures (a sign-in that succeeded, an officer's unlock); how many."""
    result = session.execute(delete(SignInFailure).where(
        SignInFailure.scope == counter.scope, SignInFailure.key == counter.key))
    return int(getattr(result, "rowcount", 0) or 0)
