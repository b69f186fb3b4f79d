"""Bluesky through atproto: posting, reading an account's recent posts and its posts'
engagement, and logging in to connect an account.

The only module that imports atproto. Each account's credentials hold its handle, DID, app
password and the service (PDS or entryway) it was connected on. The publisher keeps one
logged-in atproto client per account for the life of the process: it logs in once
(com.atproto.server.createSession) and atproto refreshes the session with the refresh JWT
as the access JWT nears its expiry. A PDS may still refuse the access JWT first (its clock
runs ahead); then the session is refreshed, or failing that the account logs in again, and
the refused call is made once more.

Every post is created under a record key chosen from the delivery (`bluesky_keys.record_key`),
so a second copy of it is refused by the PDS rather than published. Every send still ends in
one `Outcome` by the same rule as X's: if nothing can have reached Bluesky, a retry is safe
(RETRY_LATER); if the post may exist, the dispatcher reconciles first (UNKNOWN). What needs no
atproto lives beside it: how failures become outcomes (bluesky_outcomes), what post records
and views say (bluesky_posts), and what connecting keeps and produces (bluesky_login).
"""

from __future__ import annotations

import hashlib
import logging
import mimetypes
import re
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, TypeVar

import httpx
from atproto import Client, SessionEvent, client_utils, models
from atproto import Session as AtprotoSession
from atproto_client.exceptions import LoginRequiredError, RequestErrorBase
from atproto_client.models.common import XrpcError
from atproto_client.request import Request
from atproto_core.exceptions import AtProtocolError

from campaigns.config.secrets import Credentials
from campaigns.core.clock import utcnow
from campaigns.core.text import measure
from scheduler.publishers.base import (
    GonePost,
    Image,
    MetricsResult,
    Outcome,
    RateInfo,
    ReadOutcome,
    RecentPost,
    SendRequest,
    SendResult,
    SendStopped,
    TimelineResult,
)
from scheduler.publishers.bluesky_keys import record_key
from scheduler.publishers.bluesky_login import BlueskyAuthError, BlueskyLogin, credentials_for
from scheduler.publishers.bluesky_outcomes import (
    Failure,
    already_exists,
    login_outcome,
    rate_info,
    read_outcome,
    refused_login,
    scrub,
    scrubbed,
    send_outcome,
)
from scheduler.publishers.bluesky_posts import post_metrics, recent_post, text_of

log = logging.getLogger(__name__)

POST = "app.bsky.feed.post"
#: The most URIs one app.bsky.feed.getPosts takes.
MAX_URIS_PER_READ = 25
MAX_IMAGES = 4
#: Reconciliation reads at most this many pages of the author feed.
TIMELINE_PAGES = 10
FEED_PAGE = 100
#: What a post's remote id must look like to be asked about (an at:// URI of a post).
_POST_URI = re.compile(r"^at://[^/\s]+/app\.bsky\.feed\.post/[A-Za-z0-9._:~-]{1,512}$")
#: Transport errors after which the request provably never left.
_NEVER_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout,
               httpx.UnsupportedProtocol, httpx.InvalidURL)

T = TypeVar("T")


# ---- reading atproto's failures -----------------------------------------------------------------


def failure_of(exc: BaseException) -> Failure:
    """What an exception from atproto (or from httpx under it) says about the call."""
    if isinstance(exc, LoginRequiredError):
        return Failure(None, cause=type(exc).__name__, message="no usable session",
                       never_sent=True)
    response = exc.response if isinstance(exc, RequestErrorBase) else None
    if response is None:
        cause = exc.__cause__ if isinstance(exc, AtProtocolError) and exc.__cause__ else exc
        return Failure(None, cause=type(cause).__name__,
                       never_sent=isinstance(cause, _NEVER_SENT))
    content = response.content
    if isinstance(content, XrpcError):
        error, message = content.error, content.message or ""
    elif isinstance(content, dict):
        error, message = str(content.get("error") or ""), str(content.get("message") or "")
    else:
        error, message = "", ""
    return Failure(response.status_code, error, message, rate=rate_info(response.headers))


# ---- one account's session ----------------------------------------------------------------------


class _Client(Client):
    """atproto's client, whose own session refresh can also be asked for.

    atproto refreshes the access JWT when its clock says it expires within 15 minutes. A PDS
    whose clock runs ahead (the sandbox, after a test moves its clock) refuses the token
    first, with 400 ExpiredToken; `refresh` then does exactly what atproto would have done.
    """

    def refresh(self) -> None:
        self._refresh_and_set_session()


