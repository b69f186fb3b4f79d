"""The sandbox's Bluesky routes over real HTTP: a PDS's shapes and errors, record keys,
sessions, blobs, reads, and the faults, limits, clock and log it shares with X's routes."""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import requests

from scheduler.publishers.bluesky_keys import is_tid
from scheduler.sandbox import engagement
from scheduler.sandbox.client import SandboxClient
from scheduler.sandbox.clock import parse_iso
from scheduler.sandbox.server import RunningSandbox, start

PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg=="
)
HOUR = 3600
MID_WINDOW = "2026-09-01T12:07:30Z"
XRPC = "/bluesky/xrpc"
POST = "app.bsky.feed.post"
RKEY = "3lbwfkgxqx22a"


@pytest.fixture
def sandbox(tmp_path: Path) -> Iterator[RunningSandbox]:
    running = start(tmp_path / "sandbox.db", port=0)
    yield running
    running.stop()


@pytest.fixture
def control(sandbox: RunningSandbox) -> SandboxClient:
    return SandboxClient(sandbox.url)


class Pds:
    """One account's raw XRPC calls, with a session from its app password."""

    def __init__(self, sandbox: RunningSandbox, control: SandboxClient, username: str,
                 followers: int = 1000) -> None:
        self.url = sandbox.url + XRPC
        self.created = control.create_account(username, followers=followers)
        self.issued = self.created["bluesky"]
        self.did = self.issued["did"]
        self.session = self.login().json()

    def login(self, password: str | None = None, identifier: str | None = None
              ) -> requests.Response:
        return requests.post(f"{self.url}/com.atproto.server.createSession", timeout=5, json={
            "identifier": identifier or self.issued["handle"],
            "password": password or self.issued["app_password"]})

    def auth(self, token: str | None = None) -> dict[str, str]:
        return {"Authorization": f"Bearer {token or self.session['accessJwt']}"}

    def create(self, text: str, rkey: str | None = RKEY, **record: Any) -> requests.Response:
        body: dict[str, Any] = {"repo": self.did, "collection": POST, "record": {
            "$type": POST, "text": text, "createdAt": "2026-09-01T12:00:00.000Z", **record}}
        if rkey is not None:
            body["rkey"] = rkey
        return requests.post(f"{self.url}/com.atproto.repo.createRecord", json=body,
                             headers=self.auth(), timeout=5)

    def get(self, nsid: str, token: str | None = None, **params: Any) -> requests.Response:
        return requests.get(f"{self.url}/{nsid}", params=params, headers=self.auth(token),
                            timeout=5)

    def call(self, nsid: str, token: str | None = None, **body: Any) -> requests.Response:
        return requests.post(f"{self.url}/{nsid}", json=body, headers=self.auth(token),
                             timeout=5)


@pytest.fixture
def alice(sandbox: RunningSandbox, control: SandboxClient) -> Pds:
    return Pds(sandbox, control, "alice", followers=20_000)


def claims(jwt: str) -> dict[str, Any]:
    payload = jwt.split(".")[1]
    return dict(json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))))


def error(answer: requests.Response) -> tuple[int, str]:
    return answer.status_code, answer.json()["error"]


# ---- accounts and sessions -------------------------------------------------------------------


def test_every_sandbox_account_gets_a_bluesky_identity_and_app_password(
        control: SandboxClient) -> None:
    first = control.create_account("York_Police")["bluesky"]
    again = control.create_account("York_Police")["bluesky"]

    assert first == again
    assert first["handle"] == "york-police.bsky.sandbox" and first["service"] == "/bluesky"
    assert re.fullmatch(r"did:plc:[a-z2-7]{24}", first["did"])
    assert re.fullmatch(r"([a-z0-9]{4}-){3}[a-z0-9]{4}", first["app_password"])
    assert control.create_account("bob")["bluesky"]["did"] != first["did"]


