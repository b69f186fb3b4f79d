"""X through tweepy: posting, reading an account's timeline and metrics, and connecting
accounts.

The only module that imports tweepy. tweepy fixes its host to api.twitter.com, sets no
timeout and has no v2 media upload, so every session it makes gets `XTransport` mounted for
that host (x_transport: it sends to `api_url` instead, with a timeout, and never retries), and
media go through the same session by hand. What tweepy is not needed for lives beside it: what
X's answers mean (x_outcomes), reading timelines and metrics out of them (x_reader), and what
connecting an account keeps and produces (x_oauth).

Every send ends in one `Outcome`. The rule that decides between them: if nothing can have
reached X, a retry is safe (RETRY_LATER); if the post may exist, only reconciling against the
timeline can tell (UNKNOWN).
"""

from __future__ import annotations

import base64
import hashlib
import logging
import mimetypes
import re
import secrets
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit

import requests
import tweepy
from oauthlib.oauth2 import OAuth2Error
from requests.auth import AuthBase, HTTPBasicAuth
from requests_oauthlib import OAuth1, OAuth2Session

from campaigns.config.secrets import Credentials
from campaigns.core.clock import utcnow
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
from scheduler.publishers.x_oauth import (
    AUTHORIZE_HOST,
    SCOPES,
    TOKEN_URL,
    Connection,
    PinFlow,
    PkceFlow,
    XApp,
    XAuthError,
    for_browser,
    needs_refresh,
    oauth2_credentials,
)
from scheduler.publishers.x_outcomes import (
    RETRY_UNREACHED,
    data_id,
    json_body,
    rate_info,
    read_refused,
    scrub,
    send_outcome,
    unanswered_outcome,
    x_message,
)
from scheduler.publishers.x_reader import XUser, metrics_answer, read_user, timeline
from scheduler.publishers.x_transport import X_HOST, Bearer, mounted, quiet_library_debug

log = logging.getLogger(__name__)

#: The most ids one GET /2/tweets takes.
MAX_IDS_PER_READ = 100
#: What X accepts as a post id; anything else would make it refuse the whole batch.
_POST_ID = re.compile(r"^[0-9]{1,19}$")


class _MissingAppKeys(Exception):
    pass


# ---- publishing -----------------------------------------------------------------------------


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
        quiet_library_debug()

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
            log.warning("token refresh failed: %s", scrub(str(exc), credentials))
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
        return replace(result, reason=scrub(result.reason, credentials))

    def recent_posts(
        self, *, credentials: Credentials, remote_user_id: str | None, since: datetime
    ) -> TimelineResult:
        try:
            client = self._client(credentials)
        except _MissingAppKeys as exc:
            return TimelineResult(ok=False, reason=str(exc))
        with client.session:
            try:
                return timeline(client, credentials, remote_user_id, since)
            except tweepy.HTTPException as exc:
                reason = f"X answered {exc.response.status_code}: {x_message(exc.response)}"
                return TimelineResult(ok=False, reason=scrub(reason, credentials),
                                      rate=rate_info(exc.response))
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
                return read_refused(exc.response, credentials, clock=self._clock)
            except requests.RequestException as exc:
                return MetricsResult(ReadOutcome.UNREACHABLE,
                                     reason=f"no answer from X ({type(exc).__name__})")
        try:
            metrics, gone = metrics_answer(json_body(response), sendable)
        except (KeyError, TypeError, ValueError) as exc:
            return MetricsResult(ReadOutcome.UNREACHABLE, rate=rate_info(response),
                                 reason=f"unexpected answer to GET /2/tweets "
                                        f"({type(exc).__name__})")
        return MetricsResult(ReadOutcome.OK, metrics=metrics, gone={**gone, **malformed},
                             rate=rate_info(response))

    def me(self, credentials: Credentials) -> XUser:
        """Whose credentials these are (GET /2/users/me); `XAuthError` if X says no."""
        try:
            client = self._client(credentials)
            with client.session:
                return read_user(client, credentials)
        except _MissingAppKeys as exc:
            raise XAuthError(str(exc)) from None
        except tweepy.HTTPException as exc:
            message = scrub(x_message(exc.response), credentials)
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
        mounted(client.session, self.api_url, self.timeout)
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
            return Bearer(credentials["access_token"])
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
        media_id = data_id(response)
        if media_id is None:
            raise SendStopped(SendResult(Outcome.RETRY_LATER, rate=rate_info(response),
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
            raise SendStopped(unanswered_outcome(exc, posting=False, step=path, now=self._clock(),
                                                 api_url=self.api_url)) from None
        if not 200 <= response.status_code < 300:
            raise SendStopped(send_outcome(response, posting=False, step=path, now=self._clock()))
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
            return send_outcome(exc.response, posting=True, step="/2/tweets", now=self._clock())
        except requests.RequestException as exc:
            return unanswered_outcome(exc, posting=True, step="/2/tweets", now=self._clock(),
                                      api_url=self.api_url)
        return send_outcome(response, posting=True, step="/2/tweets", now=self._clock())


# ---- connecting accounts --------------------------------------------------------------------


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
        self._oauth = mounted(session, self._app.api_url, self._app.timeout)


def _pin_handler(app: XApp) -> Any:
    if not app.consumer_key or not app.consumer_secret:
        raise XAuthError(
            "connecting an X account with the PIN flow needs the X app's keys: set "
            "CHORUS_X_CONSUMER_KEY and CHORUS_X_CONSUMER_SECRET"
        )
    quiet_library_debug()
    return _PinHandler(app, app.consumer_key, app.consumer_secret, callback="oob")


def start_pin_flow(app: XApp) -> tuple[str, PinFlow]:
    """OAuth 1.0a, step 1: a request token; the page where the account holder gets a PIN."""
    handler = _pin_handler(app)
    try:
        url = handler.get_authorization_url()
    except tweepy.TweepyException as exc:
        raise XAuthError(f"X did not give a request token: {_safe_cause(exc)}") from None
    token = handler.request_token
    return (for_browser(url, X_HOST, app),
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
    quiet_library_debug()
    handler = tweepy.OAuth2UserHandler(client_id=app.client_id, redirect_uri=app.redirect_uri,
                                       scope=scope, client_secret=app.client_secret)
    return mounted(handler, app.api_url, app.timeout)


def start_pkce_flow(app: XApp) -> tuple[str, PkceFlow]:
    """OAuth 2.0 with PKCE, step 1: the consent page to open in a browser."""
    handler = _pkce_handler(app, list(SCOPES))
    flow = PkceFlow(state=secrets.token_urlsafe(24), code_verifier=secrets.token_urlsafe(96))
    challenge = base64.urlsafe_b64encode(
        hashlib.sha256(flow.code_verifier.encode()).digest()).rstrip(b"=").decode()
    url, _ = handler.authorization_url(f"{AUTHORIZE_HOST}/i/oauth2/authorize", state=flow.state,
                                       code_challenge=challenge, code_challenge_method="S256")
    return for_browser(url, AUTHORIZE_HOST, app), flow


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
    credentials = oauth2_credentials(token, now)
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
    return oauth2_credentials(token, now)


def _token_call(call: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    try:
        return call()
    except requests.RequestException as exc:
        raise XAuthError(f"could not reach X's token endpoint ({type(exc).__name__})") from None
    except OAuth2Error as exc:
        raise XAuthError(f"X refused the token request: {_safe_cause(exc)}") from None
    except Warning as exc:  # oauthlib raises a bare Warning when the granted scope differs
        raise XAuthError(f"X granted different scopes than asked: {exc}") from None


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
