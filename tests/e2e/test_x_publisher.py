"""XPublisher through tweepy's real HTTP path against the sandbox: every outcome of a send."""

from __future__ import annotations

import logging
import socket
import threading
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import requests

from campaigns.config.secrets import Credentials
from campaigns.core.clock import utcnow
from scheduler.publishers.base import Image, Outcome, SendRequest, SendResult
from scheduler.publishers.x import XPublisher
from scheduler.publishers.x_outcomes import RETRY_WITHOUT_RESET
from tests.e2e import PNG, Sandbox, closed_port, request, send

LONG_AGO = datetime(2020, 1, 1, tzinfo=UTC)


@pytest.fixture
def image(tmp_path: Path) -> Image:
    path = tmp_path / "poster.png"
    path.write_bytes(PNG)
    return Image(path, "A purple ribbon with the words: report it, stop it.")


def test_a_post_is_published_and_stored_in_the_sandbox(sandbox: Sandbox) -> None:
    alice = sandbox.account()
    result = send(sandbox.publisher(), alice.oauth1, "Hate crime hurts us all. Report it.")
    assert result.outcome is Outcome.POSTED
    assert result.remote_id
    stored = sandbox.control.posts(author="alice")
    assert [(p["id"], p["text"], p["kind"]) for p in stored] == [
        (result.remote_id, "Hate crime hurts us all. Report it.", "post")]
    assert result.rate is not None and result.rate.limit == 100 and result.rate.remaining == 99
    assert result.rate.reset is not None and result.rate.reset > utcnow()


def test_an_image_is_uploaded_and_the_post_carries_its_alt_text(
    sandbox: Sandbox, image: Image
) -> None:
    alice = sandbox.account()
    result = send(sandbox.publisher(), alice.oauth1, "Our poster for the week", images=(image,))
    assert result.outcome is Outcome.POSTED
    (post,) = sandbox.control.posts(author="alice")
    assert post["id"] == result.remote_id
    assert [m["alt_text"] for m in post["media"]] == [image.alt]
    assert post["media"][0]["size"] == len(PNG)


def test_oauth2_credentials_post_as_the_account(sandbox: Sandbox, image: Image) -> None:
    alice = sandbox.account()
    result = send(sandbox.publisher(), alice.oauth2, "Posted with OAuth 2.0", images=(image,))
    assert result.outcome is Outcome.POSTED
    (post,) = sandbox.control.posts(author="alice")
    assert post["id"] == result.remote_id and post["media"][0]["alt_text"] == image.alt


def test_a_rate_limited_post_retries_at_the_reset_the_headers_give(sandbox: Sandbox) -> None:
    alice = sandbox.account()
    sandbox.control.set_faults(rate_limit={"posts_per_window": 1, "window_seconds": 900})
    publisher = sandbox.publisher()
    assert send(publisher, alice.oauth1, "first").outcome is Outcome.POSTED

    result = send(publisher, alice.oauth1, "second")

    assert result.outcome is Outcome.RETRY_LATER
    raw = requests.post(f"{sandbox.url}/2/tweets", json={"text": "third"}, timeout=5,
                        headers={"Authorization": f"Bearer {alice.oauth2['access_token']}"})
    assert raw.status_code == 429
    reset = datetime.fromtimestamp(int(raw.headers["x-rate-limit-reset"]), UTC)
    assert result.retry_at == reset
    assert result.rate is not None and result.rate.remaining == 0 and result.rate.reset == reset
    assert [p["text"] for p in sandbox.control.posts()] == ["first"]


def test_a_revoked_token_needs_the_account_reconnected(sandbox: Sandbox) -> None:
    alice = sandbox.account()
    sandbox.control.revoke("alice")
    for credentials in (alice.oauth1, alice.oauth2):
        result = send(sandbox.publisher(), credentials, "after revocation")
        assert result.outcome is Outcome.REAUTH
        assert "401" in result.reason and "reconnect" in result.reason
    assert sandbox.control.posts() == []


def test_duplicate_text_fails_with_xs_reason(sandbox: Sandbox) -> None:
    alice = sandbox.account()
    publisher = sandbox.publisher()
    assert send(publisher, alice.oauth1, "Same words twice").outcome is Outcome.POSTED
    result = send(publisher, alice.oauth1, "Same words twice")
    assert result.outcome is Outcome.FAILED
    assert result.duplicate
    assert result.reason == "You are not allowed to create a Tweet with duplicate content."


def test_text_over_the_limit_fails_with_xs_message(sandbox: Sandbox) -> None:
    alice = sandbox.account()
    result = send(sandbox.publisher(), alice.oauth1, "x" * 281)
    assert result.outcome is Outcome.FAILED and not result.duplicate
    assert "400" in result.reason and "One or more parameters" not in result.reason


