"""The sandbox's HTTP server: the route table, and what every X route shares — authentication,
injected faults, rate-limit windows and the request log.

    running = start(state_path, port=0)   # serves in a daemon thread
    running.url                           # http://127.0.0.1:<port>
    running.stop()
"""

from __future__ import annotations

import contextlib
import logging
import re
import socket
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from scheduler.sandbox import bluesky_api, control, mastodon_api, oauth, x_api
from scheduler.sandbox.accounts_store import Token
from scheduler.sandbox.faults import Decision
from scheduler.sandbox.limits import Window
from scheduler.sandbox.state import SandboxState
from scheduler.sandbox.store import Store
from scheduler.sandbox.wire import (
    ApiError,
    Call,
    HangUp,
    Reply,
    bearer_token,
    no_route,
    oauth_params,
    problem,
    server_error,
    too_many_requests,
    unauthorized,
)

log = logging.getLogger(__name__)

Handler = Callable[[SandboxState, Call], Reply]


@dataclass(frozen=True)
class Route:
    method: str
    pattern: re.Pattern[str]
    handler: Handler
    #: "x" (X API: authenticated, rate-limited), "mastodon" (the same, with Mastodon's
    #: tokens), "oauth" (authorisation servers and other routes that need no token) or
    #: "control" (ours: no faults, not logged).
    kind: str
    #: Rate-limit group and which limit of `RateLimits` it counts against.
    group: str = ""
    limit: str = ""


def _route(spec: str, handler: Handler, kind: str, group: str = "", limit: str = "") -> Route:
    method, path = spec.split(" ")
    pattern = re.sub(r":(\w+)", r"(?P<\1>[^/]+)", path)
    return Route(method, re.compile(f"^{pattern}$"), handler, kind, group, limit)


ROUTES = (
    _route("POST /2/tweets", x_api.create_tweet, "x", "tweets:create", "posts"),
    _route("DELETE /2/tweets/:id", x_api.delete_tweet, "x", "tweets:delete", "posts"),
    _route("POST /2/users/:id/retweets", x_api.repost, "x", "retweets:create", "posts"),
    _route("GET /2/tweets", x_api.lookup_tweets, "x", "tweets:lookup", "reads"),
    _route("GET /2/tweets/:id", x_api.lookup_tweet, "x", "tweets:lookup", "reads"),
    _route("GET /2/users/me", x_api.users_me, "x", "users:me", "reads"),
    _route("GET /2/users/:id/tweets", x_api.user_tweets, "x", "users:tweets", "reads"),
    _route("POST /2/media/upload", x_api.upload_media, "x", "media:upload", "media"),
    _route("POST /2/media/metadata", x_api.media_metadata, "x", "media:metadata", "media"),
    _route("POST /oauth/request_token", oauth.request_token, "oauth"),
    _route("GET /oauth/authorize", oauth.authorize_oauth1, "oauth"),
    _route("POST /oauth/access_token", oauth.access_token, "oauth"),
    _route("GET /i/oauth2/authorize", oauth.authorize_oauth2, "oauth"),
    _route("POST /2/oauth2/token", oauth.oauth2_token, "oauth"),
    _route("GET /_sandbox/health", control.health, "control"),
    _route("POST /_sandbox/accounts", control.create_account, "control"),
    _route("GET /_sandbox/accounts", control.list_accounts, "control"),
    _route("POST /_sandbox/accounts/:username/revoke", control.revoke, "control"),
    _route("GET /_sandbox/posts", control.list_posts, "control"),
    _route("GET /_sandbox/requests", control.list_requests, "control"),
    _route("GET /_sandbox/faults", control.get_faults, "control"),
    _route("POST /_sandbox/faults", control.set_faults, "control"),
    _route("DELETE /_sandbox/faults", control.clear_faults, "control"),
    _route("GET /_sandbox/clock", control.get_clock, "control"),
    _route("POST /_sandbox/clock", control.set_clock, "control"),
    _route("POST /_sandbox/reset", control.reset, "control"),
    _route("GET /mastodon/api/v1/instance", mastodon_api.instance_v1, "oauth"),
    _route("GET /mastodon/api/v1/instance/", mastodon_api.instance_v1, "oauth"),
    _route("GET /mastodon/api/v2/instance", mastodon_api.instance_v2, "oauth"),
    _route("GET /mastodon/api/v2/instance/", mastodon_api.instance_v2, "oauth"),
    _route("POST /mastodon/api/v1/apps", mastodon_api.register_app, "oauth"),
    _route("GET /mastodon/oauth/authorize", mastodon_api.authorize, "oauth"),
    _route("POST /mastodon/oauth/token", mastodon_api.token, "oauth"),
    _route("GET /mastodon/api/v1/accounts/verify_credentials", mastodon_api.verify_credentials,
           "mastodon", "mastodon:accounts", "reads"),
    _route("GET /mastodon/api/v1/accounts/:id/statuses", mastodon_api.account_statuses,
           "mastodon", "mastodon:accounts:statuses", "reads"),
    _route("POST /mastodon/api/v1/statuses", mastodon_api.create_status, "mastodon",
           "mastodon:statuses:create", "posts"),
    _route("GET /mastodon/api/v1/statuses", mastodon_api.get_statuses, "mastodon",
           "mastodon:statuses:read", "reads"),
    _route("GET /mastodon/api/v1/statuses/:id", mastodon_api.get_status, "mastodon",
           "mastodon:statuses:read", "reads"),
    _route("DELETE /mastodon/api/v1/statuses/:id", mastodon_api.delete_status, "mastodon",
           "mastodon:statuses:delete", "posts"),
    _route("POST /mastodon/api/v2/media", mastodon_api.upload_media, "mastodon",
           "mastodon:media", "media"),
    _route("GET /mastodon/api/v1/media/:id", mastodon_api.get_media, "mastodon",
           "mastodon:media:read", "reads"),
    *(_route(spec, handler, "bluesky", group, limit)
      for spec, handler, group, limit in bluesky_api.ROUTES),
)

