"""The control API under `/_sandbox/`, for tests and operators. Not part of X."""

from __future__ import annotations

import re
from typing import Any

from scheduler.sandbox import bluesky_api, mastodon_api
from scheduler.sandbox.accounts_store import Account, new_secret
from scheduler.sandbox.clock import iso, parse_iso
from scheduler.sandbox.faults import parse_faults
from scheduler.sandbox.state import SandboxState
from scheduler.sandbox.wire import ApiError, Call, Reply, json_reply
from scheduler.sandbox.x_store import Media, Post

USERNAME = re.compile(r"^[A-Za-z0-9_]{1,15}$")
DEFAULT_FOLLOWERS = 1000
ACCESS_TOKEN_LIFETIME = 7200
SCOPES = "tweet.read tweet.write users.read offline.access media.write"


def control_error(status: int, message: str) -> ApiError:
    return ApiError(json_reply(status, {"error": message}))


def health(state: SandboxState, call: Call) -> Reply:
    return json_reply(200, {"ok": True, "sandbox": True, "now": iso(call.now)})


# ---- accounts --------------------------------------------------------------------------------


def create_account(state: SandboxState, call: Call) -> Reply:
    body = call.json()
    username = body.get("username")
    if not isinstance(username, str) or not USERNAME.match(username):
        raise control_error(400, "username must be 1–15 letters, digits or underscores")
    followers = body.get("followers", DEFAULT_FOLLOWERS)
    if isinstance(followers, bool) or not isinstance(followers, int) or followers < 0:
        raise control_error(400, "followers must be a whole number, 0 or more")
    name = body.get("name") or username
    if not isinstance(name, str):
        raise control_error(400, "name must be a string")
    account, created = state.store.create_account(username, name, followers, call.now)
    tokens = _current_tokens(state, account, call.now)
    return json_reply(201 if created else 200, {**account_json(account), **tokens,
                                                **mastodon_api.provision(state, account, call.now),
                                                **bluesky_api.provision(state, account, call.now),
                                                "created": created})


def _current_tokens(state: SandboxState, account: Account, now: float) -> dict[str, Any]:
    """The account's live tokens, issuing new ones where there are none."""
    live = state.store.latest_tokens(account.id, now)
    if "oauth1" not in live:
        issue_oauth1(state, account, now)
    if "oauth2_access" not in live or "oauth2_refresh" not in live:
        issue_oauth2(state, account, now, SCOPES)
    live = state.store.latest_tokens(account.id, now)
    access, refresh = live["oauth2_access"], live["oauth2_refresh"]
    return {
        "oauth1": {"token": live["oauth1"].token, "secret": live["oauth1"].secret},
        "oauth2": {"access_token": access.token, "refresh_token": refresh.token,
                   "expires_at": iso(access.expires_at or now)},
    }


def issue_oauth1(state: SandboxState, account: Account, now: float) -> tuple[str, str]:
    token, secret = f"{account.id}-{new_secret()}", new_secret()
    state.store.add_token(token, "oauth1", account.id, now, secret=secret)
    return token, secret


def issue_oauth2(state: SandboxState, account: Account, now: float,
                 scope: str) -> tuple[str, str]:
    access, refresh = new_secret(32), new_secret(32)
    state.store.add_token(access, "oauth2_access", account.id, now, pair=refresh, scope=scope,
                          expires_at=now + ACCESS_TOKEN_LIFETIME)
    state.store.add_token(refresh, "oauth2_refresh", account.id, now, pair=access, scope=scope)
    return access, refresh


def account_json(account: Account) -> dict[str, Any]:
    return {"id": account.id, "username": account.username, "name": account.name,
            "followers": account.followers, "created_at": iso(account.created_at)}


def list_accounts(state: SandboxState, call: Call) -> Reply:
    return json_reply(200, {"accounts": [account_json(a) for a in state.store.accounts()]})


def revoke(state: SandboxState, call: Call) -> Reply:
    account = state.store.account(username=call.params["username"])
    if account is None:
        raise control_error(404, f"no sandbox account named {call.params['username']!r}")
    return json_reply(200, {"username": account.username,
                            "revoked": state.store.revoke(account.id)})


# ---- what happened ---------------------------------------------------------------------------


def list_posts(state: SandboxState, call: Call) -> Reply:
    author = call.arg("author")
    account = None
    if author is None:
        posts = state.store.posts()
    else:
        account = state.store.account(username=author)
        posts = [] if account is None else state.store.posts(account.id)
    listed = [post_json(p) for p in posts]
    if author is None or account is not None:
        listed += mastodon_api.posts_json(state, account)
        listed += bluesky_api.posts_json(state, account)
    return json_reply(200, {"posts": listed})


def post_json(post: Post) -> dict[str, Any]:
    return {
        "network": "x",
        "id": post.id, "author_id": post.author.id, "username": post.author.username,
        "text": post.text, "created_at": iso(post.created_at), "kind": post.kind,
        "quote_of": post.quote_of, "reply_to": post.reply_to, "repost_of": post.repost_of,
        "media": [media_json(m) for m in post.media], "deleted": post.deleted,
    }


def media_json(media: Media) -> dict[str, Any]:
    return {"id": media.id, "media_key": media.media_key, "category": media.category,
            "size": media.size, "alt_text": media.alt_text}


def list_requests(state: SandboxState, call: Call) -> Reply:
    since = call.arg("since_id")
    if since is not None and not since.isdigit():
        raise control_error(400, "since_id must be a whole number")
    rows = state.store.requests(int(since) if since else None)
    for row in rows:
        row["time"] = iso(row["time"])
    return json_reply(200, {"requests": rows})


# ---- faults, clock, reset --------------------------------------------------------------------


def get_faults(state: SandboxState, call: Call) -> Reply:
    return json_reply(200, state.faults.faults.to_json())


def set_faults(state: SandboxState, call: Call) -> Reply:
    try:
        faults = parse_faults(call.json())
    except ValueError as error:
        raise control_error(400, str(error)) from None
    state.set_faults(faults)
    return json_reply(200, faults.to_json())


def clear_faults(state: SandboxState, call: Call) -> Reply:
    state.set_faults(parse_faults(None))
    return json_reply(200, state.faults.faults.to_json())


def get_clock(state: SandboxState, call: Call) -> Reply:
    return json_reply(200, state.clock_json())


def set_clock(state: SandboxState, call: Call) -> Reply:
    body = call.json()
    unknown = set(body) - {"now", "offset_seconds", "speed"}
    if unknown or not body:
        raise control_error(400, "set one or more of now, offset_seconds, speed")
    try:
        now = None if body.get("now") is None else parse_iso(str(body["now"]))
        return json_reply(200, state.set_clock(
            now=now, offset_seconds=_number(body.get("offset_seconds")),
            speed=_number(body.get("speed"))))
    except (ValueError, TypeError) as error:
        raise control_error(400, str(error)) from None


def _number(value: Any) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"expected a number, not {value!r}")
    return float(value)


def reset(state: SandboxState, call: Call) -> Reply:
    state.reset()
    return json_reply(200, {"reset": True})
