"""The demo signs off the starter campaigns, never one somebody has edited in the dashboard;
its approver sign-in signs those off in the browser."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from campaigns.core.planning import Rules
from campaigns.formats.content import read_library
from campaigns.storage import db
from campaigns.storage.approval import ApprovalError, approve_campaign
from campaigns.storage.loader import load_library
from campaigns.storage.models import Campaign, Delivery, DeliveryStatus
from campaigns.storage.users import SignedIn, authenticate
from scheduler.demo import APPROVER, demo_sign_ins, plan_and_approve

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


def test_the_demo_has_an_approver_sign_in_who_signs_off_what_the_officer_edited(
    sessions: sessionmaker[Session], content_dir: Path, tmp_path: Path
) -> None:
    with db.transaction(sessions) as session:
        load_library(read_library(content_dir), session=session,
                     default_timezone="Europe/London")
    sign_ins = demo_sign_ins(tmp_path / "sign-ins.json", sessions=sessions, now=NOW)
    [officer] = [s for s in sign_ins if s.role == "officer"]
    [approver] = [s for s in sign_ins if s.role == "approver"]
    assert approver.name == "Jordan Lee (demo approver)"
    assert approver.email in json.loads((tmp_path / "sign-ins.json").read_text())
    with db.transaction(sessions) as session:
        edited = session.scalars(select(Campaign).where(Campaign.key == "nhcaw-2026")).one()
        edited.editors = [officer.name]
    plan_and_approve(Rules(), sessions=sessions, now=NOW, since=NOW)
    with db.transaction(sessions) as session:
        signed = authenticate(approver.email, approver.password, session=session, now=NOW)
        assert isinstance(signed, SignedIn)
        assert (signed.viewer.may_sign_off, signed.viewer.may_change) == (True, False)
        with pytest.raises(ApprovalError, match="edited 'nhcaw-2026'"):
            approve_campaign("nhcaw-2026", officer.name, session=session, now=NOW)
        assert approve_campaign("nhcaw-2026", signed.viewer.name, session=session,
                                now=NOW).approved > 0
    # Run again: the same sign-ins, the same passwords.
    again = demo_sign_ins(tmp_path / "sign-ins.json", sessions=sessions, now=NOW)
    assert [(s.email, s.password) for s in again] == [(s.email, s.password) for s in sign_ins]
