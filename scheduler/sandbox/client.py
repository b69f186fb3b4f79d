"""A small client of the sandbox's control API, for tests and `chorus accounts connect x
--sandbox`."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import requests


class SandboxError(RuntimeError):
    """The sandbox refused a control request."""


class SandboxClient:
    def __init__(self, base_url: str, *, session: requests.Session | None = None,
                 timeout: float = 10.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.session = session or requests.Session()
        self.timeout = timeout

    def health(self) -> dict[str, Any]:
        return self._call("GET", "health")

    def create_account(self, username: str, *, followers: int | None = None,
                       name: str | None = None) -> dict[str, Any]:
        """The account (created if new) with `id`, `oauth1` and `oauth2` tokens."""
        body: dict[str, Any] = {"username": username}
        if followers is not None:
            body["followers"] = followers
        if name is not None:
            body["name"] = name
        return self._call("POST", "accounts", json=body)

    def accounts(self) -> list[dict[str, Any]]:
        return list(self._call("GET", "accounts")["accounts"])

    def revoke(self, username: str) -> dict[str, Any]:
        return self._call("POST", f"accounts/{username}/revoke")

    def posts(self, author: str | None = None) -> list[dict[str, Any]]:
        params = {} if author is None else {"author": author}
        return list(self._call("GET", "posts", params=params)["posts"])

    def requests(self, since_id: int | None = None) -> list[dict[str, Any]]:
        params = {} if since_id is None else {"since_id": str(since_id)}
        return list(self._call("GET", "requests", params=params)["requests"])

    def faults(self) -> dict[str, Any]:
        return self._call("GET", "faults")

    def set_faults(self, **fields: Any) -> dict[str, Any]:
        """Replace the faults (see docs/sandbox.md); `profile="flaky"` starts from a profile."""
        return self._call("POST", "faults", json=fields)

    def clear_faults(self) -> dict[str, Any]:
        return self._call("DELETE", "faults")

    def clock(self) -> dict[str, Any]:
        return self._call("GET", "clock")

    def set_clock(self, *, now: datetime | str | None = None,
                  offset_seconds: float | None = None,
                  speed: float | None = None) -> dict[str, Any]:
        body: dict[str, Any] = {}
        if now is not None:
            body["now"] = now.isoformat() if isinstance(now, datetime) else now
        if offset_seconds is not None:
            body["offset_seconds"] = offset_seconds
        if speed is not None:
            body["speed"] = speed
        return self._call("POST", "clock", json=body)

    def reset(self) -> None:
        self._call("POST", "reset")

    def _call(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        response = self.session.request(method, f"{self.base_url}/_sandbox/{path}",
                                        timeout=self.timeout, **kwargs)
        if not response.ok:
            try:
                message = response.json().get("error", response.text)
            except ValueError:
                message = response.text
            raise SandboxError(f"sandbox {method} /_sandbox/{path}: {response.status_code} "
                               f"{message}")
        data = response.json()
        if not isinstance(data, dict):
            raise SandboxError(f"sandbox {method} /_sandbox/{path}: unexpected answer")
        return data
