"""The sandbox's Mastodon routes over real HTTP: Mastodon's shapes, errors, idempotency, limits,
faults, media processing and the out-of-band authorisation flow."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import requests

from scheduler.sandbox import engagement
from scheduler.sandbox.client import SandboxClient
from scheduler.sandbox.server import RunningSandbox, start

PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg=="
)
GIF = b"GIF89a\x01\x00\x01\x00\x00\x00\x00;"
HOUR = 3600
#: Seven and a half minutes into a fifteen-minute window: no test crosses into the next one.
MID_WINDOW = "2026-09-01T12:07:30Z"
OOB = "urn:ietf:wg:oauth:2.0:oob"
SCOPES = "read:statuses write:statuses write:media read:accounts"


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


def auth(account: dict[str, Any]) -> dict[str, str]:
    return {"Authorization": f"Bearer {account['mastodon']['access_token']}"}


def api(sandbox: RunningSandbox, path: str) -> str:
    return f"{sandbox.url}/mastodon{path}"


def toot(sandbox: RunningSandbox, account: dict[str, Any], text: str, *, key: str | None = None,
         **fields: Any) -> requests.Response:
    headers = {**auth(account), **({"Idempotency-Key": key} if key else {})}
    return requests.post(api(sandbox, "/api/v1/statuses"), data={"status": text, **fields},
                         headers=headers, timeout=5)


def get(sandbox: RunningSandbox, account: dict[str, Any], path: str,
        **params: Any) -> requests.Response:
    return requests.get(api(sandbox, path), params=params, headers=auth(account), timeout=5)


def upload(sandbox: RunningSandbox, account: dict[str, Any], data: bytes, mime: str,
           description: str | None = None) -> requests.Response:
    fields = {} if description is None else {"description": description}
    return requests.post(api(sandbox, "/api/v2/media"), files={"file": ("f", data, mime)},
                         data=fields, headers=auth(account), timeout=5)


# ---- the instance and accounts ---------------------------------------------------------------


@pytest.mark.parametrize("path", ["/api/v1/instance", "/api/v1/instance/", "/api/v2/instance",
                                  "/api/v2/instance/"])
def test_the_instance_says_its_version_and_limits_without_a_token(
        sandbox: RunningSandbox, path: str) -> None:
    answer = requests.get(api(sandbox, path), timeout=5)
    assert answer.status_code == 200 and answer.headers["X-Chorus-Sandbox"] == "1"
    about = answer.json()
    assert about["version"] == "4.3.0"
    assert about["configuration"]["statuses"] == {
        "max_characters": 500, "max_media_attachments": 4, "characters_reserved_per_url": 23}


def test_a_sandbox_account_gets_a_mastodon_token_beside_its_x_tokens(
        sandbox: RunningSandbox, control: SandboxClient, alice: dict[str, Any]) -> None:
    assert alice["mastodon"]["instance"] == "/mastodon"
    assert alice["mastodon"]["acct"] == "alice"
    me = get(sandbox, alice, "/api/v1/accounts/verify_credentials")
    assert me.status_code == 200
    assert (me.json()["id"], me.json()["acct"], me.json()["followers_count"]) == (
        alice["id"], "alice", 20_000)
    again = control.create_account("alice")
    assert again["mastodon"]["access_token"] == alice["mastodon"]["access_token"]


def test_an_unknown_or_revoked_token_gets_mastodons_401(
        sandbox: RunningSandbox, control: SandboxClient, alice: dict[str, Any]) -> None:
    unknown = requests.get(api(sandbox, "/api/v1/accounts/verify_credentials"), timeout=5,
                           headers={"Authorization": "Bearer nonsense"})
    assert unknown.status_code == 401
    assert unknown.json() == {"error": "The access token is invalid"}
    control.revoke("alice")
    assert toot(sandbox, alice, "after revocation").status_code == 401
    assert control.posts() == []
    renewed = control.create_account("alice")
    assert renewed["mastodon"]["access_token"] != alice["mastodon"]["access_token"]
    assert toot(sandbox, renewed, "reconnected").status_code == 200


# ---- statuses ----------------------------------------------------------------------------------


def test_a_status_is_stored_and_listed_with_its_network(
        sandbox: RunningSandbox, control: SandboxClient, alice: dict[str, Any]) -> None:
    answer = toot(sandbox, alice, "Report it: https://www.report-it.org.uk #NoPlaceForHate",
                  visibility="unlisted", language="en")
    assert answer.status_code == 200
    status = answer.json()
    assert status["visibility"] == "unlisted" and status["language"] == "en"
    assert status["account"]["acct"] == "alice"
    assert 'href="https://www.report-it.org.uk"' in status["content"]
    assert "#<span>NoPlaceForHate</span>" in status["content"]
    x_post = requests.post(f"{sandbox.url}/2/tweets", json={"text": "On X"}, timeout=5,
                           headers={"Authorization":
                                    f"Bearer {alice['oauth2']['access_token']}"})
    assert x_post.status_code == 201
    listed = {(p["network"], p["text"]) for p in control.posts(author="alice")}
    assert listed == {("mastodon", "Report it: https://www.report-it.org.uk #NoPlaceForHate"),
                      ("x", "On X")}


def test_a_json_body_is_accepted_as_mastodon_accepts_one(
        sandbox: RunningSandbox, alice: dict[str, Any]) -> None:
    answer = requests.post(api(sandbox, "/api/v1/statuses"), headers=auth(alice), timeout=5,
                           json={"status": "Sent as JSON", "visibility": "public"})
    assert answer.status_code == 200 and answer.json()["content"] == "<p>Sent as JSON</p>"


def test_the_limit_is_500_with_each_link_counted_as_23(
        sandbox: RunningSandbox, alice: dict[str, Any]) -> None:
    link = "https://www.example.org/" + "a" * 200
    assert toot(sandbox, alice, "x" * 476 + " " + link).status_code == 200  # 476 + 1 + 23
    refused = toot(sandbox, alice, "x" * 501)
    assert refused.status_code == 422
    assert refused.json() == {"error": "Validation failed: Text character limit of 500 exceeded"}
    blank = toot(sandbox, alice, "  ")
    assert blank.status_code == 422 and "blank" in blank.json()["error"]


def test_an_idempotency_key_returns_the_first_status_for_an_hour(
        sandbox: RunningSandbox, control: SandboxClient, alice: dict[str, Any]) -> None:
    bob = control.create_account("bob")
    first = toot(sandbox, alice, "Once only", key="chorus-delivery-7").json()
    repeat = toot(sandbox, alice, "Once only, edited", key="chorus-delivery-7").json()
    bobs = toot(sandbox, bob, "Once only", key="chorus-delivery-7").json()
    assert repeat["id"] == first["id"] and bobs["id"] != first["id"]
    control.set_clock(offset_seconds=HOUR + 1)
    later = toot(sandbox, alice, "Once only", key="chorus-delivery-7").json()
    assert later["id"] != first["id"]
    assert [p["text"] for p in control.posts(author="alice")] == ["Once only", "Once only"]


def test_statuses_are_read_singly_and_in_batches_leaving_out_deleted_ones(
        sandbox: RunningSandbox, control: SandboxClient, alice: dict[str, Any]) -> None:
    bob = control.create_account("bob")
    kept = toot(sandbox, alice, "kept").json()["id"]
    gone = toot(sandbox, alice, "gone").json()["id"]
    not_bobs = requests.delete(api(sandbox, f"/api/v1/statuses/{gone}"), headers=auth(bob),
                               timeout=5)
    assert not_bobs.status_code == 404
    deleted = requests.delete(api(sandbox, f"/api/v1/statuses/{gone}"), headers=auth(alice),
                              timeout=5)
    assert deleted.status_code == 200 and deleted.json()["text"] == "gone"

    batch = get(sandbox, bob, "/api/v1/statuses", **{"id[]": [kept, gone, "12345"]})
    assert batch.status_code == 200 and [s["id"] for s in batch.json()] == [kept]
    assert get(sandbox, alice, f"/api/v1/statuses/{kept}").json()["content"] == "<p>kept</p>"
    missing = get(sandbox, alice, f"/api/v1/statuses/{gone}")
    assert missing.status_code == 404 and missing.json() == {"error": "Record not found"}
    too_many = get(sandbox, alice, "/api/v1/statuses", **{"id[]": [str(n) for n in range(21)]})
    assert too_many.status_code == 422
    assert [p["deleted"] for p in control.posts(author="alice")] == [False, True]


def test_counts_follow_the_engagement_model_and_grow_with_sandbox_time(
        sandbox: RunningSandbox, control: SandboxClient, alice: dict[str, Any]) -> None:
    status_id = toot(sandbox, alice, "reach").json()["id"]
    seen = []
    for hours in (1, 48):
        control.set_clock(offset_seconds=hours * HOUR)
        status = get(sandbox, alice, f"/api/v1/statuses/{status_id}").json()
        seen.append((status["favourites_count"], status["reblogs_count"],
                     status["replies_count"]))
    assert seen[0] <= seen[1] and seen[1][0] > 0
    # at 48 hours the model has all but reached its ceiling: the counts are the model's own
    at_two_days = engagement.public_metrics(status_id, 20_000, 48 * HOUR)
    assert seen[1][0] == at_two_days["like_count"]
    assert seen[1][1] == at_two_days["retweet_count"]


def test_an_accounts_statuses_page_newest_first_by_id(
        sandbox: RunningSandbox, alice: dict[str, Any]) -> None:
    ids = [toot(sandbox, alice, f"status {n}").json()["id"] for n in range(5)]
    reply = toot(sandbox, alice, "a reply", in_reply_to_id=ids[0]).json()["id"]
    path = f"/api/v1/accounts/{alice['id']}/statuses"

    first = get(sandbox, alice, path, limit=2)
    assert [s["id"] for s in first.json()] == [reply, ids[4]]
    assert 'rel="next"' in first.headers["Link"]
    assert [s["id"] for s in get(sandbox, alice, path, limit=2, max_id=ids[4]).json()] == [
        ids[3], ids[2]]
    assert [s["id"] for s in get(sandbox, alice, path, since_id=ids[2],
                                 exclude_replies="true").json()] == [ids[4], ids[3]]
    assert [s["id"] for s in get(sandbox, alice, path, min_id=ids[0], limit=2).json()] == [
        ids[2], ids[1]]
    unknown = get(sandbox, alice, "/api/v1/accounts/999/statuses")
    assert unknown.status_code == 404


def test_a_time_converts_to_a_since_id_as_mastodon_ids_are_snowflakes(
        sandbox: RunningSandbox, control: SandboxClient, alice: dict[str, Any]) -> None:
    control.set_clock(now="2026-09-01T12:00:00Z")
    before = toot(sandbox, alice, "before").json()["id"]
    control.set_clock(now="2026-09-01T13:00:00Z")
    after = toot(sandbox, alice, "after").json()["id"]
    cut = int(datetime.fromisoformat("2026-09-01T12:30:00+00:00").timestamp() * 1000) << 16
    found = get(sandbox, alice, f"/api/v1/accounts/{alice['id']}/statuses", since_id=cut)
    assert [s["id"] for s in found.json()] == [after] and int(before) < cut


# ---- media ------------------------------------------------------------------------------------


def test_an_image_is_processed_at_once_and_its_description_shows_on_the_status(
        sandbox: RunningSandbox, control: SandboxClient, alice: dict[str, Any]) -> None:
    media = upload(sandbox, alice, PNG, "image/png", "A purple ribbon")
    assert media.status_code == 200
    assert media.json()["type"] == "image" and media.json()["url"]
    status = toot(sandbox, alice, "Our poster", **{"media_ids[]": media.json()["id"]}).json()
    assert [m["description"] for m in status["media_attachments"]] == ["A purple ribbon"]
    [listed] = control.posts(author="alice")
    assert listed["media"] == [{"id": media.json()["id"], "mime": "image/png",
                                "size": len(PNG), "alt_text": "A purple ribbon"}]
    again = toot(sandbox, alice, "Same poster", **{"media_ids[]": media.json()["id"]})
    assert again.status_code == 422  # an attachment belongs to one status


def test_a_gif_is_processed_in_the_background_and_cannot_be_attached_until_done(
        sandbox: RunningSandbox, control: SandboxClient, alice: dict[str, Any]) -> None:
    control.set_clock(now=MID_WINDOW)
    media = upload(sandbox, alice, GIF, "image/gif")
    assert media.status_code == 202 and media.json()["url"] is None
    media_id = media.json()["id"]
    assert get(sandbox, alice, f"/api/v1/media/{media_id}").status_code == 206
    early = toot(sandbox, alice, "too soon", **{"media_ids[]": media_id})
    assert early.status_code == 422 and "processing" in early.json()["error"]
    control.set_clock(now="2026-09-01T12:07:40Z")
    ready = get(sandbox, alice, f"/api/v1/media/{media_id}")
    assert ready.status_code == 200 and ready.json()["type"] == "gifv" and ready.json()["url"]
    assert toot(sandbox, alice, "now", **{"media_ids[]": media_id}).status_code == 200


def test_unsupported_or_foreign_media_is_refused(
        sandbox: RunningSandbox, control: SandboxClient, alice: dict[str, Any]) -> None:
    assert upload(sandbox, alice, b"%PDF-1.4", "application/pdf").status_code == 422
    bob = control.create_account("bob")
    bobs = upload(sandbox, bob, PNG, "image/png").json()["id"]
    refused = toot(sandbox, alice, "not mine", **{"media_ids[]": bobs})
    assert refused.status_code == 422 and bobs in refused.json()["error"]


# ---- limits, faults, the request log ----------------------------------------------------------


def test_rate_limits_use_mastodons_headers_and_their_own_windows(
        sandbox: RunningSandbox, control: SandboxClient, alice: dict[str, Any]) -> None:
    control.set_faults(rate_limit={"posts_per_window": 1, "window_seconds": 900})
    control.set_clock(now=MID_WINDOW)
    x_post = requests.post(f"{sandbox.url}/2/tweets", json={"text": "X counts apart"},
                           headers={"Authorization":
                                    f"Bearer {alice['oauth2']['access_token']}"}, timeout=5)
    assert x_post.status_code == 201
    answers = [toot(sandbox, alice, f"status {n}") for n in range(2)]

    assert [a.status_code for a in answers] == [200, 429]
    assert answers[0].headers["X-RateLimit-Limit"] == "1"
    assert answers[0].headers["X-RateLimit-Remaining"] == "0"
    assert answers[1].json() == {"error": "Too many requests"}
    assert answers[1].headers["X-RateLimit-Reset"] == "2026-09-01T12:15:00.000Z"
    assert "x-rate-limit-reset" not in answers[1].headers
    assert get(sandbox, alice, "/api/v1/accounts/verify_credentials").status_code == 200


def test_faults_apply_to_mastodon_routes_and_they_are_logged(
        sandbox: RunningSandbox, control: SandboxClient, alice: dict[str, Any]) -> None:
    control.set_faults(fail_next=[{"status": 503, "count": 1,
                                   "route": "POST /mastodon/api/v1/statuses"}])
    unavailable = toot(sandbox, alice, "during an outage")
    assert unavailable.status_code == 503 and unavailable.json() == {
        "error": "Service Unavailable"}
    control.set_faults(drop_after_store_rate=1.0, routes=["/mastodon/"])
    with pytest.raises(requests.ConnectionError):
        toot(sandbox, alice, "Did this go out?", key="k1")
    control.clear_faults()
    assert toot(sandbox, alice, "Did this go out?", key="k1").status_code == 200
    assert [p["text"] for p in control.posts()] == ["Did this go out?"]
    logged = [(r["path"], r["status"], r["user"], r["fault"]) for r in control.requests()]
    assert logged == [
        ("/mastodon/api/v1/statuses", 503, "alice", "fail_next:503"),
        ("/mastodon/api/v1/statuses", None, "alice", "drop_after_store"),
        ("/mastodon/api/v1/statuses", 200, "alice", None)]


def test_reset_forgets_statuses_and_media(
        sandbox: RunningSandbox, control: SandboxClient, alice: dict[str, Any]) -> None:
    media_id = upload(sandbox, alice, PNG, "image/png").json()["id"]
    toot(sandbox, alice, "soon forgotten")
    control.reset()
    assert control.posts() == []
    again = control.create_account("alice")
    assert get(sandbox, again, f"/api/v1/media/{media_id}").status_code == 404


# ---- authorising an app -----------------------------------------------------------------------


def register(sandbox: RunningSandbox, scopes: str = SCOPES) -> dict[str, Any]:
    answer = requests.post(api(sandbox, "/api/v1/apps"), timeout=5, data={
        "client_name": "Chorus", "redirect_uris": OOB, "scopes": scopes})
    assert answer.status_code == 200
    return dict(answer.json())


def authorise(sandbox: RunningSandbox, app: dict[str, Any], username: str,
              scope: str = SCOPES) -> requests.Response:
    return requests.get(api(sandbox, "/oauth/authorize"), timeout=5, params={
        "client_id": app["client_id"], "redirect_uri": OOB, "response_type": "code",
        "scope": scope, "username": username})


def exchange(sandbox: RunningSandbox, app: dict[str, Any], code: str,
             **changes: str) -> requests.Response:
    return requests.post(api(sandbox, "/oauth/token"), timeout=5, data={
        "grant_type": "authorization_code", "code": code, "client_id": app["client_id"],
        "client_secret": app["client_secret"], "redirect_uri": OOB, "scope": SCOPES,
        **changes})


def test_the_out_of_band_flow_gives_a_token_with_the_scopes_asked_for(
        sandbox: RunningSandbox, alice: dict[str, Any]) -> None:
    app = register(sandbox)
    page = authorise(sandbox, app, "alice")
    assert page.status_code == 200 and "text/html" in page.headers["Content-Type"]
    code = page.text.split('<code id="code">')[1].split("</code>")[0]
    issued = exchange(sandbox, app, code)
    assert issued.status_code == 200
    assert issued.json()["token_type"] == "Bearer" and issued.json()["scope"] == SCOPES
    token = {"mastodon": {"access_token": issued.json()["access_token"]}}
    assert get(sandbox, token, "/api/v1/accounts/verify_credentials").json()["acct"] == "alice"
    reused = exchange(sandbox, app, code)
    assert reused.status_code == 400 and reused.json()["error"] == "invalid_grant"


def test_the_consent_page_asks_who_approves_and_checks_the_app(
        sandbox: RunningSandbox, alice: dict[str, Any]) -> None:
    app = register(sandbox)
    asking = authorise(sandbox, app, "")
    assert asking.status_code == 200 and 'name="username"' in asking.text
    assert authorise(sandbox, app, "nobody").status_code == 404
    assert authorise(sandbox, {"client_id": "unknown"}, "alice").status_code == 400
    assert authorise(sandbox, app, "alice", scope="admin:write").status_code == 400
    code = requests.get(api(sandbox, "/oauth/authorize"), timeout=5,
                        headers={"Accept": "application/json"}, params={
                            "client_id": app["client_id"], "redirect_uri": OOB,
                            "response_type": "code", "scope": SCOPES,
                            "username": "alice"}).json()["code"]
    wrong_secret = exchange(sandbox, app, code, client_secret="guess")
    assert wrong_secret.status_code == 401 and wrong_secret.json()["error"] == "invalid_client"


def test_a_token_can_do_only_what_its_scopes_allow(
        sandbox: RunningSandbox, alice: dict[str, Any]) -> None:
    app = register(sandbox, scopes="read")
    code = authorise(sandbox, app, "alice", scope="read").text.split(
        '<code id="code">')[1].split("</code>")[0]
    issued = exchange(sandbox, app, code, scope="read").json()
    reader = {"mastodon": {"access_token": issued["access_token"]}}
    assert get(sandbox, reader, "/api/v1/accounts/verify_credentials").status_code == 200
    refused = toot(sandbox, reader, "not allowed")
    assert refused.status_code == 403
    assert refused.json() == {"error": "This action is outside the authorized scopes"}