@dataclass
class _Account:
    """One account's logged-in client. Its lock lets one call at a time use it."""

    service: str
    fingerprint: str
    lock: threading.Lock = field(default_factory=threading.Lock)
    client: _Client | None = None
    did: str | None = None
    handle: str | None = None
    #: What the latest answer said about the rate limit, and whether it came from the sandbox.
    rate: RateInfo | None = None
    sandbox: bool = False

    def saw(self, response: httpx.Response) -> None:
        """httpx's response hook: keep what every answer's headers say."""
        self.rate = rate_info(response.headers)
        self.sandbox = response.headers.get("x-chorus-sandbox") == "1"

    def session_changed(self, event: SessionEvent, session: AtprotoSession) -> None:
        """atproto's session callback: note who logged in (never the tokens)."""
        self.did, self.handle = session.did, session.handle
        log.debug("bluesky: session %s for %s", event.value, session.handle)


class _LoginRefused(Exception):
    def __init__(self, failure: Failure) -> None:
        super().__init__(failure.said)
        self.failure = failure


# ---- publishing ---------------------------------------------------------------------------------


class BlueskyPublisher:
    """Posts to Bluesky (or the sandbox) through atproto's real HTTP path, one session per
    account, and reads its posts' engagement."""

    network = "bluesky"
    #: The most post URIs one read takes (the collector honours it).
    batch_size = MAX_URIS_PER_READ

    def __init__(self, timeout: float, *, clock: Callable[[], datetime] = utcnow) -> None:
        self.timeout = timeout
        self._clock = clock
        self._accounts: dict[tuple[str, str], _Account] = {}
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"BlueskyPublisher(timeout={self.timeout!r})"

    def close(self) -> None:
        """Close every account's connections (sessions are forgotten)."""
        with self._lock:
            accounts, self._accounts = list(self._accounts.values()), {}
        for account in accounts:
            if account.client is not None:
                account.client.request.close()

    # -- the protocol --

    def send(self, request: SendRequest) -> SendResult:
        credentials = request.credentials
        measured = measure(request.text, "bluesky")
        if not measured.valid:
            return SendResult(Outcome.FAILED, reason=f"not sent: the text cannot go to "
                                                     f"Bluesky: {measured.problem}")
        if len(request.images) > MAX_IMAGES:
            return SendResult(Outcome.FAILED, reason=f"not sent: Bluesky takes at most "
                                                     f"{MAX_IMAGES} images, not "
                                                     f"{len(request.images)}")
        try:
            images = [(image, _read(image)) for image in request.images]
            result = self._as(credentials, lambda c, a: self._post(c, a, request, images))
        except SendStopped as stop:
            result = stop.result
        except _LoginRefused as refused:
            result = login_outcome(refused.failure, handle=credentials["handle"],
                                   now=self._clock())
        except (AtProtocolError, httpx.HTTPError) as exc:  # renewing the session failed
            result = send_outcome(failure_of(exc), step="refreshSession", posting=False,
                                  now=self._clock())
        return replace(result, reason=scrub(result.reason, credentials))

    def recent_posts(
        self, *, credentials: Credentials, remote_user_id: str | None, since: datetime
    ) -> TimelineResult:
        """The account's own posts (not its reposts or replies) created since `since`."""
        actor = remote_user_id or credentials.get("did") or credentials["handle"]
        try:
            return self._as(credentials, lambda c, a: _timeline(c, a, actor, since))
        except _LoginRefused as refused:
            return TimelineResult(ok=False, reason=scrub(
                f"Bluesky refused the login ({refused.failure.said})", credentials))
        except (AtProtocolError, httpx.HTTPError) as exc:
            failure = failure_of(exc)
            said = failure.said if failure.status else f"no answer ({failure.cause})"
            return TimelineResult(ok=False, rate=failure.rate, reason=scrub(
                f"Bluesky gave {said} to getAuthorFeed", credentials))
        except (KeyError, TypeError, ValueError) as exc:
            return TimelineResult(ok=False, reason=f"unexpected author feed answer "
                                                   f"({type(exc).__name__})")

    def read_metrics(
        self, credentials: Credentials, ids: Sequence[str], *, non_public: bool
    ) -> MetricsResult:
        """Likes, reposts, replies, quotes and bookmarks of up to 25 posts in one
        app.bsky.feed.getPosts, as the account of `credentials`.

        Bluesky publishes no impressions (they stay 0) and nothing non-public, so
        `non_public` changes nothing. A post missing from the answer is deleted (or hidden
        from this account); an id that is not a post's at:// URI is never sent and is
        reported unavailable.
        """
        wanted = list(dict.fromkeys(ids))
        if len(wanted) > MAX_URIS_PER_READ:
            raise ValueError(f"at most {MAX_URIS_PER_READ} ids per read, not {len(wanted)}")
        malformed = {i: GonePost(i, "unavailable", "not a Bluesky post URI")
                     for i in wanted if not _POST_URI.match(i)}
        sendable = [i for i in wanted if i not in malformed]
        if not sendable:
            return MetricsResult(ReadOutcome.OK, gone=malformed)
        now = self._clock()
        try:
            views, rate = self._as(credentials, lambda c, a: (c.get_posts(sendable).posts,
                                                              a.rate))
        except _LoginRefused as refused:
            failure = refused.failure
            if refused_login(failure):
                return MetricsResult(ReadOutcome.REAUTH, rate=failure.rate, reason=scrub(
                    f"Bluesky refused the app password of {credentials['handle']} "
                    f"({failure.said}): reconnect the account", credentials))
            return scrubbed(read_outcome(failure, step="createSession", now=now), credentials)
        except (AtProtocolError, httpx.HTTPError) as exc:
            return scrubbed(read_outcome(failure_of(exc), step="getPosts", now=now),
                             credentials)
        metrics = {view.uri: post_metrics(view) for view in views if view.uri in sendable}
        gone = {uri: GonePost(uri, "deleted", "Bluesky did not return the post")
                for uri in sendable if uri not in metrics}
        return MetricsResult(ReadOutcome.OK, metrics=metrics, gone={**gone, **malformed},
                             rate=rate)

    def login(self, *, service: str, handle: str, app_password: str) -> BlueskyLogin:
        """Log in once (to connect an account): who the app password belongs to, and the
        credentials to keep for it; `BlueskyAuthError` if the service says no."""
        credentials = credentials_for(handle=handle, did="", app_password=app_password,
                                      service=service)
        account = _Account(credentials["service"], _fingerprint(credentials))
        try:
            client = self._login(account, credentials)
        except _LoginRefused as refused:
            failure = refused.failure
            if failure.status is None:
                raise BlueskyAuthError(f"could not reach Bluesky at {account.service} "
                                       f"({failure.cause})") from None
            raise BlueskyAuthError(scrub(f"Bluesky refused the login ({failure.said})",
                                          credentials)) from None
        client.request.close()
        did, handle = str(account.did), str(account.handle)
        return BlueskyLogin(credentials_for(handle=handle, did=did,
                                            app_password=credentials["app_password"],
                                            service=account.service),
                            did, handle, account.sandbox)

    # -- sessions --

    def _account(self, credentials: Credentials) -> _Account:
        service = credentials["service"]
        key = (service, credentials.get("did") or credentials["handle"])
        fingerprint = _fingerprint(credentials)
        with self._lock:
            found = self._accounts.get(key)
            if found is None or found.fingerprint != fingerprint:  # new, or reconnected
                found = self._accounts[key] = _Account(service, fingerprint)
            return found

    def _as(self, credentials: Credentials, step: Callable[[_Client, _Account], T]) -> T:
        """Run `step` as the account (logging in first if need be), holding its lock; if
        the PDS refused the session, renew it and run the step once more."""
        account = self._account(credentials)
        with account.lock:
            account.rate = None
            client = account.client or self._login(account, credentials)
            try:
                return step(client, account)
            except (AtProtocolError, httpx.HTTPError) as exc:
                if not failure_of(exc).session_refused and not isinstance(
                        exc, LoginRequiredError):
                    raise
            return step(self._renew(account, credentials), account)

    def _login(self, account: _Account, credentials: Credentials) -> _Client:
        """A new session from the app password (com.atproto.server.createSession)."""
        if account.client is not None:
            account.client.request.close()
            account.client = None
        client = _Client(base_url=account.service, request=Request(
            timeout=self.timeout, event_hooks={"response": [account.saw]}))
        client.on_session_change(account.session_changed)
        try:
            client.login(credentials["handle"], credentials["app_password"],
                         fetch_bsky_profile=False)
        except (AtProtocolError, httpx.HTTPError) as exc:
            client.request.close()
            raise _LoginRefused(failure_of(exc)) from None
        account.client = client
        return client

    def _renew(self, account: _Account, credentials: Credentials) -> _Client:
        """After the PDS refused the access token: atproto's refresh with the refresh JWT,
        or, if that is refused too, a new login with the app password."""
        client = account.client
        if client is not None:
            try:
                client.refresh()
                return client
            except (AtProtocolError, httpx.HTTPError) as exc:
                failure = failure_of(exc)
                if not (failure.session_refused or isinstance(exc, LoginRequiredError)):
                    raise
        return self._login(account, credentials)

    # -- sending --

    def _post(self, client: _Client, account: _Account, request: SendRequest,
              images: list[tuple[Image, bytes]]) -> SendResult:
        embed = None
        if images:
            embed = models.AppBskyEmbedImages.Main(images=[
                models.AppBskyEmbedImages.Image(alt=image.alt, image=self._upload(client, image,
                                                                                  data))
                for image, data in images])
        record = models.AppBskyFeedPost.Record(
            text=request.text, created_at=self._clock().isoformat(), embed=embed,
            facets=client_utils.detect_facets(request.text) or None)
        repo = account.did or request.credentials.get("did")
        rkey = record_key(request.delivery_id)
        try:
            created = client.com.atproto.repo.create_record(models.ComAtprotoRepoCreateRecord.Data(
                repo=repo, collection=POST, record=record, rkey=rkey))
        except (AtProtocolError, httpx.HTTPError) as exc:
            failure = failure_of(exc)
            if failure.status == 400 and already_exists(failure):
                return self._already_posted(client, account, request, repo, rkey)
            if failure.session_refused:
                raise
            return send_outcome(failure, step="createRecord", posting=True, now=self._clock())
        return SendResult(Outcome.POSTED, remote_id=created.uri, rate=account.rate)

    def _upload(self, client: _Client, image: Image, data: bytes) -> Any:
        """Upload one image (com.atproto.repo.uploadBlob); its blob. Nothing is posted yet."""
        mime = mimetypes.guess_type(image.path.name)[0] or "application/octet-stream"
        try:
            return client.com.atproto.repo.upload_blob(data, headers={"Content-Type": mime}).blob
        except (AtProtocolError, httpx.HTTPError) as exc:
            failure = failure_of(exc)
            if failure.session_refused:
                raise
            raise SendStopped(send_outcome(failure, step="uploadBlob", posting=False,
                                     now=self._clock())) from None

    def _already_posted(self, client: _Client, account: _Account, request: SendRequest,
                        repo: Any, rkey: str) -> SendResult:
        """The PDS already holds a record under this delivery's key: a retry of a post that
        went out. It is this delivery's post if it has the same text."""
        try:
            found = client.com.atproto.repo.get_record(models.ComAtprotoRepoGetRecord.Params(
                repo=repo, collection=POST, rkey=rkey))
        except (AtProtocolError, httpx.HTTPError) as exc:
            failure = failure_of(exc)
            if failure.session_refused:
                raise
            said = failure.said if failure.status else f"no answer ({failure.cause})"
            return SendResult(Outcome.UNKNOWN, rate=failure.rate,
                              reason=f"a post already has this delivery's record key {rkey}, "
                                     f"but reading it back got {said}")
        text = text_of(found.value)
        if text == request.text:
            return SendResult(Outcome.POSTED, remote_id=found.uri, rate=account.rate,
                              reason="already posted under this delivery's record key")
        return SendResult(Outcome.FAILED, rate=account.rate,
                          reason=f"the record key {rkey} of this delivery already holds a "
                                 f"different post ({found.uri}); not sent")


