"""The deterministic engagement model: metrics are a pure function of post, audience and age."""

from __future__ import annotations

import hashlib
import math

#: Impressions approach their ceiling with this time constant (seconds).
TIME_CONSTANT = 6 * 3600.0
#: Non-public metrics are given only for posts younger than this (seconds).
NON_PUBLIC_MAX_AGE = 30 * 86400.0

PUBLIC_FIELDS = (
    "retweet_count", "reply_count", "like_count", "quote_count", "bookmark_count",
    "impression_count",
)


def _unit(post_id: str, salt: str) -> float:
    """A fixed number in [0, 1) for this post, different for each salt."""
    digest = hashlib.sha256(f"{salt}:{post_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def _between(post_id: str, salt: str, low: float, high: float) -> float:
    return low + (high - low) * _unit(post_id, salt)


def impressions(post_id: str, followers: int, age_seconds: float) -> int:
    """Impressions approach a per-post share (5–40 %) of the followers."""
    if age_seconds <= 0 or followers <= 0:
        return 0
    ceiling = followers * _between(post_id, "reach", 0.05, 0.40)
    return int(ceiling * (1.0 - math.exp(-age_seconds / TIME_CONSTANT)))


def public_metrics(post_id: str, followers: int, age_seconds: float) -> dict[str, int]:
    """X's `public_metrics` for a post of this age by an author with this many followers."""
    seen = impressions(post_id, followers, age_seconds)
    likes = seen * _between(post_id, "like", 0.005, 0.04)
    return {
        "retweet_count": int(likes * _between(post_id, "retweet", 0.1, 0.4)),
        "reply_count": int(likes * _between(post_id, "reply", 0.02, 0.15)),
        "like_count": int(likes),
        "quote_count": int(likes * _between(post_id, "quote", 0.0, 0.08)),
        "bookmark_count": int(likes * _between(post_id, "bookmark", 0.05, 0.3)),
        "impression_count": seen,
    }


def non_public_metrics(post_id: str, followers: int, age_seconds: float) -> dict[str, int]:
    """X's `non_public_metrics`, which only the author may read."""
    seen = impressions(post_id, followers, age_seconds)
    return {
        "impression_count": seen,
        "url_link_clicks": int(seen * _between(post_id, "link", 0.0, 0.02)),
        "user_profile_clicks": int(seen * _between(post_id, "profile", 0.0, 0.01)),
    }
