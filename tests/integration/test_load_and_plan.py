"""Loading content, planning and approving against a real database (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, joinedload, sessionmaker

from campaigns.core.planning import Rules
from campaigns.formats.content import read_library
from campaigns.storage import db
from campaigns.storage.approval import ApprovalError, approve_campaign
from campaigns.storage.deliveries import change_status
from campaigns.storage.loader import ContentInvalid, load_library
from campaigns.storage.models import (
    Account,
    AuditEntry,
    Campaign,
    Consent,
    Delivery,
    DeliveryStatus,
    Post,
    Variant,
)
from campaigns.storage.plans import PlanResult, plan_and_store
from tests.conftest import NOW

ZONE = "Europe/London"


def load(sessions: sessionmaker[Session], content_dir: Path) -> None:
    library = read_library(content_dir)
    with db.transaction(sessions) as session:
        load_library(library, session=session, default_timezone=ZONE)


def plan(sessions: sessionmaker[Session], key: str = "nhcaw-2026", **rules: object) -> PlanResult:
    with db.transaction(sessions) as session:
        campaign = session.scalars(select(Campaign).where(Campaign.key == key)).one()
        return plan_and_store(campaign, Rules(**rules), session=session, now=NOW)  # type: ignore[arg-type]


def deliveries(sessions: sessionmaker[Session], key: str = "nhcaw-2026") -> list[Delivery]:
    with sessions() as session:
        query = (select(Delivery).join(Delivery.campaign).where(Campaign.key == key)
                 .options(joinedload(Delivery.post), joinedload(Delivery.account)))
        return list(session.scalars(query.order_by(Delivery.id)))


def count(sessions: sessionmaker[Session], model: type) -> int:
    with sessions() as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


def test_loading_the_same_content_twice_changes_nothing(
    sessions: sessionmaker[Session], content_dir: Path
) -> None:
    load(sessions, content_dir)
    tables = (Campaign, Post, Variant, Account, Consent)
    before = {m: count(sessions, m) for m in tables}
    library = read_library(content_dir)
    with db.transaction(sessions) as session:
        result = load_library(library, session=session, default_timezone=ZONE)
    assert not result.changed
    assert {m: count(sessions, m) for m in tables} == before


def test_load_is_all_or_nothing(sessions: sessionmaker[Session], content_dir: Path) -> None:
    (content_dir / "campaigns" / "idpd-2026.yaml").write_text("campaign: {key: bad}\nposts: []\n")
    library = read_library(content_dir)
    with pytest.raises(ContentInvalid), db.transaction(sessions) as session:
        load_library(library, session=session, default_timezone=ZONE)
    assert count(sessions, Campaign) == 0


def test_a_database_error_mid_load_rolls_back_everything(
    sessions: sessionmaker[Session], content_dir: Path
) -> None:
    library = read_library(content_dir)
    with pytest.raises(RuntimeError), db.transaction(sessions) as session:
        load_library(library, session=session, default_timezone=ZONE)
        session.flush()
        raise RuntimeError("disk full")
    assert count(sessions, Campaign) == count(sessions, Post) == 0


def test_edited_text_updates_the_variant_in_place(
    sessions: sessionmaker[Session], content_dir: Path
) -> None:
    load(sessions, content_dir)
    variants = count(sessions, Variant)
    file = content_dir / "campaigns" / "nhcaw-2026.yaml"
    file.write_text(file.read_text().replace("Reporting matters all year round. #NHCAW",
                                             "Please keep reporting, all year. #NHCAW"))
    load(sessions, content_dir)
    assert count(sessions, Variant) == variants
    with sessions() as session:
        texts = session.scalars(select(Variant.text)).all()
    assert any("Please keep reporting" in t for t in texts)


def test_plan_creates_draft_deliveries_in_utc(
    sessions: sessionmaker[Session], content_dir: Path
) -> None:
    load(sessions, content_dir)
    result = plan(sessions)
    assert result.ok and result.created > 0
    found = deliveries(sessions)
    assert {d.status for d in found} == {DeliveryStatus.DRAFT}
    launch = next(d for d in found if d.post.key == "launch" and d.account.key == "lead-x")
    assert launch.send_at.utcoffset() == timedelta(0)
    assert launch.send_at.isoformat() == "2026-10-10T08:00:00+00:00"  # Saturday 09:00 BST
    assert launch.local_time == "2026-10-10 09:00 BST"


def test_partners_post_only_where_they_consented(
    sessions: sessionmaker[Session], content_dir: Path
) -> None:
    load(sessions, content_dir)
    plan(sessions)
    accounts = {d.account.key for d in deliveries(sessions)}
    assert {"lead-x", "police-x", "council-x", "university-bluesky",
            "reporting-centre-mastodon"} <= accounts
    plan(sessions, "interfaith-week-2026")
    interfaith = {d.account.key for d in deliveries(sessions, "interfaith-week-2026")}
    assert "council-x" not in interfaith  # the council did not consent to this campaign


def test_replanning_is_idempotent(sessions: sessionmaker[Session], content_dir: Path) -> None:
    load(sessions, content_dir)
    first = plan(sessions)
    again = plan(sessions)
    assert again.created == again.updated == again.cancelled == 0
    assert again.unchanged == first.created
    assert count(sessions, Delivery) == first.created


def test_replanning_never_touches_sent_deliveries(
    sessions: sessionmaker[Session], content_dir: Path
) -> None:
    load(sessions, content_dir)
    plan(sessions)
    with db.transaction(sessions) as session:
        sent = session.scalars(select(Delivery).join(Delivery.post)
                               .where(Post.key == "countdown")).first()
        assert sent is not None
        for status in (DeliveryStatus.APPROVED, DeliveryStatus.SCHEDULED, DeliveryStatus.SENDING,
                       DeliveryStatus.POSTED):
            change_status(sent, status, session=session, actor="test", reason="test", now=NOW)
        sent_id, sent_text = sent.id, sent.text
    file = content_dir / "campaigns" / "nhcaw-2026.yaml"
    file.write_text(file.read_text().replace("Next week is National", "Next week: National"))
    load(sessions, content_dir)
    result = plan(sessions)
    assert result.kept_sent == 1
    with sessions() as session:
        stored = session.get(Delivery, sent_id)
        assert stored is not None
        assert (stored.status, stored.text) == (DeliveryStatus.POSTED, sent_text)


def test_a_change_after_sign_off_sends_the_delivery_back_to_draft(
    sessions: sessionmaker[Session], content_dir: Path
) -> None:
    load(sessions, content_dir)
    plan(sessions)
    with db.transaction(sessions) as session:
        approve_campaign("nhcaw-2026", "Advisory Group", session=session, now=NOW)
    file = content_dir / "campaigns" / "nhcaw-2026.yaml"
    file.write_text(file.read_text().replace('send: {day: 3, at: "12:30"}',
                                             'send: {day: 3, at: "13:30"}'))
    load(sessions, content_dir)
    result = plan(sessions)
    assert result.back_to_draft == 3  # the helpline post, on the lead's three networks
    moved = [d for d in deliveries(sessions) if d.post.key == "stop-hate-helpline"]
    assert {d.status for d in moved} == {DeliveryStatus.DRAFT}
    assert all(d.approved_by is None for d in moved)
    others = [d for d in deliveries(sessions) if d.post.key != "stop-hate-helpline"]
    assert {d.status for d in others} == {DeliveryStatus.APPROVED}


def test_withdrawn_consent_cancels_that_partners_unsent_deliveries(
    sessions: sessionmaker[Session], content_dir: Path
) -> None:
    load(sessions, content_dir)
    plan(sessions)
    partners = content_dir / "partners.yaml"
    partners.write_text(partners.read_text().replace(
        "      nhcaw-2026: accounts\n      interfaith-week-2026: accounts\n",
        "      nhcaw-2026: declined\n      interfaith-week-2026: accounts\n", 1))
    load(sessions, content_dir)
    result = plan(sessions)
    police = [d for d in deliveries(sessions) if d.account.key == "police-x"]
    assert result.cancelled == len(police) == 2
    assert {d.status for d in police} == {DeliveryStatus.CANCELLED}
    assert all("no longer in the plan" in d.status_reason for d in police)


def test_identical_x_text_refuses_the_plan_and_writes_nothing(
    sessions: sessionmaker[Session], content_dir: Path
) -> None:
    file = content_dir / "campaigns" / "nhcaw-2026.yaml"
    body = file.read_text()
    start = body.index("      north-yorkshire-police:\n        x: >-\n          We take")
    end = body.index("      city-of-york-council:", start)
    file.write_text(body[:start] + body[end:])  # police falls back to the lead's wording
    load(sessions, content_dir)
    result = plan(sessions)
    assert not result.ok
    assert any({r.first, r.second} == {"lead-x", "police-x"} for r in result.refusals)
    assert deliveries(sessions) == []


def test_approval_by_the_author_is_refused(
    sessions: sessionmaker[Session], content_dir: Path
) -> None:
    load(sessions, content_dir)
    plan(sessions)
    with pytest.raises(ApprovalError, match="someone other than its author"), \
            db.transaction(sessions) as session:
        approve_campaign("nhcaw-2026", "  sam patel (communications officer) ",
                         session=session, now=NOW)
    assert {d.status for d in deliveries(sessions)} == {DeliveryStatus.DRAFT}


def test_approval_records_the_approver_and_audits_each_delivery(
    sessions: sessionmaker[Session], content_dir: Path
) -> None:
    load(sessions, content_dir)
    plan(sessions)
    with db.transaction(sessions) as session:
        result = approve_campaign("nhcaw-2026", "Advisory Group", session=session, now=NOW)
    found = deliveries(sessions)
    assert result.approved == len(found)
    assert {(d.status, d.approved_by) for d in found} == {
        (DeliveryStatus.APPROVED, "Advisory Group")}
    with sessions() as session:
        audit = session.scalars(select(AuditEntry)).all()
        campaign = session.scalars(select(Campaign).where(Campaign.key == "nhcaw-2026")).one()
    assert len(audit) == len(found)
    assert {(a.old_status, a.new_status, a.actor) for a in audit} == {
        ("draft", "approved", "Advisory Group")}
    assert campaign.approved_by == "Advisory Group"
    assert campaign.approved_at == NOW


def test_approving_with_nothing_planned_is_refused(
    sessions: sessionmaker[Session], content_dir: Path
) -> None:
    load(sessions, content_dir)
    with pytest.raises(ApprovalError, match="run `chorus plan` first"), \
            db.transaction(sessions) as session:
        approve_campaign("nhcaw-2026", "Advisory Group", session=session, now=NOW)
