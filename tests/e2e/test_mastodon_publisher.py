"""MastodonPublisher through Mastodon.py's real HTTP path against the sandbox: every outcome of
a send, reconciling reads, and engagement reads."""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import urlsplit

import pytest
import requests

from campaigns.config.secrets import Credentials
from campaigns.core.clock import utcnow
from scheduler.publishers.base import (
    GonePost,
    Image,
    Outcome,
    ReadOutcome,
    SendRequest,
    SendResult,
)
from scheduler.publishers.mastodon import MastodonPublisher, idempotency_key
from scheduler.sandbox import engagement
from scheduler.sandbox.client import SandboxClient
from scheduler.sandbox.server import start
from tests.e2e import PNG, Sandbox, SandboxAccount, closed_port, mastodon_credentials

LONG_AGO = datetime(2020, 1, 1, tzinfo=UTC)
GIF = b"GIF89a\x01\x00\x01\x00\x00\x00\x00;"


@pytest.fixture
def alice(sandbox: Sandbox) -> SandboxAccount:
    return sandbox.account("alice", followers=20_000)


@pytest.fixture
def credentials(sandbox: Sandbox, alice: SandboxAccount) -> Credentials:
    return mastodon_credentials(sandbox, alice)


@pytest.fixture
def image(tmp_path: Path) -> Image:
    path = tmp_path / "poster.png"
    path.write_bytes(PNG)
    return Image(path, "A purple ribbon with the words: report it, stop it.")


def publisher(timeout: float = 5.0, **options: Any) -> MastodonPublisher:
    return MastodonPublisher(timeout, **options)


def send(publisher: MastodonPublisher, credentials: Credentials, text: str, *,
         delivery_id: int = 1, images: tuple[Image, ...] = ()) -> SendResult:
    return publisher.send(SendRequest(delivery_id=delivery_id, account_key="lead-mastodon",
                                      remote_user_id=None, credentials=credentials, text=text,
                                      images=images))


def statuses(sandbox: Sandbox) -> list[dict[str, Any]]:
    return [p for p in sandbox.control.posts() if p["network"] == "mastodon"]


def paths(sandbox: Sandbox) -> list[tuple[str, str]]:
    return [(r["method"], r["path"]) for r in sandbox.control.requests()]


# ---- sending ---------------------------------------------------------------------------------


def test_a_status_is_published_with_the_visibility_and_language_asked_for(
        sandbox: Sandbox, credentials: Credentials) -> None:
    result = send(publisher(visibility="unlisted", language="cy"), credentials,
                  "Hate crime hurts us all. Report it.")
    assert result.outcome is Outcome.POSTED and result.remote_id
    [stored] = statuses(sandbox)
    assert (stored["id"], stored["text"], stored["visibility"], stored["language"]) == (
        result.remote_id, "Hate crime hurts us all. Report it.", "unlisted", "cy")
    assert result.rate is not None and result.rate.limit == 100 and result.rate.remaining == 99
    assert result.rate.reset is not None and result.rate.reset > utcnow()
    assert paths(sandbox) == [("GET", "/mastodon/api/v2/instance/"),
                              ("POST", "/mastodon/api/v1/statuses")]


def test_an_image_is_uploaded_with_its_alt_text(
        sandbox: Sandbox, credentials: Credentials, image: Image) -> None:
    result = send(publisher(), credentials, "Our poster for the week", images=(image,))
    assert result.outcome is Outcome.POSTED
    [stored] = statuses(sandbox)
    assert stored["media"] == [{"id": stored["media"][0]["id"], "mime": "image/png",
                                "size": len(PNG), "alt_text": image.alt}]


def test_a_gif_is_waited_for_while_the_instance_processes_it(
        sandbox: Sandbox, credentials: Credentials, tmp_path: Path) -> None:
    gif = tmp_path / "ribbon.gif"
    gif.write_bytes(GIF)
    sandbox.control.set_clock(speed=50)  # the instance's two seconds pass in 40 ms
    result = send(publisher(media_poll_seconds=0.02), credentials, "Moving poster",
                  images=(Image(gif, "A ribbon turning"),))
    assert result.outcome is Outcome.POSTED
    [stored] = statuses(sandbox)
    assert stored["media"][0]["alt_text"] == "A ribbon turning"
    assert ("GET", f"/mastodon/api/v1/media/{stored['media'][0]['id']}") in paths(sandbox)


