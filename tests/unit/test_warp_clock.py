"""The replay's clock: real speed between jumps, forward only, never past its end."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from campaigns.core.clock import WarpClock

REAL_NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)


class FakeReal:
    def __init__(self) -> None:
        self.epoch = REAL_NOW.timestamp()

    def __call__(self) -> float:
        return self.epoch

    def advance(self, seconds: float) -> None:
        self.epoch += seconds


def test_it_starts_in_the_past_and_runs_at_real_speed() -> None:
    real = FakeReal()
    clock = WarpClock(REAL_NOW - timedelta(days=365), real=real)
    assert clock.now() == REAL_NOW - timedelta(days=365)
    real.advance(90)
    assert clock.now() == REAL_NOW - timedelta(days=365) + timedelta(seconds=90)
    assert not clock.caught_up


def test_jumps_go_forward_only_and_stop_at_real_time() -> None:
    real = FakeReal()
    clock = WarpClock(REAL_NOW - timedelta(days=10), real=real)
    assert clock.jump_to(REAL_NOW - timedelta(days=3)) == REAL_NOW - timedelta(days=3)
    assert clock.jump_to(REAL_NOW - timedelta(days=5)) == REAL_NOW - timedelta(days=3)
    assert clock.jump_to(REAL_NOW + timedelta(days=1)) == REAL_NOW
    assert clock.caught_up
    real.advance(60)
    assert clock.now() == REAL_NOW + timedelta(seconds=60)


def test_a_start_in_the_future_is_real_time() -> None:
    clock = WarpClock(REAL_NOW + timedelta(days=1), real=FakeReal())
    assert clock.now() == REAL_NOW and clock.caught_up


def test_with_an_end_it_stops_there() -> None:
    real = FakeReal()
    end = REAL_NOW - timedelta(days=30)
    clock = WarpClock(REAL_NOW - timedelta(days=40), until=end, real=real)
    assert clock.jump_to(REAL_NOW) == end
    assert clock.caught_up
    real.advance(3600)
    assert clock.now() == end


def test_to_real_says_when_apscheduler_should_run_a_job() -> None:
    real = FakeReal()
    clock = WarpClock(REAL_NOW - timedelta(days=2), real=real)
    clock.jump_to(REAL_NOW - timedelta(days=1))
    due = REAL_NOW - timedelta(days=1) + timedelta(seconds=5)
    assert clock.to_real(due) == REAL_NOW + timedelta(seconds=5)
    assert clock.epoch() == (REAL_NOW - timedelta(days=1)).timestamp()
