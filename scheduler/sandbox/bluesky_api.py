"""Bluesky's XRPC routes, played by the sandbox under /bluesky/xrpc, as a PDS answers them.

The atproto client library talks to them over HTTP with the base URL
`<sandbox>/bluesky/xrpc`: app-password logins that give a session (access and refresh JWTs,
well formed but unsigned), posts as `app.bsky.feed.post` records under a record key the
client may choose (a second record under the same key is refused), image blobs, and the
reads Chorus needs (`getPosts`, `getAuthorFeed`, `getRecord`).

The server gives these routes the same faults, rate-limit windows and request log as X's.
That shared machinery answers in X's terms; `in_xrpc_terms` turns its answers into XRPC's:
`{"error", "message"}` bodies and `RateLimit-*` headers.

App passwords and session tokens are rows of the store's `tokens` table, so revoking an
account (`POST /_sandbox/accounts/:username/revoke`) ends them too.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import secrets
import string
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from typing import Any

from campaigns.core.text import measure
from scheduler.publishers.bluesky_keys import is_tid, tid
from scheduler.sandbox import engagement
from scheduler.sandbox.accounts_store import Account, Token, new_secret
from scheduler.sandbox.bluesky_store import BlueskyIdentity, BlueskyRecord, RecordExists
from scheduler.sandbox.clock import iso
from scheduler.sandbox.state import SandboxState
from scheduler.sandbox.wire import ApiError, Call, Reply, bearer_token, json_reply

#: Where the routes live; a client's service URL is the sandbox's URL plus `SERVICE_PATH`.
SERVICE_PATH = "/bluesky"
PREFIX = f"{SERVICE_PATH}/xrpc"
HANDLE_DOMAIN = "bsky.sandbox"
#: The audience of the sandbox's session tokens, as a PDS names itself.
SERVICE_DID = "did:web:bsky.sandbox"
POST = "app.bsky.feed.post"
IMAGES = "app.bsky.embed.images"

APP_PASSWORD, ACCESS, REFRESH = "bluesky_app_password", "bluesky_access", "bluesky_refresh"
ACCESS_LIFETIME = 2 * 3600
REFRESH_LIFETIME = 90 * 86400
MAX_URIS = 25
MAX_IMAGES = 4
#: The largest image app.bsky.embed.images takes, and the largest blob the sandbox stores.
MAX_IMAGE_BYTES = 1_000_000
MAX_BLOB_BYTES = 5_000_000
FEED_FILTERS = ("posts_with_replies", "posts_no_replies", "posts_with_media",
                "posts_and_author_threads", "posts_with_video")

Handler = Callable[[SandboxState, Call], Reply]

_AT_URI = re.compile(r"^at://(?P<repo>[^/]+)/(?P<collection>[^/]+)/(?P<rkey>[^/]+)$")
_CODEC_DAG_CBOR, _CODEC_RAW = 0x71, 0x55
_IMAGE_SIGNATURES = ((b"\x89PNG\r\n\x1a\n", "image/png"), (b"\xff\xd8\xff", "image/jpeg"),
                     (b"GIF8", "image/gif"))


# ---- identities, credentials and sessions ----------------------------------------------------


def did_for(account_id: str) -> str:
    """A did:plc-shaped DID (24 base32 characters), fixed for the account."""
    digest = hashlib.sha256(f"chorus-sandbox:{account_id}".encode()).digest()
    return "did:plc:" + base64.b32encode(digest).decode().lower()[:24]


def handle_for(username: str) -> str:
    """`<username>.bsky.sandbox`, lower case, with `_` (which handles cannot hold) as `-`."""
    label = username.lower().replace("_", "-").strip("-") or "account"
    return f"{label}.{HANDLE_DOMAIN}"


def provision(state: SandboxState, account: Account, now: float) -> dict[str, Any]:
    """The account's Bluesky identity and a live app password, made where there are none:
    `{"bluesky": {"handle", "did", "app_password", "service"}}` for the control API."""
    identity = state.store.bluesky_identity(account_id=account.id) or _new_identity(
        state, account, now)
    live = state.store.latest_tokens(account.id, now).get(APP_PASSWORD)
    password = live.token if live is not None else _issue_app_password(state, account, now)
    return {"bluesky": {"handle": identity.handle, "did": identity.did,
                        "app_password": password, "service": SERVICE_PATH}}


def _new_identity(state: SandboxState, account: Account, now: float) -> BlueskyIdentity:
    handle = handle_for(account.username)
    taken = state.store.bluesky_identity(handle=handle)
    if taken is not None and taken.account.id != account.id:
        handle = f"{handle.split('.')[0]}-{account.id[-6:]}.{HANDLE_DOMAIN}"
    return state.store.add_bluesky_identity(account.id, did_for(account.id), handle, now)


def _issue_app_password(state: SandboxState, account: Account, now: float) -> str:
    """An app password as Bluesky shows one: four groups of four letters and digits."""
    alphabet = string.ascii_lowercase + string.digits
    password = "-".join("".join(secrets.choice(alphabet) for _ in range(4)) for _ in range(4))
    state.store.add_token(password, APP_PASSWORD, account.id, now)
    return password


def identify(state: SandboxState, call: Call) -> Token | None:
    """Who a Bluesky request acts for: the app password of a login, the refresh JWT of a
    refresh, else the access JWT; None when it carries no live one."""
    if call.path == _path("com.atproto.server.createSession"):
        return _password_login(state, call)
    bearer = bearer_token(call.headers.get("Authorization"))
    if bearer is None:
        return None
    return state.store.token(bearer, (_token_kind(call),), call.now)


def _token_kind(call: Call) -> str:
    """The kind of JWT this route takes: the refresh JWT to refresh, else the access JWT."""
    return REFRESH if call.path == _path("com.atproto.server.refreshSession") else ACCESS


def _password_login(state: SandboxState, call: Call) -> Token | None:
    try:
        body = json.loads(call.body or b"null")
    except (ValueError, UnicodeDecodeError):
        return None
    if not isinstance(body, dict):
        return None
    identifier, password = body.get("identifier"), body.get("password")
    if not isinstance(identifier, str) or not isinstance(password, str):
        return None
    identity = _identity_named(state, identifier)
    token = state.store.token(password, (APP_PASSWORD,), call.now)
    if identity is None or token is None or token.account.id != identity.account.id:
        return None
    return token


def _issue_session(state: SandboxState, identity: BlueskyIdentity, now: float) -> Reply:
    access = _jwt("at+jwt", {"scope": "com.atproto.appPass", "sub": identity.did,
                             "aud": SERVICE_DID, "iat": int(now),
                             "exp": int(now) + ACCESS_LIFETIME, "jti": new_secret(12)})
    refresh = _jwt("refresh+jwt", {"scope": "com.atproto.refresh", "sub": identity.did,
                                   "aud": SERVICE_DID, "iat": int(now),
                                   "exp": int(now) + REFRESH_LIFETIME, "jti": new_secret(12)})
    account_id = identity.account.id
    state.store.add_token(access, ACCESS, account_id, now, pair=refresh,
                          expires_at=int(now) + ACCESS_LIFETIME)
    state.store.add_token(refresh, REFRESH, account_id, now, pair=access,
                          expires_at=int(now) + REFRESH_LIFETIME)
    return json_reply(200, {"accessJwt": access, "refreshJwt": refresh, "handle": identity.handle,
                            "did": identity.did, "active": True})


def _jwt(typ: str, claims: dict[str, Any]) -> str:
    """An unsecured JWT (RFC 7519 §6): the sandbox knows its tokens by lookup, and atproto
    only reads the claims (for `exp`)."""
    return ".".join([_b64(json.dumps({"typ": typ, "alg": "none"})), _b64(json.dumps(claims)), ""])


def _b64(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


# ---- the routes: sessions ---------------------------------------------------------------------


def create_session(state: SandboxState, call: Call) -> Reply:
    return _issue_session(state, _me(state, call), call.now)


def refresh_session(state: SandboxState, call: Call) -> Reply:
    """A new pair of tokens; the refresh JWT used for it works only once."""
    assert call.token is not None
    if not state.store.use_token(call.token.token):
        raise ApiError(xrpc_error(400, "ExpiredToken", "Token has been revoked"))
    return _issue_session(state, _me(state, call), call.now)


def get_session(state: SandboxState, call: Call) -> Reply:
    identity = _me(state, call)
    return json_reply(200, {"handle": identity.handle, "did": identity.did, "active": True})


# ---- the routes: records and blobs ------------------------------------------------------------


def create_record(state: SandboxState, call: Call) -> Reply:
    body = call.json()
    identity = _own_repo(state, call, body.get("repo"))
    collection = body.get("collection")
    if collection != POST:
        raise ApiError(invalid(f"the sandbox keeps only {POST} records, not {collection!r}"))
    rkey = body.get("rkey")
    if rkey is None:
        rkey = tid(int(call.now * 1_000_000), secrets.randbelow(1024))
    elif not isinstance(rkey, str) or not is_tid(rkey):
        raise ApiError(invalid(f"Invalid record key for {POST}: {rkey!r} is not a TID"))
    record = body.get("record")
    _check_post(state, identity, record)
    assert isinstance(record, dict)
    cid = _cid(_CODEC_DAG_CBOR, json.dumps(record, sort_keys=True).encode())
    uri = f"at://{identity.did}/{POST}/{rkey}"
    try:
        state.store.add_bluesky_record(identity.did, POST, rkey, cid, record, call.now)
    except RecordExists:
        raise ApiError(invalid(f"Record already exists: {uri}")) from None
    return json_reply(200, {"uri": uri, "cid": cid, "validationStatus": "valid"})


def delete_record(state: SandboxState, call: Call) -> Reply:
    """Delete the record, or make sure it does not exist (a PDS answers 200 either way)."""
    body = call.json()
    identity = _own_repo(state, call, body.get("repo"))
    collection, rkey = body.get("collection"), body.get("rkey")
    if not isinstance(collection, str) or not isinstance(rkey, str):
        raise ApiError(invalid("collection and rkey are required"))
    state.store.delete_bluesky_record(identity.did, collection, rkey)
    return json_reply(200, {})


def get_record(state: SandboxState, call: Call) -> Reply:
    repo, collection, rkey = (call.arg(n) for n in ("repo", "collection", "rkey"))
    if not repo or not collection or not rkey:
        raise ApiError(invalid("repo, collection and rkey are required"))
    identity = _identity_named(state, repo)
    found = None if identity is None else state.store.bluesky_record(identity.did, collection,
                                                                     rkey)
    if found is None:
        raise ApiError(xrpc_error(400, "RecordNotFound",
                                  f"Could not locate record: at://{repo}/{collection}/{rkey}"))
    return json_reply(200, {"uri": found.uri, "cid": found.cid, "value": found.value})


def upload_blob(state: SandboxState, call: Call) -> Reply:
    data = call.body
    if not data:
        raise ApiError(invalid("the blob is empty"))
    if len(data) > MAX_BLOB_BYTES:
        raise ApiError(xrpc_error(413, "PayloadTooLarge",
                                  f"the blob is larger than {MAX_BLOB_BYTES:,} bytes"))
    declared = (call.headers.get("Content-Type") or "").split(";")[0].strip().lower()
    mime = declared if declared and declared != "*/*" else _sniff(data)
    blob = state.store.add_bluesky_blob(_me(state, call).account.id, _cid(_CODEC_RAW, data),
                                        mime, len(data), call.now)
    return json_reply(200, {"blob": {"$type": "blob", "ref": {"$link": blob.cid},
                                     "mimeType": blob.mime_type, "size": blob.size}})


# ---- the routes: reading ------------------------------------------------------------------------


def get_posts(state: SandboxState, call: Call) -> Reply:
    """Views of up to 25 posts; posts that are deleted or unknown are left out."""
    uris = call.query.get("uris") or []
    if not 1 <= len(uris) <= MAX_URIS:
        raise ApiError(invalid(f"uris must list between 1 and {MAX_URIS} post URIs, "
                               f"not {len(uris)}"))
    found = [_record_at(state, uri) for uri in dict.fromkeys(uris)]
    return json_reply(200, {"posts": [_view(r, call.now) for r in found if r is not None]})


def get_author_feed(state: SandboxState, call: Call) -> Reply:
    """The actor's posts, newest first, a page at a time (`cursor` continues)."""
    actor = call.arg("actor") or ""
    identity = _identity_named(state, actor)
    if identity is None:
        raise ApiError(invalid("Profile not found"))
    limit = _limit(call.arg("limit"))
    chosen = call.arg("filter") or "posts_with_replies"
    if chosen not in FEED_FILTERS:
        raise ApiError(invalid(f"filter must be one of {', '.join(FEED_FILTERS)}"))
    cursor = call.arg("cursor")
    if cursor is not None and not cursor.isdigit():
        raise ApiError(invalid(f"Malformed cursor: {cursor!r}"))
    page = state.store.bluesky_feed(identity.did, POST, limit + 1,
                                    None if cursor is None else int(cursor))
    shown, more = page[:limit], len(page) > limit
    feed = [{"post": _view(r, call.now)} for r in shown if _in_feed(r, chosen)]
    answer: dict[str, Any] = {"feed": feed}
    if more:
        answer["cursor"] = str(shown[-1].seq)
    return json_reply(200, answer)