def test_an_app_password_logs_in_by_handle_or_did_and_a_wrong_one_is_refused(
        sandbox: RunningSandbox, control: SandboxClient, alice: Pds) -> None:
    control.set_clock(now=MID_WINDOW)
    by_did = alice.login(identifier=alice.did)
    wrong = alice.login(password="aaaa-bbbb-cccc-dddd")
    bob = control.create_account("bob")["bluesky"]
    someone_elses = alice.login(password=bob["app_password"])

    assert by_did.status_code == 200
    session = by_did.json()
    assert (session["did"], session["handle"], session["active"]) == (
        alice.did, "alice.bsky.sandbox", True)
    access, refresh = claims(session["accessJwt"]), claims(session["refreshJwt"])
    now = int(parse_iso(MID_WINDOW))
    assert access["sub"] == alice.did and access["scope"] == "com.atproto.appPass"
    assert now <= access["iat"] <= now + 5 and access["exp"] == access["iat"] + 2 * HOUR
    assert refresh["scope"] == "com.atproto.refresh" and refresh["exp"] > access["exp"]
    for refused in (wrong, someone_elses):
        assert refused.json() == {"error": "AuthenticationRequired",
                                  "message": "Invalid identifier or password"}
        assert refused.status_code == 401
    assert alice.get("com.atproto.server.getSession", session["accessJwt"]).json() == {
        "handle": "alice.bsky.sandbox", "did": alice.did, "active": True}


def test_a_refresh_token_works_once_and_gives_a_new_pair(alice: Pds) -> None:
    old_refresh = alice.session["refreshJwt"]

    renewed = alice.call("com.atproto.server.refreshSession", old_refresh)
    reused = alice.call("com.atproto.server.refreshSession", old_refresh)
    with_access = alice.call("com.atproto.server.refreshSession")

    assert renewed.status_code == 200
    fresh = renewed.json()
    assert fresh["accessJwt"] != alice.session["accessJwt"] and fresh["did"] == alice.did
    assert alice.get("com.atproto.server.getSession", fresh["accessJwt"]).status_code == 200
    assert error(reused) == (401, "InvalidToken")
    assert error(with_access) == (401, "InvalidToken")  # an access JWT cannot refresh


def test_an_expired_access_token_gets_400_expired_token(
        control: SandboxClient, alice: Pds) -> None:
    control.set_clock(offset_seconds=2 * HOUR + 60)
    expired = alice.get("com.atproto.server.getSession")
    assert expired.json() == {"error": "ExpiredToken", "message": "Token has expired"}
    assert expired.status_code == 400
    renewed = alice.call("com.atproto.server.refreshSession", alice.session["refreshJwt"])
    assert renewed.status_code == 200


def test_revoking_an_account_ends_its_sessions_and_app_password(
        control: SandboxClient, alice: Pds) -> None:
    control.revoke("alice")

    assert error(alice.get("com.atproto.server.getSession")) == (401, "InvalidToken")
    assert error(alice.call("com.atproto.server.refreshSession",
                            alice.session["refreshJwt"])) == (401, "InvalidToken")
    assert error(alice.login()) == (401, "AuthenticationRequired")
    fresh = control.create_account("alice")["bluesky"]
    assert fresh["app_password"] != alice.issued["app_password"]
    assert alice.login(password=fresh["app_password"]).status_code == 200


def test_a_request_without_a_token_needs_authentication(
        sandbox: RunningSandbox) -> None:
    answer = requests.get(f"{sandbox.url}{XRPC}/com.atproto.server.getSession", timeout=5)
    assert answer.status_code == 401
    assert answer.json() == {"error": "AuthenticationRequired",
                             "message": "Authentication Required"}


# ---- records ---------------------------------------------------------------------------------


