"""Connecting X accounts, without tweepy: the app an account connects through, what each
flow keeps between its two steps, what connecting produced, and OAuth 2.0 tokens' scopes,
expiry and refresh.

The flows themselves (PIN and PKCE) and the refresh talk to X through tweepy, so they are in
x.py.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from campaigns.config.secrets import Credentials
from scheduler.publishers.x_transport import X_HOST

#: X's OAuth 2.0 consent page, opened in the user's browser (not through tweepy's session).
AUTHORIZE_HOST = "https://twitter.com"
#: Given to requests-oauthlib as https (it refuses plain http); XTransport redirects it.
TOKEN_URL = f"{X_HOST}/2/oauth2/token"
SCOPES = ("tweet.read", "tweet.write", "users.read", "offline.access", "media.write")
#: Refresh an OAuth 2.0 access token when it expires within this margin.
REFRESH_MARGIN = timedelta(minutes=5)
#: Credentials of a sandbox account carry this app key: the sandbox checks no signatures.
SANDBOX_APP_KEY = "chorus-sandbox"


class XAuthError(Exception):
    """Connecting or refreshing an account failed; the message is safe to show."""


@dataclass(frozen=True)
class XApp:
    """The X app an account is connected through, and where X (or the sandbox) answers."""

    api_url: str
    timeout: float
    consumer_key: str | None = None
    consumer_secret: str | None = field(default=None, repr=False)
    client_id: str | None = None
    client_secret: str | None = field(default=None, repr=False)
    redirect_uri: str = "http://127.0.0.1:8765/callback"


@dataclass(frozen=True)
class Connection:
    """What connecting an account produced: its tokens and who it is on X."""

    credentials: Credentials
    user_id: str
    username: str


@dataclass(frozen=True)
class PinFlow:
    """What to keep between showing the PIN page and receiving the PIN."""

    request_token: str = field(repr=False)
    request_token_secret: str = field(repr=False)


@dataclass(frozen=True)
class PkceFlow:
    """What to keep between showing the consent page and receiving the redirect."""

    state: str = field(repr=False)
    code_verifier: str = field(repr=False)


def for_browser(url: str, host: str, app: XApp) -> str:
    """`url` on `host` as the browser must open it: at the sandbox when `app` points there."""
    base = app.api_url.rstrip("/")
    if base != X_HOST and url.startswith(host + "/"):
        return base + url[len(host):]
    return url


def needs_refresh(credentials: Credentials, now: datetime) -> bool:
    """True when OAuth 2.0 credentials expire within REFRESH_MARGIN (or have expired)."""
    expires_at = credentials.get("expires_at") if credentials.kind == "oauth2" else None
    if expires_at is None:
        return False
    return datetime.fromtimestamp(float(expires_at), UTC) - now <= REFRESH_MARGIN


def oauth2_credentials(token: dict[str, Any], now: datetime) -> Credentials:
    """What to store from the token endpoint's answer, its expiry made a moment."""
    scope = token.get("scope")
    values: dict[str, Any] = {
        "access_token": token["access_token"],
        "refresh_token": token.get("refresh_token"),
        "scope": " ".join(scope) if isinstance(scope, list) else scope,
    }
    if token.get("expires_in") is not None:
        values["expires_at"] = int(now.timestamp()) + int(token["expires_in"])
    return Credentials("oauth2", values)