def test_text_over_the_instances_limit_fails_before_anything_is_posted(
        sandbox: Sandbox, credentials: Credentials) -> None:
    link = "https://www.report-it.org.uk/" + "x" * 100
    fits = send(publisher(), credentials, "a" * 476 + " " + link)  # 476 + 1 + 23 = 500
    assert fits.outcome is Outcome.POSTED
    result = send(publisher(), credentials, "a" * 478 + " " + link, delivery_id=2)
    assert result.outcome is Outcome.FAILED
    assert "502 characters" in result.reason and "allows 500" in result.reason
    assert len(statuses(sandbox)) == 1


def test_a_rate_limited_status_retries_at_the_reset_the_headers_give(
        sandbox: Sandbox, credentials: Credentials, alice: SandboxAccount) -> None:
    sandbox.control.set_faults(rate_limit={"posts_per_window": 1, "window_seconds": 900})
    sender = publisher()
    assert send(sender, credentials, "first").outcome is Outcome.POSTED

    result = send(sender, credentials, "second", delivery_id=2)

    assert result.outcome is Outcome.RETRY_LATER
    raw = requests.post(f"{credentials['instance']}/api/v1/statuses", data={"status": "third"},
                        headers={"Authorization": f"Bearer {credentials['access_token']}"},
                        timeout=5)
    assert raw.status_code == 429
    reset = datetime.fromisoformat(raw.headers["X-RateLimit-Reset"])
    assert result.retry_at == reset and "429" in result.reason
    assert result.rate is not None and result.rate.remaining == 0
    assert [s["text"] for s in statuses(sandbox)] == ["first"]


def test_a_revoked_token_needs_the_account_reconnected(
        sandbox: Sandbox, credentials: Credentials) -> None:
    sandbox.control.revoke("alice")
    result = send(publisher(), credentials, "after revocation")
    assert result.outcome is Outcome.REAUTH
    assert "401" in result.reason and "reconnect" in result.reason
    assert statuses(sandbox) == []


def test_credentials_without_an_instance_need_the_account_reconnected() -> None:
    result = send(publisher(), Credentials("oauth2", {"access_token": "t" * 20}), "where to?")
    assert result.outcome is Outcome.REAUTH and "reconnect" in result.reason


def test_a_validation_error_fails_with_the_instances_message(
        sandbox: Sandbox, credentials: Credentials, tmp_path: Path) -> None:
    document = tmp_path / "leaflet.pdf"
    document.write_bytes(b"%PDF-1.4")
    result = send(publisher(), credentials, "Our leaflet", images=(Image(document, "alt"),))
    assert result.outcome is Outcome.FAILED
    assert result.reason == ("the instance refused /api/v2/media (422): Validation failed: "
                             "File content type is invalid, File is invalid")
    assert statuses(sandbox) == []


def test_a_dropped_answer_is_unknown_and_a_retry_returns_the_same_status(
        sandbox: Sandbox, credentials: Credentials) -> None:
    sender = publisher()
    sandbox.control.set_faults(drop_after_store_rate=1.0,
                               routes=["POST /mastodon/api/v1/statuses"])
    dropped = send(sender, credentials, "Did this go out?", delivery_id=42)
    assert dropped.outcome is Outcome.UNKNOWN and dropped.remote_id is None
    [stored] = statuses(sandbox)

    sandbox.control.clear_faults()
    retried = send(sender, credentials, "Did this go out?", delivery_id=42)

    assert retried.outcome is Outcome.POSTED and retried.remote_id == stored["id"]
    assert len(statuses(sandbox)) == 1
    assert idempotency_key(42) == "chorus-delivery-42"


