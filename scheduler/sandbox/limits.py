"""X's rate limits: a count per (user, route group) in fixed windows of sandbox time."""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass


@dataclass(frozen=True)
class Window:
    limit: int
    remaining: int
    reset: int  # epoch seconds (sandbox time) when the window ends
    allowed: bool

    def headers(self) -> dict[str, str]:
        return {"x-rate-limit-limit": str(self.limit),
                "x-rate-limit-remaining": str(self.remaining),
                "x-rate-limit-reset": str(self.reset)}


class RateLimiter:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: dict[tuple[str, str], tuple[int, int]] = {}

    def take(self, who: str, group: str, limit: int, window_seconds: float,
             now: float) -> Window:
        """Count one request unless the window is exhausted."""
        return self._window(who, group, limit, window_seconds, now, spend=True)

    def peek(self, who: str, group: str, limit: int, window_seconds: float,
             now: float) -> Window:
        return self._window(who, group, limit, window_seconds, now, spend=False)

    def clear(self) -> None:
        with self._lock:
            self._counts.clear()

    def _window(self, who: str, group: str, limit: int, window_seconds: float, now: float,
                *, spend: bool) -> Window:
        index, reset = _index(now, window_seconds)
        with self._lock:
            seen_index, used = self._counts.get((who, group), (index, 0))
            if seen_index != index:
                used = 0
            allowed = used < limit
            if spend and allowed:
                used += 1
                self._counts[(who, group)] = (index, used)
        return Window(limit, max(limit - used, 0), reset, allowed)


def _index(now: float, window_seconds: float) -> tuple[int, int]:
    index = math.floor(now / window_seconds)
    return index, math.ceil((index + 1) * window_seconds)
