"""The Sign-off page: the queue of what awaits sign-off, campaign by campaign, with what changed
in each post since the last sign-off; Approve and Send back for someone whose sign-off counts,
who can sign it off for anyone else; and a refusal, not an approval, when the posts changed
while the approver was reading."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from streamlit.testing.v1 import AppTest

from campaigns.core.planning import Rules
from campaigns.storage import db
from campaigns.storage.approval import CHANGED_WHILE_READING
from campaigns.storage.models import Campaign, Delivery, DeliveryStatus, Post, Variant
from campaigns.storage.plans import plan_and_store
from dashboard import sign_off_data
from dashboard.auth import PAGES
from tests.conftest import NOW
from tests.dashboard.conftest import (
    APPROVED_CAMPAIGN,
    APPROVER,
    BOARD,
    COUNCIL,
    DRAFT_CAMPAIGN,
    OFFICER,
    Person,
    button,
)

S = DeliveryStatus
SignedIn = Callable[[Person], AppTest]
DRAFT_NAME = "UK Disability History Month 2026"
APPROVED_NAME = "National Hate Crime Awareness Week 2026"
WORDS = ("Next week is National Hate Crime Awareness Week. If someone targets you because of "
         "your race", "Next week is National Hate Crime Awareness Week. If anyone targets you "
         "because of your race")


@pytest.fixture(autouse=True)
def before_the_campaigns(monkeypatch: pytest.MonkeyPatch) -> None:
    """The page's clock on 1 September 2026, before any seeded post is due."""
    monkeypatch.setattr(sign_off_data, "utcnow", lambda: NOW)


def sign_off_page(at: AppTest) -> AppTest:
    return at.switch_page(PAGES["sign-off"].path).run()


def said(at: AppTest) -> list[str]:
    """Every message on the page as a person reads it (Markdown's escapes removed)."""
    found = [*(m.value for m in at.markdown), *(m.value for m in at.info),
             *(m.value for m in at.warning), *(m.value for m in at.error),
             *(m.value for m in at.success), *(m.value for m in at.caption),
             *(m.value for m in at.text)]
    return [str(m).replace("\\", "") for m in found]


def statuses(sessions: sessionmaker[Session], key: str) -> list[S]:
    with sessions() as session:
        return list(session.scalars(select(Delivery.status).join(Delivery.campaign)
                                    .where(Campaign.key == key)))


def re_plan_with_changes(sessions: sessionmaker[Session]) -> None:
    """As an edit in Compose, then Send for sign-off, do: the countdown's Mastodon words and
    the helpline post's time change, and the planner sends them back for sign-off."""
    with db.transaction(sessions) as session:
        campaign = session.scalars(select(Campaign).where(Campaign.key == APPROVED_CAMPAIGN)).one()
        posts = {p.key: p for p in session.scalars(select(Post).where(
            Post.campaign_id == campaign.id))}
        variant = session.scalars(select(Variant).where(
            Variant.post_id == posts["countdown"].id, Variant.network == "mastodon",
            Variant.organisation_key == "")).one()
        assert WORDS[0] in variant.text
        variant.text = variant.text.replace(*WORDS)
        posts["stop-hate-helpline"].send = {**posts["stop-hate-helpline"].send, "at": "13:30"}
        session.flush()
        assert plan_and_store(campaign, Rules(), session=session, now=NOW).ok


def test_the_queue_shows_each_campaign_awaiting_sign_off_with_its_deadline(
    signed_in: SignedIn,
) -> None:
    at = sign_off_page(signed_in(APPROVER))
    assert not at.exception
    text = said(at)
    assert [h.value for h in at.subheader] == [DRAFT_NAME]
    assert "Written by Jo Clarke (Communications Officer)." in text
    assert "9 posts await sign-off (never signed off before)." in text
    assert any(t.startswith("Sign off by ") and "the earliest post's time: a post not signed "
               "off by its time is never sent. A reminder is raised 24 hours before" in t
               for t in text)
    assert text.count("New since the last sign-off.") == 9
    assert text.count("Words:") == 9
    assert "It is UK Disability History Month." in at.text[1].value