def test_a_record_key_holds_one_record_and_a_second_is_refused(
        control: SandboxClient, alice: Pds) -> None:
    first = alice.create("Report hate crime: 101")
    second = alice.create("Report hate crime: 101")
    chosen_by_the_pds = alice.create("no key given", rkey=None)

    assert first.status_code == 200
    assert first.json()["uri"] == f"at://{alice.did}/{POST}/{RKEY}"
    assert first.json()["cid"].startswith("bafyrei")
    assert second.status_code == 400
    assert second.json() == {"error": "InvalidRequest",
                             "message": f"Record already exists: at://{alice.did}/{POST}/{RKEY}"}
    assert is_tid(chosen_by_the_pds.json()["uri"].rsplit("/", 1)[-1])
    assert [p["text"] for p in control.posts(author="alice")] == [
        "Report hate crime: 101", "no key given"]
    record = alice.get("com.atproto.repo.getRecord", repo=alice.did, collection=POST,
                       rkey=RKEY)
    assert record.json()["value"]["text"] == "Report hate crime: 101"
    assert record.json()["uri"] == first.json()["uri"]


def test_a_deleted_records_key_can_be_used_again(alice: Pds) -> None:
    assert alice.create("first words").ok
    deleted = alice.call("com.atproto.repo.deleteRecord", repo=alice.did, collection=POST,
                         rkey=RKEY)
    missing = alice.get("com.atproto.repo.getRecord", repo=alice.did, collection=POST,
                        rkey=RKEY)

    assert deleted.status_code == 200
    assert error(missing) == (400, "RecordNotFound")
    assert alice.create("second words").status_code == 200


@pytest.mark.parametrize(("change", "message"), [
    ({"text": "🎉" * 301}, "301 of 300 characters (Bluesky graphemes)"),
    ({"rkey": "not a tid"}, "is not a TID"),
    ({"collection": "app.bsky.feed.like"}, "only app.bsky.feed.post"),
    ({"repo": "did:plc:someoneelse00000000000000"}, "not the authenticated account's"),
    ({"facets": [{"index": {"byteStart": 3, "byteEnd": 99},
                  "features": [{"$type": "app.bsky.richtext.facet#tag", "tag": "x"}]}]},
     "Record/facets/0/index"),
    ({"facets": [{"index": {"byteStart": 0, "byteEnd": 2},
                  "features": [{"$type": "app.bsky.richtext.facet#bold"}]}]},
     "Record/facets/0/features"),
    ({"embed": {"$type": "app.bsky.embed.images", "images": [{"alt": "x", "image": {
        "$type": "blob", "ref": {"$link": "bafkreinope"}, "mimeType": "image/png",
        "size": 1}}]}}, "Could not find blob"),
    ({"createdAt": "yesterday"}, "createdAt must be a datetime"),
])
def test_a_record_the_lexicon_refuses_is_an_invalid_request(
        control: SandboxClient, alice: Pds, change: dict[str, Any], message: str) -> None:
    record: dict[str, Any] = {"$type": POST, "text": "hello", "createdAt": "2026-09-01T12:00Z"}
    body: dict[str, Any] = {"repo": alice.did, "collection": POST, "rkey": RKEY,
                            "record": record}
    for name, value in change.items():
        (body if name in body and name != "record" else record)[name] = value

    answer = requests.post(f"{alice.url}/com.atproto.repo.createRecord", json=body,
                           headers=alice.auth(), timeout=5)

    assert answer.status_code in (400, 401)
    assert message in answer.json()["message"], answer.json()
    assert control.posts() == []


def test_an_uploaded_image_is_posted_with_its_alt_text(
        control: SandboxClient, alice: Pds) -> None:
    uploaded = requests.post(f"{alice.url}/com.atproto.repo.uploadBlob", data=PNG,
                             headers={**alice.auth(), "Content-Type": "*/*"}, timeout=5)
    blob = uploaded.json()["blob"]
    posted = alice.create("our poster", embed={"$type": "app.bsky.embed.images", "images": [
        {"alt": "A purple ribbon", "image": blob}]})

    assert blob["mimeType"] == "image/png" and blob["size"] == len(PNG)  # sniffed from bytes
    assert blob["ref"]["$link"].startswith("bafkrei")
    assert posted.status_code == 200
    [stored] = control.posts(author="alice")
    assert stored["media"] == [{"alt_text": "A purple ribbon", "cid": blob["ref"]["$link"],
                                "mime_type": "image/png", "size": len(PNG)}]