def _in_feed(record: BlueskyRecord, chosen: str) -> bool:
    if chosen == "posts_no_replies":
        return "reply" not in record.value
    if chosen == "posts_with_media":
        return _embed_type(record.value) == IMAGES
    return chosen != "posts_with_video"


def _limit(value: str | None) -> int:
    if value is None:
        return 50
    if not value.isdigit() or not 1 <= int(value) <= 100:
        raise ApiError(invalid(f"limit must be between 1 and 100, not {value!r}"))
    return int(value)


def _view(record: BlueskyRecord, now: float) -> dict[str, Any]:
    """app.bsky.feed.defs#postView: the record and its counts (no embed view: the record
    itself carries the images and their alt text)."""
    author = record.author
    counts = engagement.public_metrics(record.uri, author.account.followers,
                                       now - record.created_at)
    return {
        "uri": record.uri, "cid": record.cid,
        "author": {"did": author.did, "handle": author.handle,
                   "displayName": author.account.name},
        "record": record.value, "indexedAt": iso(record.created_at), "labels": [],
        "likeCount": counts["like_count"], "repostCount": counts["retweet_count"],
        "replyCount": counts["reply_count"], "quoteCount": counts["quote_count"],
        "bookmarkCount": counts["bookmark_count"],
    }


def _record_at(state: SandboxState, uri: str) -> BlueskyRecord | None:
    parts = _AT_URI.match(uri)
    if parts is None:
        raise ApiError(invalid(f"Invalid AT URI: {uri!r}"))
    identity = _identity_named(state, parts["repo"])
    if identity is None:
        return None
    return state.store.bluesky_record(identity.did, parts["collection"], parts["rkey"])


