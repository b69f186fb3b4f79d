"""The running sandbox's state: the store, the clock, the faults and the rate windows."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from scheduler.sandbox.clock import SandboxClock
from scheduler.sandbox.faults import FaultEngine, Faults, parse_faults
from scheduler.sandbox.limits import RateLimiter
from scheduler.sandbox.store import Store

_CLOCK = "clock"
_FAULTS = "faults"


class SandboxState:
    def __init__(self, store: Store, faults: str | dict[str, Any] | None = None, *,
                 real_time: Callable[[], float] = time.time) -> None:
        self.store = store
        self.real_time = real_time
        self.limiter = RateLimiter()
        #: Set when the server stops, to cut injected hangs and delays short.
        self.stopping = threading.Event()
        self._lock = threading.Lock()
        saved_clock = store.get_setting(_CLOCK)
        self._clock = SandboxClock() if saved_clock is None else SandboxClock.from_json(
            saved_clock)
        saved = store.get_setting(_FAULTS)
        chosen = parse_faults(faults) if faults is not None or saved is None else parse_faults(
            saved)
        self.faults = FaultEngine(chosen, self._save_faults)
        self._save_faults(chosen)

    # ---- the clock ------------------------------------------------------------------------

    def now(self) -> float:
        """The sandbox time, in epoch seconds."""
        with self._lock:
            clock = self._clock
        return clock.now(self.real_time())

    def clock_json(self) -> dict[str, Any]:
        with self._lock:
            clock = self._clock
        return clock.describe(self.real_time())

    def set_clock(self, *, now: float | None = None, offset_seconds: float | None = None,
                  speed: float | None = None) -> dict[str, Any]:
        with self._lock:
            self._clock = self._clock.changed(self.real_time(), now=now,
                                              offset_seconds=offset_seconds, speed=speed)
            self.store.put_setting(_CLOCK, self._clock.to_json())
        return self.clock_json()

    # ---- faults ---------------------------------------------------------------------------

    def set_faults(self, faults: Faults) -> None:
        self.faults.set(faults)
        self._save_faults(faults)

    def _save_faults(self, faults: Faults) -> None:
        self.store.put_setting(_FAULTS, faults.to_json())

    # ---- everything -----------------------------------------------------------------------

    def reset(self) -> None:
        self.store.reset()
        self.limiter.clear()
        with self._lock:
            self._clock = SandboxClock()
        self.set_faults(Faults())

    def pause(self, seconds: float) -> None:
        """Wait, unless the server is stopping."""
        if seconds > 0:
            self.stopping.wait(seconds)
