"""The X API sandbox over real HTTP: X's shapes, errors, limits, faults, clock and OAuth flows."""

from __future__ import annotations

import base64
import hashlib
import re
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

import pytest
import requests
import tweepy
from requests.adapters import HTTPAdapter
from requests_oauthlib import OAuth1

from scheduler.sandbox import engagement
from scheduler.sandbox.client import SandboxClient, SandboxError
from scheduler.sandbox.server import RunningSandbox, start

PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg=="
)
HOUR = 3600
#: Seven and a half minutes into a fifteen-minute window: no test crosses into the next one.
MID_WINDOW = "2026-09-01T12:07:30Z"


@pytest.fixture
def sandbox(tmp_path: Path) -> Iterator[RunningSandbox]:
    running = start(tmp_path / "sandbox.db", port=0)
    yield running
    running.stop()


@pytest.fixture
def control(sandbox: RunningSandbox) -> SandboxClient:
    return SandboxClient(sandbox.url)


@pytest.fixture
def alice(control: SandboxClient) -> dict[str, Any]:
    return control.create_account("alice", followers=20_000, name="Alice's Partnership")


def bearer(account: dict[str, Any]) -> dict[str, str]:
    return {"Authorization": f"Bearer {account['oauth2']['access_token']}"}


def oauth1(account: dict[str, Any]) -> dict[str, str]:
    """An OAuth 1.0a header as tweepy sends one: percent-encoded values, unchecked signature."""
    token = quote(account["oauth1"]["token"], safe="")
    return {"Authorization": f'OAuth oauth_consumer_key="ck", oauth_nonce="n1", '
                             f'oauth_signature="abc%3D", oauth_token="{token}", '
                             f'oauth_version="1.0"'}


def post(sandbox: RunningSandbox, account: dict[str, Any], text: str,
         **body: Any) -> requests.Response:
    """Post as the account with its OAuth 1.0a token (which, unlike OAuth 2.0's, never
    expires as the tests move the sandbox clock on)."""
    return requests.post(f"{sandbox.url}/2/tweets", json={"text": text, **body},
                         headers=oauth1(account), timeout=5)


def get(sandbox: RunningSandbox, account: dict[str, Any] | None, path: str,
        **params: str) -> requests.Response:
    headers = oauth1(account) if account else {}
    return requests.get(f"{sandbox.url}{path}", params=params, headers=headers, timeout=5)


# ---- posting and reading ---------------------------------------------------------------------


def test_a_post_is_read_back_newest_first_in_the_timeline_and_the_control_api(
        sandbox: RunningSandbox, control: SandboxClient, alice: dict[str, Any]) -> None:
    first = post(sandbox, alice, "Hate crime week starts today")
    second = post(sandbox, alice, "Report it: you will be heard")

    assert first.status_code == 201
    created = second.json()["data"]
    assert created["text"] == "Report it: you will be heard"
    assert created["edit_history_tweet_ids"] == [created["id"]]
    assert int(created["id"]) > int(first.json()["data"]["id"]) > 1_800_000_000_000_000_000
    timeline = get(sandbox, alice, f"/2/users/{alice['id']}/tweets",
                   **{"tweet.fields": "created_at,author_id"}).json()
    assert [t["id"] for t in timeline["data"]] == [created["id"], first.json()["data"]["id"]]
    assert timeline["data"][0]["author_id"] == alice["id"]
    assert timeline["meta"] == {"result_count": 2, "newest_id": created["id"],
                                "oldest_id": first.json()["data"]["id"]}
    stored = control.posts(author="alice")
    assert [p["text"] for p in stored] == ["Hate crime week starts today",
                                           "Report it: you will be heard"]
    assert stored[0]["username"] == "alice" and stored[0]["kind"] == "post"
    assert stored[0]["deleted"] is False


def test_users_me_answers_for_oauth1_and_oauth2_tokens(
        sandbox: RunningSandbox, alice: dict[str, Any]) -> None:
    for headers in (bearer(alice), oauth1(alice)):
        me = requests.get(f"{sandbox.url}/2/users/me", headers=headers, timeout=5)
        assert me.json() == {"data": {"id": alice["id"], "name": "Alice's Partnership",
                                      "username": "alice"}}


