"""Signed session tokens: what a browser's cookie carries so a dashboard session outlives a
reload, and the short-lived hand-off that lets the browser collect that cookie.

A token names a user, an expiry and a purpose, and ends with a MAC. The MAC's key is derived
from both the server's key and the user's session secret (kept on the users row, never sent
to the browser): forging a token needs both; changing any part of it, including the expiry,
breaks it; and replacing the user's secret (signing out, disabling) ends every token made
with the old one. A user added later never holds an older user's secret, so an old token can
never name them, whatever their id. Pure: the caller looks the secret up and passes `now`.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime

#: The cookie a signed-in browser keeps; the value is a SESSION token.
SESSION = "session"
#: A one-time, short-lived token the page hands the browser to exchange for the cookie.
HANDOFF = "handoff"
PURPOSES = (SESSION, HANDOFF)
_VERSION = "c1"
#: version.purpose.user id.expiry (epoch seconds).nonce.mac: only characters a cookie allows.
_SHAPE = re.compile(r"(c1)\.(session|handoff)\.([1-9][0-9]{0,17})\.([0-9]{1,12})"
                    r"\.([A-Za-z0-9_-]{16,64})\.([A-Za-z0-9_-]{43})")


@dataclass(frozen=True)
class Claims:
    """What a well-formed token says; nothing is trusted until `verify` agrees."""

    purpose: str
    user_id: int
    expires: datetime
    nonce: str
    mac: str

    @property
    def body(self) -> str:
        return ".".join((_VERSION, self.purpose, str(self.user_id),
                         str(int(self.expires.timestamp())), self.nonce))


def issue(user_id: int, session_secret: str, *, server_key: str, purpose: str,
          expires: datetime) -> str:
    """A token for `user_id` that `verify` accepts until `expires`, while the user's session
    secret is still `session_secret`."""
    if purpose not in PURPOSES:
        raise ValueError(f"unknown token purpose {purpose!r}")
    claims = Claims(purpose, user_id, expires.astimezone(UTC).replace(microsecond=0),
                    secrets.token_urlsafe(16), "")
    return f"{claims.body}.{_mac(claims.body, session_secret, server_key)}"


def parse(token: object) -> Claims | None:
    """The claims of a token of the right shape; None for anything else (never raises)."""
    if not isinstance(token, str) or len(token) > 256:
        return None
    match = _SHAPE.fullmatch(token)
    if match is None:
        return None
    _, purpose, user_id, expires, nonce, mac = match.groups()
    return Claims(purpose, int(user_id), datetime.fromtimestamp(int(expires), UTC), nonce, mac)


def verify(claims: Claims, session_secret: str, *, server_key: str, purpose: str,
           now: datetime) -> bool:
    """Whether `claims` were issued for `purpose` with this secret and key, and are unexpired.
    The MAC is compared in constant time."""
    if claims.purpose != purpose or now >= claims.expires:
        return False
    expected = _mac(claims.body, session_secret, server_key)
    return hmac.compare_digest(expected.encode(), claims.mac.encode())


def _mac(body: str, session_secret: str, server_key: str) -> str:
    key = hmac.new(server_key.encode(), b"chorus session key|" + session_secret.encode(),
                   hashlib.sha256).digest()
    digest = hmac.new(key, body.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
