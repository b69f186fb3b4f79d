"""Bluesky's pure parts: record keys, how failures become outcomes, and names."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from campaigns.cli.connect_bluesky import sandbox_name_matches
from scheduler.publishers.base import Outcome, RateInfo, ReadOutcome
from scheduler.publishers.bluesky_keys import KEY_EPOCH, is_tid, record_key, tid
from scheduler.publishers.bluesky_outcomes import (
    RETRY_UNREACHED,
    RETRY_WITHOUT_RESET,
    Failure,
    login_outcome,
    rate_info,
    read_outcome,
    send_outcome,
)
from scheduler.sandbox.bluesky_api import handle_for

NOW = datetime(2026, 10, 12, 9, 0, tzinfo=UTC)
ALPHABET = "234567abcdefghijklmnopqrstuvwxyz"


def decode(key: str) -> tuple[int, int]:
    value = 0
    for char in key:
        value = value * 32 + ALPHABET.index(char)
    return value >> 10, value & 1023


# ---- record keys -----------------------------------------------------------------------------


def test_a_tid_encodes_its_microseconds_and_clock_id() -> None:
    assert tid(0) == "2222222222222"
    assert decode(tid(1_700_000_000_123_456, 7)) == (1_700_000_000_123_456, 7)
    assert is_tid(tid(2**53 - 1, 1023))
    with pytest.raises(ValueError):
        tid(2**53)
    with pytest.raises(ValueError):
        tid(1, 1024)


def test_a_deliverys_record_key_is_a_stable_tid_soon_after_its_epoch() -> None:
    key = record_key(41)
    assert key == record_key(41) and is_tid(key) and len(key) == 13
    micros, clock_id = decode(key)
    assert datetime.fromtimestamp(micros / 1e6, UTC) == KEY_EPOCH + timedelta(microseconds=41)
    assert clock_id == 0


def test_record_keys_differ_and_sort_as_their_delivery_ids() -> None:
    keys = [record_key(n) for n in (0, 1, 9, 10, 31, 32, 1_000_000, 2**40)]
    assert len(set(keys)) == len(keys) and keys == sorted(keys)
    with pytest.raises(ValueError):
        record_key(-1)


@pytest.mark.parametrize(("text", "valid"), [
    ("3jzfcijpj2z2a", True), ("2222222222222", True), ("kzzzzzzzzzzzz", False),
    ("3jzfcijpj2z2", False), ("3JZFCIJPJ2Z2A", False), ("3jzfcijpj2z21", False)])
def test_only_tid_shaped_keys_are_tids(text: str, valid: bool) -> None:
    assert is_tid(text) is valid


# ---- failures into outcomes ------------------------------------------------------------------

RESET = NOW + timedelta(minutes=7)
LIMITED = RateInfo(limit=100, remaining=0, reset=RESET)


@pytest.mark.parametrize(("failure", "posting", "outcome", "said"), [
    (Failure(None, cause="ConnectError", never_sent=True), True, Outcome.RETRY_LATER,
     "nothing was sent"),
    (Failure(None, cause="ReadTimeout"), True, Outcome.UNKNOWN, "may or may not exist"),
    (Failure(None, cause="RemoteProtocolError"), False, Outcome.RETRY_LATER,
     "nothing was posted"),
    (Failure(429, "RateLimitExceeded", rate=LIMITED), True, Outcome.RETRY_LATER, "until"),
    (Failure(401, "AuthenticationRequired"), True, Outcome.REAUTH, "reconnect the account"),
    (Failure(400, "ExpiredToken", "Token has expired"), True, Outcome.REAUTH, "ExpiredToken"),
    (Failure(503, "NotEnoughResources"), True, Outcome.UNKNOWN, "may or may not exist"),
    (Failure(502, "UpstreamFailure"), False, Outcome.RETRY_LATER, "nothing was posted"),
    (Failure(400, "InvalidRequest", "Invalid app.bsky.feed.post record"), True,
     Outcome.FAILED, "Bluesky refused createRecord (400 InvalidRequest: Invalid app.bsky"),
    (Failure(413, "PayloadTooLarge"), False, Outcome.FAILED, "413 PayloadTooLarge"),
])
def test_each_failure_of_a_send_has_one_outcome(
        failure: Failure, posting: bool, outcome: Outcome, said: str) -> None:
    result = send_outcome(failure, step="createRecord", posting=posting, now=NOW)
    assert result.outcome is outcome and said in result.reason
    if outcome is Outcome.RETRY_LATER:
        assert result.retry_at == (RESET if failure.status == 429 else NOW + RETRY_UNREACHED)


def test_a_429_without_a_usable_reset_waits_a_minute() -> None:
    stale = RateInfo(limit=100, remaining=0, reset=NOW - timedelta(seconds=5))
    for rate in (None, stale):
        result = send_outcome(Failure(429, rate=rate), step="createRecord", posting=True,
                              now=NOW)
        assert result.retry_at == NOW + RETRY_WITHOUT_RESET


@pytest.mark.parametrize(("failure", "outcome"), [
    (Failure(401, "AuthenticationRequired", "Invalid identifier or password"), Outcome.REAUTH),
    (Failure(400, "AccountTakedown"), Outcome.REAUTH),
    (Failure(429, rate=LIMITED), Outcome.RETRY_LATER),
    (Failure(500, "InternalServerError"), Outcome.RETRY_LATER),
    (Failure(None, cause="ReadTimeout"), Outcome.RETRY_LATER),
])
def test_a_failed_login_never_leaves_a_post_in_doubt(failure: Failure,
                                                     outcome: Outcome) -> None:
    result = login_outcome(failure, handle="alice.bsky.social", now=NOW)
    assert result.outcome is outcome
    if outcome is Outcome.REAUTH:
        assert "app password of alice.bsky.social" in result.reason


@pytest.mark.parametrize(("failure", "outcome"), [
    (Failure(429, rate=LIMITED), ReadOutcome.RATE_LIMITED),
    (Failure(401, "InvalidToken"), ReadOutcome.REAUTH),
    (Failure(400, "InvalidRequest", "uris must list between 1 and 25"), ReadOutcome.REFUSED),
    (Failure(503, "NotEnoughResources"), ReadOutcome.UNREACHABLE),
    (Failure(None, cause="ConnectError", never_sent=True), ReadOutcome.UNREACHABLE),
])
def test_each_failure_of_a_read_has_one_outcome(failure: Failure,
                                                outcome: ReadOutcome) -> None:
    result = read_outcome(failure, step="getPosts", now=NOW)
    assert result.outcome is outcome
    if outcome is ReadOutcome.RATE_LIMITED:
        assert result.retry_at == RESET


def test_blueskys_rate_limit_headers_are_read() -> None:
    headers = {"ratelimit-limit": "3000", "ratelimit-remaining": "2999",
               "ratelimit-reset": str(int(RESET.timestamp())), "ratelimit-policy": "3000;w=300"}
    assert rate_info(headers) == RateInfo(3000, 2999, RESET)
    assert rate_info({}) is None
    assert rate_info({"ratelimit-remaining": "soon"}) == RateInfo(None, None, None)


# ---- names -----------------------------------------------------------------------------------


@pytest.mark.parametrize(("username", "handle"), [
    ("alice", "alice.bsky.sandbox"), ("York_Police", "york-police.bsky.sandbox"),
    ("_edge_", "edge.bsky.sandbox"), ("___", "account.bsky.sandbox")])
def test_the_sandbox_names_handles_after_usernames(username: str, handle: str) -> None:
    assert handle_for(username) == handle


@pytest.mark.parametrize(("handle", "username", "same"), [
    ("yorkagainsthate.bsky.social", "YorkAgainstHate", True),
    ("uoy-community.bsky.social", "uoy_community", True),
    ("@uoy-community.bsky.social", "UOY_Community", True),
    ("uoy-community.bsky.social", "uoy", False),
    ("yorkagainsthate.bsky.social", "bsky", False),
])
def test_a_sandbox_username_stands_for_the_handle_it_names(
        handle: str, username: str, same: bool) -> None:
    assert sandbox_name_matches(handle, username) is same