def test_the_queue_shows_the_words_and_the_time_changed_since_the_last_sign_off(
    signed_in: SignedIn, seeded_sessions: sessionmaker[Session]
) -> None:
    re_plan_with_changes(seeded_sessions)
    at = sign_off_page(signed_in(APPROVER))
    assert not at.exception
    assert [h.value for h in at.subheader] == [APPROVED_NAME, DRAFT_NAME]  # earliest due first
    text = said(at)
    assert any(t.startswith("4 posts await sign-off (last signed off by Sam Approver on 1 "
                            "September 2026)") for t in text)
    assert "Its words changed since the last sign-off." in text
    assert "Words since the last sign-off:" in text
    assert any(t.startswith("Next week is National Hate Crime Awareness Week. If [−someone−] "
                            "[+anyone+] targets you") for t in text)
    assert text.count("Its time moved: was Mon 12 Oct 12:30, now Mon 12 Oct 13:30.") == 3
    assert any("were removed since the last sign-off" in t for t in text)  # the marks explained


def test_an_approver_approves_from_the_queue_and_the_campaign_leaves_it(
    signed_in: SignedIn, seeded_sessions: sessionmaker[Session]
) -> None:
    at = sign_off_page(signed_in(APPROVER))
    button(at, f"Approve 9 posts of {DRAFT_NAME}").click().run()
    assert not at.exception and not at.error
    assert f"9 posts of {DRAFT_NAME} approved by Ama Approver." in said(at)
    assert "Nothing awaits sign-off." in said(at)
    assert set(statuses(seeded_sessions, DRAFT_CAMPAIGN)) == {S.APPROVED}


def test_an_approver_sends_back_from_the_queue_with_a_reason(
    signed_in: SignedIn, seeded_sessions: sessionmaker[Session]
) -> None:
    at = sign_off_page(signed_in(APPROVER))
    at.text_input[0].input("Name the reporting line in the launch post")
    button(at, "Send back").click().run()
    assert not at.exception
    assert f"9 posts of {DRAFT_NAME} sent back by Ama Approver; they stay unsent until its " \
        "author changes them in Compose and they are signed off again." in said(at)
    assert any(t.startswith("Sent back by Ama Approver: Name the reporting line") for t in
               said(at))
    assert set(statuses(seeded_sessions, DRAFT_CAMPAIGN)) == {S.DRAFT}


def test_posts_changed_while_the_approver_read_are_refused_not_approved(
    signed_in: SignedIn, seeded_sessions: sessionmaker[Session]
) -> None:
    at = sign_off_page(signed_in(APPROVER))
    with db.transaction(seeded_sessions) as session:  # an officer re-plans meanwhile
        campaign = session.scalars(select(Campaign).where(Campaign.key == DRAFT_CAMPAIGN)).one()
        variant = session.scalars(select(Variant).join(Variant.post).where(
            Post.campaign_id == campaign.id, Post.key == "easy-read",
            Variant.network == "mastodon", Variant.organisation_key == "")).first()
        assert variant is not None
        variant.text += " Changed."
        session.flush()
        assert plan_and_store(campaign, Rules(), session=session, now=NOW).ok
    button(at, f"Approve 9 posts of {DRAFT_NAME}").click().run()
    assert not at.exception
    assert [e.value for e in at.error] == [CHANGED_WHILE_READING]
    assert set(statuses(seeded_sessions, DRAFT_CAMPAIGN)) == {S.DRAFT}
    assert any(t.endswith("Changed.") for t in said(at))  # shown anew


def test_an_editor_is_offered_no_button_that_would_refuse_but_told_who_can_sign_off(
    signed_in: SignedIn, seeded_sessions: sessionmaker[Session]
) -> None:
    with db.transaction(seeded_sessions) as session:
        campaign = session.scalars(select(Campaign).where(Campaign.key == DRAFT_CAMPAIGN)).one()
        campaign.editors = [OFFICER.name]
    at = sign_off_page(signed_in(OFFICER))
    assert not at.exception
    assert not [b for b in at.button if b.label.startswith("Approve") or b.label == "Send back"]
    assert [i.value for i in at.info] == [
        "An approver, or a communications officer who neither wrote nor edited this campaign, "
        "can sign it off (not Jo Clarke (Communications Officer) or Olu Officer)."]
    at = sign_off_page(signed_in(APPROVER))  # the approver may
    assert f"Approve 9 posts of {DRAFT_NAME}" in [b.label for b in at.button]


@pytest.mark.parametrize("person", [BOARD, COUNCIL])
def test_the_board_and_partners_are_not_offered_the_sign_off_page(
    signed_in: SignedIn, person: Person
) -> None:
    at = signed_in(person)
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        sign_off_page(at)