# ---- checking a post as the app.bsky.feed.post lexicon does ----------------------------------


def _check_post(state: SandboxState, identity: BlueskyIdentity, record: Any) -> None:
    if not isinstance(record, dict) or record.get("$type") != POST:
        raise ApiError(invalid(f"Invalid {POST} record: $type must be {POST}"))
    text, created_at = record.get("text"), record.get("createdAt")
    if not isinstance(text, str):
        raise ApiError(invalid(f"Invalid {POST} record: Record/text must be a string"))
    if not isinstance(created_at, str) or not _is_datetime(created_at):
        raise ApiError(invalid(f"Invalid {POST} record: Record/createdAt must be a datetime"))
    measured = measure(text, "bluesky")
    if text.strip() and not measured.valid:
        raise ApiError(invalid(f"Invalid {POST} record: Record/text is too long "
                               f"({measured.problem})"))
    if not text.strip() and "embed" not in record:
        raise ApiError(invalid(f"Invalid {POST} record: a post needs text or images"))
    _check_facets(record.get("facets"), len(text.encode("utf-8")))
    if "embed" in record:
        _check_images(state, identity, record["embed"])


def _check_facets(facets: Any, size: int) -> None:
    if facets is None:
        return
    if not isinstance(facets, list):
        raise ApiError(invalid(f"Invalid {POST} record: Record/facets must be an array"))
    for n, facet in enumerate(facets):
        where = f"Invalid {POST} record: Record/facets/{n}"
        index = facet.get("index") if isinstance(facet, dict) else None
        start = index.get("byteStart") if isinstance(index, dict) else None
        end = index.get("byteEnd") if isinstance(index, dict) else None
        if not isinstance(start, int) or not isinstance(end, int) or not 0 <= start < end <= size:
            raise ApiError(invalid(f"{where}/index must be a byte range within the text"))
        features = facet.get("features")
        if not isinstance(features, list) or not features or not all(
                _is_feature(f) for f in features):
            raise ApiError(invalid(f"{where}/features must be links, mentions or tags"))


