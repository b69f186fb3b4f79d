"""The X API v2 routes: each handler takes the state and the call and returns a reply."""

from __future__ import annotations

import hashlib
from email import policy
from email.parser import BytesParser
from typing import Any

from campaigns.core.text import measure
from scheduler.sandbox import engagement
from scheduler.sandbox.clock import iso, parse_iso
from scheduler.sandbox.state import SandboxState
from scheduler.sandbox.store_base import ID_BASE
from scheduler.sandbox.wire import (
    ApiError,
    Call,
    Reply,
    duplicate_content,
    forbidden,
    invalid_request,
    json_reply,
    not_found_error,
    problem,
)
from scheduler.sandbox.x_store import DuplicateContent, Media, NewPost, Post, TimelineQuery

DUPLICATE_WINDOW = 24 * 3600.0
MEDIA_LIFETIME = 24 * 3600
MAX_MEDIA_PER_POST = 4
MAX_IMAGE_BYTES = 5 * 1024 * 1024
MAX_ALT_TEXT = 1000
MEDIA_CATEGORIES = ("tweet_image", "tweet_gif")

#: Every field X knows; the sandbox fills in the ones it models and ignores the rest.
TWEET_FIELDS = frozenset({
    "article", "attachments", "author_id", "card_uri", "community_id", "context_annotations",
    "conversation_id", "created_at", "display_text_range", "edit_controls",
    "edit_history_tweet_ids", "entities", "geo", "id", "in_reply_to_user_id", "lang",
    "media_metadata", "non_public_metrics", "note_tweet", "organic_metrics",
    "possibly_sensitive", "promoted_metrics", "public_metrics", "referenced_tweets",
    "reply_settings", "scopes", "source", "text", "withheld",
})


# ---- writing ---------------------------------------------------------------------------------


def create_tweet(state: SandboxState, call: Call) -> Reply:
    body = call.json()
    author = call.user
    text = body.get("text", "")
    if not isinstance(text, str):
        raise ApiError(invalid_request("text must be a string."))
    media_ids = _media_ids(state, call, body.get("media"))
    if text or not media_ids:
        _check_length(text)
    quote_of = _existing_post_id(state, body.get("quote_tweet_id"), "quote_tweet_id")
    reply = body.get("reply")
    reply_to = _existing_post_id(
        state, reply.get("in_reply_to_tweet_id") if isinstance(reply, dict) else None,
        "reply.in_reply_to_tweet_id")
    new = NewPost(author.id, text, "quote" if quote_of else "post", quote_of=quote_of,
                  reply_to=reply_to, media_ids=media_ids)
    try:
        post_id = state.store.add_post(new, call.now,
                                       duplicate_since=call.now - DUPLICATE_WINDOW)
    except DuplicateContent:
        raise ApiError(duplicate_content()) from None
    return json_reply(201, {"data": {"id": post_id, "text": text,
                                     "edit_history_tweet_ids": [post_id]}})


def _check_length(text: str) -> None:
    measured = measure(text, "x")
    if not measured.valid:
        raise ApiError(invalid_request(f"Your Tweet text is invalid: {measured.problem}."))


def _media_ids(state: SandboxState, call: Call, media: Any) -> tuple[str, ...]:
    if media is None:
        return ()
    ids = media.get("media_ids") if isinstance(media, dict) else None
    if not isinstance(ids, list) or not 1 <= len(ids) <= MAX_MEDIA_PER_POST:
        raise ApiError(invalid_request(
            f"media.media_ids must list between 1 and {MAX_MEDIA_PER_POST} media ids."))
    for media_id in ids:
        _own_media(state, call, media_id)
    return tuple(str(m) for m in ids)


def _own_media(state: SandboxState, call: Call, media_id: Any) -> Media:
    found = state.store.media(str(media_id)) if isinstance(media_id, str | int) else None
    if (found is None or found.account_id != call.user.id
            or call.now - found.created_at > MEDIA_LIFETIME):
        raise ApiError(invalid_request(f"Your media IDs are invalid: [{media_id}]."))
    return found


