"""BlueskyPublisher through atproto's real HTTP path against the sandbox: every outcome of a
send, the session it keeps, and its reads of the author feed and of engagement."""

from __future__ import annotations

import logging
import re
import socket
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import requests

from campaigns.core.clock import utcnow
from scheduler.publishers.base import (
    GonePost,
    Image,
    Outcome,
    ReadOutcome,
    SendRequest,
    SendResult,
)
from scheduler.publishers.bluesky import BlueskyPublisher
from scheduler.publishers.bluesky_keys import record_key
from scheduler.publishers.bluesky_login import credentials_for
from tests.e2e import PNG, Sandbox, closed_port
from tests.e2e.bluesky_kit import (
    XRPC,
    BlueskyAccount,
    Xrpc,
    bluesky_account,
    bluesky_request,
)

LONG_AGO = datetime(2020, 1, 1, tzinfo=UTC)
CREATE_RECORD = f"POST {XRPC}/com.atproto.repo.createRecord"
#: Accented letters and an emoji before the link: byte offsets differ from character offsets.
TEXT = "Café 🎉 Zoë says: report it at https://www.report-it.org.uk #NHCAW2026"


@pytest.fixture
def publisher() -> Iterator[BlueskyPublisher]:
    made = BlueskyPublisher(5.0)
    yield made
    made.close()


@pytest.fixture
def alice(sandbox: Sandbox) -> BlueskyAccount:
    return bluesky_account(sandbox)


@pytest.fixture
def image(tmp_path: Path) -> Image:
    path = tmp_path / "poster.png"
    path.write_bytes(PNG)
    return Image(path, "A purple ribbon with the words: report it, stop it.")


def send(publisher: BlueskyPublisher, account: BlueskyAccount, text: str,
         **options: Any) -> SendResult:
    return publisher.send(bluesky_request(account, text, **options))


def logged(sandbox: Sandbox, nsid: str) -> list[dict[str, Any]]:
    return [r for r in sandbox.control.requests() if r["path"] == f"{XRPC}/{nsid}"]


def test_a_post_goes_out_under_its_deliverys_record_key_with_facets_at_byte_offsets(
    sandbox: Sandbox, publisher: BlueskyPublisher, alice: BlueskyAccount
) -> None:
    result = send(publisher, alice, TEXT, delivery_id=41)

    assert result.outcome is Outcome.POSTED
    assert result.remote_id == f"at://{alice.did}/app.bsky.feed.post/{record_key(41)}"
    [stored] = sandbox.control.posts(author="alice")
    assert (stored["network"], stored["id"], stored["text"]) == ("bluesky", result.remote_id,
                                                                  TEXT)
    encoded = TEXT.encode("utf-8")
    spans = {feature["$type"].rsplit("#", 1)[-1]: (
        encoded[f["index"]["byteStart"]:f["index"]["byteEnd"]].decode(), feature)
        for f in stored["facets"] for feature in f["features"]}
    assert spans["link"] == ("https://www.report-it.org.uk", {
        "$type": "app.bsky.richtext.facet#link", "uri": "https://www.report-it.org.uk"})
    assert spans["tag"] == ("#NHCAW2026", {"$type": "app.bsky.richtext.facet#tag",
                                           "tag": "NHCAW2026"})
    assert TEXT.index("https") != encoded.index(b"https")  # the offsets really are bytes
    assert result.rate is not None and (result.rate.limit, result.rate.remaining) == (100, 99)


def test_an_image_is_uploaded_and_the_post_carries_its_alt_text(
    sandbox: Sandbox, publisher: BlueskyPublisher, alice: BlueskyAccount, image: Image
) -> None:
    result = send(publisher, alice, "Our poster for the week", images=(image,))

    assert result.outcome is Outcome.POSTED
    [stored] = sandbox.control.posts(author="alice")
    assert [(m["alt_text"], m["mime_type"], m["size"]) for m in stored["media"]] == [
        (image.alt, "image/png", len(PNG))]
    assert [r["path"].rsplit("/", 1)[-1] for r in sandbox.control.requests()] == [
        "com.atproto.server.createSession", "com.atproto.repo.uploadBlob",
        "com.atproto.repo.createRecord"]


