"""Mastodon through Mastodon.py: posting, reading an account's statuses and their engagement,
and connecting accounts.

The only module that imports Mastodon.py. An account's instance is part of its credentials
(`instance`, an absolute URL), so one publisher serves accounts on any number of instances.
Mastodon.py is made afresh for each call with `ratelimit_method="throw"` (its default sleeps
in the caller until the limit resets), a request timeout, and the instance's version from a
per-instance cache, so that its version checks hold without asking the instance each time. A
response hook on its session keeps the last HTTP answer for classifying what came of a call.
What needs no Mastodon.py lives beside it: what answers mean (mastodon_outcomes), reading
statuses (mastodon_reader), what an instance allows (mastodon_instance), and what connecting
keeps and produces (mastodon_oauth).

Every send ends in one `Outcome` by x.py's rule: if nothing can have reached the instance, a
retry is safe (RETRY_LATER); if the status may exist, only reconciling can tell (UNKNOWN). Each
delivery sends one Idempotency-Key however often it is tried, so for an hour the instance
answers a repeat with the first status instead of making a second.
"""

from __future__ import annotations

import functools
import logging
import mimetypes
import re
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any, TypeVar

import requests
from mastodon import Mastodon
from mastodon.errors import (
    MastodonError,
    MastodonIllegalArgumentError,
    MastodonNetworkError,
    MastodonNotFoundError,
    MastodonVersionError,
)

from campaigns.config.secrets import Credentials
from campaigns.core.clock import utcnow
from campaigns.core.text import MASTODON_LIMIT
from scheduler.publishers.base import (
    GonePost,
    Image,
    MetricsResult,
    Outcome,
    ReadOutcome,
    SendRequest,
    SendResult,
    SendStopped,
    TimelineResult,
)
from scheduler.publishers.http import never_sent
from scheduler.publishers.mastodon_instance import InstanceInfo, check_length, semver
from scheduler.publishers.mastodon_oauth import (
    APP_NAME,
    OOB,
    SCOPES,
    MastodonApp,
    MastodonAuthError,
    MastodonConnection,
)
from scheduler.publishers.mastodon_outcomes import (
    RETRY_UNREACHED,
    RETRY_WITHOUT_RESET,
    Api,
    LastAnswer,
    answered_outcome,
    error_message,
    host_of,
    rate_info,
    scrub,
    wrapped_cause,
)
from scheduler.publishers.mastodon_reader import status_metrics, timeline

log = logging.getLogger(__name__)

USER_AGENT = "Chorus (awareness campaigns; Mastodon.py)"
#: The most ids one GET /api/v1/statuses?id[]= takes (Mastodon 4.3).
MAX_IDS_PER_READ = 20
#: How long what an instance says about itself (version, character limit) is trusted.
INSTANCE_TTL = timedelta(hours=1)
#: An attachment still processing (GIFs, video) is looked at this many times before giving up.
MEDIA_POLLS = 10
VISIBILITIES = ("public", "unlisted", "private", "direct")
#: What Mastodon and its forks use as status ids (numbers; Pleroma's are alphanumeric).
_STATUS_ID = re.compile(r"^[0-9A-Za-z]{1,40}$")

T = TypeVar("T")


def idempotency_key(delivery_id: int) -> str:
    """The same for every try of one delivery, by any worker: a repeat cannot post twice."""
    return f"chorus-delivery-{delivery_id}"


# ---- the HTTP edge ----------------------------------------------------------------------------


@contextmanager
def _api(instance: str, timeout: float, *, token: str | None = None,
         version: str | None = None, app: tuple[str, str] | None = None) -> Iterator[Api]:
    """Mastodon.py for one instance; with `version`, its version checks are on ("created":
    calling what the instance is too old for raises before anything is sent)."""
    answers = LastAnswer()
    with requests.Session() as session:
        session.hooks["response"].append(answers)
        client_id, client_secret = app or (None, None)
        client = Mastodon(client_id=client_id, client_secret=client_secret, access_token=token,
                          api_base_url=instance, ratelimit_method="throw",
                          request_timeout=timeout, session=session, user_agent=USER_AGENT,
                          mastodon_version=version,
                          version_check_mode="none" if version is None else "created")
        yield Api(client, answers)


