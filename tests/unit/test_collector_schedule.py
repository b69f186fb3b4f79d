"""The collector's pure core: the decaying schedule and the packing of reads into batches."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import pytest

from scheduler.collect_schedule import (
    BATCH_SIZE,
    DuePost,
    ScheduleError,
    Tier,
    next_read_at,
    parse_schedule,
    plan_batches,
)

NOW = datetime(2026, 10, 10, 12, 0, tzinfo=UTC)
POSTED = datetime(2026, 10, 10, 9, 0, tzinfo=UTC)
DEFAULT = parse_schedule("15m/6h,1h/48h,1d/30d")
M, H, D = timedelta(minutes=1), timedelta(hours=1), timedelta(days=1)


# ---- parsing --------------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "tiers"), [
    ("15m/6h,1h/48h,1d/30d", [(15 * M, 6 * H), (H, 48 * H), (D, 30 * D)]),
    (" 15m / 6h , 1d / 4w ", [(15 * M, 6 * H), (D, 28 * D)]),
    ("1h30m/2d", [(90 * M, 2 * D)]),
    ("30s/1m,1H/1D", [(timedelta(seconds=30), M), (H, D)]),
])
def test_a_schedule_is_read_as_every_until_pairs(text: str,
                                                 tiers: list[tuple[timedelta, timedelta]]) -> None:
    assert parse_schedule(text) == tuple(Tier(every, until) for every, until in tiers)


@pytest.mark.parametrize(("text", "says"), [
    ("", "it is empty"),
    ("   ", "it is empty"),
    ("15m", "'15m' is not EVERY/UNTIL"),
    ("15m/6h/1d", "is not EVERY/UNTIL"),
    ("15m/6h,", "'' is not EVERY/UNTIL"),
    ("15x/6h", "'15x' is not a duration"),
    ("m15/6h", "'m15' is not a duration"),
    ("-15m/6h", "'-15m' is not a duration"),
    ("1.5h/6h", "'1.5h' is not a duration"),
    ("0m/6h", "'0m' must be longer than zero"),
    ("1d/6h", "interval is longer than the time it covers"),
    ("15m/6h,1h/6h", "UNTIL must be later than the one before"),
    ("15m/6h,1h/2h", "UNTIL must be later than the one before"),
])
def test_a_bad_schedule_says_what_is_wrong(text: str, says: str) -> None:
    with pytest.raises(ScheduleError, match="engagement schedule") as caught:
        parse_schedule(text)
    assert says in str(caught.value)


# ---- when to read next -----------------------------------------------------------------------


@pytest.mark.parametrize(("last_read", "expected"), [
    (None, 15 * M),                   # the first reading: one first interval after posting
    (15 * M, 30 * M),
    (17 * M, 30 * M),                 # a late reading does not push the next one back
    (5 * H + 45 * M, 6 * H),
    (6 * H, 7 * H),                   # from 6 hours: hourly
    (6 * H + 20 * M, 7 * H),
    (47 * H + 59 * M, 48 * H),
    (48 * H, 3 * D),                  # from 48 hours: daily
    (29 * D, 30 * D),                 # the last reading, at 30 days
    (29 * D + 23 * H, 30 * D),
    (30 * D, None),                   # then it is no longer tracked
    (40 * D, None),
    (-5 * M, 15 * M),                 # clocks a little apart: never before posting
])
def test_next_reading_follows_the_decaying_schedule(last_read: timedelta | None,
                                                    expected: timedelta | None) -> None:
    last = None if last_read is None else POSTED + last_read
    want = None if expected is None else POSTED + expected
    assert next_read_at(POSTED, last, DEFAULT) == want


def test_a_post_is_read_94_times_over_30_days_on_the_default_schedule() -> None:
    readings: list[datetime] = []
    due = next_read_at(POSTED, None, DEFAULT)
    while due is not None:
        readings.append(due)
        due = next_read_at(POSTED, due, DEFAULT)
    ages = [r - POSTED for r in readings]
    assert len([a for a in ages if a <= 6 * H]) == 24
    assert len([a for a in ages if 6 * H < a <= 48 * H]) == 42
    assert len([a for a in ages if a > 48 * H]) == 28
    assert ages[-1] == 30 * D


def test_a_tier_whose_interval_overshoots_it_carries_on_in_the_next() -> None:
    schedule = parse_schedule("25m/1h,1h/3h")
    assert next_read_at(POSTED, POSTED + 50 * M, schedule) == POSTED + 75 * M
    assert next_read_at(POSTED, POSTED + 75 * M, schedule) == POSTED + 2 * H
    assert next_read_at(POSTED, POSTED + 3 * H, schedule) is None


# ---- batching --------------------------------------------------------------------------------


def posts(count: int, *, accounts: int = 1, age: timedelta = H, first_id: int = 1,
          account_base: int = 1) -> list[DuePost]:
    return [DuePost(delivery_id=first_id + i, remote_id=str(10**18 + first_id + i),
                    account_id=account_base + i % accounts, posted_at=NOW - age)
            for i in range(count)]


@pytest.mark.parametrize("count", [0, 1, 99, 100, 101, 250, 1000, 10_000])
@pytest.mark.parametrize("accounts", [1, 7, 50])
def test_a_sweep_makes_the_fewest_calls_of_at_most_100_ids(count: int, accounts: int) -> None:
    batches = plan_batches(posts(count, accounts=accounts), NOW)
    assert len(batches) == math.ceil(count / BATCH_SIZE)
    assert all(0 < len(b.posts) <= BATCH_SIZE for b in batches)
    read = [p.delivery_id for b in batches for p in b.posts]
    assert sorted(read) == list(range(1, count + 1))


def test_each_accounts_posts_are_kept_together() -> None:
    batches = plan_batches(posts(400, accounts=4), NOW)  # 100 posts each
    assert [len({p.account_id for p in b.posts}) for b in batches] == [1, 1, 1, 1]
    assert all(b.account_id == b.posts[0].account_id and b.non_public for b in batches)


def test_small_accounts_share_a_batch_and_straddle_at_most_once_each() -> None:
    batches = plan_batches(posts(150, accounts=1) + posts(50, accounts=1, first_id=1000,
                                                           account_base=2), NOW)
    assert len(batches) == 2
    assert {p.account_id for p in batches[0].posts} == {1}
    assert {p.account_id for p in batches[1].posts} == {1, 2}


def test_a_batch_is_read_as_the_account_owning_most_of_its_young_posts() -> None:
    old = posts(60, age=31 * D, account_base=1)
    young = posts(40, age=H, first_id=100, account_base=2)
    [batch] = plan_batches(old + young, NOW)
    assert batch.account_id == 2 and batch.non_public


def test_no_non_public_metrics_are_asked_for_posts_older_than_30_days() -> None:
    [batch] = plan_batches(posts(10, age=30 * D), NOW)
    assert batch.account_id == 1 and not batch.non_public


def test_an_account_that_cannot_read_is_not_chosen() -> None:
    [batch] = plan_batches(posts(30, account_base=1) + posts(10, first_id=100, account_base=2),
                           NOW, readers={2})
    assert batch.account_id == 2 and batch.non_public


def test_posts_whose_accounts_cannot_read_are_read_by_another_account_publicly() -> None:
    [batch] = plan_batches(posts(5, account_base=1), NOW, readers={9})
    assert batch.account_id == 9 and not batch.non_public


def test_with_no_account_to_read_with_a_batch_has_no_reader() -> None:
    [batch] = plan_batches(posts(5), NOW, readers=set())
    assert batch.account_id is None


def test_each_network_is_batched_on_its_own() -> None:
    mixed = posts(50) + [DuePost(1000 + i, str(i), 5, NOW, "mastodon") for i in range(60)]
    batches = plan_batches(mixed, NOW, size=40)
    assert [(b.network, len(b.posts)) for b in batches] == [
        ("mastodon", 40), ("mastodon", 20), ("x", 40), ("x", 10)]


def test_per_account_batches_never_mix_accounts_and_are_read_by_their_owner() -> None:
    due = posts(25, account_base=1) + posts(10, first_id=100, account_base=2)
    batches = plan_batches(due, NOW, size=20, per_account=True)
    assert [(b.account_id, len(b.posts)) for b in batches] == [(1, 20), (1, 5), (2, 10)]
    assert all({p.account_id for p in b.posts} == {b.account_id} for b in batches)


def test_per_account_posts_whose_owner_cannot_read_have_no_reader() -> None:
    due = posts(5, account_base=1) + posts(3, first_id=100, account_base=2)
    batches = plan_batches(due, NOW, readers={2}, per_account=True)
    assert [(b.account_id, len(b.posts)) for b in batches] == [(None, 5), (2, 3)]