def test_five_posts_on_one_account_log_in_once(
    sandbox: Sandbox, publisher: BlueskyPublisher, alice: BlueskyAccount
) -> None:
    results = [send(publisher, alice, f"post number {n}", delivery_id=n) for n in range(1, 6)]

    assert [r.outcome for r in results] == [Outcome.POSTED] * 5
    assert len(logged(sandbox, "com.atproto.server.createSession")) == 1
    assert len(logged(sandbox, "com.atproto.repo.createRecord")) == 5


def test_an_expired_access_token_is_refreshed_without_a_new_login(
    sandbox: Sandbox, publisher: BlueskyPublisher, alice: BlueskyAccount
) -> None:
    assert send(publisher, alice, "before", delivery_id=1).outcome is Outcome.POSTED
    sandbox.control.set_clock(offset_seconds=3 * 3600)  # past the access JWT's two hours

    result = send(publisher, alice, "after", delivery_id=2)

    assert result.outcome is Outcome.POSTED
    statuses = [(r["path"].rsplit("/", 1)[-1], r["status"]) for r in sandbox.control.requests()]
    assert statuses == [
        ("com.atproto.server.createSession", 200), ("com.atproto.repo.createRecord", 200),
        ("com.atproto.repo.createRecord", 400), ("com.atproto.server.refreshSession", 200),
        ("com.atproto.repo.createRecord", 200)]


def test_a_retry_after_a_dropped_answer_cannot_post_twice(
    sandbox: Sandbox, publisher: BlueskyPublisher, alice: BlueskyAccount
) -> None:
    sandbox.control.set_faults(drop_after_store_rate=1.0, routes=[CREATE_RECORD])
    lost = send(publisher, alice, "Did this go out?", delivery_id=7)
    sandbox.control.clear_faults()

    retried = send(publisher, alice, "Did this go out?", delivery_id=7)

    assert lost.outcome is Outcome.UNKNOWN and lost.remote_id is None
    assert "RemoteProtocolError" in lost.reason
    assert retried.outcome is Outcome.POSTED
    assert retried.reason == "already posted under this delivery's record key"
    [stored] = sandbox.control.posts(author="alice")
    assert stored["id"] == retried.remote_id
    assert [r["status"] for r in logged(sandbox, "com.atproto.repo.createRecord")] == [None, 400]


def test_a_different_post_under_the_same_record_key_is_not_taken_for_this_one(
    sandbox: Sandbox, publisher: BlueskyPublisher, alice: BlueskyAccount
) -> None:
    """Delivery ids start again after a database is rebuilt: its keys may be taken."""
    assert send(publisher, alice, "an old post", delivery_id=3).outcome is Outcome.POSTED

    result = send(publisher, alice, "a new post", delivery_id=3)

    assert result.outcome is Outcome.FAILED
    assert f"record key {record_key(3)}" in result.reason and "different post" in result.reason
    assert [p["text"] for p in sandbox.control.posts()] == ["an old post"]


def test_a_rate_limited_post_retries_at_the_reset_the_headers_give(
    sandbox: Sandbox, publisher: BlueskyPublisher, alice: BlueskyAccount
) -> None:
    sandbox.control.set_faults(rate_limit={"posts_per_window": 1, "window_seconds": 900})
    assert send(publisher, alice, "first", delivery_id=1).outcome is Outcome.POSTED

    result = send(publisher, alice, "second", delivery_id=2)

    raw = Xrpc(alice).post("third")
    assert raw.status_code == 429 and raw.json()["error"] == "RateLimitExceeded"
    reset = datetime.fromtimestamp(int(raw.headers["RateLimit-Reset"]), UTC)
    assert result.outcome is Outcome.RETRY_LATER and result.retry_at == reset
    assert result.rate is not None and result.rate.remaining == 0 and result.rate.reset == reset
    assert [p["text"] for p in sandbox.control.posts()] == ["first"]


