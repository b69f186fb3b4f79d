"""The signed, HttpOnly cookie that keeps a browser signed in across reloads and new tabs.

Streamlit's app code cannot set a cookie: a page run talks to the browser over a WebSocket,
and st.context.cookies only reads the cookies the browser sent when that connection opened.
So the dashboard is served as an st.App (dashboard/server.py) with one route of its own,
`POST /chorus/session`, which can:

1. After a password sign-in, the page renders a one-time hand-off token (valid a minute) into a
   small script that POSTs it to that route, from this origin only. The route checks the
   hand-off against the database, spends it, and answers with the session cookie: HttpOnly,
   SameSite=Strict, Secure over HTTPS, signed (campaigns.core.session_tokens) with a key made
   from Streamlit's `server.cookieSecret` and the user's session secret, and ending after
   CHORUS_SESSION_HOURS. Page scripts never see the cookie itself.
2. Each new page load's WebSocket carries the cookie; `restore` checks it (signature, expiry,
   and the user's current session secret) and the page run continues signed in.
3. Signing out, `chorus users sign-out`, `disable` and `remove` replace or delete the session
   secret, so every cookie made with it fails that check at once; `DELETE /chorus/session`
   also removes the cookie from the browser that signed out.
"""

from __future__ import annotations

import html
import json
import threading
from collections.abc import Mapping
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from streamlit import config

from campaigns.core.clock import utcnow
from campaigns.core.session_tokens import HANDOFF, SESSION
from campaigns.storage.users import SessionKey, TokenSession, check_token, session_token

COOKIE = "chorus_session"
#: How long the page has to hand its token to the browser after signing in.
HANDOFF_SECONDS = 60
_MAX_BODY = 512

_spent_lock = threading.Lock()
#: Hand-off nonces already exchanged in this process, with their expiry, so each is used once.
_spent: dict[str, datetime] = {}


def server_key() -> str:
    """Streamlit's cookie-signing key: random per start unless `server.cookieSecret` is set (as
    it must be, the same on every replica, for sessions to outlive a restart)."""
    return str(config.get_option("server.cookieSecret"))


def route_path() -> str:
    base = str(config.get_option("server.baseUrlPath") or "").strip("/")
    return f"/{base}/chorus/session" if base else "/chorus/session"


# dashboard.data is imported where it is used: dashboard/server.py imports this module before
# Streamlit's runtime exists, and data's caches must be made under that runtime.


def session_ends(now: datetime) -> datetime:
    from dashboard import data

    return now + timedelta(hours=data.settings().session_hours)


# ---- in a page run ----------------------------------------------------------------------------


def restore(cookies: Mapping[str, str], *, now: datetime) -> TokenSession | None:
    """The session the browser's cookie stands for, if it is still valid."""
    from dashboard import data

    token = cookies.get(COOKIE)
    if token is None:
        return None
    with data.reading() as session:
        return check_token(token, session=session, server_key=server_key(), purpose=SESSION,
                           now=now)


def handoff_script(key: SessionKey, *, now: datetime) -> str:
    """HTML for st.html(..., unsafe_allow_javascript=True): the browser collects its cookie."""
    token = session_token(key, server_key=server_key(), purpose=HANDOFF,
                          expires=now + timedelta(seconds=HANDOFF_SECONDS))
    return _fetch_script("POST", token)


def forget_script() -> str:
    """HTML that asks the server to remove this browser's session cookie."""
    return _fetch_script("DELETE", "")


def _fetch_script(method: str, body: str) -> str:
    call = (f"fetch({json.dumps(route_path())}, {{method: {json.dumps(method)}, "
            f"body: {json.dumps(body)}, credentials: 'same-origin', "
            f"headers: {{'Content-Type': 'text/plain'}}}});")
    return f'<script data-chorus-session="{html.escape(method.lower())}">{call}</script>'


# ---- the route --------------------------------------------------------------------------------


def routes() -> list[Route]:
    return [Route(route_path(), _session_route, methods=["POST", "DELETE"])]


async def _session_route(request: Request) -> Response:
    if not same_origin(request.headers):
        return Response("Cross-site requests are refused.", status_code=403)
    response = Response(status_code=204, headers={"Cache-Control": "no-store"})
    secure = request.url.scheme == "https"
    if request.method == "DELETE":
        response.delete_cookie(COOKIE, path="/", secure=secure, httponly=True, samesite="strict")
        return response
    body = await request.body()
    if len(body) > _MAX_BODY:
        return Response("Too long.", status_code=413)
    cookie = await run_in_threadpool(exchange, body.decode("ascii", "replace"), now=utcnow())
    if cookie is None:
        return Response("That sign-in has expired; sign in again.", status_code=403)
    value, expires = cookie
    response.set_cookie(COOKIE, value, max_age=max(0, int((expires - utcnow()).total_seconds())),
                        path="/", secure=secure, httponly=True, samesite="strict")
    return response


def same_origin(headers: object) -> bool:
    """Whether a request came from a page of this site (Fetch Metadata, else Origin = Host)."""
    get = getattr(headers, "get", None)
    if get is None:
        return False
    site = get("sec-fetch-site")
    if site is not None:
        return bool(site == "same-origin")
    origin, host = get("origin"), get("host")
    return bool(origin and host and urlsplit(origin).netloc == host)


def exchange(handoff: str, *, now: datetime) -> tuple[str, datetime] | None:
    """A session cookie's value and expiry for a valid, unspent hand-off token; else None."""
    from dashboard import data

    with data.reading() as session:
        signed = check_token(handoff, session=session, server_key=server_key(),
                             purpose=HANDOFF, now=now)
    if signed is None or not _spend(signed.nonce, signed.expires, now=now):
        return None
    expires = session_ends(now)
    return session_token(signed.key, server_key=server_key(), purpose=SESSION,
                         expires=expires), expires


def _spend(nonce: str, expires: datetime, *, now: datetime) -> bool:
    with _spent_lock:
        for old in [name for name, until in _spent.items() if until <= now]:
            del _spent[old]
        if nonce in _spent:
            return False
        _spent[nonce] = expires
        return True