# ---- the instance -----------------------------------------------------------------------------


def read_instance(instance: str, timeout: float, now: datetime) -> InstanceInfo:
    """GET /api/v2/instance (or v1 on instances older than 4.0); raises MastodonError, or
    AttributeError, TypeError or ValueError for an answer that is not an instance's."""
    with _api(instance, timeout) as api:
        try:
            about = api.call(api.client.instance_v2)
        except MastodonNotFoundError:
            about = api.call(api.client.instance_v1)
    statuses = ((about.get("configuration") or {}).get("statuses") or {})
    return InstanceInfo(url=instance, version=semver(str(about.get("version") or "")),
                        max_characters=int(statuses.get("max_characters") or MASTODON_LIMIT),
                        read_at=now)


# ---- publishing -------------------------------------------------------------------------------


class MastodonPublisher:
    """Posts to Mastodon instances (or the sandbox's) through Mastodon.py's real HTTP path."""

    network = "mastodon"
    #: The collector puts at most this many statuses in one read.
    batch_size = MAX_IDS_PER_READ
    #: Status ids mean something only on the author's instance: the collector reads each
    #: account's statuses with that account's own token, never another's.
    batch_per_account = True

    def __init__(
        self,
        timeout: float,
        *,
        visibility: str = "public",
        language: str | None = "en",
        clock: Callable[[], datetime] = utcnow,
        media_poll_seconds: float = 1.0,
    ) -> None:
        if visibility not in VISIBILITIES:
            raise ValueError(f"visibility must be one of {', '.join(VISIBILITIES)}, "
                             f"not {visibility!r}")
        self.timeout = timeout
        self.visibility = visibility
        self.language = language
        self._clock = clock
        self._media_poll_seconds = media_poll_seconds
        self._instances: dict[str, InstanceInfo] = {}
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return (f"MastodonPublisher(timeout={self.timeout!r}, visibility={self.visibility!r}, "
                f"language={self.language!r})")

    # -- the protocol --

    def send(self, request: SendRequest) -> SendResult:
        credentials = request.credentials
        try:
            instance_url, token = _where(credentials)
            files = [_read(image) for image in request.images]
            instance = self._instance(instance_url)
            check_length(request.text, instance, has_media=bool(files))
            with _api(instance.url, self.timeout, token=token, version=instance.version) as api:
                media_ids = [self._upload(api, image, data) for image, data in files]
                result = self._create(api, request, media_ids)
        except SendStopped as stop:
            result = stop.result
        return replace(result, reason=scrub(result.reason, credentials))

    def recent_posts(
        self, *, credentials: Credentials, remote_user_id: str | None, since: datetime
    ) -> TimelineResult:
        """The account's own statuses (boosts left out) created since `since`, newest first."""
        try:
            instance_url, token = _where(credentials)
            instance = self._instance(instance_url)
        except SendStopped as stop:
            return TimelineResult(ok=False, reason=scrub(stop.result.reason, credentials))
        with _api(instance.url, self.timeout, token=token, version=instance.version) as api:
            try:
                return timeline(api, remote_user_id, since)
            except MastodonError as exc:
                reason = self._read_failure(api.answers.response, exc, "the account's statuses")
                return TimelineResult(ok=False, reason=scrub(reason, credentials),
                                      rate=rate_info(api.answers.response))
            except (KeyError, TypeError, ValueError) as exc:
                return TimelineResult(ok=False, reason=f"unexpected answer listing the "
                                                       f"account's statuses ({type(exc).__name__})")

    def read_metrics(
        self, credentials: Credentials, ids: Sequence[str], *, non_public: bool
    ) -> MetricsResult:
        """Favourites, boosts and replies of up to 20 statuses in one GET
        /api/v1/statuses?id[]= (Mastodon 4.3), as the account of `credentials`.

        Mastodon publishes no impressions and no counts only the author may see, so
        `impressions` stays 0 and `non_public` changes nothing. The instance leaves a status
        it no longer has out of its answer; read with the author's own token (see
        `batch_per_account`) only deletion does that, so such a status is reported deleted.
        Instances older than 4.3 lack the batch read: there each status is read with GET
        /api/v1/statuses/:id (one call per status), and a 404 means deleted.
        """
        wanted = list(dict.fromkeys(ids))
        if len(wanted) > MAX_IDS_PER_READ:
            raise ValueError(f"at most {MAX_IDS_PER_READ} ids per read, not {len(wanted)}")
        malformed = {i: GonePost(i, "unavailable", "not a Mastodon status id")
                     for i in wanted if not _STATUS_ID.match(i)}
        sendable = [i for i in wanted if i not in malformed]
        if not sendable:
            return MetricsResult(ReadOutcome.OK, gone=malformed)
        try:
            instance_url, token = _where(credentials)
            instance = self._instance(instance_url)
        except SendStopped as stop:
            outcome = (ReadOutcome.REAUTH if stop.result.outcome is Outcome.REAUTH
                       else ReadOutcome.UNREACHABLE)
            return MetricsResult(outcome, reason=scrub(stop.result.reason, credentials))
        with _api(instance.url, self.timeout, token=token, version=instance.version) as api:
            try:
                found = self._statuses(api, sendable)
            except MastodonError as exc:
                return self._read_refused(api.answers.response, exc, credentials)
            rate = rate_info(api.answers.response)
        metrics = {str(s["id"]): status_metrics(s) for s in found}
        gone = {i: GonePost(i, "deleted", "the instance no longer has this status")
                for i in sendable if i not in metrics}
        return MetricsResult(ReadOutcome.OK, metrics=metrics, gone={**gone, **malformed},
                             rate=rate)

    # -- the instance --

    def _instance(self, url: str) -> InstanceInfo:
        """What the instance says about itself, from the cache while it is fresh."""
        now = self._clock()
        with self._lock:
            cached = self._instances.get(url)
        if cached is not None and now - cached.read_at < INSTANCE_TTL:
            return cached
        try:
            info = read_instance(url, self.timeout, now)
        except (MastodonError, AttributeError, TypeError, ValueError) as exc:
            raise SendStopped(SendResult(Outcome.RETRY_LATER, retry_at=now + RETRY_UNREACHED,
                                   reason=f"could not read what {host_of(url)} allows "
                                          f"({_failure(exc)}); nothing was sent")) from None
        with self._lock:
            self._instances[url] = info
        return info

    # -- sending --

    def _upload(self, api: Api, image: Image, data: bytes) -> str:
        """Upload one image with its alt text; the media id. Nothing is posted yet."""
        mime = mimetypes.guess_type(image.path.name)[0] or "application/octet-stream"
        media = self._before_status(api, "/api/v2/media", lambda: api.client.media_post(
            data, mime_type=mime, description=image.alt or None, file_name=image.path.name))
        for _ in range(MEDIA_POLLS):
            if media.get("url") is not None:
                return str(media["id"])
            time.sleep(self._media_poll_seconds)
            media = self._before_status(api, "/api/v1/media/:id",
                                        functools.partial(api.client.media, media))
        raise SendStopped(SendResult(Outcome.RETRY_LATER, retry_at=self._clock() + RETRY_UNREACHED,
                               reason=f"the instance was still processing {image.path.name}; "
                                      "nothing was posted"))

    def _before_status(self, api: Api, step: str, action: Callable[[], T]) -> T:
        try:
            return api.call(action)
        except MastodonError as exc:
            raise SendStopped(self._classify(api.answers.response, exc, posting=False,
                                       step=step)) from None

    def _create(self, api: Api, request: SendRequest, media_ids: list[str]) -> SendResult:
        step = "/api/v1/statuses"
        try:
            status = api.call(lambda: api.client.status_post(
                request.text, media_ids=media_ids or None, visibility=self.visibility,
                language=self.language, idempotency_key=idempotency_key(request.delivery_id)))
        except MastodonError as exc:
            return self._classify(api.answers.response, exc, posting=True, step=step)
        rate = rate_info(api.answers.response)
        if not isinstance(status, dict) or not status.get("id"):
            return SendResult(Outcome.UNKNOWN, rate=rate,
                              reason=f"the instance answered {step} without a status id")
        return SendResult(Outcome.POSTED, remote_id=str(status["id"]), rate=rate)

    # -- classifying --

    def _classify(self, response: requests.Response | None, exc: MastodonError, *,
                  posting: bool, step: str) -> SendResult:
        now = self._clock()
        if response is None:
            return self._unanswered(exc, posting=posting, step=step)
        return answered_outcome(response, posting=posting, step=step, now=now)

    def _unanswered(self, exc: MastodonError, *, posting: bool, step: str) -> SendResult:
        retry_at = self._clock() + RETRY_UNREACHED
        if not isinstance(exc, MastodonNetworkError):  # refused by Mastodon.py itself
            return SendResult(Outcome.FAILED, reason=f"cannot send {step}: {_failure(exc)}")
        cause = wrapped_cause(exc)
        kind = type(cause).__name__ if cause is not None else type(exc).__name__
        if cause is not None and never_sent(cause):
            return SendResult(Outcome.RETRY_LATER, retry_at=retry_at,
                              reason=f"could not connect to the instance ({kind}); nothing "
                                     "was sent")
        if posting:
            return SendResult(Outcome.UNKNOWN,
                              reason=f"no complete answer from the instance to {step} "
                                     f"({kind}): the status may or may not exist")
        return SendResult(Outcome.RETRY_LATER, retry_at=retry_at,
                          reason=f"no complete answer from the instance to {step} ({kind}); "
                                 "nothing was posted")

    # -- reading --

    def _statuses(self, api: Api, ids: list[str]) -> list[Any]:
        try:
            return list(api.call(lambda: api.client.statuses(ids)))
        except MastodonVersionError:  # older than 4.3: no batch read
            pass
        found = []
        for status_id in ids:
            try:
                found.append(api.call(functools.partial(api.client.status, status_id)))
            except MastodonNotFoundError:
                continue
        return found

    def _read_failure(self, response: requests.Response | None, exc: MastodonError,
                      what: str) -> str:
        if response is None:
            return f"no answer from the instance reading {what} ({_failure(exc)})"
        return f"the instance answered {response.status_code} reading {what}: " \
               f"{error_message(response)}"

    def _read_refused(self, response: requests.Response | None, exc: MastodonError,
                      credentials: Credentials) -> MetricsResult:
        rate = rate_info(response)
        reason = scrub(self._read_failure(response, exc, "statuses"), credentials)
        status = response.status_code if response is not None else None
        if status == 429:
            now = self._clock()
            reset = rate.reset if rate else None
            retry_at = reset if reset is not None and reset > now else now + RETRY_WITHOUT_RESET
            return MetricsResult(ReadOutcome.RATE_LIMITED, rate=rate, retry_at=retry_at,
                                 reason=f"rate limited by the instance (429) reading statuses "
                                        f"until {retry_at.isoformat(timespec='seconds')}")
        if status == 401:
            return MetricsResult(ReadOutcome.REAUTH, rate=rate,
                                 reason="the instance refused the account's token (401): "
                                        "reconnect the account")
        if status is None or status >= 500 or isinstance(exc, MastodonNetworkError):
            return MetricsResult(ReadOutcome.UNREACHABLE, rate=rate, reason=reason)
        return MetricsResult(ReadOutcome.REFUSED, rate=rate, reason=reason)