def test_the_timeline_pages_and_takes_since_id(
        sandbox: RunningSandbox, alice: dict[str, Any]) -> None:
    ids = [post(sandbox, alice, f"post {n}").json()["data"]["id"] for n in range(7)]
    path = f"/2/users/{alice['id']}/tweets"

    page = get(sandbox, alice, path, max_results="5").json()
    rest = get(sandbox, alice, path, max_results="5",
               pagination_token=page["meta"]["next_token"]).json()
    since = get(sandbox, alice, path, since_id=ids[4]).json()

    assert [t["id"] for t in page["data"]] == ids[:1:-1]
    assert [t["id"] for t in rest["data"]] == ids[1::-1] and "next_token" not in rest["meta"]
    assert [t["id"] for t in since["data"]] == [ids[6], ids[5]]
    assert get(sandbox, alice, path, max_results="4").status_code == 400


def test_identical_text_within_a_day_gets_xs_duplicate_content_403(
        sandbox: RunningSandbox, control: SandboxClient, alice: dict[str, Any]) -> None:
    assert post(sandbox, alice, "Same words").status_code == 201

    again = post(sandbox, alice, "Same words")
    control.set_clock(offset_seconds=25 * HOUR)

    assert again.status_code == 403
    assert again.json() == {
        "detail": "You are not allowed to create a Tweet with duplicate content.",
        "type": "about:blank", "title": "Forbidden", "status": 403,
    }
    assert post(sandbox, alice, "Same words").status_code == 201


def test_text_over_280_weighted_is_an_invalid_request(
        sandbox: RunningSandbox, alice: dict[str, Any]) -> None:
    assert post(sandbox, alice, "a" * 280).status_code == 201

    refused = post(sandbox, alice, "漢" * 141)  # CJK weighs 2: 282

    assert refused.status_code == 400
    body = refused.json()
    assert body["title"] == "Invalid Request"
    assert body["type"] == "https://api.twitter.com/2/problems/invalid-request"
    assert body["errors"][0]["message"]


@pytest.mark.parametrize("authorization", ["Bearer nope", 'OAuth oauth_token="nope"', None])
def test_an_unknown_token_gets_xs_401(sandbox: RunningSandbox,
                                      authorization: str | None) -> None:
    headers = {"Authorization": authorization} if authorization else {}
    answer = requests.post(f"{sandbox.url}/2/tweets", json={"text": "hi"}, headers=headers,
                           timeout=5)

    assert answer.status_code == 401
    assert answer.json() == {"title": "Unauthorized", "type": "about:blank", "status": 401,
                             "detail": "Unauthorized"}


def test_a_revoked_account_gets_401_on_every_token_but_others_do_not(
        sandbox: RunningSandbox, control: SandboxClient, alice: dict[str, Any]) -> None:
    bob = control.create_account("bob")
    control.revoke("alice")

    assert post(sandbox, alice, "after revoking").status_code == 401
    assert requests.get(f"{sandbox.url}/2/users/me", headers=oauth1(alice),
                        timeout=5).status_code == 401
    assert post(sandbox, bob, "still fine").status_code == 201
    fresh = control.create_account("alice")
    assert fresh["oauth2"]["access_token"] != alice["oauth2"]["access_token"]
    assert post(sandbox, fresh, "reconnected").status_code == 201


# ---- rate limits -----------------------------------------------------------------------------


def test_posting_past_the_window_gets_429_until_the_window_resets(
        sandbox: RunningSandbox, control: SandboxClient, alice: dict[str, Any]) -> None:
    control.set_faults(rate_limit={"posts_per_window": 2, "window_seconds": 900})
    control.set_clock(now=MID_WINDOW)
    answers = [post(sandbox, alice, f"post {n}") for n in range(3)]

    assert [a.status_code for a in answers] == [201, 201, 429]
    limited = answers[2]
    assert limited.json() == {"title": "Too Many Requests", "detail": "Too Many Requests",
                              "type": "about:blank", "status": 429}
    assert limited.headers["x-rate-limit-limit"] == "2"
    assert limited.headers["x-rate-limit-remaining"] == "0"
    reset = int(limited.headers["x-rate-limit-reset"])
    assert int(answers[0].headers["x-rate-limit-reset"]) == reset
    assert get(sandbox, alice, "/2/users/me").status_code == 200  # reads are counted apart
    control.set_clock(now=datetime.fromtimestamp(reset + 1, UTC))
    assert post(sandbox, alice, "next window").status_code == 201


