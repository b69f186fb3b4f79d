"""Sign-off deadlines in the worker's housekeeping, against a real database with a fixed clock:
one reminder per campaign before its first post is due, and posts not signed off by their time
end `expired` with the reason, shown by `chorus deliveries list`."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload, sessionmaker
from typer.testing import CliRunner

from campaigns.cli import app
from campaigns.core.planning import Rules
from campaigns.core.sign_off_deadlines import EXPIRED_REASON
from campaigns.formats.content import read_library
from campaigns.storage import db
from campaigns.storage.approval import approve_campaign
from campaigns.storage.loader import load_library
from campaigns.storage.models import Alert, AuditEntry, Delivery, DeliveryStatus
from campaigns.storage.plans import campaigns_to_plan, plan_and_store
from scheduler.dispatch import Dispatcher, WorkerConfig
from scheduler.worker import Worker

S = DeliveryStatus
PLANNED_AT = datetime(2026, 9, 1, tzinfo=UTC)
#: The NHCAW 2026 countdown post, the campaign's first: 3 October 2026, 10:00 BST.
COUNTDOWN = datetime(2026, 10, 3, 9, 0, tzinfo=UTC)


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def awaiting(sessions: sessionmaker[Session], content_dir: Path) -> sessionmaker[Session]:
    """NHCAW 2026 planned, and nobody has signed it off."""
    with db.transaction(sessions) as session:
        load_library(read_library(content_dir), session=session,
                     default_timezone="Europe/London")
    with db.transaction(sessions) as session:
        for campaign in campaigns_to_plan(session=session, campaign_key="nhcaw-2026"):
            assert plan_and_store(campaign, Rules(), session=session, now=PLANNED_AT).ok
    return sessions


def housekeeping(sessions: sessionmaker[Session], clock: Clock) -> None:
    config = WorkerConfig(worker_id="w1", sign_off_reminder=timedelta(hours=24))
    Worker(Dispatcher(sessions, {}, None, config, clock), sessions, clock=clock).housekeeping()


def alerts(sessions: sessionmaker[Session], kind: str) -> list[Alert]:
    with sessions() as session:
        return list(session.scalars(select(Alert).where(Alert.kind == kind)))


def by_status(sessions: sessionmaker[Session]) -> dict[S, int]:
    counts: dict[S, int] = {}
    with sessions() as session:
        for status in session.scalars(select(Delivery.status)):
            counts[status] = counts.get(status, 0) + 1
    return counts


def test_a_campaign_is_reminded_once_then_its_unsigned_posts_expire_at_their_time(
    awaiting: sessionmaker[Session],
) -> None:
    planned = by_status(awaiting)[S.DRAFT]
    clock = Clock(COUNTDOWN - timedelta(hours=25))
    housekeeping(awaiting, clock)
    assert not alerts(awaiting, "sign-off-due")

    for hours_before in (23, 12, 1):  # every housekeeping run after: still one reminder
        clock.now = COUNTDOWN - timedelta(hours=hours_before)
        housekeeping(awaiting, clock)
    [reminder] = alerts(awaiting, "sign-off-due")
    assert reminder.subject == ("Chorus: National Hate Crime Awareness Week 2026 needs sign-off "
                                "before 2026-10-03 10:00 BST")
    with awaiting() as session:  # raised 23 hours before: the posts due within 24 hours
        soon = len(session.scalars(select(Delivery.id).where(
            Delivery.send_at <= COUNTDOWN + timedelta(hours=1))).all())
    assert f"{soon} posts of this campaign due within 24 hours still await sign-off" in (
        reminder.body)
    assert by_status(awaiting) == {S.DRAFT: planned}

    clock.now = COUNTDOWN + timedelta(minutes=1)
    housekeeping(awaiting, clock)
    with awaiting() as session:
        expired = list(session.scalars(select(Delivery).where(Delivery.status == S.EXPIRED)
                                       .options(joinedload(Delivery.post))))
        trail = session.scalars(select(AuditEntry.reason).where(
            AuditEntry.new_status == "expired")).all()
    assert {d.post.key for d in expired} == {"countdown"}
    assert {d.status_reason for d in expired} == {EXPIRED_REASON}
    assert list(trail) == [EXPIRED_REASON] * len(expired)
    assert by_status(awaiting) == {S.DRAFT: planned - len(expired), S.EXPIRED: len(expired)}
    [told] = alerts(awaiting, "expired")
    assert "expired unsent (not signed off)" in told.subject
    assert len(alerts(awaiting, "sign-off-due")) == 1  # the same round: not raised again


def test_a_signed_off_campaign_is_neither_reminded_nor_expired(
    awaiting: sessionmaker[Session],
) -> None:
    with db.transaction(awaiting) as session:
        approve_campaign("nhcaw-2026", "Advisory Group", session=session, now=PLANNED_AT)
    housekeeping(awaiting, Clock(COUNTDOWN - timedelta(hours=1)))
    housekeeping(awaiting, Clock(COUNTDOWN + timedelta(minutes=1)))
    assert not alerts(awaiting, "sign-off-due") and not alerts(awaiting, "expired")
    assert S.EXPIRED not in by_status(awaiting)


def test_deliveries_list_shows_an_expired_post_and_why(
    awaiting: sessionmaker[Session], env: str
) -> None:
    housekeeping(awaiting, Clock(COUNTDOWN + timedelta(minutes=1)))
    runner = CliRunner()
    listed = runner.invoke(app, ["deliveries", "list", "--status", "expired"])
    assert listed.exit_code == 0, listed.output
    assert "expired" in listed.output and EXPIRED_REASON in listed.output
    rows = json.loads(runner.invoke(
        app, ["deliveries", "list", "--status", "expired", "--json"]).output)
    assert rows and {r["reason"] for r in rows} == {EXPIRED_REASON}
