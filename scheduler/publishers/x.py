"""X through tweepy: posting, reading an account's timeline, and connecting accounts.

The only module that imports tweepy. tweepy fixes its host to api.twitter.com, sets no
timeout and has no v2 media upload, so every session it makes gets `XTransport` mounted for
that host (it sends to `api_url` instead, with a timeout, and never retries), and media go
through the same session by hand.

Every send ends in one `Outcome`. The rule that decides between them: if nothing can have
reached X, a retry is safe (RETRY_LATER); if the post may exist, only reconciling against the
timeline can tell (UNKNOWN).
"""

from __future__ import annotations

import base64
import functools
import hashlib
import logging
import mimetypes
import re
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import requests
import tweepy
from oauthlib.oauth2 import OAuth2Error
from requests.adapters import HTTPAdapter
from requests.auth import AuthBase, HTTPBasicAuth
from requests.utils import get_environ_proxies
from requests_oauthlib import OAuth1, OAuth2Session

from campaigns.config.secrets import Credentials
from campaigns.core.clock import utcnow
from scheduler.publishers.base import (
    GonePost,
    Image,
    MetricsResult,
    Outcome,
    PostMetrics,
    RateInfo,
    ReadOutcome,
    RecentPost,
    SendRequest,
    SendResult,
    SendStopped,
    TimelineResult,
)
from scheduler.publishers.http import never_sent as _never_sent

log = logging.getLogger(__name__)

#: Where tweepy sends everything; `XTransport` redirects it.
X_HOST = "https://api.twitter.com"
#: X's OAuth 2.0 consent page, opened in the user's browser (not through tweepy's session).
AUTHORIZE_HOST = "https://twitter.com"
#: Given to requests-oauthlib as https (it refuses plain http); XTransport redirects it.
TOKEN_URL = f"{X_HOST}/2/oauth2/token"
SCOPES = ("tweet.read", "tweet.write", "users.read", "offline.access", "media.write")
#: Refresh an OAuth 2.0 access token when it expires within this margin.
REFRESH_MARGIN = timedelta(minutes=5)
#: A 429 without a usable reset header: wait this long rather than retry at once.
RETRY_WITHOUT_RESET = timedelta(seconds=60)
#: X could not be reached, or refused before the post was created: nothing went out.
RETRY_UNREACHED = timedelta(seconds=30)
#: Reconciliation reads at most this many timeline pages of 100 posts.
TIMELINE_PAGES = 10
#: Credentials of a sandbox account carry this app key: the sandbox checks no signatures.
SANDBOX_APP_KEY = "chorus-sandbox"
#: The most ids one GET /2/tweets takes.
MAX_IDS_PER_READ = 100
#: What X accepts as a post id; anything else would make it refuse the whole batch.
_POST_ID = re.compile(r"^[0-9]{1,19}$")


class XAuthError(Exception):
    """Connecting or refreshing an account failed; the message is safe to show."""


class _MissingAppKeys(Exception):
    pass


# ---- transport ------------------------------------------------------------------------------


class XTransport(HTTPAdapter):
    """Sends what is addressed to api.twitter.com to `api_url`, with a timeout, never retrying.

    Mounted on every session that tweepy or requests-oauthlib makes. Retries stay off: X has
    no idempotency key, so a second attempt of a post could publish it twice. OAuth 1.0a
    signatures still cover the api.twitter.com URL, which is fine for the sandbox (it checks
    none) and moot for X itself (no rewriting then).
    """

    def __init__(self, api_url: str, timeout: float) -> None:
        super().__init__(max_retries=0)
        self.base = api_url.rstrip("/")
        self.timeout = timeout

    def send(
        self,
        request: requests.PreparedRequest,
        stream: bool = False,
        timeout: Any = None,
        verify: bool | str = True,
        cert: Any = None,
        proxies: Any = None,
    ) -> requests.Response:
        url = request.url or ""
        if self.base != X_HOST and url.startswith(X_HOST + "/"):
            request.url = self.base + url[len(X_HOST):]
            proxies = get_environ_proxies(request.url)
        log.debug("x api: %s %s", request.method, urlsplit(request.url or "").path)
        return super().send(request, stream=stream, verify=verify, cert=cert, proxies=proxies,
                            timeout=self.timeout if timeout is None else timeout)


