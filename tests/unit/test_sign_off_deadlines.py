"""Sign-off deadlines as a table: what expires and which campaign is reminded, at `now`."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from campaigns.core.sign_off_deadlines import Waiting, decide, reminder_key
from campaigns.core.states import DeliveryStatus, TransitionError, check_transition

NOW = datetime(2026, 10, 2, 9, 0, tzinfo=UTC)
DAY = timedelta(hours=24)
S = DeliveryStatus


def at(**delta: float) -> datetime:
    return NOW + timedelta(**delta)


@pytest.mark.parametrize(("waiting", "expire", "remind"), [
    ([], (), {}),
    ([Waiting(1, 10, at(hours=25))], (), {}),  # not yet within the reminder window
    ([Waiting(1, 10, at(hours=24))], (), {10: at(hours=24)}),  # exactly at the window's edge
    ([Waiting(1, 10, at(hours=2)), Waiting(2, 10, at(hours=1))], (), {10: at(hours=1)}),
    ([Waiting(1, 10, at(seconds=1))], (), {10: at(seconds=1)}),
    ([Waiting(1, 10, NOW)], (1,), {}),  # its time has come: expired, not reminded
    ([Waiting(2, 10, at(days=-3)), Waiting(1, 10, at(minutes=-1))], (1, 2), {}),
    ([Waiting(1, 10, at(minutes=-1)), Waiting(2, 10, at(hours=3)),
      Waiting(3, 11, at(hours=30)), Waiting(4, 12, at(hours=5))],
     (1,), {10: at(hours=3), 12: at(hours=5)}),
], ids=["nothing waits", "too early", "window edge", "earliest of a campaign", "one second",
        "due now", "overdue", "mixed campaigns"])
def test_expiry_and_reminders_at_now(waiting: list[Waiting], expire: tuple[int, ...],
                                     remind: dict[int, datetime]) -> None:
    decided = decide(waiting, now=NOW, remind_before=DAY)
    assert (decided.expire, decided.remind) == (expire, remind)


def test_no_reminder_window_only_expires() -> None:
    decided = decide([Waiting(1, 10, at(minutes=1)), Waiting(2, 10, at(minutes=-1))],
                     now=NOW, remind_before=timedelta(0))
    assert (decided.expire, decided.remind) == ((2,), {})


def test_a_reminder_is_one_incident_per_round_of_sign_off() -> None:
    assert reminder_key("nhcaw-2026", None) == "sign-off-due:nhcaw-2026:never"
    assert reminder_key("nhcaw-2026", NOW) != reminder_key("nhcaw-2026", at(days=1))


def test_a_draft_may_expire_and_an_expired_post_is_only_ever_cancelled() -> None:
    check_transition(S.DRAFT, S.EXPIRED)
    check_transition(S.EXPIRED, S.CANCELLED)
    for later in (S.APPROVED, S.SCHEDULED, S.SENDING, S.DRAFT):
        with pytest.raises(TransitionError):
            check_transition(S.EXPIRED, later)
    with pytest.raises(TransitionError):
        check_transition(S.APPROVED, S.EXPIRED)  # a signed-off post is missed, not expired
