"""The publisher protocol and the outcomes every send is classified into."""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Protocol, runtime_checkable

from campaigns.config.secrets import Credentials


class Outcome(enum.Enum):
    POSTED = "posted"
    #: Nothing was sent (429, connection refused): safe to send again after `retry_at`.
    RETRY_LATER = "retry-later"
    #: It may or may not have been posted (timeout, 5xx, dropped connection): reconcile first.
    UNKNOWN = "unknown"
    #: It will never succeed as it is (400, 403 duplicate content): fail with the reason.
    FAILED = "failed"
    #: The account's token is revoked or expired (401): hold its posts until reconnected.
    REAUTH = "reauth"


@dataclass(frozen=True)
class RateInfo:
    """What the rate-limit headers said, for the per-account governor."""

    limit: int | None
    remaining: int | None
    reset: datetime | None


@dataclass(frozen=True)
class Image:
    path: Path
    alt: str


@dataclass(frozen=True)
class SendRequest:
    delivery_id: int
    account_key: str
    remote_user_id: str | None
    credentials: Credentials
    text: str
    images: tuple[Image, ...] = ()
    quote_of: str | None = None


@dataclass(frozen=True)
class SendResult:
    outcome: Outcome
    remote_id: str | None = None
    reason: str = ""
    retry_at: datetime | None = None
    rate: RateInfo | None = None
    #: True when X said the text duplicates one of the account's recent posts.
    duplicate: bool = False


class SendStopped(Exception):
    """A step before the post was created failed (logging in, uploading an image): `result`
    says how, and is never UNKNOWN, because nothing can have been posted yet."""

    def __init__(self, result: SendResult) -> None:
        super().__init__(result.reason)
        self.result = result


@dataclass(frozen=True)
class RecentPost:
    remote_id: str
    text: str
    created_at: datetime


@dataclass(frozen=True)
class TimelineResult:
    """The account's recent posts, or why they could not be read."""

    posts: tuple[RecentPost, ...] = ()
    ok: bool = True
    reason: str = ""
    rate: RateInfo | None = None
    extra: dict[str, str] = field(default_factory=dict)


class Publisher(Protocol):
    network: str

    def send(self, request: SendRequest) -> SendResult: ...

    def recent_posts(
        self, *, credentials: Credentials, remote_user_id: str | None, since: datetime
    ) -> TimelineResult: ...


# ---- reading engagement ---------------------------------------------------------------------


class ReadOutcome(enum.Enum):
    """How a batch read of post metrics ended."""

    #: X answered: `MetricsResult.metrics` and `gone` say what it said about each post.
    OK = "ok"
    #: 429: nothing more should be read before `retry_at`.
    RATE_LIMITED = "rate-limited"
    #: 401 (or no usable app keys): the account's token cannot read for it.
    REAUTH = "reauth"
    #: Another 4xx: X will not answer this request as it is.
    REFUSED = "refused"
    #: No answer, or a 5xx: try again later.
    UNREACHABLE = "unreachable"


@dataclass(frozen=True)
class PostMetrics:
    """One post's counts at one moment. Non-public counts are None when X did not give them."""

    remote_id: str
    impressions: int = 0
    likes: int = 0
    reposts: int = 0
    replies: int = 0
    quotes: int = 0
    bookmarks: int = 0
    link_clicks: int | None = None
    profile_clicks: int | None = None


@dataclass(frozen=True)
class GonePost:
    """A post the network no longer shows: `state` is "deleted" or "unavailable"."""

    remote_id: str
    state: str
    reason: str = ""


@dataclass(frozen=True)
class MetricsResult:
    outcome: ReadOutcome
    #: Keyed by remote id.
    metrics: dict[str, PostMetrics] = field(default_factory=dict)
    gone: dict[str, GonePost] = field(default_factory=dict)
    rate: RateInfo | None = None
    retry_at: datetime | None = None
    reason: str = ""


@runtime_checkable
class MetricsReader(Protocol):
    """A network whose posts' engagement can be read in batches (optional for publishers)."""

    network: str

    def read_metrics(
        self, credentials: Credentials, ids: Sequence[str], *, non_public: bool
    ) -> MetricsResult: ...
