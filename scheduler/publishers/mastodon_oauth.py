"""Connecting Mastodon accounts, without Mastodon.py: what Chorus asks an account to allow,
the app it registers on an instance, and what connecting produced.

Registering, the code flow and verifying a token talk to the instance through Mastodon.py, so
they are in mastodon.py.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from campaigns.config.secrets import Credentials

#: What Chorus asks an account to allow: post, upload media, read statuses and who it is.
SCOPES = ("read:statuses", "write:statuses", "write:media", "read:accounts")
#: A command-line app has no address to be redirected to: the instance shows the code.
OOB = "urn:ietf:wg:oauth:2.0:oob"
APP_NAME = "Chorus"


class MastodonAuthError(Exception):
    """Connecting an account failed; the message is safe to show."""


@dataclass(frozen=True)
class MastodonApp:
    """Chorus registered on one instance: what the authorisation steps need."""

    instance: str
    client_id: str
    client_secret: str = field(repr=False)
    timeout: float = 10.0


@dataclass(frozen=True)
class MastodonConnection:
    """What connecting an account produced: its credentials and who it is on its instance."""

    credentials: Credentials
    user_id: str
    username: str
    instance: str
    sandbox: bool