@pytest.mark.parametrize("route", ["me", "timeline", "lookup", "post", "media"])
def test_every_x_route_answers_with_rate_limit_headers(
        sandbox: RunningSandbox, control: SandboxClient, alice: dict[str, Any],
        route: str) -> None:
    control.set_clock(now=MID_WINDOW)
    tweet_id = post(sandbox, alice, "for reading").json()["data"]["id"]
    answer = {
        "me": lambda: get(sandbox, alice, "/2/users/me"),
        "timeline": lambda: get(sandbox, alice, f"/2/users/{alice['id']}/tweets"),
        "lookup": lambda: get(sandbox, alice, "/2/tweets", ids=tweet_id),
        "post": lambda: post(sandbox, alice, "another"),
        "media": lambda: requests.post(f"{sandbox.url}/2/media/upload", files={"media": PNG},
                                       headers=bearer(alice), timeout=5),
    }[route]()

    assert answer.ok
    limit = int(answer.headers["x-rate-limit-limit"])
    assert limit in (100, 500, 900)
    already = 2 if route == "post" else 1
    assert int(answer.headers["x-rate-limit-remaining"]) == limit - already
    assert int(answer.headers["x-rate-limit-reset"]) > 1_700_000_000


# ---- batch reads and metrics -----------------------------------------------------------------


def test_a_batch_read_puts_unknown_and_deleted_ids_in_errors_of_a_200(
        sandbox: RunningSandbox, alice: dict[str, Any]) -> None:
    kept = post(sandbox, alice, "kept").json()["data"]["id"]
    gone = post(sandbox, alice, "gone").json()["data"]["id"]
    deleted = requests.delete(f"{sandbox.url}/2/tweets/{gone}", headers=bearer(alice),
                              timeout=5)

    answer = get(sandbox, alice, "/2/tweets", ids=f"{kept},{gone},1800000000000000999",
                 **{"tweet.fields": "public_metrics,created_at"})

    assert deleted.json() == {"data": {"deleted": True}}
    assert answer.status_code == 200
    body = answer.json()
    assert [t["id"] for t in body["data"]] == [kept]
    assert set(body["data"][0]["public_metrics"]) == set(engagement.PUBLIC_FIELDS)
    assert [e["value"] for e in body["errors"]] == [gone, "1800000000000000999"]
    assert body["errors"][0]["title"] == "Not Found Error"
    assert body["errors"][0]["type"] == "https://api.twitter.com/2/problems/resource-not-found"


def test_a_batch_read_of_more_than_100_ids_is_refused(
        sandbox: RunningSandbox, alice: dict[str, Any]) -> None:
    ids = ",".join(str(1_800_000_000_000_000_000 + n) for n in range(101))

    answer = get(sandbox, alice, "/2/tweets", ids=ids)

    assert answer.status_code == 400
    assert answer.json()["title"] == "Invalid Request"


def test_non_public_metrics_are_given_only_to_the_author(
        sandbox: RunningSandbox, control: SandboxClient, alice: dict[str, Any]) -> None:
    bob = control.create_account("bob")
    tweet_id = post(sandbox, alice, "mine").json()["data"]["id"]
    fields = {"tweet.fields": "non_public_metrics,public_metrics"}

    as_author = get(sandbox, alice, "/2/tweets", ids=tweet_id, **fields).json()["data"][0]
    as_other = get(sandbox, bob, "/2/tweets", ids=tweet_id, **fields).json()["data"][0]
    control.set_clock(offset_seconds=31 * 24 * HOUR)
    too_old = get(sandbox, alice, "/2/tweets", ids=tweet_id, **fields).json()["data"][0]

    assert set(as_author["non_public_metrics"]) == {"impression_count", "url_link_clicks",
                                                    "user_profile_clicks"}
    assert "non_public_metrics" not in as_other and "public_metrics" in as_other
    assert "non_public_metrics" not in too_old


