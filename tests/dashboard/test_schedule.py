"""The Schedule page (dashboard/app_pages/schedule.py) with AppTest: the posts with their states
in words, a post opened with its words and account names (ids only under Details and ids), and
an officer moving a post, or being told beside the form why not; partners see their own."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from streamlit.testing.v1 import AppTest

from campaigns.storage.models import Campaign, Delivery, DeliveryStatus, Post
from campaigns.storage.users import Viewer
from dashboard.auth import PAGES
from dashboard.schedule_data import schedule_rows
from tests.dashboard.conftest import (
    APPROVED_CAMPAIGN,
    APPROVER,
    BOARD,
    COUNCIL,
    OFFICER,
    Person,
    button,
    rendered_text,
)

S = DeliveryStatus
#: Approved in the seed, posted by the lead and the consenting partners, none of it sent yet.
MOVABLE_POST = f"{APPROVED_CAMPAIGN}|reporting-centres"
#: Its first deliveries were posted, failed or left unconfirmed in the seed.
SENT_POST = f"{APPROVED_CAMPAIGN}|launch"
#: Ten days from now, inside no quiet hours: a time that is still to come whenever this runs.
SOON = date.today() + timedelta(days=10)


def schedule(signed_in: Callable[[Person], AppTest], person: Person) -> AppTest:
    at = signed_in(person).switch_page(PAGES["schedule"].path).run()
    assert not at.exception, at.exception
    year = next(s for s in at.selectbox if s.label == "Year")
    if year.value != 2026:
        year.select(2026).run()
    return at


def open_post(at: AppTest, choice: str) -> AppTest:
    chooser = next(s for s in at.selectbox if s.label == "Open a post")
    chooser.set_value(choice).run()
    assert not at.exception, at.exception
    return at


def move_to(at: AppTest, day: date, at_time: time) -> AppTest:
    next(d for d in at.date_input if d.label == "New date").set_value(day)
    next(t for t in at.time_input if t.label.startswith("New time")).set_value(at_time)
    button(at, "Move this post").click().run()
    assert not at.exception, at.exception
    return at


def statuses(sessions: sessionmaker[Session], post_key: str) -> set[S]:
    with sessions() as session:
        return set(session.scalars(
            select(Delivery.status).join(Delivery.post).join(Post.campaign)
            .where(Campaign.key == APPROVED_CAMPAIGN, Post.key == post_key)))


def test_the_schedule_says_each_state_in_words_with_a_legend(
    signed_in: Callable[[Person], AppTest],
) -> None:
    at = schedule(signed_in, OFFICER)
    text = rendered_text(at)
    assert at.title[0].value == "Schedule"
    for words in ("awaiting sign-off", "approved", "posted", "failed"):
        assert words in text
    assert "Colours on the calendar" in text
    assert "Grey band: an awareness week" in text


def test_an_opened_post_shows_account_names_and_words_and_keeps_ids_apart(
    signed_in: Callable[[Person], AppTest],
) -> None:
    at = open_post(schedule(signed_in, OFFICER), MOVABLE_POST)
    main = at.dataframe[0].value
    assert "account key" not in main.columns and "remote id" not in main.columns
    assert main["account"].str.contains("·").all()  # 'Organisation · X @handle', not a key
    assert "approved" in set(main["status"])
    text = rendered_text(at)
    assert "Its words on each network" in text
    assert "Details and ids" in [e.label for e in at.expander]
    at.session_state["schedule-ids"] = True  # opened: the ids, beside each account
    at.run()
    ids = next(d.value for d in at.dataframe if "remote id" in d.value.columns)
    assert set(ids["account"]) == set(main["account"])


def test_an_officer_moves_an_approved_post_and_it_awaits_sign_off_again(
    signed_in: Callable[[Person], AppTest], seeded_sessions: sessionmaker[Session],
) -> None:
    assert statuses(seeded_sessions, "reporting-centres") == {S.APPROVED}
    at = move_to(open_post(schedule(signed_in, OFFICER), MOVABLE_POST), SOON, time(10, 0))

    said = [s.value for s in at.success]
    assert any(f"Moved to {SOON:%a} {SOON.day} {SOON:%b %Y} 10:00" in s
               and "It was approved, so it now awaits sign-off again." in s for s in said), said
    assert statuses(seeded_sessions, "reporting-centres") == {S.DRAFT}
    opened = at.dataframe[0].value
    assert set(opened["status"]) == {"awaiting sign-off"}


def test_a_time_the_planner_refuses_is_explained_beside_the_form_and_nothing_moves(
    signed_in: Callable[[Person], AppTest], seeded_sessions: sessionmaker[Session],
) -> None:
    at = move_to(open_post(schedule(signed_in, OFFICER), MOVABLE_POST), SOON, time(23, 0))

    refused = " ".join(e.value for e in at.error)
    assert "quiet hours" in refused and "Nothing was moved" in refused
    assert statuses(seeded_sessions, "reporting-centres") == {S.APPROVED}


def test_a_post_already_sent_offers_no_move_and_says_why(
    signed_in: Callable[[Person], AppTest],
) -> None:
    at = open_post(schedule(signed_in, OFFICER), SENT_POST)
    assert "This post cannot be moved" in " ".join(i.value for i in at.info)
    assert "Move this post" not in [b.label for b in at.button]


def test_approvers_and_the_board_read_the_schedule_but_cannot_move(
    signed_in: Callable[[Person], AppTest],
) -> None:
    for person in (APPROVER, BOARD):
        at = open_post(schedule(signed_in, person), MOVABLE_POST)
        assert "Move this post" not in [b.label for b in at.button]
        assert "read-only access" in rendered_text(at)


def test_a_partner_sees_only_its_own_organisations_posts(
    signed_in: Callable[[Person], AppTest],
) -> None:
    at = open_post(schedule(signed_in, COUNCIL), MOVABLE_POST)
    accounts = set(at.dataframe[0].value["account"])
    assert accounts and all(a.startswith("City of York Council") for a in accounts), accounts
    assert "Move this post" not in [b.label for b in at.button]


def test_a_years_calendar_reaches_a_quarter_into_the_next_so_december_can_step_into_january(
    seeded_sessions: sessionmaker[Session],
) -> None:
    with seeded_sessions() as session:
        soon, later = session.scalars(select(Delivery).order_by(Delivery.id).limit(2)).all()
        soon.send_at = datetime(2027, 1, 27, 9, tzinfo=UTC)
        later.send_at = datetime(2027, 5, 1, 9, tzinfo=UTC)
        session.commit()
        officer = Viewer(id=1, email=OFFICER.email, name=OFFICER.name, role=OFFICER.role,
                         organisation_key=None)
        shown = set(schedule_rows(session=session, viewer=officer, year=2026,
                                  zone="Europe/London")["id"])
    assert soon.id in shown
    assert later.id not in shown


def test_the_schedule_says_when_the_next_post_is_due_so_an_empty_month_is_not_a_dead_end(
    signed_in: Callable[[Person], AppTest], seeded_sessions: sessionmaker[Session],
) -> None:
    """The calendar opens on this month, which may hold nothing: the page names the next
    post due, its day and time, and how to step the calendar to it."""
    at = move_to(open_post(schedule(signed_in, OFFICER), MOVABLE_POST), SOON, time(10, 0))
    with seeded_sessions() as session:
        coming = session.execute(
            select(Delivery.send_at, Campaign.name, Post.key).join(Delivery.post)
            .join(Post.campaign)
            .where(Delivery.status.in_([S.DRAFT, S.APPROVED, S.SCHEDULED, S.PAUSED]),
                   Delivery.send_at >= datetime.now(UTC))
            .order_by(Delivery.send_at).limit(1)).one()
    when = coming.send_at.replace(tzinfo=UTC).astimezone(ZoneInfo("Europe/London"))
    assert (f"The next post due is on {when:%a} {when.day} {when:%b %Y} at {when:%H:%M}: "
            f"{coming.name} ({coming.key}). Use Next and Previous above the calendar to reach "
            "its month.") in rendered_text(at)


def test_a_phone_reader_is_told_the_list_shows_each_post_in_full(
    signed_in: Callable[[Person], AppTest],
) -> None:
    at = schedule(signed_in, BOARD)
    assert "On a phone, choose List, beside Month and Week, to read each post in full." \
        in [c.value for c in at.caption]
