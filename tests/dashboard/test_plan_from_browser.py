"""Check and plan, then Send for sign-off, on the campaign page: the planner's own rules and
check, the schedule shown before anything is stored, and officers only."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker
from streamlit.testing.v1 import AppTest

from campaigns.storage.models import AuditEntry, Campaign, Delivery, DeliveryStatus, Post, Variant
from dashboard.auth import PAGES
from tests.dashboard.conftest import BOARD, COUNCIL, OFFICER, Person, button

SignedIn = Callable[[Person], AppTest]
UNPLANNED = "refugee-week-2027"


def campaign_page(at: AppTest, campaign: str = UNPLANNED) -> AppTest:
    at.switch_page(PAGES["campaigns"].path).run()
    next(s for s in at.selectbox if s.label == "Campaign").select(campaign).run()
    return at


def stored(sessions: sessionmaker[Session]) -> tuple[int, int, list[tuple[str, str]]]:
    with sessions() as session:
        return (session.scalar(select(func.count()).select_from(Delivery)) or 0,
                session.scalar(select(func.count()).select_from(AuditEntry)) or 0,
                sorted((d.status.value, d.text) for d in session.scalars(select(Delivery))))


def test_check_and_plan_shows_the_schedule_and_stores_nothing(
    signed_in: SignedIn, seeded_sessions: sessionmaker[Session]
) -> None:
    before = stored(seeded_sessions)
    at = campaign_page(signed_in(OFFICER))
    button(at, "Check and plan").click().run()
    assert not at.exception and not at.error
    [schedule] = [d for d in at.dataframe if "When (local time)" in d.value.columns]
    rows = schedule.value
    assert list(rows.columns) == ["When (local time)", "Account", "Post", "Text", "Notes"]
    assert {"North Yorkshire Police (York) · X @NYP_YorkHate",
            "York Hate Crime Partnership · Mastodon @YorkAgainstHate@mastodon.social"} <= set(
        rows["Account"])
    assert all(t.endswith(("BST", "GMT")) for t in rows["When (local time)"])
    assert not any(rows["Account"].str.contains("-x"))  # names, not account keys
    assert any("posts would be planned, shown in local time" in m.value for m in at.markdown)
    assert stored(seeded_sessions) == before


def test_send_for_sign_off_stores_the_posts_awaiting_sign_off_and_says_so_beside_it(
    signed_in: SignedIn, seeded_sessions: sessionmaker[Session]
) -> None:
    at = campaign_page(signed_in(OFFICER))
    button(at, "Check and plan").click().run()
    shown = len(next(d for d in at.dataframe if "When (local time)" in d.value.columns).value)
    button(at, "Send for sign-off").click().run()
    assert not at.exception and not at.error
    [said] = [s.value for s in at.success]
    assert said.replace("\\", "").startswith(
        f"Sent for sign-off: {shown} posts now await sign-off")
    with seeded_sessions() as session:
        planned = session.scalars(select(Delivery).join(Delivery.campaign)
                                  .where(Campaign.key == UNPLANNED)).all()
    assert len(planned) == shown
    assert {(d.status, d.status_reason) for d in planned} == {
        (DeliveryStatus.DRAFT, "planned; waiting for sign-off")}
    assert f"Approve {shown} posts as {OFFICER.name}" in [b.label for b in at.button]


def test_check_and_plan_shows_the_planners_refusal_and_offers_no_sending(
    signed_in: SignedIn, seeded_sessions: sessionmaker[Session]
) -> None:
    with seeded_sessions() as session, session.begin():
        shared, police = session.scalars(
            select(Variant).join(Variant.post).join(Post.campaign)
            .where(Campaign.key == UNPLANNED, Post.key == "welcome", Variant.network == "x",
                   Variant.organisation_key.in_(("", "north-yorkshire-police")))
            .order_by(Variant.organisation_key)).all()
        police.text = shared.text
    before = stored(seeded_sessions)
    at = campaign_page(signed_in(OFFICER))
    button(at, "Check and plan").click().run()
    assert any("North Yorkshire Police (York) on X (@NYP_YorkHate) would post the same words"
               in e.value.replace("\\", "") for e in at.error)  # as shown: unescaped
    assert "Send for sign-off" not in [b.label for b in at.button]
    assert stored(seeded_sessions) == before


@pytest.mark.parametrize("person", [BOARD, COUNCIL], ids=lambda p: p.role)
def test_partner_and_board_users_are_not_offered_planning(
    signed_in: SignedIn, person: Person
) -> None:
    at = signed_in(person).switch_page(PAGES["campaigns"].path).run()
    assert not at.exception
    labels = [b.label for b in at.button]
    assert "Check and plan" not in labels and "Send for sign-off" not in labels
