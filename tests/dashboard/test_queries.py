"""The dashboard's query layer: what each role's queries return, without Streamlit."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from campaigns.storage import db
from campaigns.storage.models import Campaign, Delivery
from campaigns.storage.users import ReadOnly, Viewer
from dashboard import data, queries, sign_off_data
from dashboard.queries import DeliveryFilter
from tests.dashboard.conftest import (
    APPROVED_CAMPAIGN,
    CONTENT,
    DRAFT_CAMPAIGN,
    Seeded,
)

OFFICER = Viewer(1, "olu@chorus.example", "Olu Officer", "officer", None)
BOARD = Viewer(2, "bea@chorus.example", "Bea Board", "board", None)
COUNCIL = Viewer(3, "cat@york.example", "Cat Council", "partner", "city-of-york-council")
ADRIFT = Viewer(4, "x@y.example", "No Organisation", "partner", None)
ZONE = "Europe/London"


@pytest.fixture
def session(seeded_sessions: sessionmaker[Session]) -> Iterator[Session]:
    with seeded_sessions() as session:
        yield session


def test_officers_and_the_board_see_every_organisations_deliveries(session: Session) -> None:
    everyone = queries.deliveries(session=session, viewer=OFFICER)
    assert queries.deliveries(session=session, viewer=BOARD).equals(everyone)
    assert everyone["account"].str.split(" · ").str[0].nunique() >= 5
    total = session.query(Delivery).count()
    assert len(everyone) == total


def test_a_partner_gets_only_its_own_organisations_rows(session: Session) -> None:
    own = queries.deliveries(session=session, viewer=COUNCIL)
    assert not own.empty
    assert own["account"].str.startswith("City of York Council · ").all()
    assert own["account key"].str.startswith("council-").all()
    health = queries.account_health(session=session, viewer=COUNCIL, zone=ZONE)
    assert set(health["account key"]) == {"council-x", "council-mastodon"}
    assert queries.partners(session=session, viewer=COUNCIL)["key"].tolist() == [
        "city-of-york-council"]
    assert queries.consent_matrix(session=session, viewer=COUNCIL)["partner"].tolist() == [
        "City of York Council"]
    counts = queries.status_counts(session=session, viewer=COUNCIL)
    assert counts["posts"].sum() == len(own)
    assert set(queries.account_keys(session=session, viewer=COUNCIL)) == {
        "council-x", "council-mastodon"}


def test_a_partner_without_an_organisation_sees_nothing(session: Session) -> None:
    assert queries.deliveries(session=session, viewer=ADRIFT).empty
    assert queries.partners(session=session, viewer=ADRIFT).empty
    assert queries.campaigns(session=session, viewer=ADRIFT).empty
    assert queries.status_counts(session=session, viewer=ADRIFT)["posts"].sum() == 0


def test_a_partner_sees_the_campaigns_it_takes_part_in_and_only_its_own_wording(
    session: Session,
) -> None:
    keys = set(queries.campaigns(session=session, viewer=COUNCIL)["key"])
    assert {APPROVED_CAMPAIGN, DRAFT_CAMPAIGN} <= keys
    assert "interfaith-week-2026" not in keys  # the council did not take part
    previews = queries.variant_previews(session=session, viewer=COUNCIL,
                                        campaign_key=APPROVED_CAMPAIGN)
    assert set(previews["wording"]) == {"shared", "City of York Council"}
    assert queries.variant_previews(session=session, viewer=COUNCIL,
                                    campaign_key="interfaith-week-2026").empty
    assert queries.campaign_info(session=session, viewer=COUNCIL, key="interfaith-week-2026",
                                 zone=ZONE) is None


def test_variant_previews_measure_each_text_as_its_network_does(session: Session) -> None:
    previews = queries.variant_previews(session=session, viewer=OFFICER,
                                        campaign_key=APPROVED_CAMPAIGN)
    assert set(previews["network"]) == {"x", "mastodon", "bluesky"}
    x = previews[previews["network"] == "x"]
    assert (x["limit"] == 280).all() and (x["fits"] == "yes").all()
    assert (previews["length"] > 0).all()
    assert previews["text"].str.contains("http").any()  # the post's link, added as sent


def test_a_partner_cannot_take_another_organisations_share_kit(session: Session) -> None:
    with pytest.raises(ReadOnly):
        queries.share_kit(session=session, viewer=COUNCIL, partner_key="citizens-advice-york",
                          campaign_key=APPROVED_CAMPAIGN, content_dir=CONTENT)


def test_a_share_kit_holds_the_partners_posts_with_images_read_from_content(
    session: Session,
) -> None:
    kit = queries.share_kit(session=session, viewer=OFFICER, partner_key="citizens-advice-york",
                            campaign_key=APPROVED_CAMPAIGN, content_dir=CONTENT)
    assert kit.posts and all(p.send_at.tzinfo is not None for p in kit.posts)
    images = [i for p in kit.posts for i in p.images]
    assert images and all(i.data for i in images) and all(i.alt for i in images)
    with pytest.raises(LookupError):  # the council posts from its accounts: no kit
        queries.share_kit(session=session, viewer=OFFICER, partner_key="city-of-york-council",
                          campaign_key=APPROVED_CAMPAIGN, content_dir=CONTENT)


def test_a_share_kit_image_outside_the_content_directory_is_not_read(
    session: Session, seeded_sessions: sessionmaker[Session]
) -> None:
    with db.transaction(seeded_sessions) as writing:
        campaign = writing.scalars(select(Campaign).where(Campaign.key == APPROVED_CAMPAIGN)).one()
        for post in campaign.posts:
            post.images = [{"file": "../../../etc/passwd", "alt": "nothing"}]
    kit = queries.share_kit(session=session, viewer=OFFICER, partner_key="citizens-advice-york",
                            campaign_key=APPROVED_CAMPAIGN, content_dir=CONTENT)
    assert all(i.data is None for p in kit.posts for i in p.images)


def test_headline_figures_add_up_the_status_counts(session: Session) -> None:
    counts = queries.status_counts(session=session, viewer=OFFICER)
    assert counts["status"].tolist() == [s.value for s in queries.STATUS_ORDER]
    figures = queries.headline(counts)
    assert figures.posted == 1 and figures.needs_attention == 2
    assert figures.sandbox == counts["of which sandbox"].sum() > 0
    assert "posts in all" in queries.status_summary(counts)


def test_the_calendar_marks_the_events_with_a_campaign(session: Session) -> None:
    events = queries.events_for_year(session=session, viewer=OFFICER, year=2026)
    planned = events[events["plan"] == queries.PLANNED]
    assert "National Hate Crime Awareness Week 2026" in planned["campaign"].tolist()
    assert "nhcaw-2026" not in events.drop(columns="key").to_csv()
    assert "2026" in queries.events_summary(events, 2026)


@pytest.mark.parametrize(("status", "reason", "advice"), [
    ("unconfirmed", "timed out", "timeline"),
    ("failed", "401 Unauthorized: token revoked", "Reconnect the account"),
    ("failed", "403 duplicate content", "change the post's wording"),
    ("failed", "503 from the network", "re-plan"),
    ("missed", "worker was down", "Post it by hand"),
])
def test_every_problem_comes_with_what_to_do_next(status: str, reason: str, advice: str) -> None:
    assert advice in queries.next_step(status, reason)


def test_read_only_roles_cannot_change_anything_even_by_calling_the_edge_directly(
    seeded: Seeded, seeded_sessions: sessionmaker[Session]
) -> None:
    for viewer in (BOARD, COUNCIL):
        with pytest.raises(ReadOnly):
            sign_off_data.approve(viewer, DRAFT_CAMPAIGN, {})
        with pytest.raises(ReadOnly):
            data.pause_posting(viewer, "no", APPROVED_CAMPAIGN)
        with pytest.raises(ReadOnly):
            data.resolve(viewer, seeded.unconfirmed_id, remote_id="1", cancel=False)
    wanted = DeliveryFilter(campaign_key=DRAFT_CAMPAIGN)
    with seeded_sessions() as session:
        drafts = queries.deliveries(session=session, viewer=OFFICER, wanted=wanted)
    assert set(drafts["status"]) == {"draft"}


def test_a_delivery_listing_gives_names_first_and_keys_and_ids_last(session: Session) -> None:
    listing = queries.deliveries(session=session, viewer=OFFICER)
    assert list(listing.columns[:7]) == ["when", "campaign", "post", "account", "status",
                                         "reason", "approved by"]
    assert list(listing.columns[-4:]) == list(queries.IDS)
    police_x = listing[listing["account key"] == "police-x"].iloc[0]
    assert police_x["account"] == "North Yorkshire Police (York) · X @NYP_YorkHate"
    campaign = session.scalars(select(Campaign).where(Campaign.key == "nhcaw-2026")).one()
    assert set(listing.loc[listing["campaign key"] == "nhcaw-2026", "campaign"]) == {
        campaign.name}
    drafts = listing[listing["status"] == "draft"]
    assert not drafts.empty and set(drafts["approved by"]) == {"awaiting sign-off"}
    assert queries.consent_matrix(session=session, viewer=OFFICER).columns[1] != "nhcaw-2026"


def test_a_campaign_listing_gives_the_name_first_the_event_by_name_and_the_key_last(
    session: Session,
) -> None:
    listing = queries.campaigns(session=session, viewer=OFFICER)
    assert listing.columns[0] == "campaign" and listing.columns[-1] == "key"
    nhcaw = listing.set_index("key").loc[APPROVED_CAMPAIGN]
    assert nhcaw["event"] == "National Hate Crime Awareness Week"


def test_account_health_says_each_state_in_words_with_the_command_that_connects_it(
    session: Session,
) -> None:
    health = queries.account_health(session=session, viewer=OFFICER, zone=ZONE)
    assert set(health["state"]) <= set(queries.ACCOUNT_STATES.values())
    police = health.set_index("account key").loc["police-x"]
    assert police["state"] == "Not connected yet"
    assert "chorus accounts connect x --account police-x" in police["what to do next"]
