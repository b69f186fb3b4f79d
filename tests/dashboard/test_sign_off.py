"""Sign-off by someone who neither wrote nor edited the campaign: its author, and everyone who
has changed it in the browser, are refused, on the command line's path and on the page."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from streamlit.testing.v1 import AppTest

from campaigns.core.planning import Rules
from campaigns.formats.content import read_library
from campaigns.storage import db
from campaigns.storage.approval import ApprovalError, approve_campaign
from campaigns.storage.authoring import save_campaign, stored_document
from campaigns.storage.loader import load_library
from campaigns.storage.models import Campaign, Delivery, DeliveryStatus
from campaigns.storage.plans import plan_and_store
from dashboard.auth import PAGES
from tests.conftest import NOW
from tests.dashboard.conftest import DRAFT_CAMPAIGN, OFFICER, Person, button

ZONE = "Europe/London"
KEY = "nhcaw-2026"
AUTHOR = "Sam Patel (Communications Officer)"  # content/campaigns/nhcaw-2026.yaml
SignedIn = Callable[[Person], AppTest]


@pytest.fixture
def planned(sessions: sessionmaker[Session], content_dir: Path) -> sessionmaker[Session]:
    with db.transaction(sessions) as session:
        load_library(read_library(content_dir), session=session, default_timezone=ZONE)
    return sessions


def edit(sessions: sessionmaker[Session], content_dir: Path, editor: str, words: str) -> None:
    with db.transaction(sessions) as session:
        document = stored_document(KEY, session=session)
        assert document is not None
        next(p for p in document["posts"] if p["key"] == "launch")["variants"]["x"] = words
        saved = save_campaign(document, session=session, content_dir=content_dir,
                              default_timezone=ZONE, editor=editor, now=NOW, original_key=KEY)
        assert saved.changed


def plan(sessions: sessionmaker[Session]) -> None:
    with db.transaction(sessions) as session:
        campaign = session.scalars(select(Campaign).where(Campaign.key == KEY)).one()
        assert plan_and_store(campaign, Rules(), session=session, now=NOW).ok


def approve(sessions: sessionmaker[Session], approver: str) -> int:
    with db.transaction(sessions) as session:
        return approve_campaign(KEY, approver, session=session, now=NOW).approved


def drafts(sessions: sessionmaker[Session], key: str = KEY) -> int:
    with sessions() as session:
        return len(session.scalars(select(Delivery).join(Delivery.campaign).where(
            Campaign.key == key, Delivery.status == DeliveryStatus.DRAFT)).all())


WORDS = ("Hate crime is never acceptable in York. If it happens to you, report it online in "
         "your own words. #NHCAW")


def test_everyone_who_edited_a_campaign_is_refused_as_its_approver(
    planned: sessionmaker[Session], content_dir: Path
) -> None:
    edit(planned, content_dir, "Ann Editor", WORDS)
    edit(planned, content_dir, "Ben Editor", WORDS.replace("never", "not"))
    plan(planned)
    waiting = drafts(planned)
    for editor in ("Ann Editor", " ben  EDITOR "):  # the first editor too, not only the last
        with pytest.raises(ApprovalError, match="edited 'nhcaw-2026' in the dashboard"):
            approve(planned, editor)
    with pytest.raises(ApprovalError, match="someone other than its author"):
        approve(planned, AUTHOR)
    assert drafts(planned) == waiting
    assert approve(planned, "Cy Approver") == waiting


def test_the_refusal_says_why(planned: sessionmaker[Session], content_dir: Path) -> None:
    edit(planned, content_dir, "Ann Editor", WORDS)
    plan(planned)
    with pytest.raises(ApprovalError) as refused:
        approve(planned, "Ann Editor")
    assert str(refused.value) == (
        "Ann Editor edited 'nhcaw-2026' in the dashboard; someone who has neither written nor "
        "edited it must approve it")


def test_loading_the_files_again_does_not_make_an_editor_an_approver(
    planned: sessionmaker[Session], content_dir: Path
) -> None:
    """The edit may now be in the files (exported and loaded back): its words are still the
    editor's."""
    edit(planned, content_dir, "Ann Editor", WORDS)
    with db.transaction(planned) as session:
        load_library(read_library(content_dir), session=session, default_timezone=ZONE,
                     overwrite=True)
        campaign = session.scalars(select(Campaign).where(Campaign.key == KEY)).one()
        assert (campaign.edited_by, campaign.editors) == (None, ["Ann Editor"])
    plan(planned)
    with pytest.raises(ApprovalError, match="Ann Editor edited"):
        approve(planned, "Ann Editor")


def test_a_campaign_edited_before_editors_were_recorded_refuses_its_last_editor(
    planned: sessionmaker[Session],
) -> None:
    plan(planned)
    with db.transaction(planned) as session:
        campaign = session.scalars(select(Campaign).where(Campaign.key == KEY)).one()
        campaign.edited_by, campaign.editors = "Ann Editor", []
    with pytest.raises(ApprovalError, match="Ann Editor edited"):
        approve(planned, "Ann Editor")


def test_an_officer_who_edited_a_campaign_in_compose_is_not_offered_approve_on_the_page(
    signed_in: SignedIn, seeded_sessions: sessionmaker[Session]
) -> None:
    at = signed_in(OFFICER).switch_page(PAGES["compose"].path).run()
    next(s for s in at.selectbox if s.label == "Campaign").select(DRAFT_CAMPAIGN).run()
    x_wording = next(t for t in at.text_area if t.label == "X wording")
    x_wording.input("Disability hate crime is a crime. Report it online in your own words, or "
                    "ask someone you trust to. #UKDHM").run()
    button(at, "Save campaign").click().run()
    assert not at.exception and " saved (" in at.success[0].value, [e.value for e in at.error]
    waiting = drafts(seeded_sessions, DRAFT_CAMPAIGN)
    at.switch_page(PAGES["campaigns"].path).run()
    next(s for s in at.selectbox if s.label == "Campaign").select(DRAFT_CAMPAIGN).run()
    assert f"Edited in the dashboard by {OFFICER.name}." in [m.value for m in at.markdown]
    assert not any(b.label.startswith("Approve") for b in at.button)
    [who] = [i.value for i in at.info if i.value.startswith("An approver")]
    assert who.endswith(f" or {OFFICER.name}).")  # its author, or the officer who edited it
    assert drafts(seeded_sessions, DRAFT_CAMPAIGN) == waiting