def test_another_accounts_blob_cannot_be_posted(
        sandbox: RunningSandbox, control: SandboxClient, alice: Pds) -> None:
    bob = Pds(sandbox, control, "bob")
    blob = requests.post(f"{bob.url}/com.atproto.repo.uploadBlob", data=PNG,
                         headers={**bob.auth(), "Content-Type": "image/png"},
                         timeout=5).json()["blob"]
    answer = alice.create("borrowed", embed={"$type": "app.bsky.embed.images",
                                             "images": [{"alt": "", "image": blob}]})
    assert error(answer) == (400, "InvalidRequest")


# ---- reading ---------------------------------------------------------------------------------


def test_get_posts_leaves_out_deleted_and_unknown_posts_and_takes_at_most_25(
        control: SandboxClient, alice: Pds) -> None:
    kept = alice.create("kept", rkey="3lbwfkgxqx22a").json()["uri"]
    gone = alice.create("gone", rkey="3lbwfkgxqx22b").json()["uri"]
    alice.call("com.atproto.repo.deleteRecord", repo=alice.did, collection=POST,
               rkey="3lbwfkgxqx22b")
    unknown = f"at://{alice.did}/{POST}/3lbwfkgxqx22c"

    answer = alice.get("app.bsky.feed.getPosts", uris=[kept, gone, unknown])
    too_many = alice.get("app.bsky.feed.getPosts", uris=[kept] * 26)

    assert [p["uri"] for p in answer.json()["posts"]] == [kept]
    view = answer.json()["posts"][0]
    assert view["author"] == {"did": alice.did, "handle": "alice.bsky.sandbox",
                              "displayName": "alice"}
    assert view["record"]["text"] == "kept"
    assert error(too_many) == (400, "InvalidRequest")


def test_counts_grow_with_sandbox_time_as_the_engagement_model_says(
        control: SandboxClient, alice: Pds) -> None:
    control.set_clock(now=MID_WINDOW, speed=1e-9)  # time stands (nearly) still
    uri = alice.create("reach").json()["uri"]
    seen = []
    for hours in (1, 6, 48):
        control.set_clock(now=datetime.fromtimestamp(parse_iso(MID_WINDOW) + hours * HOUR, UTC))
        view = alice.get("app.bsky.feed.getPosts", uris=[uri]).json()["posts"][0]
        model = engagement.public_metrics(uri, 20_000, hours * HOUR)
        assert (view["likeCount"], view["repostCount"], view["replyCount"],
                view["quoteCount"], view["bookmarkCount"]) == (
            model["like_count"], model["retweet_count"], model["reply_count"],
            model["quote_count"], model["bookmark_count"])
        seen.append(view["likeCount"])
    assert seen[0] < seen[1] < seen[2]


def test_the_author_feed_pages_newest_first_and_can_leave_out_replies(
        control: SandboxClient, alice: Pds) -> None:
    for n in range(5):
        assert alice.create(f"post {n}", rkey=None).ok
    reply = {"root": {"uri": "at://x/y/z", "cid": "c"}, "parent": {"uri": "at://x/y/z",
                                                                   "cid": "c"}}
    assert alice.create("a reply", rkey=None, reply=reply).ok

    first = alice.get("app.bsky.feed.getAuthorFeed", actor="alice.bsky.sandbox", limit=4)
    rest = alice.get("app.bsky.feed.getAuthorFeed", actor=alice.did, limit=4,
                     cursor=first.json()["cursor"])
    no_replies = alice.get("app.bsky.feed.getAuthorFeed", actor=alice.did,
                           filter="posts_no_replies")
    unknown = alice.get("app.bsky.feed.getAuthorFeed", actor="nobody.bsky.sandbox")

    texts = [i["post"]["record"]["text"] for i in first.json()["feed"] + rest.json()["feed"]]
    assert texts == ["a reply", "post 4", "post 3", "post 2", "post 1", "post 0"]
    assert "cursor" not in rest.json()
    assert [i["post"]["record"]["text"] for i in no_replies.json()["feed"]] == [
        f"post {n}" for n in range(4, -1, -1)]
    assert error(unknown) == (400, "InvalidRequest")