def _existing_post_id(state: SandboxState, value: Any, name: str) -> str | None:
    if value is None:
        return None
    post = state.store.posts_by_id([str(value)]).get(str(value))
    if post is None or post.deleted:
        raise ApiError(invalid_request(f"{name}: could not find tweet with id [{value}]."))
    return post.id


def delete_tweet(state: SandboxState, call: Call) -> Reply:
    post_id = _numeric(call.params["id"], "id")
    post = state.store.posts_by_id([post_id]).get(post_id)
    if post is None or post.deleted:
        raise ApiError(problem(404, "Not Found Error",
                               f"Could not find tweet with id: [{post_id}].",
                               "https://api.twitter.com/2/problems/resource-not-found"))
    if post.author.id != call.user.id:
        raise ApiError(forbidden("You are not allowed to delete this Tweet."))
    state.store.delete_post(post_id)
    return json_reply(200, {"data": {"deleted": True}})


def repost(state: SandboxState, call: Call) -> Reply:
    if call.params["id"] != call.user.id:
        raise ApiError(forbidden("You are not allowed to repost on behalf of another user."))
    tweet_id = call.json().get("tweet_id")
    original_id = _existing_post_id(state, tweet_id, "tweet_id")
    if original_id is None:
        raise ApiError(invalid_request("tweet_id is required."))
    if state.store.find_repost(call.user.id, original_id) is None:
        original = state.store.posts_by_id([original_id])[original_id]
        text = f"RT @{original.author.username}: {original.text}"
        state.store.add_post(NewPost(call.user.id, text, "repost", repost_of=original_id),
                             call.now, duplicate_since=None)
    return json_reply(200, {"data": {"retweeted": True}})


# ---- reading ---------------------------------------------------------------------------------


def lookup_tweets(state: SandboxState, call: Call) -> Reply:
    raw = [i for i in (call.arg("ids") or "").split(",") if i]
    if not 1 <= len(raw) <= 100:
        raise ApiError(invalid_request(
            f"The number of values in the `ids` query parameter list [{len(raw)}] is not "
            "between 1 and 100"))
    ids = [_numeric(i, "ids") for i in raw]
    fields = _tweet_fields(call)
    found = state.store.posts_by_id(ids)
    live = [found[i] for i in dict.fromkeys(ids) if i in found and not found[i].deleted]
    missing = [i for i in dict.fromkeys(ids) if i not in found or found[i].deleted]
    payload: dict[str, Any] = {}
    if live:
        payload["data"] = _render_all(state, live, fields, call)
        _add_includes(payload, live, call)
    if missing:
        payload["errors"] = [not_found_error("tweet", "ids", i) for i in missing]
    return json_reply(200, payload)


def lookup_tweet(state: SandboxState, call: Call) -> Reply:
    """One post by id (tweepy's `get_tweet`): like the batch read, with `data` an object."""
    post_id = _numeric(call.params["id"], "id")
    fields = _tweet_fields(call)
    post = state.store.posts_by_id([post_id]).get(post_id)
    if post is None or post.deleted:
        return json_reply(200, {"errors": [not_found_error("tweet", "id", post_id)]})
    payload: dict[str, Any] = {"data": _render_all(state, [post], fields, call)[0]}
    _add_includes(payload, [post], call)
    return json_reply(200, payload)


def user_tweets(state: SandboxState, call: Call) -> Reply:
    user_id = _numeric(call.params["id"], "id")
    if state.store.account(id=user_id) is None:
        return json_reply(200, {"errors": [not_found_error("user", "id", user_id)]})
    limit = _max_results(call.arg("max_results"))
    fields = _tweet_fields(call)
    query = TimelineQuery(
        author_id=user_id, limit=limit + 1,
        since_id=_optional_numeric(call.arg("since_id"), "since_id"),
        until_id=_optional_numeric(call.arg("until_id"), "until_id"),
        before_seq=_page(call.arg("pagination_token")),
        start_time=_optional_time(call.arg("start_time"), "start_time"),
        end_time=_optional_time(call.arg("end_time"), "end_time"),
        exclude=frozenset((call.arg("exclude") or "").split(",")) - {""},
    )
    posts = state.store.timeline(query)
    page, more = posts[:limit], len(posts) > limit
    meta: dict[str, Any] = {"result_count": len(page)}
    if page:
        meta.update(newest_id=page[0].id, oldest_id=page[-1].id)
    if page and more:
        meta["next_token"] = _token_for(page[-1].id)
    payload: dict[str, Any] = {"meta": meta}
    if page:
        payload["data"] = _render_all(state, page, fields, call)
        _add_includes(payload, page, call)
    return json_reply(200, payload)