def _is_feature(feature: Any) -> bool:
    wanted = {"app.bsky.richtext.facet#link": "uri", "app.bsky.richtext.facet#tag": "tag",
              "app.bsky.richtext.facet#mention": "did"}
    if not isinstance(feature, dict) or feature.get("$type") not in wanted:
        return False
    return isinstance(feature.get(wanted[feature["$type"]]), str)


def _check_images(state: SandboxState, identity: BlueskyIdentity, embed: Any) -> None:
    if not isinstance(embed, dict) or embed.get("$type") != IMAGES:
        raise ApiError(invalid(f"the sandbox takes only {IMAGES} embeds"))
    images = embed.get("images")
    if not isinstance(images, list) or not 1 <= len(images) <= MAX_IMAGES:
        raise ApiError(invalid(f"Invalid {POST} record: Record/embed/images must hold 1 to "
                               f"{MAX_IMAGES} images"))
    for n, image in enumerate(images):
        where = f"Invalid {POST} record: Record/embed/images/{n}"
        if not isinstance(image, dict) or not isinstance(image.get("alt"), str):
            raise ApiError(invalid(f"{where}/alt must be a string"))
        blob = image.get("image")
        ref = blob.get("ref") if isinstance(blob, dict) else None
        cid = ref.get("$link") if isinstance(ref, dict) else None
        stored = state.store.bluesky_blob(identity.account.id, cid) if isinstance(
            cid, str) else None
        if stored is None:
            raise ApiError(invalid(f"Could not find blob: {cid}"))
        if not stored.mime_type.startswith("image/") or stored.size > MAX_IMAGE_BYTES:
            raise ApiError(invalid(f"{where}/image must be an image of at most "
                                   f"{MAX_IMAGE_BYTES:,} bytes"))