def test_a_request_that_times_out_is_unknown(
        sandbox: Sandbox, credentials: Credentials) -> None:
    sandbox.control.set_faults(timeout_rate=1.0, hang_seconds=3,
                               routes=["POST /mastodon/api/v1/statuses"])
    result = send(publisher(timeout=0.5), credentials, "slow network")
    assert result.outcome is Outcome.UNKNOWN and "ReadTimeout" in result.reason


def test_a_server_error_on_posting_is_unknown(
        sandbox: Sandbox, credentials: Credentials) -> None:
    sandbox.control.set_faults(fail_next=[{"status": 503, "count": 1,
                                           "route": "POST /mastodon/api/v1/statuses"}])
    result = send(publisher(), credentials, "during an outage")
    assert result.outcome is Outcome.UNKNOWN and "503" in result.reason


def test_a_failed_upload_is_retried_later_and_nothing_is_posted(
        sandbox: Sandbox, credentials: Credentials, image: Image) -> None:
    sandbox.control.set_faults(fail_next=[{"status": 503, "count": 1,
                                           "route": "/mastodon/api/v2/media"}])
    before = utcnow()
    result = send(publisher(), credentials, "with a poster", images=(image,))
    assert result.outcome is Outcome.RETRY_LATER
    assert result.retry_at is not None and result.retry_at > before
    assert "nothing was posted" in result.reason
    assert ("POST", "/mastodon/api/v1/statuses") not in paths(sandbox)
    assert statuses(sandbox) == []


def test_an_unreadable_instance_is_retried_later(
        sandbox: Sandbox, credentials: Credentials) -> None:
    sandbox.control.set_faults(fail_next=[{"status": 502, "count": 1}])
    result = send(publisher(), credentials, "first of the day")
    assert result.outcome is Outcome.RETRY_LATER and "nothing was sent" in result.reason
    assert paths(sandbox) == [("GET", "/mastodon/api/v2/instance/")]


def test_a_missing_image_fails_before_anything_is_sent(
        sandbox: Sandbox, credentials: Credentials, tmp_path: Path) -> None:
    missing = Image(tmp_path / "nowhere.png", "alt")
    result = send(publisher(), credentials, "with a lost poster", images=(missing,))
    assert result.outcome is Outcome.FAILED and "nowhere.png" in result.reason
    assert sandbox.control.requests() == []


def test_connection_refused_is_retried_later(tmp_path: Path) -> None:
    """The first send learns the instance; the second finds nobody listening any more."""
    running = start(tmp_path / "sandbox.db", port=0)
    sandbox = Sandbox(running.url, SandboxClient(running.url))
    credentials = mastodon_credentials(sandbox, sandbox.account("alice"))
    sender = publisher(timeout=2.0)
    assert send(sender, credentials, "before the outage").outcome is Outcome.POSTED
    running.stop()
    result = send(sender, credentials, "nobody is listening", delivery_id=2)
    assert result.outcome is Outcome.RETRY_LATER and "nothing was sent" in result.reason
    unknown_port = Credentials("oauth2", {"access_token": "t" * 20,
                                          "instance": f"http://127.0.0.1:{closed_port()}"})
    assert send(sender, unknown_port, "x").outcome is Outcome.RETRY_LATER


# ---- reading back ------------------------------------------------------------------------------


