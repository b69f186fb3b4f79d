"""Injected faults: their configuration, the named profiles, and the seeded decisions."""

from __future__ import annotations

import random
import threading
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

FAIL_STATUSES = frozenset({429, 500, 502, 503, 504})


@dataclass(frozen=True)
class FailNext:
    """Answer the next `count` matching requests with `status`."""

    status: int
    count: int = 1
    user: str | None = None
    route: str | None = None

    def to_json(self) -> dict[str, Any]:
        found = {"status": self.status, "count": self.count, "user": self.user,
                 "route": self.route}
        return {k: v for k, v in found.items() if v is not None}


@dataclass(frozen=True)
class RateLimits:
    posts_per_window: int = 100
    reads_per_window: int = 900
    media_per_window: int = 500
    window_seconds: float = 900.0

    def to_json(self) -> dict[str, Any]:
        return {"posts_per_window": self.posts_per_window,
                "reads_per_window": self.reads_per_window,
                "media_per_window": self.media_per_window,
                "window_seconds": self.window_seconds}


@dataclass(frozen=True)
class Faults:
    latency_ms: tuple[float, float] = (0.0, 0.0)
    error_rate: float = 0.0
    timeout_rate: float = 0.0
    hang_seconds: float = 30.0
    drop_after_store_rate: float = 0.0
    fail_next: tuple[FailNext, ...] = ()
    users: tuple[str, ...] | None = None
    routes: tuple[str, ...] | None = None
    rate_limit: RateLimits = field(default_factory=RateLimits)
    seed: int | None = None

    def to_json(self) -> dict[str, Any]:
        low, high = self.latency_ms
        return {
            "latency_ms": low if low == high else [low, high],
            "error_rate": self.error_rate,
            "timeout_rate": self.timeout_rate,
            "hang_seconds": self.hang_seconds,
            "drop_after_store_rate": self.drop_after_store_rate,
            "fail_next": [f.to_json() for f in self.fail_next],
            "users": None if self.users is None else list(self.users),
            "routes": None if self.routes is None else list(self.routes),
            "rate_limit": self.rate_limit.to_json(),
            "seed": self.seed,
        }

    def scoped_to(self, method: str, path: str, username: str | None) -> bool:
        """Whether the random faults apply to this request (`users` and `routes`)."""
        if self.users is not None and (
            username is None or username.lower() not in {u.lower() for u in self.users}
        ):
            return False
        return self.routes is None or any(_route_matches(r, method, path) for r in self.routes)


PROFILES: dict[str, Faults] = {
    "none": Faults(),
    "flaky": Faults(latency_ms=(20.0, 200.0), error_rate=0.05, drop_after_store_rate=0.02),
    "slow": Faults(latency_ms=(500.0, 1500.0)),
    "hostile": Faults(latency_ms=(20.0, 300.0), error_rate=0.10, timeout_rate=0.05,
                      drop_after_store_rate=0.05),
}

_FIELDS = {
    "profile", "latency_ms", "error_rate", "timeout_rate", "hang_seconds",
    "drop_after_store_rate", "fail_next", "users", "routes", "rate_limit", "seed",
}


def parse_faults(spec: str | dict[str, Any] | None) -> Faults:
    """Faults from a profile name or a `POST /_sandbox/faults` body (whose `profile`, if
    given, supplies the defaults the other fields override); raises ValueError."""
    if spec is None:
        return Faults()
    if isinstance(spec, str):
        return _profile(spec)
    unknown = set(spec) - _FIELDS
    if unknown:
        raise ValueError(f"unknown fault fields: {', '.join(sorted(unknown))}")
    base = _profile(spec["profile"]) if spec.get("profile") is not None else Faults()
    changes: dict[str, Any] = {}
    for name in ("error_rate", "timeout_rate", "drop_after_store_rate"):
        if spec.get(name) is not None:
            changes[name] = _rate(name, spec[name])
    if spec.get("latency_ms") is not None:
        changes["latency_ms"] = _latency(spec["latency_ms"])
    if spec.get("hang_seconds") is not None:
        changes["hang_seconds"] = _non_negative("hang_seconds", spec["hang_seconds"])
    if spec.get("fail_next") is not None:
        changes["fail_next"] = tuple(_fail_next(item) for item in _list("fail_next", spec))
    for name in ("users", "routes"):
        if spec.get(name) is not None:
            changes[name] = tuple(str(v) for v in _list(name, spec))
    if spec.get("rate_limit") is not None:
        changes["rate_limit"] = _rate_limits(spec["rate_limit"])
    if spec.get("seed") is not None:
        changes["seed"] = _integer("seed", spec["seed"])
    return replace(base, **changes)


def _profile(name: str) -> Faults:
    try:
        return PROFILES[name]
    except KeyError:
        raise ValueError(f"unknown fault profile {name!r}: use one of "
                         f"{', '.join(PROFILES)}") from None


def _number(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"{name} must be a number")
    return float(value)


def _non_negative(name: str, value: Any) -> float:
    number = _number(name, value)
    if number < 0:
        raise ValueError(f"{name} must not be negative")
    return number