def users_me(state: SandboxState, call: Call) -> Reply:
    me = call.user
    data: dict[str, Any] = {"id": me.id, "name": me.name, "username": me.username}
    wanted = set((call.arg("user.fields") or "").split(","))
    if "created_at" in wanted:
        data["created_at"] = iso(me.created_at)
    if "public_metrics" in wanted:
        data["public_metrics"] = {
            "followers_count": me.followers, "following_count": 0, "listed_count": 0,
            "tweet_count": sum(1 for p in state.store.posts(me.id) if not p.deleted),
        }
    for name, value in (("description", ""), ("protected", False), ("verified", False)):
        if name in wanted:
            data[name] = value
    return json_reply(200, {"data": data})


def _numeric(value: str, name: str) -> str:
    if not value.isdigit() or len(value) > 19:
        raise ApiError(invalid_request(
            f"The `{name}` query parameter value [{value}] does not match ^[0-9]{{1,19}}$"))
    return value


def _optional_numeric(value: str | None, name: str) -> str | None:
    return None if value is None else _numeric(value, name)


def _optional_time(value: str | None, name: str) -> float | None:
    if value is None:
        return None
    try:
        return parse_iso(value)
    except ValueError:
        raise ApiError(invalid_request(f"Invalid {name}: [{value}].")) from None


def _max_results(value: str | None) -> int:
    if value is None:
        return 10
    if not value.isdigit() or not 5 <= int(value) <= 100:
        raise ApiError(invalid_request(
            f"The `max_results` query parameter value [{value}] is not between 5 and 100"))
    return int(value)


def _token_for(post_id: str) -> str:
    return format(int(post_id) - ID_BASE, "x").rjust(12, "0")


def _page(token: str | None) -> int | None:
    if token is None:
        return None
    try:
        return int(token, 16)
    except ValueError:
        raise ApiError(invalid_request(f"Invalid pagination_token: [{token}].")) from None


def _tweet_fields(call: Call) -> frozenset[str]:
    wanted = frozenset((call.arg("tweet.fields") or "").split(",")) - {""}
    unknown = sorted(wanted - TWEET_FIELDS)
    if unknown:
        raise ApiError(invalid_request(
            f"The `tweet.fields` query parameter value [{unknown[0]}] is not one of "
            f"[{','.join(sorted(TWEET_FIELDS))}]"))
    return wanted


def _render_all(state: SandboxState, posts: list[Post], fields: frozenset[str],
                call: Call) -> list[dict[str, Any]]:
    references = state.store.counts_of_references(p.id for p in posts)
    return [_render(p, fields, call, references.get(p.id, (0, 0))) for p in posts]


def _render(post: Post, fields: frozenset[str], call: Call,
            references: tuple[int, int]) -> dict[str, Any]:
    data: dict[str, Any] = {"id": post.id, "text": post.text,
                            "edit_history_tweet_ids": [post.id]}
    age = call.now - post.created_at
    if "created_at" in fields:
        data["created_at"] = iso(post.created_at)
    if "author_id" in fields:
        data["author_id"] = post.author.id
    if "conversation_id" in fields:
        data["conversation_id"] = post.reply_to or post.id
    if "public_metrics" in fields:
        metrics = engagement.public_metrics(post.id, post.author.followers, age)
        metrics["retweet_count"] += references[0]
        metrics["quote_count"] += references[1]
        data["public_metrics"] = metrics
    if ("non_public_metrics" in fields and post.author.id == call.user.id
            and age < engagement.NON_PUBLIC_MAX_AGE):
        data["non_public_metrics"] = engagement.non_public_metrics(
            post.id, post.author.followers, age)
    if "attachments" in fields and post.media:
        data["attachments"] = {"media_keys": [m.media_key for m in post.media]}
    if "referenced_tweets" in fields and _references(post):
        data["referenced_tweets"] = _references(post)
    return data


