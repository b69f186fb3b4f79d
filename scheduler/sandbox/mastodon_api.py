"""The Mastodon routes, under `/mastodon`: the instance, statuses, media, and app authorisation.

Mastodon.py talks to them with `api_base_url = <sandbox url>/mastodon`. The server gives these
routes the same faults, rate-limit windows and request log as X's; `in_mastodon_terms` then
words its refusals and rate-limit headers as Mastodon does. Every sandbox account also has a
Mastodon identity (`provision`): the same account id and username, its own bearer token.
"""

from __future__ import annotations

import html
import json
import re
from dataclasses import replace
from email import policy
from email.message import Message
from email.parser import BytesParser
from hashlib import sha256
from typing import Any
from urllib.parse import parse_qs, urlencode

from campaigns.core.text import measure
from scheduler.sandbox import engagement
from scheduler.sandbox.accounts_store import Account, Token, new_secret
from scheduler.sandbox.clock import iso
from scheduler.sandbox.mastodon_store import MastodonMedia, MastodonStatus, NewStatus, StatusQuery
from scheduler.sandbox.state import SandboxState
from scheduler.sandbox.wire import ApiError, Call, Reply, bearer_token, json_reply, redirect

PREFIX = "/mastodon"
VERSION = "4.3.0"
#: The instance's own limit, which clients read from `configuration.statuses`.
MAX_CHARACTERS = 500
URL_CHARACTERS = 23
MAX_MEDIA_PER_STATUS = 4
MAX_IMAGE_BYTES = 16 * 1024 * 1024
MAX_DESCRIPTION = 1500
#: Mastodon remembers an Idempotency-Key per account for an hour.
IDEMPOTENCY_WINDOW = 3600.0
#: The most ids `GET /api/v1/statuses?id[]=` takes.
MAX_IDS_PER_READ = 20
PAGE_DEFAULT, PAGE_MAX = 20, 40
#: GIFs become looping videos and are processed in the background, as videos are.
PROCESSING_SECONDS = 2.0
VISIBILITIES = ("public", "unlisted", "private", "direct")
SCOPES = ("read:statuses", "write:statuses", "write:media", "read:accounts")
TOKEN_KIND = "mastodon"
APP = "mastodon_app"
CODE = "mastodon_code"
CODE_LIFETIME = 600.0
OOB = "urn:ietf:wg:oauth:2.0:oob"
HTML = "text/html; charset=utf-8"

# ---- accounts and tokens ---------------------------------------------------------------------


def provision(state: SandboxState, account: Account, now: float) -> dict[str, Any]:
    """The account's Mastodon identity for `POST /_sandbox/accounts`: a live bearer token with
    every scope Chorus asks for, and the instance path to join to the sandbox's URL."""
    live = state.store.latest_tokens(account.id, now).get(TOKEN_KIND)
    if live is None or not _grants(live, SCOPES):
        token = new_secret(32)
        state.store.add_token(token, TOKEN_KIND, account.id, now, scope=" ".join(SCOPES))
    else:
        token = live.token
    return {"mastodon": {"access_token": token, "instance": PREFIX, "acct": account.username}}


def identify(state: SandboxState, headers: Message, now: float) -> Token | None:
    """The live Mastodon token the request carries (`Authorization: Bearer`), if any."""
    bearer = bearer_token(headers.get("Authorization"))
    return None if bearer is None else state.store.token(bearer, (TOKEN_KIND,), now)


def _grants(token: Token, wanted: tuple[str, ...]) -> bool:
    """Whether the token's scopes cover `wanted` ("write" covers "write:statuses")."""
    granted = set((token.scope or "").split())
    return all(s in granted or s.split(":")[0] in granted for s in wanted)


def _require(call: Call, scope: str) -> Account:
    if call.token is None or not _grants(call.token, (scope,)):
        raise _error(403, "This action is outside the authorized scopes")
    return call.user


# ---- Mastodon's words -------------------------------------------------------------------------


def _error(status: int, message: str) -> ApiError:
    return ApiError(json_reply(status, {"error": message}))


def _invalid(message: str) -> ApiError:
    return _error(422, f"Validation failed: {message}")


def _not_found() -> ApiError:
    return _error(404, "Record not found")


_REFUSALS = {401: "The access token is invalid", 429: "Too many requests"}


