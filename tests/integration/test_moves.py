"""Moving a post to another time (campaigns.storage.moves) against a real database: every
delivery of the post moves, signed-off ones come back for sign-off, the planner's refusals store
nothing, sent posts stay put, and the mover becomes an editor."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from campaigns.core.planning import Rules
from campaigns.storage import db
from campaigns.storage.approval import ApprovalError, approve_campaign
from campaigns.storage.deliveries import change_status
from campaigns.storage.models import AuditEntry, Campaign, Delivery, DeliveryStatus, Post
from campaigns.storage.moves import Moved, MoveRefused, move_post, send_spec
from tests.conftest import NOW
from tests.integration.test_load_and_plan import load, plan

S = DeliveryStatus
CAMPAIGN = "nhcaw-2026"
POST = "launch"  # day 1 (Saturday 10 October 2026) at 09:00, lead and consenting partners
MOVER = "Olu Officer"
#: Monday 12 October 2026, 10:00 in London: within the week, outside quiet hours.
TO = datetime(2026, 10, 12, 10, 0)


def post_deliveries(sessions: sessionmaker[Session], post_key: str = POST) -> list[Delivery]:
    with sessions() as session:
        query = (select(Delivery).join(Delivery.post).join(Delivery.campaign)
                 .where(Campaign.key == CAMPAIGN, Post.key == post_key).order_by(Delivery.id))
        return list(session.scalars(query))


def stored_send(sessions: sessionmaker[Session], post_key: str = POST) -> dict[str, object]:
    with sessions() as session:
        return dict(session.scalars(select(Post.send).join(Post.campaign).where(
            Campaign.key == CAMPAIGN, Post.key == post_key)).one())


def move(sessions: sessionmaker[Session], to: datetime = TO, rules: Rules | None = None,
         post_key: str = POST) -> Moved:
    with db.transaction(sessions) as session:
        return move_post(CAMPAIGN, post_key, to, rules or Rules(), session=session,
                         mover=MOVER, now=NOW)


@pytest.fixture
def approved(sessions: sessionmaker[Session], content_dir: Path) -> sessionmaker[Session]:
    """nhcaw-2026 loaded, planned and signed off by someone else."""
    load(sessions, content_dir)
    assert plan(sessions).ok
    with db.transaction(sessions) as session:
        approve_campaign(CAMPAIGN, "Sam Approver", session=session, now=NOW)
    return sessions


def advance(sessions: sessionmaker[Session], path: list[S], post_key: str = POST) -> int:
    """Take the post's first delivery along `path`; its id."""
    with db.transaction(sessions) as session:
        delivery = session.get(Delivery, post_deliveries(sessions, post_key)[0].id)
        assert delivery is not None
        for status in path:
            change_status(delivery, status, session=session, actor="test", reason="test",
                          now=NOW)
        return delivery.id


def test_moving_a_post_moves_every_one_of_its_deliveries(
    approved: sessionmaker[Session],
) -> None:
    before = {d.id: d.send_at for d in post_deliveries(approved)}
    assert len(before) > 1  # the lead's accounts and the consenting partners'

    moved = move(approved)

    after = {d.id: d.send_at for d in post_deliveries(approved)}
    assert after.keys() == before.keys()
    shift = timedelta(days=2, hours=1)  # Saturday 09:00 to Monday 10:00, same offset from UTC
    assert all(after[i] - before[i] == shift for i in before)
    assert stored_send(approved) == {"day": 3, "at": "10:00"}
    assert moved.moved == len(before)


def test_other_posts_of_the_campaign_stay_where_they_were(
    approved: sessionmaker[Session],
) -> None:
    before = [(d.id, d.send_at, d.status) for d in post_deliveries(approved, "countdown")]
    move(approved)
    assert [(d.id, d.send_at, d.status)
            for d in post_deliveries(approved, "countdown")] == before


def test_an_approved_or_scheduled_post_goes_back_to_awaiting_sign_off(
    approved: sessionmaker[Session],
) -> None:
    scheduled = advance(approved, [S.SCHEDULED])
    count = len(post_deliveries(approved))

    moved = move(approved)

    deliveries = post_deliveries(approved)
    assert {d.status for d in deliveries} == {S.DRAFT}
    assert all(d.approved_by is None for d in deliveries)
    assert moved.back_to_sign_off == count
    assert moved.summary() == ("Moved to Mon 12 Oct 2026 10:00 (Europe/London). It was "
                               "approved, so it now awaits sign-off again.")
    with approved() as session:
        audit = session.scalars(select(AuditEntry).where(AuditEntry.delivery_id == scheduled)
                                .order_by(AuditEntry.id.desc())).first()
    assert audit is not None
    assert (audit.old_status, audit.new_status, audit.actor) == ("scheduled", "draft", MOVER)


