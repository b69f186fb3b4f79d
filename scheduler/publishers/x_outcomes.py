"""What X's answers say, and the `Outcome` a send (or a metrics read) ends in because of them.

The rule that decides between outcomes: if nothing can have reached X, a retry is safe
(RETRY_LATER); if the post may exist, only reconciling against the timeline can tell
(UNKNOWN). Plain requests only; tweepy stays in x.py.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import requests

from campaigns.config.secrets import Credentials
from scheduler.publishers.base import MetricsResult, Outcome, RateInfo, ReadOutcome, SendResult
from scheduler.publishers.http import never_sent

#: A 429 without a usable reset header: wait this long rather than retry at once.
RETRY_WITHOUT_RESET = timedelta(seconds=60)
#: X could not be reached, or refused before the post was created: nothing went out.
RETRY_UNREACHED = timedelta(seconds=30)


def rate_info(response: requests.Response) -> RateInfo | None:
    headers = response.headers
    names = ("x-rate-limit-limit", "x-rate-limit-remaining", "x-rate-limit-reset")
    if not any(name in headers for name in names):
        return None
    limit, remaining, reset = (_int(headers.get(name)) for name in names)
    return RateInfo(limit=limit, remaining=remaining,
                    reset=datetime.fromtimestamp(reset, UTC) if reset is not None else None)


def _int(value: str | None) -> int | None:
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


def json_body(response: requests.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def data_id(response: requests.Response) -> str | None:
    data = json_body(response).get("data")
    return str(data["id"]) if isinstance(data, dict) and data.get("id") else None


def x_message(response: requests.Response) -> str:
    """X's own words for an error: the `errors[].message`s, else `detail`, else the status."""
    body = json_body(response)
    errors = body.get("errors")
    if not isinstance(errors, list):
        errors = []
    messages = [str(e["message"]) for e in errors if isinstance(e, dict) and e.get("message")]
    if messages:
        return "; ".join(messages)
    return str(body.get("detail") or body.get("title")
               or f"{response.status_code} {response.reason}")


_SECRET_FIELDS = ("access_token", "access_token_secret", "refresh_token", "consumer_secret")


def scrub(text: str, credentials: Credentials) -> str:
    """Belt and braces: no secret survives in a reason, whatever X echoed."""
    for name in _SECRET_FIELDS:
        value = credentials.get(name)
        if isinstance(value, str) and value:
            text = text.replace(value, "[redacted]")
    return text


def send_outcome(response: requests.Response, *, posting: bool, step: str,
                 now: datetime) -> SendResult:
    """The outcome of an answer X gave to `step`; `posting` when the step creates the post."""
    status = response.status_code
    rate = rate_info(response)
    if 200 <= status < 300:
        remote_id = data_id(response)
        if remote_id is not None:
            return SendResult(Outcome.POSTED, remote_id=remote_id, rate=rate)
        return SendResult(Outcome.UNKNOWN, rate=rate,
                          reason=f"X answered {status} to {step} without a post id")
    if status == 429:
        reset = rate.reset if rate else None
        retry_at = reset if reset is not None and reset > now else now + RETRY_WITHOUT_RESET
        return SendResult(Outcome.RETRY_LATER, retry_at=retry_at, rate=rate,
                          reason=f"rate limited by X (429) on {step} until "
                                 f"{retry_at.isoformat(timespec='seconds')}")
    if status == 401:
        return SendResult(Outcome.REAUTH, rate=rate,
                          reason="X refused the account's token (401 Unauthorized): "
                                 "reconnect the account")
    if status >= 500:
        said = f"X answered {status} {response.reason} to {step}"
        if posting:
            return SendResult(Outcome.UNKNOWN, rate=rate,
                              reason=f"{said}: the post may or may not exist")
        return SendResult(Outcome.RETRY_LATER, rate=rate, retry_at=now + RETRY_UNREACHED,
                          reason=f"{said}; nothing was posted")
    message = x_message(response)
    duplicate = status == 403 and "duplicate content" in message.lower()
    return SendResult(Outcome.FAILED, rate=rate, duplicate=duplicate,
                      reason=message if duplicate else f"X refused {step} ({status}): "
                                                       f"{message}")


def unanswered_outcome(exc: requests.RequestException, *, posting: bool, step: str,
                       now: datetime, api_url: str) -> SendResult:
    """The outcome of a `step` that got no (complete) answer from X at `api_url`."""
    kind = type(exc).__name__
    retry_at = now + RETRY_UNREACHED
    if never_sent(exc):
        return SendResult(Outcome.RETRY_LATER, retry_at=retry_at,
                          reason=f"could not connect to X at {api_url} ({kind}); "
                                 "nothing was sent")
    if posting:
        return SendResult(Outcome.UNKNOWN,
                          reason=f"no complete answer from X to {step} ({kind}): "
                                 "the post may or may not exist")
    return SendResult(Outcome.RETRY_LATER, retry_at=retry_at,
                      reason=f"no complete answer from X to {step} ({kind}); "
                             "nothing was posted")


def read_refused(response: requests.Response, credentials: Credentials, *,
                 clock: Callable[[], datetime]) -> MetricsResult:
    """A metrics read (GET /2/tweets) that X refused, as the collector needs to know it."""
    status = response.status_code
    rate = rate_info(response)
    if status == 429:
        now = clock()
        reset = rate.reset if rate else None
        retry_at = reset if reset is not None and reset > now else now + RETRY_WITHOUT_RESET
        return MetricsResult(ReadOutcome.RATE_LIMITED, rate=rate, retry_at=retry_at,
                             reason=f"rate limited by X (429) on GET /2/tweets until "
                                    f"{retry_at.isoformat(timespec='seconds')}")
    if status == 401:
        return MetricsResult(ReadOutcome.REAUTH, rate=rate,
                             reason="X refused the account's token (401 Unauthorized): "
                                    "reconnect the account")
    reason = scrub(f"X answered {status} to GET /2/tweets: {x_message(response)}",
                   credentials)
    outcome = ReadOutcome.UNREACHABLE if status >= 500 else ReadOutcome.REFUSED
    return MetricsResult(outcome, rate=rate, reason=reason)