def test_engagement_grows_with_sandbox_time_and_followers_and_is_deterministic(
        sandbox: RunningSandbox, control: SandboxClient, alice: dict[str, Any]) -> None:
    small = control.create_account("small", followers=200)
    big_id = post(sandbox, alice, "reach").json()["data"]["id"]
    small_id = post(sandbox, small, "reach").json()["data"]["id"]

    def impressions(account: dict[str, Any], tweet_id: str) -> int:
        answer = get(sandbox, account, "/2/tweets", ids=tweet_id,
                     **{"tweet.fields": "public_metrics"})
        return int(answer.json()["data"][0]["public_metrics"]["impression_count"])

    seen = []
    for hours in (1, 6, 48):
        control.set_clock(offset_seconds=hours * HOUR)
        seen.append((impressions(alice, big_id), impressions(small, small_id)))

    assert seen[0][0] < seen[1][0] < seen[2][0]
    assert all(big > small_ for big, small_ in seen)
    assert seen[2][0] <= 20_000 * 0.40
    assert engagement.public_metrics(big_id, 20_000, 6 * HOUR) == engagement.public_metrics(
        big_id, 20_000, 6 * HOUR)
    assert engagement.public_metrics(big_id, 20_000, 0)["impression_count"] == 0


# ---- media -----------------------------------------------------------------------------------


def test_uploaded_media_with_alt_text_is_shown_on_the_stored_post(
        sandbox: RunningSandbox, control: SandboxClient, alice: dict[str, Any]) -> None:
    uploaded = requests.post(f"{sandbox.url}/2/media/upload", headers=bearer(alice),
                             files={"media": ("card.png", PNG, "image/png")},
                             data={"media_category": "tweet_image"}, timeout=5)
    media_id = uploaded.json()["data"]["id"]
    alt = "Poster: hate crime is never acceptable; report it online or by phone."
    metadata = requests.post(f"{sandbox.url}/2/media/metadata", headers=bearer(alice),
                             json={"id": media_id, "metadata": {"alt_text": {"text": alt}}},
                             timeout=5)

    posted = post(sandbox, alice, "With a poster", media={"media_ids": [media_id]})

    assert uploaded.json()["data"]["size"] == len(PNG)
    assert uploaded.json()["data"]["media_key"].endswith(media_id)
    assert metadata.json() == {"data": {"id": media_id,
                                        "associated_metadata": {"alt_text": {"text": alt}}}}
    assert posted.status_code == 201
    [stored] = control.posts()
    assert [(m["id"], m["alt_text"]) for m in stored["media"]] == [(media_id, alt)]


def test_unknown_media_and_overlong_alt_text_are_invalid_requests(
        sandbox: RunningSandbox, alice: dict[str, Any]) -> None:
    unknown = post(sandbox, alice, "with nothing", media={"media_ids": ["123"]})
    media_id = requests.post(f"{sandbox.url}/2/media/upload", files={"media": PNG},
                             headers=bearer(alice), timeout=5).json()["data"]["id"]
    too_long = requests.post(
        f"{sandbox.url}/2/media/metadata", headers=bearer(alice), timeout=5,
        json={"id": media_id, "metadata": {"alt_text": {"text": "x" * 1001}}})

    assert unknown.status_code == 400 and too_long.status_code == 400


# ---- reposts and quotes ----------------------------------------------------------------------


def test_a_repost_and_a_quote_are_recorded_with_their_kinds(
        sandbox: RunningSandbox, control: SandboxClient, alice: dict[str, Any]) -> None:
    bob = control.create_account("bob")
    original = post(sandbox, alice, "Original words").json()["data"]["id"]

    reposted = requests.post(f"{sandbox.url}/2/users/{bob['id']}/retweets",
                             json={"tweet_id": original}, headers=bearer(bob), timeout=5)
    quoted = post(sandbox, bob, "Our own words on it", quote_tweet_id=original)
    not_mine = requests.post(f"{sandbox.url}/2/users/{alice['id']}/retweets",
                             json={"tweet_id": original}, headers=bearer(bob), timeout=5)

    assert reposted.json() == {"data": {"retweeted": True}}
    assert quoted.status_code == 201 and not_mine.status_code == 403
    kinds = {(p["kind"], p["quote_of"]) for p in control.posts(author="bob")}
    assert kinds == {("repost", None), ("quote", original)}


