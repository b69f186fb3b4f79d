"""The HTTP edge under tweepy: where X's requests go, with what timeout, and what they log.

tweepy fixes its host to api.twitter.com and sets no timeout, so every session it (or
requests-oauthlib) makes gets `XTransport` mounted for that host: it sends to `api_url`
instead, with a timeout, and never retries. Plain requests only; tweepy stays in x.py.
"""

from __future__ import annotations

import functools
import logging
from typing import Any
from urllib.parse import urlsplit

import requests
from requests.adapters import HTTPAdapter
from requests.auth import AuthBase
from requests.utils import get_environ_proxies

log = logging.getLogger(__name__)

#: Where tweepy sends everything; `XTransport` redirects it.
X_HOST = "https://api.twitter.com"


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


def mounted(session: requests.Session, api_url: str, timeout: float) -> requests.Session:
    session.mount(X_HOST + "/", XTransport(api_url, timeout))
    return session


class _NoDebug(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return record.levelno > logging.DEBUG


@functools.cache
def quiet_library_debug() -> None:
    """Drop tweepy's and requests-oauthlib's debug lines: they print tokens.

    tweepy logs every request's headers (a Bearer token); requests-oauthlib and oauthlib log
    token responses and signed headers. Filters on a logger do not reach its children, so each
    of their loggers gets one; `XTransport` logs method and path instead.
    """
    quiet = _NoDebug()
    for name in list(logging.root.manager.loggerDict):
        if name.split(".")[0] in ("tweepy", "requests_oauthlib", "oauthlib"):
            logging.getLogger(name).addFilter(quiet)


class Bearer(AuthBase):
    """An OAuth 2.0 token on the requests made by hand (media upload), not through tweepy."""

    def __init__(self, token: str) -> None:
        self._token = token

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        request.headers["Authorization"] = f"Bearer {self._token}"
        return request
