"""Reading a Mastodon account's statuses: their text (from the HTML an instance gives), the
account's own statuses since a moment (what reconciling a send of unknown outcome compares
against), and a status's engagement counts.

Mastodon.py's client is used through `Api` as it comes, so Mastodon.py stays in mastodon.py.
"""

from __future__ import annotations

import functools
from datetime import UTC, datetime
from html.parser import HTMLParser
from typing import Any

from scheduler.publishers.base import PostMetrics, RecentPost, TimelineResult
from scheduler.publishers.mastodon_outcomes import Api, rate_info

#: Reconciliation reads at most this many pages of 40 statuses.
TIMELINE_LIMIT, TIMELINE_PAGES = 40, 10


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "br":
            self.parts.append("\n")
        elif tag == "p" and self.parts:
            self.parts.append("\n\n")

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def plain_text(content: str) -> str:
    """A status's HTML `content` as the text that was posted (paragraphs and line breaks kept;
    a link's hidden parts are text too, so the whole address comes back)."""
    parser = _Text()
    parser.feed(content)
    parser.close()
    return "".join(parser.parts)


def status_metrics(status: Any) -> PostMetrics:
    """A status's favourites, boosts, replies and quotes (Mastodon counts no impressions)."""
    return PostMetrics(remote_id=str(status["id"]),
                       likes=int(status.get("favourites_count") or 0),
                       reposts=int(status.get("reblogs_count") or 0),
                       replies=int(status.get("replies_count") or 0),
                       quotes=int(status.get("quotes_count") or 0))


def timeline(api: Api, remote_user_id: str | None, since: datetime) -> TimelineResult:
    """The account's own statuses (boosts left out) created since `since`, newest first."""
    extra: dict[str, str] = {}
    if remote_user_id is None:
        remote_user_id = str(api.call(api.client.account_verify_credentials)["id"])
        extra["user_id"] = remote_user_id
    found: list[RecentPost] = []
    max_id: str | None = None
    for _ in range(TIMELINE_PAGES):
        page = api.call(functools.partial(
            api.client.account_statuses, remote_user_id, exclude_reblogs=True,
            since_id=since, max_id=max_id, limit=TIMELINE_LIMIT))
        found += [RecentPost(remote_id=str(s["id"]), text=plain_text(str(s["content"])),
                             created_at=_aware(s["created_at"])) for s in page]
        if len(page) < TIMELINE_LIMIT:
            break
        max_id = str(page[-1]["id"])
    else:
        return TimelineResult(
            ok=False, rate=rate_info(api.answers.response), extra=extra,
            reason=f"more than {TIMELINE_PAGES * TIMELINE_LIMIT} statuses since "
                   f"{since.isoformat()}; cannot tell whether the post is among them")
    return TimelineResult(posts=tuple(p for p in found if p.created_at >= since),
                          rate=rate_info(api.answers.response), extra=extra)


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