# ---- faults ----------------------------------------------------------------------------------


def test_drop_after_store_keeps_the_post_but_the_client_sees_a_dropped_connection(
        sandbox: RunningSandbox, control: SandboxClient, alice: dict[str, Any]) -> None:
    control.set_faults(drop_after_store_rate=1.0)

    with pytest.raises(requests.ConnectionError):
        post(sandbox, alice, "Did this go out?")

    assert [p["text"] for p in control.posts()] == ["Did this go out?"]
    [logged] = control.requests()
    assert logged["status"] is None and logged["fault"] == "drop_after_store"


def test_a_timeout_hangs_then_closes_unanswered_and_stores_nothing(
        sandbox: RunningSandbox, control: SandboxClient, alice: dict[str, Any]) -> None:
    control.set_faults(timeout_rate=1.0, hang_seconds=0.3)

    with pytest.raises(requests.ConnectionError):
        post(sandbox, alice, "Lost in the void")

    assert control.posts() == []
    [logged] = control.requests()
    assert logged["fault"] == "timeout" and logged["latency_ms"] >= 300


def test_fail_next_answers_in_order_then_serves_normally(
        sandbox: RunningSandbox, control: SandboxClient, alice: dict[str, Any]) -> None:
    bob = control.create_account("bob")
    control.set_faults(fail_next=[{"status": 503, "count": 2, "user": "alice"},
                                  {"status": 429, "count": 1}])

    statuses = [post(sandbox, bob, "bob first").status_code]
    statuses += [post(sandbox, alice, f"try {n}").status_code for n in range(4)]

    assert statuses == [429, 503, 503, 201, 201]
    assert control.faults()["fail_next"] == []
    assert [p["username"] for p in control.posts()] == ["alice", "alice"]


def test_random_faults_are_limited_to_the_named_users_and_repeatable_with_a_seed(
        sandbox: RunningSandbox, control: SandboxClient, alice: dict[str, Any]) -> None:
    bob = control.create_account("bob")

    def run() -> list[int]:
        control.set_faults(error_rate=0.5, users=["alice"], seed=7)
        return [get(sandbox, alice, "/2/users/me").status_code for _ in range(12)]

    first, second = run(), run()

    assert first == second and set(first) == {200, 503}
    assert all(get(sandbox, bob, "/2/users/me").status_code == 200 for _ in range(5))


def test_unknown_fault_fields_and_profiles_are_refused(control: SandboxClient) -> None:
    with pytest.raises(SandboxError, match="unknown fault fields"):
        control.set_faults(eror_rate=0.5)
    with pytest.raises(SandboxError, match="unknown fault profile"):
        control.set_faults(profile="chaotic")
    assert control.set_faults(profile="flaky")["error_rate"] == 0.05


def test_the_request_log_records_x_routes_with_latency_and_never_tokens(
        sandbox: RunningSandbox, control: SandboxClient, alice: dict[str, Any]) -> None:
    control.set_faults(latency_ms=20)
    post(sandbox, alice, "logged")
    get(sandbox, None, "/2/users/me")
    first_id = control.requests()[0]["id"]

    log = control.requests()
    later = control.requests(since_id=first_id)

    assert [(r["method"], r["path"], r["status"], r["user"]) for r in log] == [
        ("POST", "/2/tweets", 201, "alice"), ("GET", "/2/users/me", 401, None)]
    assert log[0]["latency_ms"] >= 20 and log[0]["fault"] == "latency"
    assert [r["id"] for r in later] == [log[1]["id"]]
    assert alice["oauth2"]["access_token"] not in str(log)


# ---- clock, restart, reset -------------------------------------------------------------------