def is_real_x(api_url: str) -> bool:
    """Whether `api_url` is X itself rather than the sandbox (or another emulator)."""
    return (urlsplit(api_url).hostname or "") in {"api.twitter.com", "api.x.com"}


def _mounted(session: requests.Session, api_url: str, timeout: float) -> requests.Session:
    session.mount(X_HOST + "/", XTransport(api_url, timeout))
    return session


class _NoDebug(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return record.levelno > logging.DEBUG


@functools.cache
def _quiet_library_debug() -> None:
    """Drop tweepy's and requests-oauthlib's debug lines: they print tokens.

    tweepy logs every request's headers (a Bearer token); requests-oauthlib and oauthlib log
    token responses and signed headers. Filters on a logger do not reach its children, so each
    of their loggers gets one; `XTransport` logs method and path instead.
    """
    quiet = _NoDebug()
    for name in list(logging.root.manager.loggerDict):
        if name.split(".")[0] in ("tweepy", "requests_oauthlib", "oauthlib"):
            logging.getLogger(name).addFilter(quiet)


# ---- reading X's answers --------------------------------------------------------------------


def _rate(response: requests.Response) -> RateInfo | None:
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


def _json(response: requests.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def _data_id(response: requests.Response) -> str | None:
    data = _json(response).get("data")
    return str(data["id"]) if isinstance(data, dict) and data.get("id") else None


def _x_message(response: requests.Response) -> str:
    """X's own words for an error: the `errors[].message`s, else `detail`, else the status."""
    body = _json(response)
    errors = body.get("errors")
    if not isinstance(errors, list):
        errors = []
    messages = [str(e["message"]) for e in errors if isinstance(e, dict) and e.get("message")]
    if messages:
        return "; ".join(messages)
    return str(body.get("detail") or body.get("title")
               or f"{response.status_code} {response.reason}")


_SECRET_FIELDS = ("access_token", "access_token_secret", "refresh_token", "consumer_secret")


def _scrub(text: str, credentials: Credentials) -> str:
    """Belt and braces: no secret survives in a reason, whatever X echoed."""
    for name in _SECRET_FIELDS:
        value = credentials.get(name)
        if isinstance(value, str) and value:
            text = text.replace(value, "[redacted]")
    return text


# ---- publishing -----------------------------------------------------------------------------


@dataclass(frozen=True)
class XUser:
    id: str
    username: str


class XPublisher:
    """Posts to X (or the sandbox at `api_url`) through tweepy's real HTTP path."""

    network = "x"

    def __init__(
        self,
        api_url: str,
        timeout: float,
        consumer_key: str | None,
        consumer_secret: str | None,
        *,
        clock: Callable[[], datetime] = utcnow,
        client_id: str | None = None,
        client_secret: str | None = None,
    ) -> None:
        self.api_url = api_url.rstrip("/")
        self.timeout = timeout
        self._consumer_key = consumer_key
        self._consumer_secret = consumer_secret
        self._client_id = client_id
        self._client_secret = client_secret
        self._clock = clock
        _quiet_library_debug()

    def __repr__(self) -> str:
        return f"XPublisher(api_url={self.api_url!r}, timeout={self.timeout!r})"

    # -- the protocol --

    def fresh_credentials(self, credentials: Credentials, now: datetime) -> Credentials | None:
        """New OAuth 2.0 tokens when these expire soon (the caller must store them: X's
        refresh tokens work once); None when no refresh is due or it failed (a send will then
        get 401 and the account is held for reconnecting)."""
        if not needs_refresh(credentials, now):
            return None
        app = XApp(api_url=self.api_url, timeout=self.timeout, client_id=self._client_id,
                   client_secret=self._client_secret)
        try:
            return refresh(app, credentials, now=now)
        except (XAuthError, requests.RequestException) as exc:
            log.warning("token refresh failed: %s", _scrub(str(exc), credentials))
            return None

    def send(self, request: SendRequest) -> SendResult:
        credentials = request.credentials
        try:
            client = self._client(credentials)
        except _MissingAppKeys as exc:
            return SendResult(Outcome.REAUTH, reason=str(exc))
        with client.session:
            try:
                media_ids = [self._upload(client.session, credentials, image)
                             for image in request.images]
                result = self._create(client, request, media_ids)
            except SendStopped as stop:
                result = stop.result
        return replace(result, reason=_scrub(result.reason, credentials))

    def recent_posts(
        self, *, credentials: Credentials, remote_user_id: str | None, since: datetime
    ) -> TimelineResult:
        try:
            client = self._client(credentials)
        except _MissingAppKeys as exc:
            return TimelineResult(ok=False, reason=str(exc))
        with client.session:
            try:
                return self._timeline(client, credentials, remote_user_id, since)
            except tweepy.HTTPException as exc:
                reason = f"X answered {exc.response.status_code}: {_x_message(exc.response)}"
                return TimelineResult(ok=False, reason=_scrub(reason, credentials),
                                      rate=_rate(exc.response))
            except requests.RequestException as exc:
                return TimelineResult(ok=False, reason=f"no answer from X ({type(exc).__name__})")
            except (KeyError, TypeError, ValueError) as exc:
                return TimelineResult(ok=False,
                                      reason=f"unexpected timeline answer ({type(exc).__name__})")

    def read_metrics(
        self, credentials: Credentials, ids: Sequence[str], *, non_public: bool
    ) -> MetricsResult:
        """Metrics of up to 100 posts in one GET /2/tweets, as the account of `credentials`.

        `non_public` asks for `non_public_metrics` too, which X gives only for the account's
        own posts younger than 30 days. Deleted or unavailable posts come back in `errors[]`
        of a 200 and end up in `gone`; an id that is not a post id is never sent (X would
        refuse the whole batch for it) and is reported unavailable.
        """
        wanted = list(dict.fromkeys(ids))
        if len(wanted) > MAX_IDS_PER_READ:
            raise ValueError(f"at most {MAX_IDS_PER_READ} ids per read, not {len(wanted)}")
        malformed = {i: GonePost(i, "unavailable", "not an X post id")
                     for i in wanted if not _POST_ID.match(i)}
        sendable = [i for i in wanted if i not in malformed]
        if not sendable:
            return MetricsResult(ReadOutcome.OK, gone=malformed)
        try:
            client = self._client(credentials)
        except _MissingAppKeys as exc:
            return MetricsResult(ReadOutcome.REAUTH, reason=str(exc))
        fields = ["public_metrics", *(["non_public_metrics"] if non_public else [])]
        with client.session:
            try:
                response = client.get_tweets(ids=sendable, tweet_fields=fields,
                                             user_auth=credentials.kind == "oauth1")
            except tweepy.HTTPException as exc:
                return self._read_refused(exc.response, credentials)
            except requests.RequestException as exc:
                return MetricsResult(ReadOutcome.UNREACHABLE,
                                     reason=f"no answer from X ({type(exc).__name__})")
        try:
            metrics, gone = _metrics_answer(_json(response), sendable)
        except (KeyError, TypeError, ValueError) as exc:
            return MetricsResult(ReadOutcome.UNREACHABLE, rate=_rate(response),
                                 reason=f"unexpected answer to GET /2/tweets "
                                        f"({type(exc).__name__})")
        return MetricsResult(ReadOutcome.OK, metrics=metrics, gone={**gone, **malformed},
                             rate=_rate(response))

    def me(self, credentials: Credentials) -> XUser:
        """Whose credentials these are (GET /2/users/me); `XAuthError` if X says no."""
        try:
            client = self._client(credentials)
            with client.session:
                return _me(client, credentials)
        except _MissingAppKeys as exc:
            raise XAuthError(str(exc)) from None
        except tweepy.HTTPException as exc:
            message = _scrub(_x_message(exc.response), credentials)
            raise XAuthError(f"X refused the token ({exc.response.status_code}): {message}") \
                from None
        except requests.RequestException as exc:
            raise XAuthError(f"could not reach X at {self.api_url} "
                             f"({type(exc).__name__})") from None

    # -- sending --

    def _client(self, credentials: Credentials) -> Any:
        if credentials.kind == "oauth2":
            client = tweepy.Client(bearer_token=credentials["access_token"],
                                   return_type=requests.Response, wait_on_rate_limit=False)
        elif credentials.kind == "oauth1":
            key, secret = self._app_keys(credentials)
            client = tweepy.Client(
                consumer_key=key, consumer_secret=secret,
                access_token=credentials["access_token"],
                access_token_secret=credentials["access_token_secret"],
                return_type=requests.Response, wait_on_rate_limit=False,
            )
        else:
            raise ValueError(f"unknown credentials kind {credentials.kind!r}")
        _mounted(client.session, self.api_url, self.timeout)
        return client

    def _app_keys(self, credentials: Credentials) -> tuple[str, str]:
        key = self._consumer_key or credentials.get("consumer_key")
        secret = self._consumer_secret or credentials.get("consumer_secret")
        if not key or not secret:
            raise _MissingAppKeys(
                "OAuth 1.0a tokens need the X app's keys: set CHORUS_X_CONSUMER_KEY and "
                "CHORUS_X_CONSUMER_SECRET"
            )
        return key, secret

    def _auth(self, credentials: Credentials) -> AuthBase:
        if credentials.kind == "oauth2":
            return _Bearer(credentials["access_token"])
        key, secret = self._app_keys(credentials)
        return OAuth1(key, client_secret=secret,
                      resource_owner_key=credentials["access_token"],
                      resource_owner_secret=credentials["access_token_secret"], decoding=None)

    def _upload(self, session: requests.Session, credentials: Credentials, image: Image) -> str:
        """Upload one image and set its alt text; the media id. Nothing is posted yet."""
        try:
            data = image.path.read_bytes()
        except OSError as exc:
            raise SendStopped(SendResult(Outcome.FAILED, reason=f"cannot read image {image.path}: "
                                                         f"{exc.strerror or exc}")) from None
        mime = mimetypes.guess_type(image.path.name)[0] or "application/octet-stream"
        response = self._before_post(
            session, credentials, "/2/media/upload",
            files={"media": (image.path.name, data, mime)},
            data={"media_category": "tweet_image"},
        )
        media_id = _data_id(response)
        if media_id is None:
            raise SendStopped(SendResult(Outcome.RETRY_LATER, rate=_rate(response),
                                   retry_at=self._clock() + RETRY_UNREACHED,
                                   reason="X's media upload answered without a media id"))
        if image.alt:
            self._before_post(session, credentials, "/2/media/metadata", json={
                "id": media_id, "metadata": {"alt_text": {"text": image.alt}}})
        return media_id

    def _before_post(self, session: requests.Session, credentials: Credentials, path: str,
                     **kwargs: Any) -> requests.Response:
        try:
            response = session.post(X_HOST + path, auth=self._auth(credentials), **kwargs)
        except requests.RequestException as exc:
            raise SendStopped(self._from_error(exc, posting=False, step=path)) from None
        if not 200 <= response.status_code < 300:
            raise SendStopped(self._from_response(response, posting=False, step=path))
        return response

    def _create(self, client: Any, request: SendRequest, media_ids: list[str]) -> SendResult:
        options: dict[str, Any] = {"user_auth": request.credentials.kind == "oauth1"}
        if media_ids:
            options["media_ids"] = media_ids
        if request.quote_of:
            options["quote_tweet_id"] = request.quote_of
        try:
            response = client.create_tweet(text=request.text, **options)
        except tweepy.HTTPException as exc:
            return self._from_response(exc.response, posting=True, step="/2/tweets")
        except requests.RequestException as exc:
            return self._from_error(exc, posting=True, step="/2/tweets")
        return self._from_response(response, posting=True, step="/2/tweets")

    # -- classifying --

    def _from_response(self, response: requests.Response, *, posting: bool,
                       step: str) -> SendResult:
        status = response.status_code
        rate = _rate(response)
        now = self._clock()
        if 200 <= status < 300:
            remote_id = _data_id(response)
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
        message = _x_message(response)
        duplicate = status == 403 and "duplicate content" in message.lower()
        return SendResult(Outcome.FAILED, rate=rate, duplicate=duplicate,
                          reason=message if duplicate else f"X refused {step} ({status}): "
                                                           f"{message}")

    def _from_error(self, exc: requests.RequestException, *, posting: bool,
                    step: str) -> SendResult:
        kind = type(exc).__name__
        retry_at = self._clock() + RETRY_UNREACHED
        if _never_sent(exc):
            return SendResult(Outcome.RETRY_LATER, retry_at=retry_at,
                              reason=f"could not connect to X at {self.api_url} ({kind}); "
                                     "nothing was sent")
        if posting:
            return SendResult(Outcome.UNKNOWN,
                              reason=f"no complete answer from X to {step} ({kind}): "
                                     "the post may or may not exist")
        return SendResult(Outcome.RETRY_LATER, retry_at=retry_at,
                          reason=f"no complete answer from X to {step} ({kind}); "
                                 "nothing was posted")

    def _read_refused(self, response: requests.Response,
                      credentials: Credentials) -> MetricsResult:
        status = response.status_code
        rate = _rate(response)
        if status == 429:
            now = self._clock()
            reset = rate.reset if rate else None
            retry_at = reset if reset is not None and reset > now else now + RETRY_WITHOUT_RESET
            return MetricsResult(ReadOutcome.RATE_LIMITED, rate=rate, retry_at=retry_at,
                                 reason=f"rate limited by X (429) on GET /2/tweets until "
                                        f"{retry_at.isoformat(timespec='seconds')}")
        if status == 401:
            return MetricsResult(ReadOutcome.REAUTH, rate=rate,
                                 reason="X refused the account's token (401 Unauthorized): "
                                        "reconnect the account")
        reason = _scrub(f"X answered {status} to GET /2/tweets: {_x_message(response)}",
                        credentials)
        outcome = ReadOutcome.UNREACHABLE if status >= 500 else ReadOutcome.REFUSED
        return MetricsResult(outcome, rate=rate, reason=reason)

    # -- reading --

    def _timeline(self, client: Any, credentials: Credentials, remote_user_id: str | None,
                  since: datetime) -> TimelineResult:
        extra: dict[str, str] = {}
        if remote_user_id is None:
            remote_user_id = _me(client, credentials).id
            extra["user_id"] = remote_user_id
        found: list[RecentPost] = []
        rate: RateInfo | None = None
        options: dict[str, Any] = {"tweet_fields": ["created_at"], "max_results": 100,
                                   "user_auth": credentials.kind == "oauth1"}
        for _ in range(TIMELINE_PAGES):
            response = client.get_users_tweets(remote_user_id, **options)
            rate = _rate(response) or rate
            body = _json(response)
            page = [RecentPost(remote_id=str(item["id"]), text=str(item["text"]),
                               created_at=_parse_time(item["created_at"]))
                    for item in body.get("data") or []]
            found += page
            next_token = (body.get("meta") or {}).get("next_token")
            if not next_token or not page or min(p.created_at for p in page) < since:
                break
            options["pagination_token"] = next_token
        else:
            return TimelineResult(
                ok=False, rate=rate, extra=extra,
                reason=f"more than {TIMELINE_PAGES * 100} posts since {since.isoformat()}; "
                       "cannot tell whether the post is among them")
        return TimelineResult(posts=tuple(p for p in found if p.created_at >= since),
                              rate=rate, extra=extra)


class _Bearer(AuthBase):
    def __init__(self, token: str) -> None:
        self._token = token

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        request.headers["Authorization"] = f"Bearer {self._token}"
        return request


def _me(client: Any, credentials: Credentials) -> XUser:
    response = client.get_me(user_auth=credentials.kind == "oauth1")
    data = _json(response)["data"]
    return XUser(id=str(data["id"]), username=str(data["username"]))


def _metrics_answer(body: dict[str, Any],
                    asked: list[str]) -> tuple[dict[str, PostMetrics], dict[str, GonePost]]:
    """Per-post metrics from `data[]`, and the posts X says are gone from `errors[]`."""
    metrics: dict[str, PostMetrics] = {}
    for item in body.get("data") or []:
        public = item.get("public_metrics") or {}
        private = item.get("non_public_metrics")
        remote_id = str(item["id"])
        metrics[remote_id] = PostMetrics(
            remote_id=remote_id,
            impressions=int(public.get("impression_count", 0)),
            likes=int(public.get("like_count", 0)),
            reposts=int(public.get("retweet_count", 0)),
            replies=int(public.get("reply_count", 0)),
            quotes=int(public.get("quote_count", 0)),
            bookmarks=int(public.get("bookmark_count", 0)),
            link_clicks=_count(private, "url_link_clicks"),
            profile_clicks=_count(private, "user_profile_clicks"),
        )
    gone: dict[str, GonePost] = {}
    for error in body.get("errors") or []:
        found = _gone_post(error, set(asked))
        if found is not None and found.remote_id not in metrics:
            gone.setdefault(found.remote_id, found)
    return metrics, gone


def _count(metrics: Any, name: str) -> int | None:
    if not isinstance(metrics, dict) or metrics.get(name) is None:
        return None
    return int(metrics[name])


def _gone_post(error: Any, asked: set[str]) -> GonePost | None:
    """The post an entry of `errors[]` says cannot be read, if it is about a whole post.

    Errors about one field (X's "Field Authorization Error" for `non_public_metrics` on a
    post the account does not own) leave the post itself readable, so they are not gone.
    """
    if not isinstance(error, dict) or error.get("field"):
        return None
    kind = str(error.get("type") or "")
    if kind.endswith("/not-authorized-for-field") or error.get("resource_type") not in (
            None, "tweet"):
        return None
    remote_id = str(error.get("resource_id") or error.get("value") or "")
    if remote_id not in asked:
        return None
    detail = str(error.get("detail") or error.get("message") or error.get("title") or kind)
    said = f"{error.get('title') or ''} {detail}".lower()
    deleted = (kind.endswith("/resource-not-found") or "not found" in said
               or "could not find" in said or "deleted" in said)
    return GonePost(remote_id, "deleted" if deleted else "unavailable", detail)


def _parse_time(value: str) -> datetime:
    parsed = datetime.fromisoformat(value)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


# ---- connecting accounts --------------------------------------------------------------------


@dataclass(frozen=True)
class XApp:
    """The X app an account is connected through, and where X (or the sandbox) answers."""

    api_url: str
    timeout: float
    consumer_key: str | None = None
    consumer_secret: str | None = field(default=None, repr=False)
    client_id: str | None = None
    client_secret: str | None = field(default=None, repr=False)
    redirect_uri: str = "http://127.0.0.1:8765/callback"


@dataclass(frozen=True)
class Connection:
    """What connecting an account produced: its tokens and who it is on X."""

    credentials: Credentials
    user_id: str
    username: str


@dataclass(frozen=True)
class PinFlow:
    """What to keep between showing the PIN page and receiving the PIN."""

    request_token: str = field(repr=False)
    request_token_secret: str = field(repr=False)


@dataclass(frozen=True)
class PkceFlow:
    """What to keep between showing the consent page and receiving the redirect."""

    state: str = field(repr=False)
    code_verifier: str = field(repr=False)


class _PinHandler(tweepy.OAuth1UserHandler):
    """tweepy's PIN-flow handler; it makes a new session per step, and each gets XTransport."""

    def __init__(self, app: XApp, *args: Any, **kwargs: Any) -> None:
        self._app = app
        super().__init__(*args, **kwargs)

    @property
    def oauth(self) -> Any:
        return self._oauth

    @oauth.setter
    def oauth(self, session: Any) -> None:
        self._oauth = _mounted(session, self._app.api_url, self._app.timeout)


def _pin_handler(app: XApp) -> Any:
    if not app.consumer_key or not app.consumer_secret:
        raise XAuthError(
            "connecting an X account with the PIN flow needs the X app's keys: set "
            "CHORUS_X_CONSUMER_KEY and CHORUS_X_CONSUMER_SECRET"
        )
    _quiet_library_debug()
    return _PinHandler(app, app.consumer_key, app.consumer_secret, callback="oob")


def _for_browser(url: str, host: str, app: XApp) -> str:
    base = app.api_url.rstrip("/")
    if base != X_HOST and url.startswith(host + "/"):
        return base + url[len(host):]
    return url


def start_pin_flow(app: XApp) -> tuple[str, PinFlow]:
    """OAuth 1.0a, step 1: a request token; the page where the account holder gets a PIN."""
    handler = _pin_handler(app)
    try:
        url = handler.get_authorization_url()
    except tweepy.TweepyException as exc:
        raise XAuthError(f"X did not give a request token: {_safe_cause(exc)}") from None
    token = handler.request_token
    return (_for_browser(url, X_HOST, app),
            PinFlow(token["oauth_token"], token["oauth_token_secret"]))


def finish_pin_flow(app: XApp, flow: PinFlow, pin: str) -> Connection:
    """OAuth 1.0a, step 2: exchange the PIN for the account's access token and secret."""
    handler = _pin_handler(app)
    handler.request_token = {"oauth_token": flow.request_token,
                             "oauth_token_secret": flow.request_token_secret}
    try:
        token, secret = handler.get_access_token(pin.strip())
    except tweepy.TweepyException as exc:
        raise XAuthError(f"X did not accept the PIN: {_safe_cause(exc)}") from None
    credentials = Credentials("oauth1", {"access_token": token, "access_token_secret": secret})
    user = XPublisher(app.api_url, app.timeout, app.consumer_key, app.consumer_secret) \
        .me(credentials)
    return Connection(credentials, user.id, user.username)


def _pkce_handler(app: XApp, scope: list[str] | None) -> Any:
    if not app.client_id:
        raise XAuthError(
            "connecting an X account with OAuth 2.0 needs the X app's client id: set "
            "CHORUS_X_CLIENT_ID (and CHORUS_X_CLIENT_SECRET for a confidential client)"
        )
    _quiet_library_debug()
    handler = tweepy.OAuth2UserHandler(client_id=app.client_id, redirect_uri=app.redirect_uri,
                                       scope=scope, client_secret=app.client_secret)
    return _mounted(handler, app.api_url, app.timeout)


def start_pkce_flow(app: XApp) -> tuple[str, PkceFlow]:
    """OAuth 2.0 with PKCE, step 1: the consent page to open in a browser."""
    handler = _pkce_handler(app, list(SCOPES))
    flow = PkceFlow(state=secrets.token_urlsafe(24), code_verifier=secrets.token_urlsafe(96))
    challenge = base64.urlsafe_b64encode(
        hashlib.sha256(flow.code_verifier.encode()).digest()).rstrip(b"=").decode()
    url, _ = handler.authorization_url(f"{AUTHORIZE_HOST}/i/oauth2/authorize", state=flow.state,
                                       code_challenge=challenge, code_challenge_method="S256")
    return _for_browser(url, AUTHORIZE_HOST, app), flow


def finish_pkce_flow(app: XApp, flow: PkceFlow, redirect_url: str, *,
                     now: datetime) -> Connection:
    """OAuth 2.0 with PKCE, step 2: exchange the code in the redirect URL for tokens.

    The redirect is parsed here rather than by oauthlib, which refuses http URLs: X's
    registered callback for a command-line app is a loopback http URL (RFC 8252).
    """
    query = parse_qs(urlsplit(redirect_url.strip()).query)
    if "error" in query:
        raise XAuthError(f"X did not authorise the app: {query['error'][0]}")
    if query.get("state", [""])[0] != flow.state:
        raise XAuthError("the redirect URL does not belong to this connection attempt "
                         "(state mismatch); start again")
    code = query.get("code", [""])[0]
    if not code:
        raise XAuthError("the redirect URL has no authorisation code; paste the whole URL")
    handler = _pkce_handler(app, list(SCOPES))
    # tweepy's own fetch_token hard-codes the URL and hands the redirect to oauthlib
    token = _token_call(lambda: OAuth2Session.fetch_token(
        handler, TOKEN_URL, code=code, code_verifier=flow.code_verifier, auth=handler.auth,
        include_client_id=True))
    credentials = _oauth2_credentials(token, now)
    user = XPublisher(app.api_url, app.timeout, None, None).me(credentials)
    return Connection(credentials, user.id, user.username)


def refresh(app: XApp, credentials: Credentials, *, now: datetime) -> Credentials:
    """New OAuth 2.0 tokens from the refresh token (which X lets one use only once)."""
    if credentials.kind != "oauth2" or not credentials.get("refresh_token"):
        raise XAuthError("only OAuth 2.0 credentials with a refresh token can be refreshed")
    handler = _pkce_handler(app, None)
    if app.client_secret:
        options: dict[str, Any] = {"auth": HTTPBasicAuth(app.client_id or "", app.client_secret)}
    else:
        options = {"client_id": app.client_id}
    token = _token_call(lambda: handler.refresh_token(
        TOKEN_URL, refresh_token=credentials["refresh_token"], **options))
    return _oauth2_credentials(token, now)


def needs_refresh(credentials: Credentials, now: datetime) -> bool:
    """True when OAuth 2.0 credentials expire within REFRESH_MARGIN (or have expired)."""
    expires_at = credentials.get("expires_at") if credentials.kind == "oauth2" else None
    if expires_at is None:
        return False
    return datetime.fromtimestamp(float(expires_at), UTC) - now <= REFRESH_MARGIN


def _token_call(call: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    try:
        return call()
    except requests.RequestException as exc:
        raise XAuthError(f"could not reach X's token endpoint ({type(exc).__name__})") from None
    except OAuth2Error as exc:
        raise XAuthError(f"X refused the token request: {_safe_cause(exc)}") from None
    except Warning as exc:  # oauthlib raises a bare Warning when the granted scope differs
        raise XAuthError(f"X granted different scopes than asked: {exc}") from None


def _oauth2_credentials(token: dict[str, Any], now: datetime) -> Credentials:
    scope = token.get("scope")
    values: dict[str, Any] = {
        "access_token": token["access_token"],
        "refresh_token": token.get("refresh_token"),
        "scope": " ".join(scope) if isinstance(scope, list) else scope,
    }
    if token.get("expires_in") is not None:
        values["expires_at"] = int(now.timestamp()) + int(token["expires_in"])
    return Credentials("oauth2", values)


def _safe_cause(exc: BaseException) -> str:
    """A short description of an auth failure that cannot carry a token."""
    cause = exc.__cause__ or exc.__context__ or exc
    if isinstance(exc, tweepy.TweepyException) and exc.args and \
            isinstance(exc.args[0], BaseException):
        cause = exc.args[0]
    error = getattr(cause, "error", None)  # oauthlib errors carry X's error code
    description = getattr(cause, "description", None)
    if error:
        return f"{error}" + (f" ({description})" if description else "")
    response = getattr(cause, "response", None)
    if isinstance(response, requests.Response):
        return f"{response.status_code} {response.reason}"
    if isinstance(cause, requests.RequestException):
        return f"no answer ({type(cause).__name__})"
    return type(cause).__name__
