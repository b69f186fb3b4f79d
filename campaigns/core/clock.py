"""The one clock. Code that decides what is due takes `now` as an argument; edges call this."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta


def utcnow() -> datetime:
    """The current time as an aware UTC datetime."""
    return datetime.now(UTC)


class WarpClock:
    """Simulated time for replaying a stretch of the past (the demo).

    It runs at real speed from `start`, and `jump_to` moves it forward over stretches where
    nothing is due, so a year replays in a minute while every post still goes out at its own
    moment. It never passes `until` (default: real time); once it reaches it, it stays there
    (`until`) or runs as real time (no `until`).
    """

    def __init__(self, start: datetime, *, until: datetime | None = None,
                 real: Callable[[], float] = time.time) -> None:
        self._real = real
        self._until = None if until is None else until.timestamp()
        self._lock = threading.Lock()
        #: Simulated minus real seconds; never above zero.
        self._offset = min(0.0, start.timestamp() - real())

    def epoch(self) -> float:
        """The simulated time as epoch seconds (the sandbox's clock takes this)."""
        with self._lock:
            return self._capped(self._real() + self._offset)

    def now(self) -> datetime:
        return datetime.fromtimestamp(self.epoch(), UTC)

    __call__ = now

    @property
    def caught_up(self) -> bool:
        """True once the replay has reached its end: real time, or `until`."""
        with self._lock:
            real = self._real()
            end = real if self._until is None else min(real, self._until)
            return real + self._offset >= end

    def jump_to(self, moment: datetime) -> datetime:
        """Move forward to `moment` (never back, never past the end); the new time."""
        with self._lock:
            real = self._real()
            target = self._capped(min(moment.timestamp(), real))
            if target > real + self._offset:
                self._offset = target - real
            return datetime.fromtimestamp(self._capped(real + self._offset), UTC)

    def to_real(self, moment: datetime) -> datetime:
        """The real moment at which the clock will show `moment`, if it is not moved."""
        with self._lock:
            return moment - timedelta(seconds=self._offset)

    def _capped(self, epoch: float) -> float:
        return epoch if self._until is None else min(epoch, self._until)