# ---- what the Bluesky routes share with X's --------------------------------------------------


def test_every_route_answers_with_ratelimit_headers_and_429_past_the_window(
        control: SandboxClient, alice: Pds) -> None:
    control.set_faults(rate_limit={"posts_per_window": 2, "window_seconds": 900})
    control.set_clock(now=MID_WINDOW)
    answers = [alice.create(f"post {n}", rkey=None) for n in range(3)]
    read = alice.get("app.bsky.feed.getAuthorFeed", actor=alice.did)

    assert [a.status_code for a in answers] == [200, 200, 429]
    limited = answers[2]
    assert limited.json() == {"error": "RateLimitExceeded", "message": "Too Many Requests"}
    assert (limited.headers["RateLimit-Limit"], limited.headers["RateLimit-Remaining"],
            limited.headers["RateLimit-Policy"]) == ("2", "0", "2;w=900")
    assert int(limited.headers["RateLimit-Reset"]) == int(answers[0].headers["RateLimit-Reset"])
    assert "x-rate-limit-limit" not in limited.headers
    assert read.status_code == 200 and read.headers["RateLimit-Limit"] == "900"


def test_injected_faults_answer_as_xrpc_errors_and_drop_after_store_keeps_the_record(
        sandbox: RunningSandbox, control: SandboxClient, alice: Pds) -> None:
    control.set_faults(fail_next=[{"status": 503, "route": f"POST {XRPC}/"},
                                  {"status": 429, "route": f"POST {XRPC}/"}])
    unavailable, limited = alice.create("one", rkey=None), alice.create("two", rkey=None)
    control.set_faults(drop_after_store_rate=1.0)

    with pytest.raises(requests.ConnectionError):
        alice.create("did this go out?")

    assert unavailable.json() == {"error": "NotEnoughResources",
                                  "message": "Service Unavailable"}
    assert (limited.status_code, limited.headers["RateLimit-Remaining"]) == (429, "0")
    assert [p["text"] for p in control.posts()] == ["did this go out?"]
    logged = [r for r in control.requests() if r["path"].endswith("createRecord")]
    assert [(r["status"], r["fault"], r["user"]) for r in logged] == [
        (503, "fail_next:503", "alice"), (429, "fail_next:429", "alice"),
        (None, "drop_after_store", "alice")]
    assert alice.session["accessJwt"] not in str(control.requests())
    assert alice.issued["app_password"] not in str(control.requests())


def test_posts_are_listed_with_their_network_and_reset_forgets_them(
        sandbox: RunningSandbox, control: SandboxClient, alice: Pds) -> None:
    assert alice.create("on bluesky").ok
    x_token = alice.created["oauth2"]["access_token"]
    on_x = requests.post(f"{sandbox.url}/2/tweets", json={"text": "on x"}, timeout=5,
                         headers={"Authorization": f"Bearer {x_token}"})
    assert on_x.status_code == 201

    listed = {p["network"]: p for p in control.posts()}

    assert set(listed) >= {"x", "bluesky"}
    assert (listed["bluesky"]["text"], listed["bluesky"]["kind"], listed["bluesky"]["username"],
            listed["bluesky"]["handle"]) == ("on bluesky", "post", "alice", "alice.bsky.sandbox")
    assert control.posts(author="nobody") == []
    control.reset()
    assert control.posts() == []
    assert error(alice.login()) == (401, "AuthenticationRequired")