def test_recent_statuses_are_read_as_plain_text_page_by_page(
        sandbox: Sandbox, credentials: Credentials, alice: SandboxAccount) -> None:
    sandbox.control.set_faults(rate_limit={"posts_per_window": 1000, "window_seconds": 900})
    with requests.Session() as session:
        session.headers["Authorization"] = f"Bearer {credentials['access_token']}"
        for n in range(44):
            answer = session.post(f"{credentials['instance']}/api/v1/statuses",
                                  data={"status": f"status {n}"}, timeout=5)
            assert answer.status_code == 200
    text = "Report it:\nhttps://www.report-it.org.uk #NoPlaceForHate\n\nThank you."
    sent = send(publisher(), credentials, text)
    mark = len(sandbox.control.requests())

    timeline = publisher().recent_posts(credentials=credentials, remote_user_id=None,
                                        since=LONG_AGO)

    assert timeline.ok and len(timeline.posts) == 45
    assert (timeline.posts[0].remote_id, timeline.posts[0].text) == (sent.remote_id, text)
    assert timeline.posts[-1].text == "status 0"
    assert timeline.extra == {"user_id": alice.id}
    assert paths(sandbox)[mark:] == [
        ("GET", "/mastodon/api/v2/instance/"),
        ("GET", "/mastodon/api/v1/accounts/verify_credentials"),
        ("GET", f"/mastodon/api/v1/accounts/{alice.id}/statuses"),
        ("GET", f"/mastodon/api/v1/accounts/{alice.id}/statuses")]


def test_only_statuses_since_the_time_given_are_read(
        sandbox: Sandbox, credentials: Credentials, alice: SandboxAccount) -> None:
    sandbox.control.set_clock(offset_seconds=-3600)
    send(publisher(), credentials, "an hour ago", delivery_id=1)
    sandbox.control.set_clock(offset_seconds=0)
    recent = send(publisher(), credentials, "just now", delivery_id=2)
    timeline = publisher().recent_posts(credentials=credentials, remote_user_id=alice.id,
                                        since=utcnow() - timedelta(minutes=5))
    assert timeline.ok and [p.remote_id for p in timeline.posts] == [recent.remote_id]


def test_an_unreadable_timeline_says_why(sandbox: Sandbox, credentials: Credentials,
                                         alice: SandboxAccount) -> None:
    sandbox.control.revoke("alice")
    timeline = publisher().recent_posts(credentials=credentials, remote_user_id=alice.id,
                                        since=LONG_AGO)
    assert not timeline.ok and "401" in timeline.reason


def test_metrics_are_read_in_one_batch_and_a_deleted_status_is_gone(
        sandbox: Sandbox, credentials: Credentials) -> None:
    sender = publisher()
    kept = send(sender, credentials, "kept", delivery_id=1).remote_id
    deleted = send(sender, credentials, "deleted", delivery_id=2).remote_id
    assert kept and deleted
    answer = requests.delete(f"{credentials['instance']}/api/v1/statuses/{deleted}",
                             headers={"Authorization": f"Bearer {credentials['access_token']}"},
                             timeout=5)
    assert answer.status_code == 200
    sandbox.control.set_clock(offset_seconds=48 * 3600)
    mark = len(sandbox.control.requests())

    result = sender.read_metrics(credentials, [kept, deleted, "not-an-id!"], non_public=True)

    assert result.outcome is ReadOutcome.OK
    expected = engagement.public_metrics(kept, 20_000, 48 * 3600)
    metrics = result.metrics[kept]
    assert (metrics.likes, metrics.reposts, metrics.replies) == (
        expected["like_count"], expected["retweet_count"], expected["reply_count"])
    assert metrics.likes > 0 and metrics.impressions == 0 and metrics.link_clicks is None
    assert result.gone == {
        deleted: GonePost(deleted, "deleted", "the instance no longer has this status"),
        "not-an-id!": GonePost("not-an-id!", "unavailable", "not a Mastodon status id")}
    assert paths(sandbox)[mark:] == [("GET", "/mastodon/api/v1/statuses")]
    assert result.rate is not None and result.rate.limit == 900
    with pytest.raises(ValueError, match="at most 20"):
        sender.read_metrics(credentials, [str(n) for n in range(21)], non_public=False)


