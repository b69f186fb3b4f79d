"""Helpers for the Bluesky tests: sandbox accounts with their app passwords, requests to send,
and raw XRPC calls for what the publisher does not do itself (deleting a post, many posts)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import requests

from campaigns.config.secrets import Credentials
from scheduler.publishers.base import Image, SendRequest
from scheduler.publishers.bluesky import BlueskyPublisher
from scheduler.publishers.bluesky_login import credentials_for
from tests.e2e import Sandbox

XRPC = "/bluesky/xrpc"


@dataclass
class BlueskyAccount:
    """A sandbox account as the control API created it, seen from Bluesky."""

    sandbox_url: str
    created: dict[str, Any]

    @property
    def username(self) -> str:
        return str(self.created["username"])

    @property
    def issued(self) -> dict[str, str]:
        return dict(self.created["bluesky"])

    @property
    def handle(self) -> str:
        return self.issued["handle"]

    @property
    def did(self) -> str:
        return self.issued["did"]

    @property
    def app_password(self) -> str:
        return self.issued["app_password"]

    @property
    def service(self) -> str:
        return self.sandbox_url + self.issued["service"]

    @property
    def credentials(self) -> Credentials:
        return credentials_for(handle=self.handle, did=self.did,
                               app_password=self.app_password, service=self.service)


def bluesky_account(sandbox: Sandbox, username: str = "alice",
                    followers: int = 1000) -> BlueskyAccount:
    return BlueskyAccount(sandbox.url, sandbox.control.create_account(username,
                                                                      followers=followers))


def publisher(timeout: float = 5.0) -> BlueskyPublisher:
    return BlueskyPublisher(timeout)


def bluesky_request(account: BlueskyAccount, text: str, *, images: tuple[Image, ...] = (),
                    delivery_id: int = 1) -> SendRequest:
    return SendRequest(delivery_id=delivery_id, account_key="lead-bluesky",
                       remote_user_id=account.did, credentials=account.credentials, text=text,
                       images=images)


class Xrpc:
    """Raw XRPC calls as the account, with a session of its own (not the publisher's)."""

    def __init__(self, account: BlueskyAccount) -> None:
        self.account = account
        self.http = requests.Session()
        answer = self.http.post(self.url("com.atproto.server.createSession"), timeout=5,
                                json={"identifier": account.handle,
                                      "password": account.app_password})
        answer.raise_for_status()
        self.session = answer.json()
        self.http.headers["Authorization"] = f"Bearer {self.session['accessJwt']}"

    def url(self, nsid: str) -> str:
        return f"{self.account.sandbox_url}{XRPC}/{nsid}"

    def post(self, text: str, *, created_at: datetime | None = None,
             **record: Any) -> requests.Response:
        when = (created_at or datetime.now(UTC)).isoformat()
        return self.http.post(self.url("com.atproto.repo.createRecord"), timeout=5, json={
            "repo": self.account.did, "collection": "app.bsky.feed.post",
            "record": {"$type": "app.bsky.feed.post", "text": text, "createdAt": when,
                       **record}})

    def delete(self, uri: str) -> requests.Response:
        rkey = uri.rsplit("/", 1)[-1]
        return self.http.post(self.url("com.atproto.repo.deleteRecord"), timeout=5, json={
            "repo": self.account.did, "collection": "app.bsky.feed.post", "rkey": rkey})

    def get(self, nsid: str, **params: Any) -> requests.Response:
        return self.http.get(self.url(nsid), params=params, timeout=5)

    def close(self) -> None:
        self.http.close()