# ---- small helpers ------------------------------------------------------------------------------


def _read(image: Image) -> bytes:
    try:
        return image.path.read_bytes()
    except OSError as exc:
        raise SendStopped(SendResult(Outcome.FAILED, reason=f"cannot read image {image.path}: "
                                                      f"{exc.strerror or exc}")) from None


def _timeline(client: _Client, account: _Account, actor: str,
              since: datetime) -> TimelineResult:
    found: list[RecentPost] = []
    cursor: str | None = None
    for _ in range(TIMELINE_PAGES):
        page = client.get_author_feed(actor, cursor=cursor, filter="posts_no_replies",
                                      limit=FEED_PAGE)
        posts = [recent_post(item.post) for item in page.feed if item.reason is None]
        found += [p for p in posts if p is not None]
        cursor = page.cursor
        if not cursor or not page.feed or any(p is not None and p.created_at < since
                                              for p in posts):
            break
    else:
        return TimelineResult(ok=False, rate=account.rate,
                              reason=f"more than {TIMELINE_PAGES * FEED_PAGE} posts since "
                                     f"{since.isoformat()}; cannot tell whether the post is "
                                     "among them")
    return TimelineResult(posts=tuple(p for p in found if p.created_at >= since),
                          rate=account.rate)


def _fingerprint(credentials: Credentials) -> str:
    """Tells one app password from another without keeping it in a key."""
    return hashlib.sha256(str(credentials["app_password"]).encode()).hexdigest()