def test_a_dropped_answer_is_unknown_and_the_timeline_finds_the_post(sandbox: Sandbox) -> None:
    alice = sandbox.account()
    publisher = sandbox.publisher()
    since = utcnow() - timedelta(minutes=5)
    sandbox.control.set_faults(drop_after_store_rate=1.0)

    result = send(publisher, alice.oauth1, "Did this go out?")

    assert result.outcome is Outcome.UNKNOWN
    assert result.remote_id is None
    (stored,) = sandbox.control.posts(author="alice")
    sandbox.control.clear_faults()
    timeline = publisher.recent_posts(credentials=alice.oauth1, remote_user_id=alice.id,
                                      since=since)
    assert timeline.ok
    assert [(p.remote_id, p.text) for p in timeline.posts] == [(stored["id"], "Did this go out?")]


def test_a_request_that_times_out_is_unknown(sandbox: Sandbox) -> None:
    alice = sandbox.account()
    sandbox.control.set_faults(timeout_rate=1.0, hang_seconds=3, routes=["/2/tweets"])
    result = send(sandbox.publisher(timeout=0.5), alice.oauth1, "slow network")
    assert result.outcome is Outcome.UNKNOWN
    assert "ReadTimeout" in result.reason


def test_a_server_error_on_posting_is_unknown(sandbox: Sandbox) -> None:
    alice = sandbox.account()
    sandbox.control.set_faults(fail_next=[{"status": 503, "count": 1}])
    result = send(sandbox.publisher(), alice.oauth1, "during an outage")
    assert result.outcome is Outcome.UNKNOWN
    assert "503" in result.reason


def test_a_failed_upload_is_retried_later_and_nothing_is_posted(
    sandbox: Sandbox, image: Image
) -> None:
    alice = sandbox.account()
    sandbox.control.set_faults(fail_next=[{"status": 503, "count": 1}])
    before = utcnow()
    result = send(sandbox.publisher(), alice.oauth1, "with a poster", images=(image,))
    assert result.outcome is Outcome.RETRY_LATER
    assert result.retry_at is not None and result.retry_at > before
    assert "nothing was posted" in result.reason
    assert [r["path"] for r in sandbox.control.requests()] == ["/2/media/upload"]
    assert sandbox.control.posts() == []


def test_a_missing_image_fails_before_anything_is_sent(sandbox: Sandbox, tmp_path: Path) -> None:
    alice = sandbox.account()
    missing = Image(tmp_path / "nowhere.png", "alt")
    result = send(sandbox.publisher(), alice.oauth1, "with a lost poster", images=(missing,))
    assert result.outcome is Outcome.FAILED and "nowhere.png" in result.reason
    assert sandbox.control.requests() == []


def test_connection_refused_is_retried_later() -> None:
    publisher = XPublisher(f"http://127.0.0.1:{closed_port()}", 2.0, "key", "secret")
    before = utcnow()
    result = publisher.send(request(_oauth1(), "nobody is listening"))
    assert result.outcome is Outcome.RETRY_LATER
    assert result.retry_at is not None and result.retry_at > before
    assert "nothing was sent" in result.reason


