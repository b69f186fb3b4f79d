"""What a Mastodon instance's answers say, without Mastodon.py, and the `Outcome` a send
that the instance answered ends in.

Mastodon.py's exceptions carry neither the rate-limit headers nor, for a 429, the status, so a
response hook (`LastAnswer`) keeps the last HTTP answer and `Api` clears it before each call.
Mastodon.py itself stays in mastodon.py.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar
from urllib.parse import urlsplit

import requests

from campaigns.config.secrets import Credentials
from scheduler.publishers.base import Outcome, RateInfo, SendResult

#: A 429 without a usable reset header: wait this long rather than retry at once.
RETRY_WITHOUT_RESET = timedelta(seconds=60)
#: The instance could not be reached, or refused before the status was created.
RETRY_UNREACHED = timedelta(seconds=30)
_SECRET_FIELDS = ("access_token", "client_secret")

T = TypeVar("T")


class LastAnswer:
    """A requests response hook: the session's most recent HTTP answer."""

    def __init__(self) -> None:
        self.response: requests.Response | None = None

    def __call__(self, response: requests.Response, *args: Any, **kwargs: Any) -> None:
        self.response = response


@dataclass
class Api:
    """One Mastodon.py client and what its session last heard."""

    client: Any
    answers: LastAnswer

    def call(self, action: Callable[[], T]) -> T:
        self.answers.response = None
        return action()


def rate_info(response: requests.Response | None) -> RateInfo | None:
    """Mastodon's X-RateLimit-* headers (the reset is an ISO time; some servers send epoch)."""
    if response is None or "X-RateLimit-Remaining" not in response.headers:
        return None
    headers = response.headers
    return RateInfo(limit=_int(headers.get("X-RateLimit-Limit")),
                    remaining=_int(headers.get("X-RateLimit-Remaining")),
                    reset=_instant(headers.get("X-RateLimit-Reset")))


def _int(value: str | None) -> int | None:
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


def _instant(value: str | None) -> datetime | None:
    if value is None:
        return None
    if value.isdigit():
        return datetime.fromtimestamp(int(value), UTC)
    try:
        found = datetime.fromisoformat(value)
    except ValueError:
        return None
    return found if found.tzinfo else found.replace(tzinfo=UTC)


def error_message(response: requests.Response) -> str:
    """The instance's own words for an error: its `error` (and `error_description`)."""
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict) and body.get("error"):
        detail = body.get("error_description")
        return f"{body['error']}" + (f": {detail}" if detail else "")
    return f"{response.status_code} {response.reason}"


def scrub(text: str, credentials: Credentials) -> str:
    """Belt and braces: no secret survives in a reason, whatever the instance echoed."""
    for name in _SECRET_FIELDS:
        value = credentials.get(name)
        if isinstance(value, str) and value:
            text = text.replace(value, "[redacted]")
    return text


def wrapped_cause(exc: BaseException) -> BaseException | None:
    """The requests exception Mastodon.py wrapped (it raises inside `except`)."""
    return exc.__cause__ or exc.__context__


def host_of(instance: str) -> str:
    """The instance's host, as messages name it."""
    return urlsplit(instance).netloc or instance


def answered_outcome(response: requests.Response, *, posting: bool, step: str,
                     now: datetime) -> SendResult:
    """The outcome of an answer the instance gave to `step`; `posting` when the step creates
    the status."""
    status, rate = response.status_code, rate_info(response)
    if 200 <= status < 300:
        if posting:
            return SendResult(Outcome.UNKNOWN, rate=rate,
                              reason=f"the instance answered {status} to {step} with "
                                     "something unreadable: the status may exist")
        return SendResult(Outcome.RETRY_LATER, rate=rate, retry_at=now + RETRY_UNREACHED,
                          reason=f"unreadable answer to {step}; nothing was posted")
    if status == 429:
        reset = rate.reset if rate else None
        retry_at = reset if reset is not None and reset > now else now + RETRY_WITHOUT_RESET
        return SendResult(Outcome.RETRY_LATER, retry_at=retry_at, rate=rate,
                          reason=f"rate limited by the instance (429) on {step} until "
                                 f"{retry_at.isoformat(timespec='seconds')}")
    if status == 401:
        return SendResult(Outcome.REAUTH, rate=rate,
                          reason=f"the instance refused the account's token (401: "
                                 f"{error_message(response)}): reconnect the account")
    if status >= 500:
        said = f"the instance answered {status} {response.reason} to {step}"
        if posting:
            return SendResult(Outcome.UNKNOWN, rate=rate,
                              reason=f"{said}: the status may or may not exist")
        return SendResult(Outcome.RETRY_LATER, rate=rate, retry_at=now + RETRY_UNREACHED,
                          reason=f"{said}; nothing was posted")
    return SendResult(Outcome.FAILED, rate=rate,
                      reason=f"the instance refused {step} ({status}): {error_message(response)}")
