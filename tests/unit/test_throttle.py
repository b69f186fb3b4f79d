"""The sign-in lock-out rule (campaigns.storage.throttle.locked_until), as a table."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from campaigns.storage.throttle import ACCOUNT_RULE, locked_until

T0 = datetime(2026, 9, 1, 12, 0, tzinfo=UTC)


def minutes(*offsets: float) -> list[datetime]:
    return [T0 + timedelta(minutes=m) for m in offsets]


@pytest.mark.parametrize(("failures", "until"), [
    ([], None),
    (minutes(0, 1, 2, 3), None),  # four: no lock
    (minutes(0, 1, 2, 3, 4), T0 + timedelta(minutes=4 + 15)),  # five in 15 minutes
    (minutes(0, 5, 10, 15, 20), None),  # five, but never five within 15 minutes
    (minutes(0, 1, 2, 3, 4, 19, 20, 21, 22, 23), T0 + timedelta(minutes=23 + 30)),  # doubles
    (minutes(0, 1, 2, 3, 4, 5, 6, 7, 8, 9), T0 + timedelta(minutes=4 + 15)),  # during a lock
    ([T0 + timedelta(minutes=5 * n) for n in range(200)], None),  # slow: never five at once
])
def test_when_failures_lock_an_address(failures: list[datetime], until: datetime | None) -> None:
    assert locked_until(failures, ACCOUNT_RULE) == until


def test_lock_outs_double_up_to_the_longest() -> None:
    assert [ACCOUNT_RULE.lock(n) for n in range(1, 8)] == [
        timedelta(minutes=m) for m in (15, 30, 60, 120, 240, 480, 480)]
