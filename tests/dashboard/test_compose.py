"""Compose through AppTest: officers write and save posts with a live length counter and the
content checks; nobody else gets the page. And the partners page's form for a post made by
hand."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from streamlit.testing.v1 import AppTest

from campaigns.storage.manual_posts import X_EPOCH, ManualPostError
from campaigns.storage.models import Campaign, Delivery, DeliveryStatus, Post, User, Variant
from campaigns.storage.users import Viewer, session_key, viewer_of
from dashboard import data
from dashboard.auth import PAGES, USER_KEY
from tests.conftest import NOW
from tests.dashboard.conftest import (
    APP,
    BOARD,
    COUNCIL,
    OFFICER,
    POLICE,
    Person,
    Seeded,
    button,
)

SignedIn = Callable[[Person], AppTest]
#: The "A new campaign" choice (dashboard/app_pages/compose.py; a page script is not imported).
NEW = "__new__"
#: An X post id made an hour before NOW.
REMOTE_ID = str(int((NOW - X_EPOCH - timedelta(hours=1)) / timedelta(milliseconds=1)) << 22)
WORDS = ("Hate crime hurts whole communities. If it happens to you or someone you know, "
         "report it online in your own words. #NHCAW")


def compose(at: AppTest, campaign: str = "nhcaw-2026", post: str = "launch") -> AppTest:
    at.switch_page(PAGES["compose"].path).run()
    choose(at, "Campaign", campaign)
    if campaign != NEW:
        choose(at, "Post to write", post)
    return at


def choose(at: AppTest, label: str, value: str) -> None:
    next(s for s in at.selectbox if s.label == label).select(value).run()


def write(at: AppTest, label: str, value: str) -> None:
    widgets = [*at.text_area, *at.text_input]
    next(w for w in widgets if w.label == label).input(value).run()


def in_order(node: object) -> list[object]:
    """Every element under `node`, in the order the page shows them."""
    found: list[object] = []
    for child in getattr(node, "children", {}).values():
        found.append(child)
        found.extend(in_order(child))
    return found


def beside(at: AppTest, label: str) -> list[str]:
    """The errors shown right under the field labelled `label`, before the next field."""
    shown: list[str] = []
    elements = in_order(at.main)
    start = next(i for i, e in enumerate(elements) if getattr(e, "label", None) == label)
    for element in elements[start + 1:]:
        if getattr(element, "label", None) is not None and hasattr(element, "value") \
                and type(element).__name__ != "Error":
            break
        if type(element).__name__ == "Error":
            shown.append(str(element.value).replace("\\", ""))  # type: ignore[attr-defined]
    return shown


def checks(at: AppTest) -> list[str]:
    """The problems listed under Checks, each saying where it is (as shown: unescaped)."""
    elements = in_order(at.main)
    start = next(i for i, e in enumerate(elements)
                 if type(e).__name__ == "Header" and getattr(e, "value", "") == "Checks")
    return [str(e.value).replace("\\", "") for e in elements[start:]  # type: ignore[attr-defined]
            if type(e).__name__ == "Error"]


def counters(at: AppTest, network: str) -> list[str]:
    return [c.value for c in at.caption if c.value.startswith(f"{network} length: ")]


def x_text(sessions: sessionmaker[Session], post: str = "launch") -> str:
    with sessions() as session:
        return session.scalars(
            select(Variant.text).join(Variant.post).join(Post.campaign)
            .where(Campaign.key == "nhcaw-2026", Post.key == post, Variant.network == "x",
                   Variant.organisation_key == "")).one()


# ---- who gets the page --------------------------------------------------------------------------


@pytest.mark.parametrize("person", [BOARD, COUNCIL, POLICE], ids=lambda p: p.role + p.email)
def test_board_and_partner_users_do_not_get_the_compose_page(
    signed_in: SignedIn, person: Person
) -> None:
    at = signed_in(person)
    with pytest.raises(ValueError):
        at.switch_page(PAGES["compose"].path)


def test_the_compose_script_run_on_its_own_still_checks_the_role(
    seeded: Seeded, seeded_sessions: sessionmaker[Session]
) -> None:
    with seeded_sessions() as session:
        board_key = session_key(
            session.scalars(select(User).where(User.email == BOARD.email)).one())
    at = AppTest.from_file(str(APP.parent / PAGES["compose"].path), default_timeout=30)
    at.session_state[USER_KEY] = board_key.stored()
    at.run()
    assert [e.value for e in at.error] == ["This page is not available to you."]
    assert not at.text_area and not at.button


# ---- writing and saving -------------------------------------------------------------------------


def test_the_counter_measures_each_network_as_the_text_changes(signed_in: SignedIn) -> None:
    at = compose(signed_in(OFFICER))
    assert not at.exception and not at.error
    assert counters(at, "X")[0] == "X length: 226 of 280 characters, fits"
    assert counters(at, "Bluesky")[0].startswith("Bluesky length: ")
    write(at, "X wording", "Report it. " * 30)
    assert counters(at, "X")[0].startswith("X length: 354 of 280 characters, does not fit")
    assert any(e.value.startswith("post launch, X wording: too long or invalid for x")
               for e in at.error)
    assert any("354 of 280" in c.value for c in at.caption if c.value.startswith("X ·"))


def test_an_officer_saves_a_post_and_is_told_it_needs_planning_and_approval(
    signed_in: SignedIn, seeded_sessions: sessionmaker[Session]
) -> None:
    at = compose(signed_in(OFFICER))
    write(at, "X wording", WORDS)
    assert not at.error
    button(at, "Save campaign").click().run()
    assert not at.exception
    [saved] = [s.value for s in at.success]
    assert saved.startswith("National Hate Crime Awareness Week 2026 saved (1 variants changed).")
    assert "Check and plan" in saved and "Send for sign-off" in saved and "chorus" not in saved
    assert x_text(seeded_sessions) == WORDS
    with seeded_sessions() as session:
        campaign = session.scalars(select(Campaign).where(Campaign.key == "nhcaw-2026")).one()
        assert campaign.edited_by == OFFICER.name
    assert next(s for s in at.selectbox if s.label == "Post to write").value == "launch"


def test_a_post_with_errors_is_not_saved(
    signed_in: SignedIn, seeded_sessions: sessionmaker[Session]
) -> None:
    before = x_text(seeded_sessions)
    at = compose(signed_in(OFFICER))
    write(at, "Link (added at the end of each text unless it is already in it)", "")
    write(at, "X wording", "York stands together against hate.")
    assert any("does not point to its reporting channel True Vision" in e.value
               for e in at.error)
    button(at, "Save campaign").click().run()
    assert any(e.value.startswith("Not saved:") for e in at.error)
    assert not at.success
    assert x_text(seeded_sessions) == before


def test_compose_shows_what_the_planner_would_refuse_before_saving(
    signed_in: SignedIn, seeded_sessions: sessionmaker[Session]
) -> None:
    at = compose(signed_in(OFFICER), campaign="refugee-week-2027", post="welcome")
    assert not at.error
    shared = next(w for w in at.text_area if w.label == "X wording").value
    write(at, "North Yorkshire Police (York): X wording", shared)
    [refused] = checks(at)
    assert refused.startswith("post welcome, North Yorkshire Police (York)'s own X wording: ")
    assert "would post the same words. X does not allow the same text on several accounts: " \
           "reword North Yorkshire Police (York)'s own X wording." in refused
    # and beside the field it is about, where the officer is typing
    assert beside(at, "North Yorkshire Police (York): X wording") == [
        refused.removeprefix("post welcome, North Yorkshire Police (York)'s own X wording: ")]
    assert beside(at, "X wording") == []
    button(at, "Save campaign").click().run()
    assert any(e.value.startswith("Not saved:") for e in at.error) and not at.success
    with seeded_sessions() as session:
        assert session.scalars(select(Campaign.edited_at).where(
            Campaign.key == "refugee-week-2027")).one() is None


def test_an_officer_creates_a_campaign_as_its_author(
    signed_in: SignedIn, seeded_sessions: sessionmaker[Session]
) -> None:
    at = compose(signed_in(OFFICER), campaign=NEW)
    write(at, "Campaign key", "hate-crime-week-2027")
    write(at, "Name", "Hate Crime Awareness Week 2027")
    choose(at, "Awareness event", "national-hate-crime-awareness-week")
    next(n for n in at.number_input if n.label == "Year").set_value(2027).run()
    write(at, "Post key", "launch")
    write(at, "X wording", "Report hate crime online at https://www.report-it.org.uk #NHCAW")
    assert not at.error, [e.value for e in at.error]
    assert any(c.value.startswith("Sent on Saturday 09 October 2027 at 09:00") for c in at.caption)
    button(at, "Save campaign").click().run()
    assert not at.exception
    assert at.success[0].value.startswith("Hate Crime Awareness Week 2027 created")
    picker = next(s for s in at.selectbox if s.label == "Campaign")
    assert picker.value == "hate-crime-week-2027"
    assert picker.options[picker.index] == "Hate Crime Awareness Week 2027"
    with seeded_sessions() as session:
        campaign = session.scalars(
            select(Campaign).where(Campaign.key == "hate-crime-week-2027")).one()
        assert (campaign.author, campaign.year, [p.key for p in campaign.posts]) == (
            OFFICER.name, 2027, ["launch"])


# ---- a post made by hand ------------------------------------------------------------------------


def test_an_officer_records_a_partners_post_made_by_hand(
    signed_in: SignedIn, seeded_sessions: sessionmaker[Session]
) -> None:
    at = signed_in(OFFICER).switch_page(PAGES["partners"].path).run()
    choose(at, "Partner who posted it", "north-yorkshire-police")
    choose(at, "Campaign", "disability-history-month-2026")
    choose(at, "Which of its posts", "what-it-is")
    remote_id = REMOTE_ID
    write(at, "Link to the post", f"https://x.com/NYP_YorkHate/status/{remote_id}")
    button(at, "Record this post").click().run()
    assert not at.exception and not at.error
    assert "its engagement is read from the next collection on" in at.success[0].value
    with seeded_sessions() as session:
        delivery = session.scalars(select(Delivery).where(Delivery.remote_id == remote_id)).one()
        assert (delivery.status, delivery.account.key) == (DeliveryStatus.POSTED, "police-x")
        assert delivery.metrics_due_at is not None


def test_a_wrong_link_is_refused_on_the_partners_page(signed_in: SignedIn) -> None:
    at = signed_in(OFFICER).switch_page(PAGES["partners"].path).run()
    write(at, "Link to the post", "https://mastodon.social/@york/1")
    button(at, "Record this post").click().run()
    assert [e.value for e in at.error] == [
        "Not recorded: mastodon.social is not X: only X posts (x.com or twitter.com) can be "
        "recorded so far"]


def test_the_board_is_not_offered_the_form(signed_in: SignedIn) -> None:
    at = signed_in(BOARD).switch_page(PAGES["partners"].path).run()
    assert "Record this post" not in [b.label for b in at.button]
    assert not at.text_input and not any(s.label == "Partner who posted it" for s in at.selectbox)


def test_a_partner_records_its_own_post_made_by_hand(
    signed_in: SignedIn, seeded_sessions: sessionmaker[Session]
) -> None:
    at = signed_in(POLICE).switch_page(PAGES["partners"].path).run()
    partner = next(s for s in at.selectbox if s.label == "Partner who posted it")
    assert (partner.options, partner.value) == (
        ["North Yorkshire Police (York)"], "north-yorkshire-police")
    campaigns = next(s for s in at.selectbox if s.label == "Campaign")
    assert campaigns.options == [  # those it takes part in, in either way, not the others
        "UK Disability History Month 2026", "Inter Faith Week 2026",
        "National Hate Crime Awareness Week 2026", "Holocaust Memorial Day 2027",
        "Refugee Week 2027"]
    choose(at, "Campaign", "disability-history-month-2026")
    choose(at, "Which of its posts", "what-it-is")
    write(at, "Link to the post", f"https://x.com/NYP_YorkHate/status/{REMOTE_ID}")
    button(at, "Record this post").click().run()
    assert not at.exception and not at.error
    assert "its engagement is read from the next collection on" in at.success[0].value
    with seeded_sessions() as session:
        delivery = session.scalars(select(Delivery).where(Delivery.remote_id == REMOTE_ID)).one()
        assert (delivery.status, delivery.account.key) == (DeliveryStatus.POSTED, "police-x")
        assert POLICE.name in delivery.status_reason  # recorded in the partner user's name


@pytest.mark.parametrize(("organisation", "campaign", "refusal"), [
    ("city-of-york-council", "nhcaw-2026", "only your own organisation's posts"),
    ("north-yorkshire-police", "idpd-2026", "does not take part in 'idpd-2026'"),
], ids=["another-organisation", "a-campaign-it-is-not-in"])
def test_a_partner_cannot_record_for_another_organisation_whatever_its_browser_sends(
    seeded: Seeded, seeded_sessions: sessionmaker[Session], organisation: str, campaign: str,
    refusal: str,
) -> None:
    """The page offers a partner only its own organisation; the server checks again."""
    police = viewer(seeded_sessions, POLICE)
    with pytest.raises(ManualPostError, match=refusal):
        data.record_by_hand(police, f"https://x.com/YorkCouncilSafe/status/{REMOTE_ID}",
                            organisation_key=organisation, campaign_key=campaign,
                            post_key="launch")
    with pytest.raises(ManualPostError, match="board accounts cannot record posts"):
        data.record_by_hand(viewer(seeded_sessions, BOARD),
                            f"https://x.com/NYP_YorkHate/status/{REMOTE_ID}",
                            organisation_key="north-yorkshire-police",
                            campaign_key="disability-history-month-2026", post_key="what-it-is")
    with seeded_sessions() as session:
        assert session.scalars(select(Delivery).where(Delivery.remote_id == REMOTE_ID)).all() \
            == []


def viewer(sessions: sessionmaker[Session], person: Person) -> Viewer:
    with sessions() as session:
        user = session.scalars(select(User).where(User.email == person.email)).one()
        return viewer_of(user)


# ---- no errors before a field is touched --------------------------------------------------------


def test_a_new_campaign_starts_without_errors_until_saved_then_says_what_is_missing(
    signed_in: SignedIn, seeded_sessions: sessionmaker[Session]
) -> None:
    at = compose(signed_in(OFFICER), campaign=NEW)
    assert not at.exception and not at.error and not at.warning
    assert any(m.value.startswith("Nothing to fix yet") for m in at.markdown)
    button(at, "Save campaign").click().run()
    shown = [e.value.replace("\\", "") for e in at.error]
    assert "campaign name: nothing written yet: fill it in before saving" in shown
    assert "post 1, wording for each network: nothing written yet: fill it in before saving" \
        in shown
    assert shown[-1].startswith("Not saved: fix the problems listed under Checks")
    assert not any("Field required" in e or "String should" in e for e in shown)
    with seeded_sessions() as session:
        assert session.scalars(select(Campaign).where(Campaign.author == OFFICER.name)).all() \
            == []


def test_a_field_of_a_new_campaign_is_judged_once_it_is_typed_in(signed_in: SignedIn) -> None:
    at = compose(signed_in(OFFICER), campaign=NEW)
    write(at, "Campaign key", "Not A Key")
    shown = checks(at)
    assert len(shown) == 1 and shown[0].startswith("campaign key: keys use lower-case")
    assert beside(at, "Campaign key") == [shown[0].removeprefix("campaign key: ")]
    write(at, "Name", "Hate")
    write(at, "Name", "")  # typed, then emptied: now it is judged too
    assert any(e.value.startswith("campaign name: nothing written yet") for e in at.error)


def test_a_new_post_starts_without_errors(signed_in: SignedIn) -> None:
    at = compose(signed_in(OFFICER), post=NEW)
    assert not at.exception and not at.error
    write(at, "Post key", "later")
    assert not at.error
    write(at, "X wording", "Report it. " * 30)
    assert any(", X wording: too long" in e.value for e in at.error), [e.value for e in at.error]


def test_the_pickers_show_names_and_store_keys(signed_in: SignedIn) -> None:
    at = compose(signed_in(OFFICER), post=NEW)
    campaigns = next(s for s in at.selectbox if s.label == "Campaign")
    assert campaigns.options[campaigns.index] == "National Hate Crime Awareness Week 2026"
    assert campaigns.value == "nhcaw-2026"
    assert not [o for o in campaigns.options if "nhcaw" in o or "(" in o]
    event = next(s for s in at.selectbox if s.label == "Awareness event")
    assert event.options[event.index] == "National Hate Crime Awareness Week"
    channel = next(s for s in at.selectbox if s.label.startswith("Reporting channel"))
    assert any(o.startswith("True Vision (") for o in channel.options)
    assert not [o for o in channel.options if o.startswith(("true-vision", "stop-hate-uk"))]
    partners = next(m for m in at.multiselect if m.label == "Partners with their own wording")
    assert "North Yorkshire Police (York)" in partners.options
    next(r for r in at.radio if r.label == "Who posts it?").set_value("accounts").run()
    accounts = next(m for m in at.multiselect if m.label == "Accounts")
    assert "North Yorkshire Police (York) · X @NYP_YorkHate" in accounts.options
    assert not [o for o in accounts.options if o.startswith(("police-x", "lead-"))]
    accounts.select("police-x").run()
    assert next(m for m in at.multiselect if m.label == "Accounts").value == ["police-x"]


def test_saving_says_so_under_the_save_button_and_in_no_toast(signed_in: SignedIn) -> None:
    at = compose(signed_in(OFFICER))
    write(at, "X wording", WORDS)
    button(at, "Save campaign").click().run()
    [saved] = at.success
    assert saved.value.startswith("National Hate Crime Awareness Week 2026 saved")
    assert not at.toast  # Streamlit's toast is a dialog with no accessible name
    save_column = at.columns[-2]  # the Save and Remove columns close the page
    assert saved.value in [s.value for s in save_column.success]