#: Paths that are the networks', and so logged even when no route matches.
_X_PREFIXES = ("/2/", "/oauth/", "/i/oauth2/", f"{mastodon_api.PREFIX}/",
               f"{bluesky_api.PREFIX}/")
#: Kinds of route that need a token and count against rate-limit windows.
_API_KINDS = ("x", "mastodon", "bluesky")
#: The handlers that create a post: the faults may store it and then drop the answer.
_CREATES_POSTS = (x_api.create_tweet, mastodon_api.create_status, bluesky_api.create_record)


def match(method: str, path: str) -> tuple[Route, dict[str, str]] | None:
    for route in ROUTES:
        found = route.pattern.match(path)
        if found and route.method == method:
            return route, found.groupdict()
    return None


class Sandbox:
    """Answers one request at a time (from many threads): `None` means hang up unanswered."""

    def __init__(self, state: SandboxState) -> None:
        self.state = state

    def dispatch(self, method: str, target: str, headers: Message, body: bytes) -> Reply | None:
        started = time.perf_counter()
        url = urlsplit(target)
        call = Call(method, url.path, parse_qs(url.query, keep_blank_values=True), headers,
                    body, self.state.now())
        found = match(method, url.path)
        if found is None:
            reply: Reply | None = no_route(url.path)
            if url.path.startswith(_X_PREFIXES):
                self._log(call, reply, started, None)
            return reply
        route, call.params = found
        if route.kind == "control":
            return _run(route.handler, self.state, call)
        if route.kind == "x":
            call.token = self._identify(headers, call.now)
        elif route.kind == "mastodon":
            call.token = mastodon_api.identify(self.state, headers, call.now)
        elif route.kind == "bluesky":
            call.token = bluesky_api.identify(self.state, call)
        username = call.token.account.username if call.token else None
        decision = self.state.faults.decide(method, url.path, username,
                                            can_drop=route.handler in _CREATES_POSTS)
        self.state.pause(decision.latency_seconds)
        try:
            reply = self._answer(route, call, decision)
        except HangUp:
            reply = None
        if reply is not None and url.path.startswith(mastodon_api.PREFIX):
            reply = mastodon_api.in_mastodon_terms(reply)
        if reply is not None and route.kind == "bluesky":
            reply = bluesky_api.in_xrpc_terms(self.state, call, reply)
        self._log(call, reply, started, decision.fault)
        return reply

    def _answer(self, route: Route, call: Call, decision: Decision) -> Reply:
        if decision.fail_status is not None:
            return self._injected_failure(route, call, decision.fail_status)
        if decision.hang_seconds is not None:
            self.state.pause(decision.hang_seconds)
            raise HangUp
        if decision.error:
            return server_error(503)
        if route.kind not in _API_KINDS:
            return _run(route.handler, self.state, call)
        if call.token is None:
            return _with_headers(unauthorized(), self._window(route, call, spend=False))
        window = self._window(route, call, spend=True)
        if not window.allowed:
            return too_many_requests(window.headers())
        reply = _run(route.handler, self.state, call)
        if decision.drop_after_store and reply.status < 300:
            raise HangUp
        return _with_headers(reply, window)

    def _injected_failure(self, route: Route, call: Call, status: int) -> Reply:
        if status != 429:
            return server_error(status)
        window = self._window(route, call, spend=False) if route.kind in _API_KINDS else None
        headers = {} if window is None else replace(window, remaining=0).headers()
        return too_many_requests(headers)

    def _window(self, route: Route, call: Call, *, spend: bool) -> Window:
        limits = self.state.faults.faults.rate_limit
        limit = int(getattr(limits, f"{route.limit}_per_window"))
        who = call.token.account.id if call.token else "anonymous"
        take = self.state.limiter.take if spend else self.state.limiter.peek
        return take(who, route.group, limit, limits.window_seconds, call.now)

    def _identify(self, headers: Message, now: float) -> Token | None:
        """The live access token the request carries, if any (signatures are not checked)."""
        authorization = headers.get("Authorization")
        bearer = bearer_token(authorization)
        if bearer is not None:
            return self.state.store.token(bearer, ("oauth2_access",), now)
        token = oauth_params(authorization).get("oauth_token")
        return None if token is None else self.state.store.token(token, ("oauth1",), now)

    def _log(self, call: Call, reply: Reply | None, started: float, fault: str | None) -> None:
        self.state.store.log_request(
            time=call.now, method=call.method, path=call.path,
            status=None if reply is None else reply.status,
            user=call.token.account.username if call.token else None,
            latency_ms=round((time.perf_counter() - started) * 1000, 3), fault=fault,
        )


