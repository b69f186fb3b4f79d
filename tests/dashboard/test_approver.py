"""The approver role (the advisory group's sign-off): it opens the campaign pages and signs off
or sends back, and is shown nothing that edits; and the campaign page says where sign-off
really stands."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from streamlit.testing.v1 import AppTest

from campaigns.core.sign_off_deadlines import EXPIRED_REASON
from campaigns.storage import db
from campaigns.storage.deliveries import change_status
from campaigns.storage.models import Campaign, Delivery, DeliveryStatus
from campaigns.storage.users import ReadOnly, Viewer
from dashboard import data, sign_off_data
from dashboard.auth import PAGES
from dashboard.queries import day_text
from tests.conftest import NOW
from tests.dashboard.conftest import (
    APPROVED_CAMPAIGN,
    APPROVER,
    BOARD,
    DRAFT_CAMPAIGN,
    OFFICER,
    Person,
    button,
)

S = DeliveryStatus
SignedIn = Callable[[Person], AppTest]
SIGN_OFF_BUTTONS = {"Approve 9 posts as Ama Approver", "Send back"}
SEND_BACK_FIELD = "Or send it back: what should change? (shown to its author)"


def campaign_page(at: AppTest, key: str) -> AppTest:
    at.switch_page(PAGES["campaigns"].path).run()
    return next(s for s in at.selectbox if s.label == "Campaign").select(key).run()


def waiting(sessions: sessionmaker[Session], key: str) -> list[Delivery]:
    with sessions() as session:
        return list(session.scalars(select(Delivery).join(Delivery.campaign).where(
            Campaign.key == key, Delivery.status == S.DRAFT)))


@pytest.mark.parametrize(("role", "may_change", "may_sign_off"), [
    ("officer", True, True),
    ("approver", False, True),
    ("board", False, False),
    ("partner", False, False),
])
def test_who_may_change_and_who_may_sign_off(role: str, may_change: bool,
                                             may_sign_off: bool) -> None:
    viewer = Viewer(1, "x@example.org", "X", role, "org" if role == "partner" else None)
    assert (viewer.may_change, viewer.may_sign_off) == (may_change, may_sign_off)


def test_an_approver_cannot_pause_plan_or_change_through_the_dashboards_functions() -> None:
    approver = Viewer(1, APPROVER.email, APPROVER.name, "approver", None)
    with pytest.raises(ReadOnly):
        data.pause_posting(approver, "no")
    with pytest.raises(ReadOnly):
        data.send_for_sign_off(approver, DRAFT_CAMPAIGN)
    with pytest.raises(ReadOnly):
        data.resolve(approver, 1, remote_id=None, cancel=True)
    with pytest.raises(ReadOnly, match="do not sign off"):
        sign_off_data.approve(Viewer(2, BOARD.email, BOARD.name, "board", None),
                              DRAFT_CAMPAIGN, {})


def test_an_approver_is_shown_no_control_that_edits_on_any_page(signed_in: SignedIn) -> None:
    at = signed_in(APPROVER)
    opened = [page for page in PAGES.values() if APPROVER.role in page.roles]
    assert "Compose" not in [page.title for page in opened]
    for page in opened:
        at.switch_page(page.path).run()
        assert not at.exception, page.title
        extra = {b.label for b in at.button} - {"Sign out"}
        assert all(b.startswith("Approve ") or b == "Send back" for b in extra), page.title
        assert {t.label for t in at.text_input} <= {SEND_BACK_FIELD}, page.title
        assert not at.text_area and not at.radio, page.title
        assert not at.get("file_uploader"), page.title
        # A table's CSV export only reads.
        assert {d.label for d in at.get("download_button")} <= {"Download as CSV (with ids)"}
    at = campaign_page(at, DRAFT_CAMPAIGN)  # the one place an approver acts: sign-off
    assert {b.label for b in at.button} == {"Sign out", *SIGN_OFF_BUTTONS}
    assert [t.label for t in at.text_input] == [SEND_BACK_FIELD]
    assert not at.text_area and not at.get("file_uploader")
    assert "Check and plan" not in {b.label for b in at.button}


def test_an_approver_signs_off_a_campaign(
    signed_in: SignedIn, seeded_sessions: sessionmaker[Session]
) -> None:
    at = campaign_page(signed_in(APPROVER), DRAFT_CAMPAIGN)
    assert "9 posts awaiting sign-off: nothing is sent until it is signed off." in [
        m.value for m in at.markdown]
    button(at, "Approve 9 posts as Ama Approver").click().run()
    assert not at.exception and not at.error
    assert "approved by Ama Approver" in at.success[0].value
    assert not waiting(seeded_sessions, DRAFT_CAMPAIGN)
    assert any(m.value.startswith("Signed off by Ama Approver on ") for m in at.markdown)


def test_posts_changed_while_the_approver_read_the_page_are_not_approved_unseen(
    signed_in: SignedIn, seeded_sessions: sessionmaker[Session]
) -> None:
    at = campaign_page(signed_in(APPROVER), DRAFT_CAMPAIGN)
    with db.transaction(seeded_sessions) as session:  # the officer rewords one meanwhile
        changed = session.scalars(select(Delivery).join(Delivery.campaign).where(
            Campaign.key == DRAFT_CAMPAIGN, Delivery.status == S.DRAFT)).first()
        assert changed is not None
        changed.text += " Reworded."
        changed.content_hash = "0" * 64
    button(at, "Approve 9 posts as Ama Approver").click().run()
    assert [e.value for e in at.error] == [
        "These posts changed while you were reading: look again"]
    assert len(waiting(seeded_sessions, DRAFT_CAMPAIGN)) == 9  # nothing approved
    at.run()  # looking again: the page reads them afresh, and Approve now takes them
    button(at, "Approve 9 posts as Ama Approver").click().run()
    assert not at.error and not waiting(seeded_sessions, DRAFT_CAMPAIGN)


def test_an_approver_sends_a_campaign_back_with_a_reason(
    signed_in: SignedIn, seeded_sessions: sessionmaker[Session]
) -> None:
    at = campaign_page(signed_in(APPROVER), DRAFT_CAMPAIGN)
    button(at, "Send back").click().run()
    assert [e.value for e in at.error] == [
        "say why the campaign is sent back, so its author can change it"]
    at.text_input[0].input("Name the reporting line in the launch post")
    button(at, "Send back").click().run()
    assert not at.exception
    assert at.success[0].value.startswith(
        "9 posts of UK Disability History Month 2026 sent back by Ama Approver; they stay unsent "
        "until its author changes them in Compose")
    held = waiting(seeded_sessions, DRAFT_CAMPAIGN)
    assert len(held) == 9
    assert {d.status_reason for d in held} == {
        "sent back by Ama Approver: Name the reporting line in the launch post"}
    assert any(w.value.startswith("Sent back by Ama Approver: Name the reporting line")
               for w in at.warning)
    at = campaign_page(signed_in(OFFICER), DRAFT_CAMPAIGN)  # the officer sees why
    assert any(w.value.startswith("Sent back by Ama Approver") for w in at.warning)


def test_the_page_says_how_many_posts_changed_since_the_last_sign_off(
    signed_in: SignedIn, seeded_sessions: sessionmaker[Session]
) -> None:
    with db.transaction(seeded_sessions) as session:  # as a re-plan after an edit does
        changed = session.scalars(
            select(Delivery).join(Delivery.campaign)
            .where(Campaign.key == APPROVED_CAMPAIGN, Delivery.status == S.APPROVED)
            .order_by(Delivery.id).limit(7)).all()
        for delivery in changed:
            change_status(delivery, S.DRAFT, session=session, actor="planner", now=NOW,
                          reason="changed since sign-off; waiting for sign-off")
    at = campaign_page(signed_in(OFFICER), APPROVED_CAMPAIGN)
    said = [m.value for m in at.markdown]
    assert (f"7 posts changed since Sam Approver signed off on {day_text(NOW, 'Europe/London')}"
            ": awaiting sign-off.") in said
    assert not any(m.startswith(("Approved by", "Signed off by")) for m in said)
    assert "Approve 7 posts as Olu Officer" in [b.label for b in at.button]


def test_a_post_that_expired_unsigned_needs_attention_with_its_reason(
    signed_in: SignedIn, seeded_sessions: sessionmaker[Session]
) -> None:
    with db.transaction(seeded_sessions) as session:
        draft = session.scalars(select(Delivery).join(Delivery.campaign).where(
            Campaign.key == DRAFT_CAMPAIGN, Delivery.status == S.DRAFT)).first()
        assert draft is not None
        change_status(draft, S.EXPIRED, session=session, actor="worker", now=NOW,
                      reason=EXPIRED_REASON)
    at = signed_in(OFFICER).switch_page(PAGES["deliveries"].path).run()
    attention = at.dataframe[0].value
    [row] = attention[attention["status"] == "expired"].to_dict("records")
    assert row["reason"] == EXPIRED_REASON
    assert row["what to do next"].startswith("Nobody signed it off before its time")
