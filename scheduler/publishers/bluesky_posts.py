"""What Bluesky's post records and views say, without atproto: a post's text, the post as
reconciling a send compares it (its own createdAt), and its engagement counts.

Reading the author feed and the posts takes atproto's client, so that is in bluesky.py.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from scheduler.publishers.base import PostMetrics, RecentPost


def text_of(value: Any) -> str | None:
    """The `text` of a post record (a model or a plain dict), if it has one."""
    text = value.get("text") if isinstance(value, dict) else getattr(value, "text", None)
    return text if isinstance(text, str) else None


def recent_post(view: Any) -> RecentPost | None:
    """The post as the dispatcher compares it: its own createdAt (the time Chorus gave it)."""
    text = text_of(view.record)
    if text is None:
        return None
    created = getattr(view.record, "created_at", None) or view.indexed_at
    return RecentPost(remote_id=view.uri, text=text, created_at=_parse_time(str(created)))


def post_metrics(view: Any) -> PostMetrics:
    """A post view's engagement counts (Bluesky publishes no impressions)."""
    return PostMetrics(remote_id=view.uri, likes=view.like_count or 0,
                       reposts=view.repost_count or 0, replies=view.reply_count or 0,
                       quotes=view.quote_count or 0,
                       bookmarks=getattr(view, "bookmark_count", None) or 0)


def _parse_time(value: str) -> datetime:
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)

