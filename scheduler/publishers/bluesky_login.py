"""Connecting a Bluesky account, without atproto: where accounts log in unless told otherwise,
what an account's sealed credentials hold, and what logging in once found.

The login itself talks to the service through atproto, so it is `BlueskyPublisher.login`.
"""

from __future__ import annotations

from dataclasses import dataclass

from campaigns.config.secrets import Credentials

#: Where accounts log in unless told otherwise (Bluesky's entryway).
DEFAULT_SERVICE = "https://bsky.social"


class BlueskyAuthError(Exception):
    """Logging in to connect an account failed; the message is safe to show."""


def credentials_for(*, handle: str, did: str, app_password: str, service: str) -> Credentials:
    """What an account's sealed token holds: who it is, how it logs in, and where."""
    return Credentials("app_password", {"handle": handle, "did": did,
                                        "app_password": app_password,
                                        "service": service.rstrip("/")})


@dataclass(frozen=True)
class BlueskyLogin:
    """What logging in to connect an account found."""

    credentials: Credentials
    did: str
    handle: str
    #: The service that answered is the Chorus sandbox (it labels its answers).
    sandbox: bool