def test_a_revoked_account_needs_reconnecting_with_or_without_a_session(
    sandbox: Sandbox, publisher: BlueskyPublisher, alice: BlueskyAccount
) -> None:
    assert send(publisher, alice, "while connected", delivery_id=1).outcome is Outcome.POSTED
    sandbox.control.revoke("alice")

    kept_session = send(publisher, alice, "after revocation", delivery_id=2)
    new_session = BlueskyPublisher(5.0).send(bluesky_request(alice, "again", delivery_id=3))

    for result in (kept_session, new_session):
        assert result.outcome is Outcome.REAUTH
        assert "401" in result.reason and "reconnect the account" in result.reason
    assert [p["text"] for p in sandbox.control.posts()] == ["while connected"]


def test_text_over_300_graphemes_fails_before_anything_is_sent(
    sandbox: Sandbox, publisher: BlueskyPublisher, alice: BlueskyAccount
) -> None:
    result = send(publisher, alice, "🏳️‍🌈" * 301)

    assert result.outcome is Outcome.FAILED
    assert "301 of 300 characters (Bluesky graphemes)" in result.reason
    assert sandbox.control.requests() == []


def test_a_record_bluesky_refuses_fails_with_its_own_words(
    sandbox: Sandbox, publisher: BlueskyPublisher, alice: BlueskyAccount, tmp_path: Path
) -> None:
    not_an_image = tmp_path / "notes.txt"
    not_an_image.write_text("not a picture")

    result = send(publisher, alice, "with an attachment",
                  images=(Image(not_an_image, "notes"),))

    assert result.outcome is Outcome.FAILED
    assert result.reason.startswith("Bluesky refused createRecord (400 InvalidRequest: Invalid "
                                    "app.bsky.feed.post record: Record/embed/images/0/image")
    assert sandbox.control.posts() == []


def test_a_request_that_times_out_is_unknown(
    sandbox: Sandbox, alice: BlueskyAccount
) -> None:
    sandbox.control.set_faults(timeout_rate=1.0, hang_seconds=3, routes=[CREATE_RECORD])
    result = BlueskyPublisher(0.5).send(bluesky_request(alice, "slow network"))
    assert result.outcome is Outcome.UNKNOWN and "ReadTimeout" in result.reason
    assert sandbox.control.posts() == []


def test_a_server_error_on_posting_is_unknown(
    sandbox: Sandbox, publisher: BlueskyPublisher, alice: BlueskyAccount
) -> None:
    sandbox.control.set_faults(fail_next=[{"status": 503, "route": CREATE_RECORD}])
    result = send(publisher, alice, "during an outage")
    assert result.outcome is Outcome.UNKNOWN
    assert "503 NotEnoughResources" in result.reason and "may or may not exist" in result.reason


@pytest.mark.parametrize("nsid", ["com.atproto.server.createSession",
                                  "com.atproto.repo.uploadBlob"])
def test_a_failure_before_posting_is_retried_later_and_nothing_is_posted(
    sandbox: Sandbox, publisher: BlueskyPublisher, alice: BlueskyAccount, image: Image,
    nsid: str
) -> None:
    sandbox.control.set_faults(fail_next=[{"status": 502, "route": f"{XRPC}/{nsid}"}])
    before = utcnow()

    result = send(publisher, alice, "with a poster", images=(image,))

    assert result.outcome is Outcome.RETRY_LATER
    assert result.retry_at is not None and result.retry_at > before
    assert "nothing was posted" in result.reason and "502" in result.reason
    assert sandbox.control.posts() == []
    assert send(publisher, alice, "with a poster", images=(image,)).outcome is Outcome.POSTED


def test_a_missing_image_fails_before_anything_is_sent(
    sandbox: Sandbox, publisher: BlueskyPublisher, alice: BlueskyAccount, tmp_path: Path
) -> None:
    missing = Image(tmp_path / "nowhere.png", "alt")
    result = send(publisher, alice, "with a lost poster", images=(missing,))
    assert result.outcome is Outcome.FAILED and "nowhere.png" in result.reason
    assert sandbox.control.requests() == []


