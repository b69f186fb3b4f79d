"""Requests and replies as the handlers see them, and X's error bodies."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from email.message import Message
from typing import Any
from urllib.parse import parse_qs, unquote, urlencode

from scheduler.sandbox.accounts_store import Account, Token

JSON = "application/json; charset=utf-8"
_OAUTH_PARAM = re.compile(r'([A-Za-z0-9_.~%-]+)\s*=\s*(?:"([^"]*)"|([^,\s]*))')


@dataclass(frozen=True)
class Reply:
    status: int
    body: bytes = b""
    content_type: str = JSON
    headers: dict[str, str] = field(default_factory=dict)


class ApiError(Exception):
    """Raised by a handler to answer with an error reply."""

    def __init__(self, reply: Reply) -> None:
        super().__init__(reply.status)
        self.reply = reply


class HangUp(Exception):
    """Close the connection without answering."""


@dataclass
class Call:
    """One request: what the handler may read."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: Message
    body: bytes
    now: float
    params: dict[str, str] = field(default_factory=dict)
    token: Token | None = None

    @property
    def user(self) -> Account:
        """The authenticated account (the server checks before calling an X handler)."""
        if self.token is None:
            raise ApiError(unauthorized())
        return self.token.account

    def arg(self, name: str) -> str | None:
        values = self.query.get(name)
        return values[0] if values else None

    def json(self) -> dict[str, Any]:
        try:
            data = json.loads(self.body or b"null")
        except (ValueError, UnicodeDecodeError):
            raise ApiError(invalid_request("The request body is not valid JSON.")) from None
        if not isinstance(data, dict):
            raise ApiError(invalid_request("The request body must be a JSON object."))
        return data

    def form(self) -> dict[str, str]:
        """Query, urlencoded body and OAuth header parameters, later ones winning."""
        merged = {k: v[0] for k, v in self.query.items() if v}
        if "x-www-form-urlencoded" in (self.headers.get("Content-Type") or ""):
            body = parse_qs(self.body.decode("utf-8", "replace"), keep_blank_values=True)
            merged.update({k: v[0] for k, v in body.items() if v})
        merged.update(oauth_params(self.headers.get("Authorization")))
        return merged


def oauth_params(authorization: str | None) -> dict[str, str]:
    """The parameters of an `Authorization: OAuth k="v", …` header, percent-decoded."""
    if not authorization:
        return {}
    scheme, _, rest = authorization.strip().partition(" ")
    if scheme.lower() != "oauth":
        return {}
    return {unquote(m.group(1)): unquote(m.group(2) if m.group(2) is not None else m.group(3))
            for m in _OAUTH_PARAM.finditer(rest)}


def bearer_token(authorization: str | None) -> str | None:
    scheme, _, rest = (authorization or "").strip().partition(" ")
    if scheme.lower() != "bearer":
        return None
    return rest.strip() or None


# ---- replies ---------------------------------------------------------------------------------


def json_reply(status: int, data: Any, headers: dict[str, str] | None = None) -> Reply:
    body = json.dumps(data, ensure_ascii=False).encode()
    return Reply(status, body, JSON, dict(headers or {}))


def form_reply(status: int, data: dict[str, str]) -> Reply:
    return Reply(status, urlencode(data).encode(), "application/x-www-form-urlencoded")


def text_reply(status: int, text: str, content_type: str = "text/plain; charset=utf-8") -> Reply:
    return Reply(status, text.encode(), content_type)


def redirect(location: str) -> Reply:
    return Reply(302, b"", "text/plain; charset=utf-8", {"Location": location})


def problem(status: int, title: str, detail: str | None = None,
            type_: str = "about:blank") -> Reply:
    """X's problem body, as its 401, 403, 429 and 5xx answers have it."""
    return json_reply(status, {"title": title, "detail": detail or title, "type": type_,
                               "status": status})


def unauthorized() -> Reply:
    return problem(401, "Unauthorized")


def forbidden(detail: str) -> Reply:
    return problem(403, "Forbidden", detail)


def duplicate_content() -> Reply:
    return forbidden("You are not allowed to create a Tweet with duplicate content.")


def too_many_requests(headers: dict[str, str]) -> Reply:
    reply = problem(429, "Too Many Requests")
    return Reply(reply.status, reply.body, reply.content_type, headers)


def server_error(status: int) -> Reply:
    titles = {500: "Internal Server Error", 502: "Bad Gateway", 503: "Service Unavailable",
              504: "Gateway Timeout"}
    return problem(status, titles.get(status, "Server Error"))


def invalid_request(*messages: str) -> Reply:
    return json_reply(400, {
        "errors": [{"message": m} for m in messages],
        "title": "Invalid Request",
        "detail": "One or more parameters to your request was invalid.",
        "type": "https://api.twitter.com/2/problems/invalid-request",
    })


def not_found_error(resource_type: str, parameter: str, value: str) -> dict[str, str]:
    """One entry of `errors[]` for an id that does not exist (or no longer does)."""
    return {
        "value": value,
        "detail": f"Could not find {resource_type} with {parameter}: [{value}].",
        "title": "Not Found Error",
        "resource_type": resource_type,
        "parameter": parameter,
        "resource_id": value,
        "type": "https://api.twitter.com/2/problems/resource-not-found",
    }


def no_route(path: str) -> Reply:
    return problem(404, "Not Found Error", f"There is no sandbox route {path}.",
                   "https://api.twitter.com/2/problems/resource-not-found")
