"""How Bluesky's failures become outcomes, without atproto: one failed call as the
classification needs it (`Failure`; bluesky.py makes it from atproto's exception), and the
`Outcome` of a send, a login or a metrics read that failed.

The rule is x.py's: if nothing can have reached Bluesky, a retry is safe (RETRY_LATER); if the
post may exist, the dispatcher reconciles first (UNKNOWN).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from campaigns.config.secrets import Credentials
from scheduler.publishers.base import MetricsResult, Outcome, RateInfo, ReadOutcome, SendResult

#: A 429 without a usable reset header: wait this long rather than retry at once.
RETRY_WITHOUT_RESET = timedelta(seconds=60)
#: Bluesky could not be reached, or refused before the post was created: nothing went out.
RETRY_UNREACHED = timedelta(seconds=30)
#: XRPC errors that mean the session's token is no good (a new session may fix it).
SESSION_ERRORS = frozenset({"ExpiredToken", "InvalidToken"})


@dataclass(frozen=True)
class Failure:
    """One failed call, as the classification needs it."""

    #: The HTTP status; None when no answer came.
    status: int | None
    #: The XRPC error name ("ExpiredToken", "InvalidRequest"), or "" if there was none.
    error: str = ""
    message: str = ""
    #: For a call with no answer: the transport error's name (ReadTimeout, ConnectError).
    cause: str = ""
    #: True only when the request provably never left (no connection was made).
    never_sent: bool = False
    rate: RateInfo | None = None

    @property
    def said(self) -> str:
        """The status and Bluesky's own words, e.g. '400 InvalidRequest: Invalid rkey'."""
        words = ": ".join(w for w in (self.error, self.message) if w)
        return f"{self.status} {words}".strip()

    @property
    def session_refused(self) -> bool:
        """The access token (or session) was refused: a fresh session may get through."""
        return self.status == 401 or (self.status == 400 and self.error in SESSION_ERRORS)


def rate_info(headers: Any) -> RateInfo | None:
    """What Bluesky's `RateLimit-*` headers say (the reset is in epoch seconds)."""
    names = ("ratelimit-limit", "ratelimit-remaining", "ratelimit-reset")
    values = [headers.get(name) for name in names]
    if all(v is None for v in values):
        return None
    limit, remaining, reset = (_int(v) for v in values)
    return RateInfo(limit=limit, remaining=remaining,
                    reset=datetime.fromtimestamp(reset, UTC) if reset is not None else None)


def _int(value: Any) -> int | None:
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


def _retry_at(failure: Failure, now: datetime) -> datetime:
    reset = failure.rate.reset if failure.rate else None
    return reset if reset is not None and reset > now else now + RETRY_WITHOUT_RESET


def send_outcome(failure: Failure, *, step: str, posting: bool, now: datetime) -> SendResult:
    """The outcome of a send that failed at `step`; `posting` when the step creates the post.

    Called after a refused session has already been renewed once.
    """
    rate = failure.rate
    if failure.status is None:
        if failure.never_sent:
            return SendResult(Outcome.RETRY_LATER, retry_at=now + RETRY_UNREACHED,
                              reason=f"could not connect to Bluesky for {step} "
                                     f"({failure.cause}); nothing was sent")
        if posting:
            return SendResult(Outcome.UNKNOWN,
                              reason=f"no complete answer from Bluesky to {step} "
                                     f"({failure.cause}): the post may or may not exist")
        return SendResult(Outcome.RETRY_LATER, retry_at=now + RETRY_UNREACHED,
                          reason=f"no complete answer from Bluesky to {step} "
                                 f"({failure.cause}); nothing was posted")
    if failure.status == 429:
        retry_at = _retry_at(failure, now)
        return SendResult(Outcome.RETRY_LATER, retry_at=retry_at, rate=rate,
                          reason=f"rate limited by Bluesky (429) on {step} until "
                                 f"{retry_at.isoformat(timespec='seconds')}")
    if failure.session_refused or failure.status == 403:
        return SendResult(Outcome.REAUTH, rate=rate,
                          reason=f"Bluesky refused the account's session ({failure.said}): "
                                 "reconnect the account")
    if failure.status >= 500:
        said = f"Bluesky answered {failure.said} to {step}"
        if posting:
            return SendResult(Outcome.UNKNOWN, rate=rate,
                              reason=f"{said}: the post may or may not exist")
        return SendResult(Outcome.RETRY_LATER, rate=rate, retry_at=now + RETRY_UNREACHED,
                          reason=f"{said}; nothing was posted")
    return SendResult(Outcome.FAILED, rate=rate,
                      reason=f"Bluesky refused {step} ({failure.said})")


def refused_login(failure: Failure) -> bool:
    """Bluesky answered the login and said no (not: it was busy, or did not answer)."""
    return failure.status is not None and failure.status < 500 and failure.status != 429


def login_outcome(failure: Failure, *, handle: str, now: datetime) -> SendResult:
    """The outcome of a send whose login failed: nothing was posted."""
    if not refused_login(failure):
        return send_outcome(failure, step="createSession", posting=False, now=now)
    return SendResult(Outcome.REAUTH, rate=failure.rate,
                      reason=f"Bluesky refused the app password of {handle} "
                             f"({failure.said}): reconnect the account")


def read_outcome(failure: Failure, *, step: str, now: datetime) -> MetricsResult:
    """A metrics read that failed, as the collector needs to know it."""
    rate = failure.rate
    if failure.status == 429:
        retry_at = _retry_at(failure, now)
        return MetricsResult(ReadOutcome.RATE_LIMITED, rate=rate, retry_at=retry_at,
                             reason=f"rate limited by Bluesky (429) on {step} until "
                                    f"{retry_at.isoformat(timespec='seconds')}")
    if failure.session_refused or failure.status == 403:
        return MetricsResult(ReadOutcome.REAUTH, rate=rate,
                             reason=f"Bluesky refused the account ({failure.said}): "
                                    "reconnect the account")
    if failure.status is None or failure.status >= 500:
        answer = failure.said if failure.status else f"no answer ({failure.cause})"
        return MetricsResult(ReadOutcome.UNREACHABLE, rate=rate,
                             reason=f"Bluesky gave {answer} to {step}")
    return MetricsResult(ReadOutcome.REFUSED, rate=rate,
                         reason=f"Bluesky refused {step} ({failure.said})")


def already_exists(failure: Failure) -> bool:
    """The PDS refused the record because its key is taken."""
    return (failure.error == "RecordAlreadyExists"
            or "already exists" in failure.message.lower())


def scrub(text: str, credentials: Credentials) -> str:
    """Belt and braces: the app password never survives in a reason."""
    password = credentials.get("app_password")
    return text.replace(password, "[redacted]") if isinstance(password, str) and password \
        else text


def scrubbed(result: MetricsResult, credentials: Credentials) -> MetricsResult:
    """`result` with its reason scrubbed."""
    return replace(result, reason=scrub(result.reason, credentials))