def test_a_read_that_is_rate_limited_or_refused_says_so(
        sandbox: Sandbox, credentials: Credentials) -> None:
    sender = publisher()
    kept = str(send(sender, credentials, "kept").remote_id)
    sandbox.control.set_faults(fail_next=[{"status": 429, "count": 1,
                                           "route": "GET /mastodon/api/v1/statuses"}])
    limited = sender.read_metrics(credentials, [kept], non_public=False)
    assert limited.outcome is ReadOutcome.RATE_LIMITED
    assert limited.retry_at is not None and limited.retry_at > utcnow()
    sandbox.control.set_faults(fail_next=[{"status": 503, "count": 1,
                                           "route": "GET /mastodon/api/v1/statuses"}])
    assert sender.read_metrics(credentials, [kept], non_public=False).outcome is \
        ReadOutcome.UNREACHABLE
    sandbox.control.revoke("alice")
    refused = sender.read_metrics(credentials, [kept], non_public=False)
    assert refused.outcome is ReadOutcome.REAUTH and "reconnect" in refused.reason


def test_no_token_appears_in_reasons_or_logs(
        sandbox: Sandbox, credentials: Credentials, image: Image,
        caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    sender = publisher()
    results = [send(sender, credentials, "one", images=(image,))]
    sandbox.control.set_faults(drop_after_store_rate=1.0)
    results.append(send(sender, credentials, "two", delivery_id=2))
    sandbox.control.set_faults(fail_next=[{"status": 429, "count": 1}])
    results.append(send(sender, credentials, "three", delivery_id=3))
    sandbox.control.clear_faults()
    timeline = sender.recent_posts(credentials=credentials, remote_user_id=None, since=LONG_AGO)
    sandbox.control.revoke("alice")
    results.append(send(sender, credentials, "four", delivery_id=4))

    assert [r.outcome for r in results] == [Outcome.POSTED, Outcome.UNKNOWN,
                                            Outcome.RETRY_LATER, Outcome.REAUTH]
    assert timeline.ok and len(timeline.posts) == 2
    shown = caplog.text + "\n".join(r.reason for r in results) + repr(results)
    assert credentials["access_token"] not in shown


# ---- an instance the sandbox is not: its own limit, and no batch reads (before 4.3) -----------


class _OlderInstance(BaseHTTPRequestHandler):
    """A Mastodon 4.2 instance with a 100-character limit, holding status 1 only."""

    posted: ClassVar[list[str]] = []

    def do_GET(self) -> None:
        path = urlsplit(self.path).path
        if path in ("/api/v2/instance/", "/api/v1/instance/"):
            self._answer(200, {"version": "4.2.13", "configuration": {
                "statuses": {"max_characters": 100, "characters_reserved_per_url": 23}}})
        elif path == "/api/v1/statuses/1":
            self._answer(200, {"id": "1", "favourites_count": 7, "reblogs_count": 2,
                               "replies_count": 1, "content": "<p>one</p>",
                               "created_at": "2026-09-01T12:00:00.000Z"})
        elif path.startswith("/api/v1/statuses/"):
            self._answer(404, {"error": "Record not found"})
        else:
            self._answer(404, {"error": "Not found"})

    def do_POST(self) -> None:
        self.posted.append(self.path)
        self._answer(500, {"error": "not expected"})

    def _answer(self, status: int, body: dict[str, Any]) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def older_instance() -> Iterator[tuple[Credentials, type[_OlderInstance]]]:
    handler = type("Handler", (_OlderInstance,), {"posted": []})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}"
        yield Credentials("oauth2", {"access_token": "t" * 20, "instance": url}), handler
    finally:
        server.shutdown()
        server.server_close()


def test_the_character_limit_is_the_one_the_instance_gives(
        older_instance: tuple[Credentials, type[_OlderInstance]]) -> None:
    credentials, handler = older_instance
    result = send(publisher(), credentials, "a" * 101)
    assert result.outcome is Outcome.FAILED
    assert "101 characters" in result.reason and "allows 100" in result.reason
    assert handler.posted == []


def test_before_mastodon_4_3_each_status_is_read_on_its_own(
        older_instance: tuple[Credentials, type[_OlderInstance]]) -> None:
    credentials, _ = older_instance
    result = publisher().read_metrics(credentials, ["1", "2"], non_public=False)
    assert result.outcome is ReadOutcome.OK
    assert (result.metrics["1"].likes, result.metrics["1"].reposts,
            result.metrics["1"].replies) == (7, 2, 1)
    assert result.gone["2"].state == "deleted"