def _where(credentials: Credentials) -> tuple[str, str]:
    """The instance the account was connected on, and its token."""
    instance, token = credentials.get("instance"), credentials.get("access_token")
    if not instance or not token:
        raise SendStopped(SendResult(Outcome.REAUTH, reason="the account's stored credentials name "
                                                      "no Mastodon instance or token: "
                                                      "reconnect the account"))
    return str(instance).rstrip("/"), str(token)


def _read(image: Image) -> tuple[Image, bytes]:
    try:
        return image, image.path.read_bytes()
    except OSError as exc:
        raise SendStopped(SendResult(Outcome.FAILED, reason=f"cannot read image {image.path}: "
                                                      f"{exc.strerror or exc}")) from None


def _failure(exc: BaseException) -> str:
    """A short description of a failure that cannot carry a token."""
    cause = wrapped_cause(exc)
    if isinstance(exc, MastodonNetworkError) and cause is not None:
        return type(cause).__name__
    if isinstance(exc, MastodonIllegalArgumentError | MastodonVersionError):
        return str(exc)
    return type(exc).__name__


# ---- connecting accounts ----------------------------------------------------------------------


def register_app(instance: str, timeout: float) -> MastodonApp:
    """Register Chorus on the instance (POST /api/v1/apps) for the out-of-band code flow.

    Each connection registers afresh, and the app's id and secret are kept in the account's
    sealed credentials (so its token can be revoked later): caching them per instance would
    need a table Chorus does not have.
    """
    instance = instance.rstrip("/")
    answers = LastAnswer()
    try:
        with requests.Session() as session:
            session.hooks["response"].append(answers)
            client_id, client_secret = Mastodon.create_app(
                APP_NAME, scopes=list(SCOPES), redirect_uris=OOB, api_base_url=instance,
                request_timeout=timeout, session=session, user_agent=USER_AGENT)
    except MastodonError as exc:
        raise MastodonAuthError(f"could not reach {host_of(instance)} to register Chorus "
                                f"({_failure(exc)})") from None
    except (KeyError, TypeError):  # Mastodon.py reads any answer as if it were the app
        said = ("no answer" if answers.response is None else
                f"{answers.response.status_code}: {error_message(answers.response)}")
        raise MastodonAuthError(f"{host_of(instance)} did not register Chorus as an app "
                                f"({said}); is it a Mastodon instance?") from None
    return MastodonApp(instance, str(client_id), str(client_secret), timeout)