def _embed_type(record: dict[str, Any]) -> str | None:
    embed = record.get("embed")
    return embed.get("$type") if isinstance(embed, dict) else None


def _is_datetime(text: str) -> bool:
    try:
        datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return False
    return True


# ---- shared helpers --------------------------------------------------------------------------


def _path(nsid: str) -> str:
    return f"{PREFIX}/{nsid}"


def _me(state: SandboxState, call: Call) -> BlueskyIdentity:
    identity = state.store.bluesky_identity(account_id=call.user.id)
    if identity is None:  # every account gets one when created; this one predates that
        raise ApiError(xrpc_error(401, "AuthenticationRequired", "no Bluesky identity"))
    return identity


def _own_repo(state: SandboxState, call: Call, repo: Any) -> BlueskyIdentity:
    identity = _me(state, call)
    if not isinstance(repo, str) or repo.lower() not in (identity.did, identity.handle.lower()):
        raise ApiError(xrpc_error(401, "AuthenticationRequired",
                                  "the repo is not the authenticated account's"))
    return identity


def _identity_named(state: SandboxState, actor: str) -> BlueskyIdentity | None:
    """The identity a DID or a handle names."""
    if actor.startswith("did:"):
        return state.store.bluesky_identity(did=actor)
    return state.store.bluesky_identity(handle=actor.lstrip("@"))


def _cid(codec: int, data: bytes) -> str:
    """A CIDv1 with a sha2-256 digest, in base32 as atproto writes them. Blobs get their real
    CID (raw codec); a record's is of its JSON, not of its DAG-CBOR as on a PDS."""
    raw = bytes([0x01, codec, 0x12, 0x20]) + hashlib.sha256(data).digest()
    return "b" + base64.b32encode(raw).decode().lower().rstrip("=")


def _sniff(data: bytes) -> str:
    return next((mime for magic, mime in _IMAGE_SIGNATURES if data.startswith(magic)),
                "image/webp" if data[:4] == b"RIFF" and data[8:12] == b"WEBP"
                else "application/octet-stream")


def xrpc_error(status: int, error: str, message: str) -> Reply:
    return json_reply(status, {"error": error, "message": message})


def invalid(message: str) -> Reply:
    return xrpc_error(400, "InvalidRequest", message)


# ---- the shared machinery's answers, in XRPC's terms -----------------------------------------

_X_RATE = ("x-rate-limit-limit", "x-rate-limit-remaining", "x-rate-limit-reset")
_ERROR_NAMES = {400: "InvalidRequest", 401: "AuthenticationRequired", 403: "Forbidden",
                404: "XRPCNotSupported", 413: "PayloadTooLarge", 429: "RateLimitExceeded",
                500: "InternalServerError", 501: "MethodNotImplemented", 502: "UpstreamFailure",
                503: "NotEnoughResources", 504: "UpstreamTimeout"}