def _run(handler: Handler, state: SandboxState, call: Call) -> Reply:
    try:
        return handler(state, call)
    except ApiError as error:
        return error.reply
    except HangUp:
        raise
    except Exception:
        log.exception("sandbox handler %s failed", handler.__name__)
        return problem(500, "Internal Server Error")


def _with_headers(reply: Reply, window: Window) -> Reply:
    return replace(reply, headers={**reply.headers, **window.headers()})


# ---- HTTP ------------------------------------------------------------------------------------


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], sandbox: Sandbox) -> None:
        self.sandbox = sandbox
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()
        super().__init__(address, _RequestHandler)

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._connections_lock:
            self._connections.add(request)
        super().process_request(request, client_address)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that went away mid-answer (a killed worker) is normal here, not news."""
        if isinstance(sys.exc_info()[1], ConnectionError):
            return
        super().handle_error(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self._connections_lock:
            self._connections.discard(request)
        super().shutdown_request(request)

    def close_connections(self) -> None:
        with self._connections_lock:
            open_now = list(self._connections)
        for connection in open_now:
            with contextlib.suppress(OSError):  # already closed by the client
                connection.shutdown(socket.SHUT_RDWR)


class _RequestHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    #: Headers and body go out in two writes; without this, Nagle holds the second ~40 ms.
    disable_nagle_algorithm = True
    server: _HTTPServer
    #: Idle keep-alive connections are closed after this many seconds.
    timeout = 30

    def do_GET(self) -> None:
        self._serve()

    def do_POST(self) -> None:
        self._serve()

    def do_DELETE(self) -> None:
        self._serve()

    def do_PUT(self) -> None:
        self._serve()

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length > 0 else b""
        try:
            reply = self.server.sandbox.dispatch(self.command, self.path, self.headers, body)
        except Exception:
            if self.server.sandbox.state.stopping.is_set():
                reply = None
            else:
                log.exception("sandbox request failed")
                reply = problem(500, "Internal Server Error")
        if reply is None:
            self.close_connection = True
            return
        self.send_response(reply.status)
        self.send_header("Content-Type", reply.content_type)
        self.send_header("Content-Length", str(len(reply.body)))
        self.send_header("X-Chorus-Sandbox", "1")
        for name, value in reply.headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(reply.body)

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the request log is in the state file, and access lines could hold tokens."""


@dataclass
class RunningSandbox:
    """A sandbox serving in a background thread."""

    host: str
    port: int
    _server: _HTTPServer = field(repr=False)
    _thread: threading.Thread = field(repr=False)

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    @property
    def state(self) -> SandboxState:
        return self._server.sandbox.state

    @property
    def serving(self) -> bool:
        return self._thread.is_alive()

    def wait(self, timeout: float | None = None) -> None:
        """Block until the server stops (for the command line)."""
        self._thread.join(timeout)

    def stop(self) -> None:
        """Stop serving, cut injected hangs short, close connections and the state file."""
        state = self._server.sandbox.state
        state.stopping.set()
        self._server.shutdown()
        self._server.server_close()
        self._server.close_connections()
        self._thread.join()
        state.store.close()

    def __enter__(self) -> RunningSandbox:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def start(state_path: Path, port: int = 0, faults: str | dict[str, Any] | None = None,
          host: str = "127.0.0.1", real_time: Callable[[], float] | None = None,
          ) -> RunningSandbox:
    """Serve a sandbox keeping its state in `state_path`, on `port` (0: any free port).

    `faults` is a profile name or a faults object as `POST /_sandbox/faults` takes; `None`
    keeps the faults saved in the state file (none, for a new one). `real_time` replaces the
    system clock under the sandbox clock (the demo's replay shares its simulated time).
    """
    store = Store(Path(state_path))
    state = (SandboxState(store, faults) if real_time is None
             else SandboxState(store, faults, real_time=real_time))
    server = _HTTPServer((host, port), Sandbox(state))
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1},
                              name=f"chorus-sandbox-{server.server_address[1]}", daemon=True)
    thread.start()
    return RunningSandbox(host, int(server.server_address[1]), server, thread)