def test_connection_refused_is_retried_later() -> None:
    credentials = credentials_for(handle="nobody.bsky.sandbox", did="did:plc:nobody",
                                  app_password="aaaa-bbbb-cccc-dddd",
                                  service=f"http://127.0.0.1:{closed_port()}/bluesky")
    before = utcnow()
    result = BlueskyPublisher(2.0).send(SendRequest(1, "lead-bluesky", None, credentials,
                                                    "nobody is listening"))
    assert result.outcome is Outcome.RETRY_LATER
    assert result.retry_at is not None and result.retry_at > before
    assert "nothing was sent" in result.reason and "ConnectError" in result.reason


def test_recent_posts_read_the_author_feed_page_by_page_back_to_since(
    sandbox: Sandbox, publisher: BlueskyPublisher, alice: BlueskyAccount
) -> None:
    sandbox.control.set_faults(rate_limit={"posts_per_window": 1000, "window_seconds": 900})
    raw = Xrpc(alice)
    since = utcnow() - timedelta(minutes=30)
    assert raw.post("written an hour ago", created_at=since - timedelta(minutes=30)).ok
    for n in range(100):
        assert raw.post(f"post {n}").ok
    assert raw.post("a reply", reply={"root": {"uri": "at://x/y/z", "cid": "c"},
                                      "parent": {"uri": "at://x/y/z", "cid": "c"}}).ok
    mark = sandbox.control.requests()[-1]["id"]

    timeline = publisher.recent_posts(credentials=alice.credentials, remote_user_id=alice.did,
                                      since=since)

    assert timeline.ok, timeline.reason
    assert [p.text for p in timeline.posts] == [f"post {n}" for n in range(99, -1, -1)]
    assert all(p.remote_id.startswith(f"at://{alice.did}/") for p in timeline.posts)
    reads = [r for r in sandbox.control.requests(since_id=mark)
             if r["path"].endswith("getAuthorFeed")]
    assert len(reads) == 2


def test_engagement_is_read_for_up_to_25_posts_and_a_deleted_post_is_gone(
    sandbox: Sandbox, publisher: BlueskyPublisher
) -> None:
    alice = bluesky_account(sandbox, followers=200_000)
    kept = send(publisher, alice, "kept", delivery_id=1).remote_id
    deleted = send(publisher, alice, "deleted", delivery_id=2).remote_id
    assert kept and deleted
    assert Xrpc(alice).delete(deleted).ok
    unknown = f"at://{alice.did}/app.bsky.feed.post/{record_key(99)}"

    def read() -> Any:
        return publisher.read_metrics(alice.credentials, [kept, deleted, unknown, "zzz"],
                                      non_public=True)

    sandbox.control.set_clock(offset_seconds=3600)
    early = read()
    sandbox.control.set_clock(offset_seconds=6 * 3600)
    later = read()

    for result in (early, later):
        assert result.outcome is ReadOutcome.OK
        assert set(result.metrics) == {kept}
        assert result.gone == {
            deleted: GonePost(deleted, "deleted", "Bluesky did not return the post"),
            unknown: GonePost(unknown, "deleted", "Bluesky did not return the post"),
            "zzz": GonePost("zzz", "unavailable", "not a Bluesky post URI")}
    before, after = early.metrics[kept], later.metrics[kept]
    assert before.impressions == after.impressions == 0  # Bluesky publishes none
    assert after.link_clicks is None and after.profile_clicks is None
    assert 0 < before.likes < after.likes and after.reposts >= before.reposts
    # six hours on, the access JWT had expired: refused once, refreshed, read again
    assert [r["status"] for r in logged(sandbox, "app.bsky.feed.getPosts")] == [200, 400, 200]
    assert len(logged(sandbox, "com.atproto.server.refreshSession")) == 1
    with pytest.raises(ValueError, match="at most 25"):
        publisher.read_metrics(alice.credentials, [f"{kept}{n}" for n in range(26)],
                               non_public=False)