def test_a_draft_post_moves_and_stays_awaiting_sign_off(
    sessions: sessionmaker[Session], content_dir: Path
) -> None:
    load(sessions, content_dir)
    assert plan(sessions).ok
    moved = move(sessions)
    assert moved.back_to_sign_off == 0
    assert {d.status for d in post_deliveries(sessions)} == {S.DRAFT}
    assert "awaits sign-off, as before" in moved.summary()


@pytest.mark.parametrize(("to", "rules", "said"), [
    pytest.param(datetime(2026, 10, 12, 23, 0), Rules(), "quiet hours", id="quiet-hours"),
    pytest.param(datetime(2026, 10, 3, 10, 0), Rules(daily_cap=1), "daily cap",
                 id="daily-cap"),  # the countdown post is on that day
])
def test_a_time_the_planner_refuses_stores_nothing(
    approved: sessionmaker[Session], to: datetime, rules: Rules, said: str
) -> None:
    before = [(d.id, d.send_at, d.status, d.approved_by) for d in post_deliveries(approved)]
    send = stored_send(approved)

    with pytest.raises(MoveRefused, match=said) as refused:
        move(approved, to, rules)

    assert "Nothing was moved" in str(refused.value)
    assert [(d.id, d.send_at, d.status, d.approved_by)
            for d in post_deliveries(approved)] == before
    assert stored_send(approved) == send
    with approved() as session:
        campaign = session.scalars(select(Campaign).where(Campaign.key == CAMPAIGN)).one()
        assert MOVER not in (campaign.editors or [])


def test_a_post_with_a_posted_delivery_cannot_be_moved(approved: sessionmaker[Session]) -> None:
    advance(approved, [S.SCHEDULED, S.SENDING, S.POSTED])
    before = [(d.id, d.send_at, d.status) for d in post_deliveries(approved)]

    with pytest.raises(MoveRefused, match="already been posted"):
        move(approved)

    assert [(d.id, d.send_at, d.status) for d in post_deliveries(approved)] == before


def test_a_post_being_sent_cannot_be_moved(approved: sessionmaker[Session]) -> None:
    advance(approved, [S.SCHEDULED, S.SENDING])
    with pytest.raises(MoveRefused, match="being sent right now"):
        move(approved)


def test_a_time_already_passed_is_refused(approved: sessionmaker[Session]) -> None:
    with pytest.raises(MoveRefused, match="passed"):
        move(approved, NOW.replace(tzinfo=None) - timedelta(days=1))


def test_the_mover_becomes_an_editor_and_cannot_sign_it_off(
    approved: sessionmaker[Session],
) -> None:
    move(approved)
    with approved() as session:
        campaign = session.scalars(select(Campaign).where(Campaign.key == CAMPAIGN)).one()
        assert MOVER in campaign.editors
        assert (campaign.edited_by, campaign.edited_at) == (MOVER, NOW)
    with db.transaction(approved) as session, pytest.raises(ApprovalError):
        approve_campaign(CAMPAIGN, MOVER, session=session, now=NOW)
    with db.transaction(approved) as session:  # someone else can
        assert approve_campaign(CAMPAIGN, "Ama Approver", session=session, now=NOW).approved


@pytest.mark.parametrize(("day", "spec"), [
    (date(2026, 10, 10), {"day": 1, "at": "09:30"}),
    (date(2026, 10, 17), {"day": 8, "at": "09:30"}),
    (date(2026, 10, 3), {"days_before": 7, "at": "09:30"}),
    (date(2026, 10, 19), {"days_after": 2, "at": "09:30"}),
])
def test_a_new_time_is_written_as_the_post_send_relative_to_its_event(
    day: date, spec: dict[str, object]
) -> None:
    class Week:  # an occurrence: only its first and last days are read
        start, end = date(2026, 10, 10), date(2026, 10, 17)

    local = datetime.combine(day, datetime.min.time()).replace(hour=9, minute=30)
    assert send_spec(local, Week()) == spec  # type: ignore[arg-type]