def _references(post: Post) -> list[dict[str, str]]:
    pairs = (("retweeted", post.repost_of), ("quoted", post.quote_of),
             ("replied_to", post.reply_to))
    return [{"type": kind, "id": target} for kind, target in pairs if target]


def _add_includes(payload: dict[str, Any], posts: list[Post], call: Call) -> None:
    expansions = set((call.arg("expansions") or "").split(","))
    includes: dict[str, Any] = {}
    if "author_id" in expansions:
        authors = {p.author.id: p.author for p in posts}
        includes["users"] = [{"id": a.id, "name": a.name, "username": a.username}
                             for a in authors.values()]
    if "attachments.media_keys" in expansions:
        media = [m for p in posts for m in p.media]
        if media:
            includes["media"] = [_media_json(m) for m in media]
    if includes:
        payload["includes"] = includes


def _media_json(media: Media) -> dict[str, Any]:
    data: dict[str, Any] = {"media_key": media.media_key, "type": "photo"}
    if media.alt_text is not None:
        data["alt_text"] = media.alt_text
    return data


# ---- media -----------------------------------------------------------------------------------


def upload_media(state: SandboxState, call: Call) -> Reply:
    fields = _multipart(call)
    content = fields.get("media")
    if not content:
        raise ApiError(invalid_request("media is required and must not be empty."))
    category = (fields.get("media_category") or b"").decode() or call.arg("media_category")
    category = category or "tweet_image"
    if category not in MEDIA_CATEGORIES:
        raise ApiError(invalid_request(f"Unsupported media_category: [{category}]."))
    if len(content) > MAX_IMAGE_BYTES:
        raise ApiError(invalid_request("The media is larger than 5 MB."))
    media = state.store.add_media(call.user.id, category, len(content),
                                  hashlib.sha256(content).hexdigest(), call.now)
    return json_reply(200, {"data": {"id": media.id, "media_key": media.media_key,
                                     "size": media.size,
                                     "expires_after_secs": MEDIA_LIFETIME}})


def _multipart(call: Call) -> dict[str, bytes]:
    content_type = call.headers.get("Content-Type") or ""
    if not content_type.startswith("multipart/form-data"):
        raise ApiError(invalid_request("Expected a multipart/form-data body."))
    head = f"Content-Type: {content_type}\r\nMIME-Version: 1.0\r\n\r\n".encode()
    message = BytesParser(policy=policy.HTTP).parsebytes(head + call.body)
    if not message.is_multipart():
        raise ApiError(invalid_request("The multipart body could not be read."))
    fields: dict[str, bytes] = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        payload = part.get_payload(decode=True)
        if isinstance(name, str) and isinstance(payload, bytes):
            fields[name] = payload
    return fields


def media_metadata(state: SandboxState, call: Call) -> Reply:
    body = call.json()
    metadata = body.get("metadata")
    alt = metadata.get("alt_text") if isinstance(metadata, dict) else None
    text = alt.get("text") if isinstance(alt, dict) else None
    if not isinstance(text, str):
        raise ApiError(invalid_request("metadata.alt_text.text is required."))
    if len(text) > MAX_ALT_TEXT:
        raise ApiError(invalid_request(
            f"metadata.alt_text.text is longer than {MAX_ALT_TEXT} characters."))
    media = _own_media(state, call, body.get("id"))
    state.store.set_alt_text(media.id, text)
    return json_reply(200, {"data": {"id": media.id,
                                     "associated_metadata": {"alt_text": {"text": text}}}})