def test_reads_as_a_revoked_account_need_reconnecting(
    sandbox: Sandbox, publisher: BlueskyPublisher, alice: BlueskyAccount
) -> None:
    posted = send(publisher, alice, "read me").remote_id
    assert posted
    sandbox.control.revoke("alice")

    metrics = publisher.read_metrics(alice.credentials, [posted], non_public=False)
    timeline = publisher.recent_posts(credentials=alice.credentials, remote_user_id=alice.did,
                                      since=LONG_AGO)

    assert metrics.outcome is ReadOutcome.REAUTH and "401" in metrics.reason
    assert not timeline.ok and "401" in timeline.reason


def test_a_429_on_reading_holds_reading_until_the_reset(
    sandbox: Sandbox, publisher: BlueskyPublisher, alice: BlueskyAccount
) -> None:
    posted = send(publisher, alice, "read me").remote_id
    assert posted
    sandbox.control.set_faults(fail_next=[{"status": 429,
                                           "route": f"GET {XRPC}/app.bsky.feed.getPosts"}])
    now = utcnow()

    result = publisher.read_metrics(alice.credentials, [posted], non_public=False)

    assert result.outcome is ReadOutcome.RATE_LIMITED
    assert result.retry_at is not None and result.retry_at > now
    assert result.rate is not None and result.rate.remaining == 0


def test_every_request_goes_to_the_sandbox(
    sandbox: Sandbox, publisher: BlueskyPublisher, alice: BlueskyAccount, image: Image,
    monkeypatch: pytest.MonkeyPatch
) -> None:
    looked_up: list[str] = []
    real_getaddrinfo = socket.getaddrinfo

    def recording(host: Any, *args: Any, **kwargs: Any) -> Any:
        looked_up.append(str(host))
        return real_getaddrinfo(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", recording)
    posted = send(publisher, alice, TEXT, images=(image,)).remote_id
    publisher.recent_posts(credentials=alice.credentials, remote_user_id=None, since=LONG_AGO)
    publisher.read_metrics(alice.credentials, [str(posted)], non_public=False)

    assert set(looked_up) == {"127.0.0.1"}
    assert len(sandbox.control.requests()) == 5


def test_no_secret_appears_in_reasons_or_logs(
    sandbox: Sandbox, publisher: BlueskyPublisher, alice: BlueskyAccount, image: Image,
    caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    results = [send(publisher, alice, "one", images=(image,), delivery_id=1)]
    sandbox.control.set_faults(drop_after_store_rate=1.0, routes=[CREATE_RECORD])
    results.append(send(publisher, alice, "two", delivery_id=2))
    sandbox.control.set_faults(fail_next=[{"status": 429, "route": CREATE_RECORD}])
    results.append(send(publisher, alice, "three", delivery_id=3))
    sandbox.control.clear_faults()
    sandbox.control.set_clock(offset_seconds=3 * 3600)
    results.append(send(publisher, alice, "four", delivery_id=4))
    sandbox.control.revoke("alice")
    results.append(send(publisher, alice, "five", delivery_id=5))
    timeline = publisher.recent_posts(credentials=alice.credentials, remote_user_id=None,
                                      since=LONG_AGO)

    assert [r.outcome for r in results] == [Outcome.POSTED, Outcome.UNKNOWN,
                                            Outcome.RETRY_LATER, Outcome.POSTED, Outcome.REAUTH]
    assert "com.atproto.repo.createRecord" in caplog.text  # httpx's request lines were logged
    shown = caplog.text + "\n".join(r.reason for r in results) + repr(results) + repr(timeline)
    assert alice.app_password not in shown
    assert re.search(r"eyJ[\w-]+\.eyJ", shown) is None  # no JWT, access or refresh


def test_the_sandboxs_answers_say_it_is_the_sandbox(
    sandbox: Sandbox, alice: BlueskyAccount
) -> None:
    login = BlueskyPublisher(5.0).login(service=alice.service, handle=alice.handle,
                                        app_password=alice.app_password)
    assert (login.did, login.handle, login.sandbox) == (alice.did, alice.handle, True)
    assert login.credentials == alice.credentials
    answer = requests.get(f"{sandbox.url}{XRPC}/com.atproto.server.getSession", timeout=5)
    assert answer.status_code == 401 and answer.headers["X-Chorus-Sandbox"] == "1"
