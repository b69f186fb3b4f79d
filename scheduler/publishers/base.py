"""The publisher protocol and the outcomes every send is classified into."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Protocol

from campaigns.secrets import Credentials


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
