"""End-to-end tests: the real client libraries against the sandbox over HTTP.

The helpers live here so that other test packages (tests/integration) can use them too.
"""

from __future__ import annotations

import socket
import struct
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from campaigns.config.secrets import Credentials
from scheduler.publishers.base import Image, SendRequest, SendResult
from scheduler.publishers.x import XPublisher
from scheduler.publishers.x_oauth import SANDBOX_APP_KEY
from scheduler.sandbox.client import SandboxClient
from scheduler.sandbox.server import RunningSandbox, start


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


#: A valid one-pixel PNG.
PNG = (b"\x89PNG\r\n\x1a\n"
       + _chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 6, 0, 0, 0))
       + _chunk(b"IDAT", zlib.compress(b"\x00\x00\x00\x00\x00"))
       + _chunk(b"IEND", b""))


@dataclass
class Sandbox:
    url: str
    control: SandboxClient

    def account(self, username: str = "alice", followers: int = 1000) -> SandboxAccount:
        return SandboxAccount(self.control.create_account(username, followers=followers))

    def publisher(self, timeout: float = 5.0) -> XPublisher:
        return XPublisher(self.url, timeout, None, None)


@dataclass
class SandboxAccount:
    created: dict[str, Any]

    @property
    def id(self) -> str:
        return str(self.created["id"])

    @property
    def username(self) -> str:
        return str(self.created["username"])

    @property
    def oauth1(self) -> Credentials:
        issued = self.created["oauth1"]
        return Credentials("oauth1", {"access_token": issued["token"],
                                      "access_token_secret": issued["secret"],
                                      "consumer_key": SANDBOX_APP_KEY,
                                      "consumer_secret": SANDBOX_APP_KEY})

    @property
    def oauth2(self) -> Credentials:
        return Credentials("oauth2", {"access_token": self.created["oauth2"]["access_token"]})

    @property
    def secrets(self) -> list[str]:
        """Every token and secret the sandbox issued to this account."""
        return [self.created["oauth1"]["token"], self.created["oauth1"]["secret"],
                self.created["oauth2"]["access_token"], self.created["oauth2"]["refresh_token"]]


@contextmanager
def running_sandbox(state_path: Path) -> Iterator[Sandbox]:
    """A sandbox on a free port, stopped afterwards."""
    running: RunningSandbox = start(state_path, port=0)
    try:
        yield Sandbox(running.url, SandboxClient(running.url))
    finally:
        running.stop()


def request(credentials: Credentials, text: str, *, images: tuple[Image, ...] = (),
            remote_user_id: str | None = None, delivery_id: int = 1) -> SendRequest:
    return SendRequest(delivery_id=delivery_id, account_key="lead-x",
                       remote_user_id=remote_user_id, credentials=credentials, text=text,
                       images=images)


def send(publisher: XPublisher, credentials: Credentials, text: str,
         **options: Any) -> SendResult:
    return publisher.send(request(credentials, text, **options))


def closed_port() -> int:
    """A local port with nothing listening on it."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def mastodon_credentials(sandbox: Sandbox, account: SandboxAccount) -> Credentials:
    """The account's token on the sandbox's Mastodon instance, as `chorus accounts connect
    mastodon --sandbox` stores it."""
    issued = account.created["mastodon"]
    return Credentials("oauth2", {"access_token": issued["access_token"],
                                  "acct": issued["acct"],
                                  "instance": sandbox.url + issued["instance"]})