def _integer(name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{name} must be a whole number")
    return value


def _rate(name: str, value: Any) -> float:
    number = _number(name, value)
    if not 0.0 <= number <= 1.0:
        raise ValueError(f"{name} must be between 0 and 1")
    return number


def _latency(value: Any) -> tuple[float, float]:
    if isinstance(value, list | tuple):
        if len(value) != 2:
            raise ValueError("latency_ms must be a number or [min, max]")
        low, high = (_non_negative("latency_ms", v) for v in value)
        if low > high:
            raise ValueError("latency_ms: min must not exceed max")
        return low, high
    single = _non_negative("latency_ms", value)
    return single, single


def _list(name: str, spec: dict[str, Any]) -> list[Any]:
    value = spec[name]
    if not isinstance(value, list):
        raise ValueError(f"{name} must be a list")
    return value


def _fail_next(item: Any) -> FailNext:
    if not isinstance(item, dict) or set(item) - {"status", "count", "user", "route"}:
        raise ValueError("each fail_next entry is {status, count, user?, route?}")
    status = _integer("fail_next status", item.get("status"))
    if status not in FAIL_STATUSES:
        raise ValueError(f"fail_next status must be one of {sorted(FAIL_STATUSES)}")
    count = _integer("fail_next count", item.get("count", 1))
    if count < 1:
        raise ValueError("fail_next count must be at least 1")
    user, route = item.get("user"), item.get("route")
    return FailNext(status, count, None if user is None else str(user),
                    None if route is None else str(route))


def _rate_limits(value: Any) -> RateLimits:
    fields = set(RateLimits().to_json())
    if not isinstance(value, dict) or set(value) - fields:
        raise ValueError(f"rate_limit takes {', '.join(sorted(fields))}")
    counts = {name: _integer(name, raw) for name, raw in value.items()
              if name != "window_seconds"}
    window = _number("window_seconds", value.get("window_seconds", 900.0))
    if window <= 0 or any(n <= 0 for n in counts.values()):
        raise ValueError("rate_limit values must be positive")
    return replace(RateLimits(), window_seconds=window, **counts)


def _route_matches(route: str, method: str, path: str) -> bool:
    """`/2/tweets` matches any method; `POST /2/tweets` only that one."""
    wanted_method, _, prefix = route.rpartition(" ")
    if wanted_method and wanted_method.upper() != method:
        return False
    return path.startswith(prefix)


@dataclass(frozen=True)
class Decision:
    """What the faults do to one request; at most one of the outcomes applies."""

    latency_seconds: float = 0.0
    fail_status: int | None = None
    hang_seconds: float | None = None
    error: bool = False
    drop_after_store: bool = False

    @property
    def fault(self) -> str | None:
        """The fault that decided the outcome, for the request log."""
        if self.fail_status is not None:
            return f"fail_next:{self.fail_status}"
        if self.hang_seconds is not None:
            return "timeout"
        if self.error:
            return "error"
        if self.drop_after_store:
            return "drop_after_store"
        return "latency" if self.latency_seconds > 0 else None


class FaultEngine:
    """The current faults and their random source; thread-safe.

    `on_change` is called with the new faults whenever a `fail_next` entry is consumed,
    so the server can persist them.
    """

    def __init__(self, faults: Faults, on_change: Callable[[Faults], None]) -> None:
        self._lock = threading.Lock()
        self._on_change = on_change
        self._faults = faults
        self._random = random.Random(faults.seed)

    @property
    def faults(self) -> Faults:
        with self._lock:
            return self._faults

    def set(self, faults: Faults) -> None:
        with self._lock:
            self._faults = faults
            self._random = random.Random(faults.seed)

    def decide(self, method: str, path: str, username: str | None, *,
               can_drop: bool) -> Decision:
        with self._lock:
            faults = self._faults
            draws = [self._random.random() for _ in range(4)]
            failing = self._take_fail_next(method, path, username)
        low, high = faults.latency_ms
        if not faults.scoped_to(method, path, username):
            return Decision(fail_status=failing)
        latency = (low + (high - low) * draws[0]) / 1000.0
        if failing is not None:
            return Decision(latency, fail_status=failing)
        if draws[1] < faults.timeout_rate:
            return Decision(latency, hang_seconds=faults.hang_seconds)
        if draws[2] < faults.error_rate:
            return Decision(latency, error=True)
        drop = can_drop and draws[3] < faults.drop_after_store_rate
        return Decision(latency, drop_after_store=drop)

    def _take_fail_next(self, method: str, path: str, username: str | None) -> int | None:
        pending = list(self._faults.fail_next)
        for index, entry in enumerate(pending):
            if entry.user is not None and (username or "").lower() != entry.user.lower():
                continue
            if entry.route is not None and not _route_matches(entry.route, method, path):
                continue
            if entry.count > 1:
                pending[index] = replace(entry, count=entry.count - 1)
            else:
                del pending[index]
            self._faults = replace(self._faults, fail_next=tuple(pending))
            self._on_change(self._faults)
            return entry.status
        return None
