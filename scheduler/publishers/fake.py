"""A publisher that records what it was asked to send, for tests of the worker."""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from campaigns.config.secrets import Credentials
from campaigns.core.clock import utcnow
from scheduler.publishers.base import (
    Outcome,
    RecentPost,
    SendRequest,
    SendResult,
    TimelineResult,
)

#: Decides the outcome of one send; may return None for "post it normally".
Script = Callable[[SendRequest], SendResult | None]


@dataclass
class FakePublisher:
    network: str = "x"
    script: Script | None = None
    clock: Callable[[], datetime] = utcnow
    #: What the fake network holds: (account_key, post) in the order stored.
    stored: list[tuple[str, RecentPost]] = field(default_factory=list)
    requests: list[SendRequest] = field(default_factory=list)
    timeline_fails: bool = False
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1000))
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def send(self, request: SendRequest) -> SendResult:
        with self._lock:
            self.requests.append(request)
        scripted = self.script(request) if self.script else None
        if scripted is not None:
            if scripted.outcome is Outcome.UNKNOWN and scripted.remote_id == "stored":
                self._store(request)  # the post went out, but the answer was lost
                return SendResult(Outcome.UNKNOWN, reason="connection dropped after sending")
            return scripted
        post = self._store(request)
        return SendResult(Outcome.POSTED, remote_id=post.remote_id)

    def _store(self, request: SendRequest) -> RecentPost:
        with self._lock:
            post = RecentPost(str(next(self._ids)), request.text, self.clock())
            self.stored.append((request.account_key, post))
        return post

    def recent_posts(
        self, *, credentials: Credentials, remote_user_id: str | None, since: datetime
    ) -> TimelineResult:
        if self.timeline_fails:
            return TimelineResult(ok=False, reason="timeline unavailable")
        owner = credentials.get("account_key")
        with self._lock:
            posts = tuple(p for key, p in reversed(self.stored)
                          if key == owner and p.created_at >= since)
        return TimelineResult(posts=posts)

    def posts_by(self, account_key: str) -> list[str]:
        with self._lock:
            return [p.text for key, p in self.stored if key == account_key]