def test_the_clock_can_be_set_shifted_and_sped_up(control: SandboxClient) -> None:
    set_to = control.set_clock(now="2026-10-12T09:00:00Z")
    faster = control.set_clock(speed=3600.0)

    assert set_to["now"].startswith("2026-10-12T09:00:0")
    assert faster["speed"] == 3600.0
    later = control.clock()["now"]
    assert later > set_to["now"]
    assert control.set_clock(offset_seconds=0, speed=1)["offset_seconds"] == pytest.approx(
        0, abs=1)


def test_state_survives_a_stop_and_restart_on_the_same_file(tmp_path: Path) -> None:
    state = tmp_path / "sandbox.db"
    first = start(state, port=0)
    control = SandboxClient(first.url)
    alice = control.create_account("alice", followers=10)
    post(first, alice, "before the restart")
    control.set_faults(latency_ms=1, seed=3)
    control.set_clock(offset_seconds=HOUR)
    first.stop()

    second = start(state, port=0)
    try:
        again = SandboxClient(second.url)
        assert [p["text"] for p in again.posts()] == ["before the restart"]
        assert post(second, alice, "after the restart").status_code == 201
        assert again.faults()["seed"] == 3
        assert again.clock()["offset_seconds"] == pytest.approx(HOUR, abs=5)
        assert int(again.posts()[1]["id"]) > int(again.posts()[0]["id"])
    finally:
        second.stop()


def test_reset_forgets_everything(sandbox: RunningSandbox, control: SandboxClient,
                                  alice: dict[str, Any]) -> None:
    post(sandbox, alice, "soon forgotten")
    control.set_faults(error_rate=1.0)

    control.reset()

    assert control.posts() == [] and control.accounts() == [] and control.requests() == []
    assert control.faults()["error_rate"] == 0
    assert post(sandbox, alice, "old token").status_code == 401


