"""The sandbox clock: real time, moved to a chosen instant and optionally sped up.

    sandbox_now = anchor_sandbox + (real_now - anchor_real) * speed

Setting `now` re-anchors at that instant; `offset_seconds` sets the distance from real time;
`speed` changes how fast sandbox time advances from the current sandbox instant on.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any


@dataclass(frozen=True)
class SandboxClock:
    anchor_real: float = 0.0
    anchor_sandbox: float = 0.0
    speed: float = 1.0

    def now(self, real: float) -> float:
        return self.anchor_sandbox + (real - self.anchor_real) * self.speed

    def describe(self, real: float) -> dict[str, Any]:
        now = self.now(real)
        return {"now": iso(now), "offset_seconds": round(now - real, 3), "speed": self.speed}

    def changed(self, real: float, *, now: float | None = None,
                offset_seconds: float | None = None, speed: float | None = None) -> SandboxClock:
        """The clock after a `POST /_sandbox/clock`; raises ValueError on a bad value."""
        current = self.now(real)
        if now is not None:
            current = now
        if offset_seconds is not None:
            current = real + offset_seconds
        if speed is not None and not speed > 0:
            raise ValueError("speed must be a positive number")
        return SandboxClock(real, current, self.speed if speed is None else speed)

    def to_json(self) -> dict[str, float]:
        return {"anchor_real": self.anchor_real, "anchor_sandbox": self.anchor_sandbox,
                "speed": self.speed}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> SandboxClock:
        return cls(float(data["anchor_real"]), float(data["anchor_sandbox"]),
                   float(data["speed"]))


def iso(epoch: float) -> str:
    """X's timestamp format, with milliseconds (tweepy needs the fraction)."""
    moment = datetime.fromtimestamp(epoch, UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def parse_iso(text: str) -> float:
    """An ISO 8601 instant as epoch seconds; a naive one is taken as UTC."""
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()
