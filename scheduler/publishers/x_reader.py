"""Reading an X account's posts: who the account is, its timeline since a moment (what
reconciling a send of unknown outcome compares against), and its posts' metrics as
GET /2/tweets gives them.

tweepy's `Client` is taken as it comes, untyped, so tweepy itself stays in x.py.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from campaigns.config.secrets import Credentials
from scheduler.publishers.base import GonePost, PostMetrics, RateInfo, RecentPost, TimelineResult
from scheduler.publishers.x_outcomes import json_body, rate_info

#: Reconciliation reads at most this many timeline pages of 100 posts.
TIMELINE_PAGES = 10


@dataclass(frozen=True)
class XUser:
    id: str
    username: str


def read_user(client: Any, credentials: Credentials) -> XUser:
    """Who the account of `credentials` is (GET /2/users/me)."""
    response = client.get_me(user_auth=credentials.kind == "oauth1")
    data = json_body(response)["data"]
    return XUser(id=str(data["id"]), username=str(data["username"]))


def timeline(client: Any, credentials: Credentials, remote_user_id: str | None,
             since: datetime) -> TimelineResult:
    """The account's posts created since `since` (GET /2/users/:id/tweets, page by page)."""
    extra: dict[str, str] = {}
    if remote_user_id is None:
        remote_user_id = read_user(client, credentials).id
        extra["user_id"] = remote_user_id
    found: list[RecentPost] = []
    rate: RateInfo | None = None
    options: dict[str, Any] = {"tweet_fields": ["created_at"], "max_results": 100,
                               "user_auth": credentials.kind == "oauth1"}
    for _ in range(TIMELINE_PAGES):
        response = client.get_users_tweets(remote_user_id, **options)
        rate = rate_info(response) or rate
        body = json_body(response)
        page = [RecentPost(remote_id=str(item["id"]), text=str(item["text"]),
                           created_at=_parse_time(item["created_at"]))
                for item in body.get("data") or []]
        found += page
        next_token = (body.get("meta") or {}).get("next_token")
        if not next_token or not page or min(p.created_at for p in page) < since:
            break
        options["pagination_token"] = next_token
    else:
        return TimelineResult(
            ok=False, rate=rate, extra=extra,
            reason=f"more than {TIMELINE_PAGES * 100} posts since {since.isoformat()}; "
                   "cannot tell whether the post is among them")
    return TimelineResult(posts=tuple(p for p in found if p.created_at >= since),
                          rate=rate, extra=extra)


def metrics_answer(body: dict[str, Any],
                   asked: list[str]) -> tuple[dict[str, PostMetrics], dict[str, GonePost]]:
    """Per-post metrics from `data[]`, and the posts X says are gone from `errors[]`."""
    metrics: dict[str, PostMetrics] = {}
    for item in body.get("data") or []:
        public = item.get("public_metrics") or {}
        private = item.get("non_public_metrics")
        remote_id = str(item["id"])
        metrics[remote_id] = PostMetrics(
            remote_id=remote_id,
            impressions=int(public.get("impression_count", 0)),
            likes=int(public.get("like_count", 0)),
            reposts=int(public.get("retweet_count", 0)),
            replies=int(public.get("reply_count", 0)),
            quotes=int(public.get("quote_count", 0)),
            bookmarks=int(public.get("bookmark_count", 0)),
            link_clicks=_count(private, "url_link_clicks"),
            profile_clicks=_count(private, "user_profile_clicks"),
        )
    gone: dict[str, GonePost] = {}
    for error in body.get("errors") or []:
        found = _gone_post(error, set(asked))
        if found is not None and found.remote_id not in metrics:
            gone.setdefault(found.remote_id, found)
    return metrics, gone


def _count(metrics: Any, name: str) -> int | None:
    if not isinstance(metrics, dict) or metrics.get(name) is None:
        return None
    return int(metrics[name])


def _gone_post(error: Any, asked: set[str]) -> GonePost | None:
    """The post an entry of `errors[]` says cannot be read, if it is about a whole post.

    Errors about one field (X's "Field Authorization Error" for `non_public_metrics` on a
    post the account does not own) leave the post itself readable, so they are not gone.
    """
    if not isinstance(error, dict) or error.get("field"):
        return None
    kind = str(error.get("type") or "")
    if kind.endswith("/not-authorized-for-field") or error.get("resource_type") not in (
            None, "tweet"):
        return None
    remote_id = str(error.get("resource_id") or error.get("value") or "")
    if remote_id not in asked:
        return None
    detail = str(error.get("detail") or error.get("message") or error.get("title") or kind)
    said = f"{error.get('title') or ''} {detail}".lower()
    deleted = (kind.endswith("/resource-not-found") or "not found" in said
               or "could not find" in said or "deleted" in said)
    return GonePost(remote_id, "deleted" if deleted else "unavailable", detail)


def _parse_time(value: str) -> datetime:
    parsed = datetime.fromisoformat(value)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