def in_mastodon_terms(reply: Reply) -> Reply:
    """The server refuses and counts in X's words; Mastodon says the same things so:
    `X-RateLimit-*` headers with an ISO reset time, and `{"error": …}` bodies."""
    headers = {k: v for k, v in reply.headers.items() if not k.startswith("x-rate-limit-")}
    reset = reply.headers.get("x-rate-limit-reset")
    if reset is not None:
        headers.update({"X-RateLimit-Limit": reply.headers["x-rate-limit-limit"],
                        "X-RateLimit-Remaining": reply.headers["x-rate-limit-remaining"],
                        "X-RateLimit-Reset": iso(float(reset))})
    title = _problem_title(reply.body)
    body = reply.body
    if title is not None and (reply.status in _REFUSALS or reply.status >= 500):
        body = json.dumps({"error": _REFUSALS.get(reply.status, title)}).encode()
    return replace(reply, body=body, headers=headers)


def _problem_title(body: bytes) -> str | None:
    """The title of an X problem body (the server's own refusals), or None for any other."""
    try:
        found = json.loads(body or b"null")
    except ValueError:
        return None
    if not isinstance(found, dict) or not {"title", "type", "status"} <= set(found):
        return None
    return str(found["title"])


# ---- requests ---------------------------------------------------------------------------------


def _params(call: Call) -> dict[str, list[str]]:
    """Query, form (urlencoded or multipart) and JSON parameters; `ids[]` and `ids` alike."""
    found: dict[str, list[str]] = {}
    sources = [call.query]
    content_type = call.headers.get("Content-Type") or ""
    if "x-www-form-urlencoded" in content_type:
        sources.append(parse_qs(call.body.decode("utf-8", "replace"), keep_blank_values=True))
    elif content_type.startswith("multipart/form-data"):
        sources.append({k: [v.decode("utf-8", "replace")]
                        for k, (_, _, v) in _parts(call).items()})
    elif "json" in content_type and call.body:
        sources.append({k: [str(i) for i in v] if isinstance(v, list) else [_scalar(v)]
                        for k, v in call.json().items() if v is not None})
    for source in sources:
        for key, values in source.items():
            found[key.removesuffix("[]")] = list(values)
    return found