def in_xrpc_terms(state: SandboxState, call: Call, reply: Reply) -> Reply:
    """X's rate-limit headers as `RateLimit-*` (with a `RateLimit-Policy`), and X's problem
    bodies (a missing token, 429, injected 5xx) as XRPC errors; a token that is known but
    expired gets a PDS's 400 ExpiredToken rather than 401."""
    headers = {k: v for k, v in reply.headers.items() if k not in _X_RATE}
    if "x-rate-limit-limit" in reply.headers:
        window = int(state.faults.faults.rate_limit.window_seconds)
        limit, remaining, reset = (reply.headers[name] for name in _X_RATE)
        headers.update({"RateLimit-Limit": limit, "RateLimit-Remaining": remaining,
                        "RateLimit-Reset": reset, "RateLimit-Policy": f"{limit};w={window}"})
    if reply.status >= 400 and not _is_xrpc_error(reply.body):
        reply = _refused(state, call) if reply.status == 401 else xrpc_error(
            reply.status, _ERROR_NAMES.get(reply.status, "InternalServerError"),
            _detail(reply.body))
    kept = {k: v for k, v in reply.headers.items() if k not in _X_RATE}
    return replace(reply, headers={**kept, **headers})


def _refused(state: SandboxState, call: Call) -> Reply:
    if call.path == _path("com.atproto.server.createSession"):
        return xrpc_error(401, "AuthenticationRequired", "Invalid identifier or password")
    bearer = bearer_token(call.headers.get("Authorization"))
    if bearer is None:
        return xrpc_error(401, "AuthenticationRequired", "Authentication Required")
    known = state.store.token(bearer, (_token_kind(call),), float("-inf"))
    if known is not None and known.expires_at is not None and known.expires_at <= call.now:
        return xrpc_error(400, "ExpiredToken", "Token has expired")
    return xrpc_error(401, "InvalidToken", "Token could not be verified or has been revoked")


def _is_xrpc_error(body: bytes) -> bool:
    try:
        data = json.loads(body or b"null")
    except (ValueError, UnicodeDecodeError):
        return False
    return isinstance(data, dict) and isinstance(data.get("error"), str)


def _detail(body: bytes) -> str:
    try:
        data = json.loads(body or b"null")
    except (ValueError, UnicodeDecodeError):
        return ""
    return str(data.get("detail") or data.get("title") or "") if isinstance(data, dict) else ""


# ---- the route table and the control API's view ----------------------------------------------

#: (method and path, handler, rate-limit group, which limit it counts against).
ROUTES: tuple[tuple[str, Handler, str, str], ...] = (
    (f"POST {_path('com.atproto.server.createSession')}", create_session,
     "bluesky:session", "reads"),
    (f"POST {_path('com.atproto.server.refreshSession')}", refresh_session,
     "bluesky:session", "reads"),
    (f"GET {_path('com.atproto.server.getSession')}", get_session, "bluesky:session", "reads"),
    (f"POST {_path('com.atproto.repo.createRecord')}", create_record, "bluesky:write", "posts"),
    (f"POST {_path('com.atproto.repo.deleteRecord')}", delete_record, "bluesky:write", "posts"),
    (f"GET {_path('com.atproto.repo.getRecord')}", get_record, "bluesky:getRecord", "reads"),
    (f"POST {_path('com.atproto.repo.uploadBlob')}", upload_blob, "bluesky:blob", "media"),
    (f"GET {_path('app.bsky.feed.getPosts')}", get_posts, "bluesky:getPosts", "reads"),
    (f"GET {_path('app.bsky.feed.getAuthorFeed')}", get_author_feed, "bluesky:getAuthorFeed",
     "reads"),
)


def posts_json(state: SandboxState, account: Account | None) -> list[dict[str, Any]]:
    """Every Bluesky post the sandbox holds (of one account if given), for
    `GET /_sandbox/posts`."""
    if account is None:
        records = state.store.bluesky_records()
    else:
        identity = state.store.bluesky_identity(account_id=account.id)
        records = [] if identity is None else state.store.bluesky_records(identity.did)
    return [_post_json(r) for r in records if r.collection == POST]


def _post_json(record: BlueskyRecord) -> dict[str, Any]:
    value = record.value
    embed = value.get("embed") if _embed_type(value) == IMAGES else None
    images = embed.get("images", []) if isinstance(embed, dict) else []
    return {
        "network": "bluesky", "id": record.uri, "uri": record.uri, "cid": record.cid,
        "rkey": record.rkey, "author_id": record.author.did, "handle": record.author.handle,
        "username": record.author.account.username, "text": value.get("text", ""),
        "created_at": iso(record.created_at), "kind": "reply" if "reply" in value else "post",
        "quote_of": None, "reply_to": None, "repost_of": None,
        "media": [{"alt_text": i.get("alt"), "cid": i["image"]["ref"]["$link"],
                   "mime_type": i["image"].get("mimeType"), "size": i["image"].get("size")}
                  for i in images],
        "facets": value.get("facets", []), "deleted": record.deleted,
    }