def test_concurrent_posts_are_all_stored_with_unique_increasing_ids(
        sandbox: RunningSandbox, control: SandboxClient, alice: dict[str, Any]) -> None:
    ids: list[str] = []
    lock = threading.Lock()

    def send(worker: int) -> None:
        with requests.Session() as session:
            for n in range(15):
                answer = session.post(f"{sandbox.url}/2/tweets", headers=bearer(alice),
                                      json={"text": f"worker {worker} post {n}"}, timeout=5)
                with lock:
                    ids.append(answer.json()["data"]["id"])

    threads = [threading.Thread(target=send, args=(w,)) for w in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(set(ids)) == 90
    assert sorted(p["id"] for p in control.posts()) == sorted(ids)


# ---- connecting accounts ---------------------------------------------------------------------


def test_the_oauth1_pin_flow_gives_a_working_access_token(
        sandbox: RunningSandbox, alice: dict[str, Any]) -> None:
    requested = requests.post(f"{sandbox.url}/oauth/request_token", timeout=5,
                              auth=OAuth1("ck", "cs", callback_uri="oob"))
    request_token = {k: v[0] for k, v in parse_qs(requested.text).items()}
    page = requests.get(f"{sandbox.url}/oauth/authorize", timeout=5, params={
        "oauth_token": request_token["oauth_token"], "username": "alice"})
    pin = re.search(r'<code id="pin">(\d+)</code>', page.text)
    assert pin is not None

    def exchange(verifier: str) -> requests.Response:
        return requests.post(f"{sandbox.url}/oauth/access_token", timeout=5, auth=OAuth1(
            "ck", "cs", resource_owner_key=request_token["oauth_token"],
            resource_owner_secret=request_token["oauth_token_secret"], verifier=verifier))

    wrong = exchange("0000000" if pin.group(1) != "0000000" else "1111111")
    right = exchange(pin.group(1))
    replayed = exchange(pin.group(1))

    assert request_token["oauth_callback_confirmed"] == "true"
    assert wrong.status_code == 401 and replayed.status_code == 401
    granted = {k: v[0] for k, v in parse_qs(right.text).items()}
    assert granted["user_id"] == alice["id"] and granted["screen_name"] == "alice"
    me = requests.get(f"{sandbox.url}/2/users/me", timeout=5,
                      headers=oauth1({"oauth1": {"token": granted["oauth_token"]}}))
    assert me.json()["data"]["username"] == "alice"


def test_the_oauth2_pkce_flow_checks_the_verifier_and_refreshes_once(
        sandbox: RunningSandbox, alice: dict[str, Any]) -> None:
    verifier = "v" * 64
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(
        b"=").decode()
    redirect_uri = "https://chorus.example/callback"
    authorised = requests.get(f"{sandbox.url}/i/oauth2/authorize", allow_redirects=False,
                              timeout=5, params={
                                  "response_type": "code", "client_id": "chorus",
                                  "redirect_uri": redirect_uri, "scope": "tweet.write",
                                  "state": "s123", "code_challenge": challenge,
                                  "code_challenge_method": "S256", "username": "alice"})
    location = urlsplit(authorised.headers["Location"])
    returned = {k: v[0] for k, v in parse_qs(location.query).items()}

    def token(**form: str) -> requests.Response:
        return requests.post(f"{sandbox.url}/2/oauth2/token", data=form, timeout=5)

    code_form = {"grant_type": "authorization_code", "code": returned["code"],
                 "redirect_uri": redirect_uri, "client_id": "chorus"}
    wrong = token(**code_form, code_verifier="w" * 64)
    issued = token(**code_form, code_verifier=verifier)
    refresh_form = {"grant_type": "refresh_token", "client_id": "chorus",
                    "refresh_token": issued.json()["refresh_token"]}
    refreshed = token(**refresh_form)
    refused = token(**refresh_form)

    assert authorised.status_code == 302 and returned["state"] == "s123"
    assert f"{location.scheme}://{location.netloc}{location.path}" == redirect_uri
    assert wrong.status_code == 400 and wrong.json()["error"] == "invalid_request"
    assert issued.json()["token_type"] == "bearer" and issued.json()["expires_in"] == 7200
    assert refreshed.status_code == 200 and refused.status_code == 400
    new_access = refreshed.json()["access_token"]
    me = requests.get(f"{sandbox.url}/2/users/me", timeout=5,
                      headers={"Authorization": f"Bearer {new_access}"})
    assert me.json()["data"]["id"] == alice["id"]


# ---- tweepy's real client --------------------------------------------------------------------


class _ToSandbox(HTTPAdapter):
    """Sends what tweepy addresses to api.twitter.com to the sandbox instead."""

    def __init__(self, base_url: str) -> None:
        super().__init__()
        self.base_url = base_url

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        request.url = (request.url or "").replace("https://api.twitter.com", self.base_url, 1)
        return super().send(request, **kwargs)


def test_tweepys_client_parses_the_sandboxs_answers(
        sandbox: RunningSandbox, control: SandboxClient, alice: dict[str, Any]) -> None:
    client = tweepy.Client(consumer_key="ck", consumer_secret="cs",
                           access_token=alice["oauth1"]["token"],
                           access_token_secret=alice["oauth1"]["secret"])
    client.session.mount("https://api.twitter.com", _ToSandbox(sandbox.url))

    created = client.create_tweet(text="Posted through tweepy")
    me = client.get_me()
    control.set_clock(offset_seconds=12 * HOUR)
    timeline = client.get_users_tweets(me.data.id, tweet_fields=["created_at", "public_metrics"],
                                       user_auth=True)
    looked_up = client.get_tweets([created.data["id"], "1800000000000000999"],
                                  tweet_fields=["public_metrics"], user_auth=True)

    assert me.data.username == "alice"
    [tweet] = timeline.data
    assert tweet.id == int(created.data["id"]) and tweet.text == "Posted through tweepy"
    assert tweet.created_at is not None and tweet.created_at.tzinfo is not None
    assert tweet.public_metrics["impression_count"] > 0
    assert timeline.meta["result_count"] == 1
    assert looked_up.data[0].public_metrics == tweet.public_metrics
    assert looked_up.errors[0]["value"] == "1800000000000000999"
    single = client.get_tweet(created.data["id"], tweet_fields=["created_at"], user_auth=True)
    assert single.data.created_at == tweet.created_at
    with pytest.raises(tweepy.Forbidden, match="duplicate content"):
        client.create_tweet(text="Posted through tweepy")