def _scalar(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _one(params: dict[str, list[str]], name: str) -> str | None:
    values = params.get(name)
    return values[0] if values else None


def _truthy(value: str | None) -> bool:
    return (value or "").lower() in ("1", "true", "yes", "on")


def _parts(call: Call) -> dict[str, tuple[str | None, str, bytes]]:
    """A multipart body's fields: name -> (file name, content type, bytes)."""
    content_type = call.headers.get("Content-Type") or ""
    head = f"Content-Type: {content_type}\r\nMIME-Version: 1.0\r\n\r\n".encode()
    message = BytesParser(policy=policy.HTTP).parsebytes(head + call.body)
    if not message.is_multipart():
        raise _invalid("the multipart body could not be read")
    parts: dict[str, tuple[str | None, str, bytes]] = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        payload = part.get_payload(decode=True)
        if isinstance(name, str) and isinstance(payload, bytes):
            parts[name] = (part.get_filename(), part.get_content_type(), payload)
    return parts


def _base(call: Call) -> str:
    """This instance's public address, as the client reached it."""
    return f"http://{call.headers.get('Host') or '127.0.0.1'}{PREFIX}"


# ---- the instance -----------------------------------------------------------------------------


def instance_v1(state: SandboxState, call: Call) -> Reply:
    return json_reply(200, {
        "uri": _host(call), "title": "Chorus sandbox (Mastodon)", "version": VERSION,
        "short_description": "An emulated instance for tests and demos; its data is sandbox "
                             "data.", "description": "", "email": "", "languages": ["en"],
        "registrations": False, "approval_required": False, "invites_enabled": False,
        "urls": {}, "stats": {"user_count": len(state.store.accounts()), "status_count": 0,
                              "domain_count": 1},
        "configuration": _configuration(), "contact_account": None, "rules": [],
    })


def instance_v2(state: SandboxState, call: Call) -> Reply:
    return json_reply(200, {
        "domain": _host(call), "title": "Chorus sandbox (Mastodon)", "version": VERSION,
        "source_url": "https://github.com/mastodon/mastodon",
        "description": "An emulated instance for tests and demos; its data is sandbox data.",
        "usage": {"users": {"active_month": len(state.store.accounts())}},
        "thumbnail": {"url": ""}, "languages": ["en"],
        "configuration": {**_configuration(), "urls": {}, "translation": {"enabled": False}},
        "registrations": {"enabled": False, "approval_required": False, "message": None},
        "api_versions": {"mastodon": 2},
        "contact": {"email": "", "account": None}, "rules": [],
    })


def _host(call: Call) -> str:
    return (call.headers.get("Host") or "127.0.0.1").split(":")[0]


def _configuration() -> dict[str, Any]:
    return {
        "statuses": {"max_characters": MAX_CHARACTERS,
                     "max_media_attachments": MAX_MEDIA_PER_STATUS,
                     "characters_reserved_per_url": URL_CHARACTERS},
        "media_attachments": {
            "supported_mime_types": ["image/jpeg", "image/png", "image/gif", "image/webp",
                                     "video/mp4"],
            "image_size_limit": MAX_IMAGE_BYTES, "description_limit": MAX_DESCRIPTION},
        "polls": {"max_options": 4, "max_characters_per_option": 50},
    }


# ---- apps and authorisation -------------------------------------------------------------------


def register_app(state: SandboxState, call: Call) -> Reply:
    params = _params(call)
    name = _one(params, "client_name")
    uris = [u for line in params.get("redirect_uris", []) for u in line.split()]
    if not name or not uris:
        raise _invalid("client_name and redirect_uris are required")
    scopes = (_one(params, "scopes") or "read").split()
    client_id, secret = new_secret(24), new_secret(32)
    state.store.add_grant(client_id, APP, {"name": name, "secret": secret,
                                           "redirect_uris": uris, "scopes": scopes}, call.now)
    return json_reply(200, {
        "id": client_id[:8], "name": name, "website": _one(params, "website"),
        "scopes": scopes, "redirect_uri": "\n".join(uris), "redirect_uris": uris,
        "client_id": client_id, "client_secret": secret, "client_secret_expires_at": 0,
        "vapid_key": "",
    })


def authorize(state: SandboxState, call: Call) -> Reply:
    """The consent page: approves as the account named by `username`, and shows the code
    (JSON when asked for it) or redirects with it."""
    params = {k: v[0] for k, v in call.query.items() if v}
    app = state.store.grant(params.get("client_id", ""), APP)
    redirect_uri = params.get("redirect_uri", "")
    scopes = params.get("scope", "read").split()
    if app is None or redirect_uri not in app[0]["redirect_uris"]:
        raise ApiError(_page(400, "The client is unknown, or the redirect URI is not one it "
                                  "registered."))
    if params.get("response_type") != "code" or not set(scopes) <= set(app[0]["scopes"]):
        raise ApiError(_page(400, "The requested scope is invalid, unknown, or malformed."))
    account = _approving(state, call, params)
    code = new_secret()
    state.store.add_grant(code, CODE, {"account_id": account.id, "client_id":
                                       params["client_id"], "redirect_uri": redirect_uri,
                                       "scope": " ".join(scopes)}, call.now)
    if redirect_uri != OOB:
        query = {"code": code, **({"state": params["state"]} if "state" in params else {})}
        return redirect(f"{redirect_uri}{'&' if '?' in redirect_uri else '?'}"
                        f"{urlencode(query)}")
    if "application/json" in (call.headers.get("Accept") or ""):
        return json_reply(200, {"code": code, "username": account.username})
    return _page(200, f"Sandbox: @{html.escape(account.username)} authorised "
                      f"{html.escape(app[0]['name'])}. Copy this authorisation code into the "
                      f'app: <code id="code">{code}</code>')


def _approving(state: SandboxState, call: Call, keep: dict[str, str]) -> Account:
    username = keep.get("username")
    if not username:
        hidden = "".join(f'<input type="hidden" name="{html.escape(k)}" '
                         f'value="{html.escape(v)}">' for k, v in keep.items())
        raise ApiError(_page(200, f'<form method="get" action="{html.escape(call.path)}">'
                                  f'{hidden}<label>Approve as sandbox account <input '
                                  'name="username"></label> <button>Authorise</button></form>'))
    account = state.store.account(username=username)
    if account is None:
        raise ApiError(_page(404, f"There is no sandbox account @{html.escape(username)}."))
    return account


def _page(status: int, body: str) -> Reply:
    document = (f"<!doctype html><html lang=en><title>Chorus sandbox: Mastodon</title>"
                f"<p>{body}</p></html>")
    return Reply(status, document.encode(), HTML)


def token(state: SandboxState, call: Call) -> Reply:
    params = {k: v[0] for k, v in _params(call).items() if v}
    app = state.store.grant(params.get("client_id", ""), APP)
    if app is None or app[0]["secret"] != params.get("client_secret"):
        raise ApiError(json_reply(401, {
            "error": "invalid_client",
            "error_description": "Client authentication failed due to unknown client, no "
                                 "client authentication included, or unsupported "
                                 "authentication method."}))
    if params.get("grant_type") != "authorization_code":
        raise ApiError(json_reply(400, {"error": "unsupported_grant_type",
                                        "error_description": "The authorization grant type "
                                                             "is not supported."}))
    grant = state.store.take_grant(params.get("code", ""), CODE)
    if (grant is None or call.now - grant[1] > CODE_LIFETIME
            or grant[0]["client_id"] != params["client_id"]
            or grant[0]["redirect_uri"] != params.get("redirect_uri")):
        raise ApiError(json_reply(400, {
            "error": "invalid_grant",
            "error_description": "The provided authorization grant is invalid, expired, "
                                 "revoked, does not match the redirection URI used in the "
                                 "authorization request, or was issued to another client."}))
    access = new_secret(32)
    state.store.add_token(access, TOKEN_KIND, grant[0]["account_id"], call.now,
                          scope=grant[0]["scope"])
    return json_reply(200, {"access_token": access, "token_type": "Bearer",
                            "scope": grant[0]["scope"], "created_at": int(call.now)})


# ---- accounts ---------------------------------------------------------------------------------


def verify_credentials(state: SandboxState, call: Call) -> Reply:
    me = _require(call, "read:accounts")
    return json_reply(200, {**_account_json(state, me, call),
                            "source": {"privacy": "public", "sensitive": False,
                                       "language": "en", "note": "", "fields": []}})


def _account_json(state: SandboxState, account: Account, call: Call) -> dict[str, Any]:
    statuses = [s for s in state.store.all_statuses(account.id) if not s.deleted]
    url = f"{_base(call)}/@{account.username}"
    return {
        "id": account.id, "username": account.username, "acct": account.username,
        "display_name": account.name, "locked": False, "bot": False, "group": False,
        "discoverable": True, "created_at": iso(account.created_at - account.created_at % 86400),
        "note": "", "url": url, "uri": f"{_base(call)}/users/{account.username}",
        "avatar": "", "avatar_static": "", "header": "", "header_static": "",
        "followers_count": account.followers, "following_count": 0,
        "statuses_count": len(statuses),
        "last_status_at": None if not statuses else iso(statuses[-1].created_at)[:10],
        "emojis": [], "fields": [],
    }


def account_statuses(state: SandboxState, call: Call) -> Reply:
    _require(call, "read:statuses")
    account = state.store.account(id=call.params["id"])
    if account is None:
        raise _not_found()
    params = _params(call)
    limit = _limit(_one(params, "limit"))
    query = StatusQuery(account.id, limit, max_id=_id_param(params, "max_id"),
                        since_id=_id_param(params, "since_id"),
                        min_id=_id_param(params, "min_id"),
                        exclude_replies=_truthy(_one(params, "exclude_replies")))
    page = state.store.account_statuses(query)
    if _truthy(_one(params, "only_media")):
        page = [s for s in page if s.media]
    headers = {}
    if page:
        path = f"{_base(call)}/api/v1/accounts/{account.id}/statuses"
        headers["Link"] = (f'<{path}?limit={limit}&max_id={page[-1].id}>; rel="next", '
                           f'<{path}?limit={limit}&min_id={page[0].id}>; rel="prev"')
    return json_reply(200, [_status_json(s, call) for s in page], headers)


def _limit(value: str | None) -> int:
    if value is None or not value.isdigit():
        return PAGE_DEFAULT
    return max(1, min(int(value), PAGE_MAX))


def _id_param(params: dict[str, list[str]], name: str) -> int | None:
    value = _one(params, name)
    return int(value) if value is not None and value.isdigit() else None


# ---- statuses ---------------------------------------------------------------------------------


def create_status(state: SandboxState, call: Call) -> Reply:
    author = _require(call, "write:statuses")
    params = _params(call)
    text = _one(params, "status") or ""
    spoiler = _one(params, "spoiler_text") or ""
    media_ids = tuple(params.get("media_ids", []))
    visibility = (_one(params, "visibility") or "public").lower()
    if visibility not in VISIBILITIES:
        raise _invalid("Visibility is not included in the list")
    if not text.strip() and not media_ids:
        raise _invalid("Text can't be blank")
    if measure(spoiler + text, "mastodon", limit=MAX_CHARACTERS).length > MAX_CHARACTERS:
        raise _invalid(f"Text character limit of {MAX_CHARACTERS} exceeded")
    _attachable(state, author, media_ids, call.now)
    reply_to = _one(params, "in_reply_to_id")
    if reply_to is not None and not _live(state, reply_to):
        raise _not_found()
    key = call.headers.get("Idempotency-Key")
    new = NewStatus(author.id, text, visibility, _one(params, "language") or None, spoiler,
                    reply_to, media_ids, key)
    status_id, _ = state.store.add_status(new, call.now,
                                          idempotent_since=call.now - IDEMPOTENCY_WINDOW)
    return json_reply(200, _status_json(state.store.statuses_by_id([status_id])[status_id], call))


def _attachable(state: SandboxState, author: Account, media_ids: tuple[str, ...],
                now: float) -> None:
    if len(media_ids) > MAX_MEDIA_PER_STATUS:
        raise _error(422, f"Cannot attach more than {MAX_MEDIA_PER_STATUS} files")
    found = {m: state.store.mastodon_media(m) for m in media_ids}
    unusable = [m for m, media in found.items()
                if media is None or media.account_id != author.id or media.status_id]
    if unusable:
        raise _invalid(f"Media attachments {', '.join(unusable)} could not be found")
    if any(media is not None and media.ready_at > now for media in found.values()):
        raise _error(422, "Cannot attach files that have not finished processing. Try again "
                          "in a moment!")


def _live(state: SandboxState, status_id: str) -> MastodonStatus | None:
    found = state.store.statuses_by_id([status_id]).get(status_id)
    return None if found is None or found.deleted else found


def get_status(state: SandboxState, call: Call) -> Reply:
    _require(call, "read:statuses")
    found = _live(state, call.params["id"])
    if found is None:
        raise _not_found()
    return json_reply(200, _status_json(found, call))


def get_statuses(state: SandboxState, call: Call) -> Reply:
    """Several statuses at once (Mastodon 4.3): those that no longer exist are left out."""
    _require(call, "read:statuses")
    ids = list(dict.fromkeys(_params(call).get("id", [])))
    if len(ids) > MAX_IDS_PER_READ:
        raise _invalid(f"at most {MAX_IDS_PER_READ} ids may be requested at once")
    found = state.store.statuses_by_id(ids)
    live = [found[i] for i in ids if i in found and not found[i].deleted]
    return json_reply(200, [_status_json(s, call) for s in live])


def delete_status(state: SandboxState, call: Call) -> Reply:
    me = _require(call, "write:statuses")
    found = _live(state, call.params["id"])
    if found is None or found.account.id != me.id:
        raise _not_found()
    state.store.delete_status(found.id)
    return json_reply(200, {**_status_json(found, call), "text": found.text})


def _status_json(status: MastodonStatus, call: Call) -> dict[str, Any]:
    counts = engagement.public_metrics(status.id, status.account.followers,
                                       call.now - status.created_at)
    base, username = _base(call), status.account.username
    return {
        "id": status.id, "created_at": iso(status.created_at),
        "in_reply_to_id": status.in_reply_to_id, "in_reply_to_account_id": None,
        "sensitive": False, "spoiler_text": status.spoiler_text,
        "visibility": status.visibility, "language": status.language,
        "uri": f"{base}/users/{username}/statuses/{status.id}",
        "url": f"{base}/@{username}/{status.id}",
        "replies_count": counts["reply_count"], "reblogs_count": counts["retweet_count"],
        "favourites_count": counts["like_count"], "edited_at": None,
        "content": render_content(status.text), "reblog": None,
        "application": {"name": "Chorus", "website": None},
        "account": {"id": status.account.id, "username": username, "acct": username,
                    "display_name": status.account.name, "url": f"{base}/@{username}",
                    "followers_count": status.account.followers},
        "media_attachments": [_media_json(m, call) for m in status.media],
        "mentions": [], "tags": [], "emojis": [], "card": None, "poll": None,
        "favourited": False, "reblogged": False, "muted": False, "bookmarked": False,
        "pinned": False, "filtered": [],
    }


_LINK = re.compile(r"https?://[^\s<>\"]+[^\s<>\".,;:!?)\]']")
_HASHTAG = re.compile(r"(?<![\w/#])#(\w+)")


def render_content(text: str) -> str:
    """The status as Mastodon's HTML: escaped, paragraphs and line breaks, links and tags."""
    paragraphs = [p for p in re.split(r"\n{2,}", text.strip()) if p]
    return "".join(f"<p>{'<br />'.join(_linked(line) for line in p.splitlines())}</p>"
                   for p in paragraphs)


def _linked(line: str) -> str:
    pieces, last = [], 0
    for found in _LINK.finditer(line):
        pieces.append(_tagged(line[last:found.start()]))
        url = html.escape(found.group(0))
        pieces.append(f'<a href="{url}" rel="nofollow noopener" target="_blank">{url}</a>')
        last = found.end()
    pieces.append(_tagged(line[last:]))
    return "".join(pieces)


def _tagged(text: str) -> str:
    return _HASHTAG.sub(lambda m: f'<a href="/tags/{m.group(1).lower()}" class="mention '
                                  f'hashtag" rel="tag">#<span>{m.group(1)}</span></a>',
                        html.escape(text, quote=False))


# ---- media ------------------------------------------------------------------------------------


def upload_media(state: SandboxState, call: Call) -> Reply:
    me = _require(call, "write:media")
    if not (call.headers.get("Content-Type") or "").startswith("multipart/form-data"):
        raise _invalid("File can't be blank")
    parts = _parts(call)
    file = parts.get("file")
    if file is None or not file[2]:
        raise _invalid("File can't be blank")
    _, mime, content = file
    if _media_type(mime) is None:
        raise _invalid("File content type is invalid, File is invalid")
    if len(content) > MAX_IMAGE_BYTES:
        raise _invalid(f"File file size must be less than {MAX_IMAGE_BYTES} Bytes")
    description = parts["description"][2].decode() if "description" in parts else None
    if description is not None and len(description) > MAX_DESCRIPTION:
        raise _invalid(f"Description is too long (maximum is {MAX_DESCRIPTION} characters)")
    later = _media_type(mime) in ("gifv", "video")
    media = state.store.add_mastodon_media(
        me.id, mime, len(content), sha256(content).hexdigest(), description, call.now,
        call.now + (PROCESSING_SECONDS if later else 0.0))
    return json_reply(202 if later else 200, _media_json(media, call))


def get_media(state: SandboxState, call: Call) -> Reply:
    me = _require(call, "write:media")
    media = state.store.mastodon_media(call.params["id"])
    if media is None or media.account_id != me.id:
        raise _not_found()
    return json_reply(206 if media.ready_at > call.now else 200, _media_json(media, call))


def _media_type(mime: str) -> str | None:
    if mime == "image/gif":
        return "gifv"
    for prefix, kind in (("image/", "image"), ("video/", "video"), ("audio/", "audio")):
        if mime.startswith(prefix):
            return kind
    return None


def _media_json(media: MastodonMedia, call: Call) -> dict[str, Any]:
    ready = media.ready_at <= call.now
    url = f"{_base(call)}/system/media_attachments/{media.id}"
    return {"id": media.id, "type": _media_type(media.mime) or "unknown",
            "url": url if ready else None, "preview_url": f"{url}/small",
            "remote_url": None, "meta": {}, "description": media.description,
            "blurhash": None}


# ---- for the control API ----------------------------------------------------------------------


def posts_json(state: SandboxState, author: Account | None) -> list[dict[str, Any]]:
    """Every status (of `author`, if given) as `GET /_sandbox/posts` lists it."""
    statuses = state.store.all_statuses(None if author is None else author.id)
    return [{
        "network": "mastodon", "id": s.id, "author_id": s.account.id,
        "username": s.account.username, "text": s.text, "created_at": iso(s.created_at),
        "kind": "reply" if s.in_reply_to_id else "post", "reply_to": s.in_reply_to_id,
        "visibility": s.visibility, "language": s.language,
        "media": [{"id": m.id, "mime": m.mime, "size": m.size, "alt_text": m.description}
                  for m in s.media],
        "deleted": s.deleted,
    } for s in statuses]