def test_a_name_that_does_not_resolve_is_retried_later(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_dns(*args: Any, **kwargs: Any) -> Any:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(socket, "getaddrinfo", no_dns)
    publisher = XPublisher("http://sandbox.invalid:8787", 2.0, "key", "secret")
    result = publisher.send(request(_oauth1(), "no such host"))
    assert result.outcome is Outcome.RETRY_LATER and "nothing was sent" in result.reason


def test_a_429_without_a_reset_header_waits_a_minute() -> None:
    with _answering(429, b'{"title": "Too Many Requests"}') as url:
        clock_now = datetime(2026, 10, 12, 9, 0, tzinfo=UTC)
        publisher = XPublisher(url, 2.0, "key", "secret", clock=lambda: clock_now)
        result = publisher.send(request(_oauth1(), "no headers"))
    assert result.outcome is Outcome.RETRY_LATER
    assert result.retry_at == clock_now + RETRY_WITHOUT_RESET
    assert result.rate is None


def test_a_quote_post_names_the_quoted_post(sandbox: Sandbox) -> None:
    alice, bob = sandbox.account("alice"), sandbox.account("bob")
    original = send(sandbox.publisher(), alice.oauth1, "Report hate crime: 101")
    quoted = sandbox.publisher().send(SendRequest(
        delivery_id=2, account_key="partner-x", remote_user_id=bob.id,
        credentials=bob.oauth1, text="We back this.", quote_of=original.remote_id))
    assert quoted.outcome is Outcome.POSTED
    (post,) = sandbox.control.posts(author="bob")
    assert post["kind"] == "quote" and post["quote_of"] == original.remote_id


def test_the_timeline_is_read_page_by_page_back_to_since(sandbox: Sandbox) -> None:
    alice = sandbox.account()
    sandbox.control.set_faults(rate_limit={"posts_per_window": 1000, "window_seconds": 900})
    with requests.Session() as session:
        session.headers["Authorization"] = f"Bearer {alice.oauth2['access_token']}"
        for n in range(101):
            answer = session.post(f"{sandbox.url}/2/tweets", json={"text": f"post {n}"},
                                  timeout=5)
            assert answer.status_code == 201
    timeline = sandbox.publisher().recent_posts(credentials=alice.oauth1, remote_user_id=None,
                                                since=LONG_AGO)
    assert timeline.ok
    assert len(timeline.posts) == 101 and timeline.posts[0].text == "post 100"
    assert timeline.extra == {"user_id": alice.id}
    assert [r["path"] for r in sandbox.control.requests() if r["method"] == "GET"] == [
        "/2/users/me", f"/2/users/{alice.id}/tweets", f"/2/users/{alice.id}/tweets"]


def test_an_unreadable_timeline_says_why(sandbox: Sandbox) -> None:
    alice = sandbox.account()
    sandbox.control.revoke("alice")
    timeline = sandbox.publisher().recent_posts(credentials=alice.oauth2,
                                                remote_user_id=alice.id, since=LONG_AGO)
    assert not timeline.ok and "401" in timeline.reason


def test_every_request_goes_to_the_sandbox_and_none_to_x(
    sandbox: Sandbox, image: Image, monkeypatch: pytest.MonkeyPatch
) -> None:
    alice = sandbox.account()
    looked_up: list[str] = []
    real_getaddrinfo = socket.getaddrinfo

    def recording(host: Any, *args: Any, **kwargs: Any) -> Any:
        looked_up.append(str(host))
        return real_getaddrinfo(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", recording)
    publisher = sandbox.publisher()
    send(publisher, alice.oauth1, "counted", images=(image,))
    publisher.recent_posts(credentials=alice.oauth2, remote_user_id=None, since=LONG_AGO)

    assert set(looked_up) == {"127.0.0.1"}
    assert [(r["method"], r["path"]) for r in sandbox.control.requests()] == [
        ("POST", "/2/media/upload"), ("POST", "/2/media/metadata"), ("POST", "/2/tweets"),
        ("GET", "/2/users/me"), ("GET", f"/2/users/{alice.id}/tweets")]


def test_no_token_appears_in_reasons_or_logs(
    sandbox: Sandbox, image: Image, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    alice = sandbox.account()
    publisher = sandbox.publisher()
    results: list[SendResult] = [
        send(publisher, alice.oauth1, "one", images=(image,)),
        send(publisher, alice.oauth2, "two", images=(image,)),
        send(publisher, alice.oauth2, "two"),
    ]
    sandbox.control.set_faults(drop_after_store_rate=1.0)
    results.append(send(publisher, alice.oauth2, "three"))
    sandbox.control.set_faults(fail_next=[{"status": 429, "count": 1}])
    results.append(send(publisher, alice.oauth2, "four"))
    sandbox.control.clear_faults()
    timeline = publisher.recent_posts(credentials=alice.oauth2, remote_user_id=None,
                                      since=LONG_AGO)
    sandbox.control.revoke("alice")
    results.append(send(publisher, alice.oauth2, "five"))
    results.append(send(publisher, alice.oauth1, "six"))

    assert [r.outcome for r in results] == [
        Outcome.POSTED, Outcome.POSTED, Outcome.FAILED, Outcome.UNKNOWN, Outcome.RETRY_LATER,
        Outcome.REAUTH, Outcome.REAUTH]
    assert timeline.ok and len(timeline.posts) == 3
    assert "x api: POST /2/tweets" in caplog.text  # debug logging was on
    shown = caplog.text + "\n".join(r.reason for r in results) + repr(results)
    for secret in alice.secrets:
        assert secret not in shown


def _oauth1() -> Credentials:
    return Credentials("oauth1", {"access_token": "t" * 20, "access_token_secret": "s" * 20})


class _Fixed(BaseHTTPRequestHandler):
    status = 200
    body = b""

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.send_response(self.status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(self.body)))
        self.end_headers()
        self.wfile.write(self.body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


class _answering:
    """A local server answering every POST with one fixed status and body (no rate headers)."""

    def __init__(self, status: int, body: bytes) -> None:
        handler = type("Handler", (_Fixed,), {"status": status, "body": body})
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), handler)

    def __enter__(self) -> str:
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