def authorisation_url(app: MastodonApp) -> str:
    """The page where the account holder signs in, approves Chorus and is shown a code."""
    with _api(app.instance, app.timeout, app=(app.client_id, app.client_secret)) as api:
        return str(api.client.auth_request_url(redirect_uris=OOB, scopes=list(SCOPES)))


def finish_connect(app: MastodonApp, code: str) -> MastodonConnection:
    """Exchange the code for the account's token (POST /oauth/token), then ask who it is."""
    with _api(app.instance, app.timeout, app=(app.client_id, app.client_secret)) as api:
        try:
            token = api.call(lambda: api.client.log_in(code=code.strip(), redirect_uri=OOB,
                                                       scopes=list(SCOPES)))
        except MastodonError as exc:
            said = error_message(api.answers.response) if api.answers.response is not None \
                else _failure(exc)
            raise MastodonAuthError(f"{host_of(app.instance)} did not accept the code "
                                    f"({said})") from None
    return verify(app.instance, str(token), app.timeout,
                  extra={"client_id": app.client_id, "client_secret": app.client_secret})


def verify(instance: str, token: str, timeout: float, *,
           extra: dict[str, str] | None = None) -> MastodonConnection:
    """Whose token this is (GET /api/v1/accounts/verify_credentials), as a connection."""
    instance = instance.rstrip("/")
    with _api(instance, timeout, token=token) as api:
        try:
            me = api.call(api.client.account_verify_credentials)
        except MastodonError as exc:
            response = api.answers.response
            said = (f"{response.status_code}: {error_message(response)}" if response is not None
                    else _failure(exc))
            raise MastodonAuthError(f"{host_of(instance)} refused the token ({said})") from None
        sandbox = bool(api.answers.response is not None
                       and api.answers.response.headers.get("X-Chorus-Sandbox") == "1")
    username = str(me["acct"] or me["username"])
    credentials = Credentials("oauth2", {"access_token": token, "instance": instance,
                                         "acct": username, **(extra or {})})
    return MastodonConnection(credentials, str(me["id"]), username, instance, sandbox)
