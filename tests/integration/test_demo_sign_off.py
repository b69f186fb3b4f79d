"""The demo signs off the starter campaigns, never one somebody has edited in the dashboard."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from campaigns.core.planning import Rules
from campaigns.formats.content import read_library
from campaigns.storage import db
from campaigns.storage.loader import load_library
from campaigns.storage.models import Campaign, Delivery, DeliveryStatus
from scheduler.demo import APPROVER, plan_and_approve

NOW = datetime(2025, 11, 24, 12, 0, tzinfo=UTC)


def test_the_demo_approver_leaves_edited_campaigns_for_a_person(
    sessions: sessionmaker[Session], content_dir: Path
) -> None:
    with db.transaction(sessions) as session:
        load_library(read_library(content_dir), session=session,
                     default_timezone="Europe/London")
        edited = session.scalars(select(Campaign).where(Campaign.key == "nhcaw-2026")).one()
        edited.editors = ["Alex Morgan (demo officer)"]

    planned, approved = plan_and_approve(Rules(), sessions=sessions, now=NOW, since=NOW)

    assert planned > 0 and approved
    assert "nhcaw-2026" not in approved
    with sessions() as session:
        statuses: dict[str, set[DeliveryStatus]] = {}
        for key, status in session.execute(
                select(Campaign.key, Delivery.status).join(Delivery.campaign).distinct()):
            statuses.setdefault(key, set()).add(status)
        approvers = set(session.scalars(select(Delivery.approved_by).distinct()))
    assert statuses["nhcaw-2026"] == {DeliveryStatus.DRAFT}
    assert all(statuses[key] == {DeliveryStatus.APPROVED} for key in approved)
    assert approvers == {None, APPROVER}
    # Again: nothing more is planned or signed off.
    assert plan_and_approve(Rules(), sessions=sessions, now=NOW, since=NOW) == (0, {})
