"""The dashboard through Streamlit's AppTest: sign-in, every page for every role, what each
role may see and do, and that no token is ever rendered."""

from __future__ import annotations

import json
import re
from collections.abc import Callable

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from streamlit.testing.v1 import AppTest
from streamlit.testing.v1.element_tree import Dataframe

from campaigns.storage import db
from campaigns.storage.control import PAUSE_KEY
from campaigns.storage.models import Campaign, Control, Delivery, DeliveryStatus, User
from campaigns.storage.reports import import_report_file
from campaigns.storage.users import DISABLED as DISABLED_MESSAGE
from campaigns.storage.users import NOT_RECOGNISED, add_user, remove_user, session_key
from dashboard.auth import PAGES, USER_KEY
from dashboard.queries import RESOLUTIONS, SANDBOX_LABEL, SYNTHETIC_LABEL
from tests.conftest import NOW, ROOT
from tests.dashboard.conftest import (
    APP,
    APPROVED_CAMPAIGN,
    APPROVER,
    BOARD,
    COUNCIL,
    DISABLED,
    DRAFT_CAMPAIGN,
    FAILED_REASON,
    OFFICER,
    PASSWORD,
    POLICE,
    SHARE_KIT_PARTNER,
    TOKEN,
    Person,
    Seeded,
    button,
    frames,
    open_app,
    rendered_text,
    sign_in,
)

S = DeliveryStatus
SignedIn = Callable[[Person], AppTest]


def table(at: AppTest, name: str) -> Dataframe:
    """The table whose accessible name is `name`."""
    found = [d for d in at.dataframe if d.proto.alt == name]
    assert len(found) == 1, f"no single {name!r} among {[d.proto.alt for d in at.dataframe]}"
    return found[0]


def headers(shown: Dataframe) -> list[str]:
    """The column headings a person sees, left to right (column_order and labels applied)."""
    config = json.loads(shown.proto.columns or "{}")
    order = list(shown.proto.column_order) or [str(c) for c in shown.value.columns]
    return [config.get(c, {}).get("label") or c for c in order
            if not config.get(c, {}).get("hidden")]
EVERYONE = (OFFICER, BOARD, COUNCIL, SHARE_KIT_PARTNER, APPROVER)
#: The only button a read-only user may be shown.
HARMLESS_BUTTONS = {"Sign out"}


def page_path(name: str) -> str:
    return PAGES[name].path


def open_page(at: AppTest, name: str) -> AppTest:
    return at.switch_page(page_path(name)).run()


def open_ids(at: AppTest, *file_names: str) -> AppTest:
    """Open the "ids for support" expanders of the tables exported as `file_names`, as a
    person clicks them (their content is drawn only once open)."""
    for file_name in file_names:
        at.session_state[f"ids-{file_name}"] = True
    return at.run()


def statuses(sessions: sessionmaker[Session], campaign_key: str) -> set[S]:
    with sessions() as session:
        query = (select(Delivery.status).join(Delivery.campaign)
                 .where(Campaign.key == campaign_key))
        return set(session.scalars(query))


# ---- signing in --------------------------------------------------------------------------------


def test_a_visitor_who_has_not_signed_in_sees_only_the_sign_in_form(seeded: Seeded) -> None:
    at = open_app().run()
    assert not at.exception
    assert [t.label for t in at.text_input] == ["E-mail address", "Password"]
    assert not at.dataframe
    with pytest.raises(ValueError, match="navigation page"):
        at.switch_page(page_path("deliveries"))


@pytest.mark.parametrize("person", EVERYONE, ids=lambda p: p.email)
def test_a_local_account_signs_in_and_its_role_decides_the_pages(
    signed_in: SignedIn, person: Person
) -> None:
    at = signed_in(person)
    assert person.name in at.sidebar.caption[0].value
    for page in PAGES.values():
        if person.role in page.roles:
            at.switch_page(page.path)
        else:
            with pytest.raises(ValueError):
                at.switch_page(page.path)


def test_a_wrong_password_is_refused_without_saying_which_part_was_wrong(seeded: Seeded) -> None:
    wrong_password = sign_in(OFFICER, password="not the password at all")
    unknown_user = sign_in(Person("nobody@chorus.example", "Nobody", "officer"))
    for at in (wrong_password, unknown_user):
        assert [e.value for e in at.error] == [NOT_RECOGNISED]
        assert at.text_input  # still on the form
        assert not at.dataframe


def test_a_disabled_account_cannot_sign_in(seeded: Seeded) -> None:
    at = sign_in(DISABLED)
    assert [e.value for e in at.error] == [DISABLED_MESSAGE]
    assert not at.dataframe


def test_forty_wrong_passwords_then_the_right_one_do_not_sign_in(seeded: Seeded) -> None:
    at = open_app().run()
    for password in [*["a wrong guess, again"] * 40, PASSWORD]:
        at.text_input[0].input(OFFICER.email)
        at.text_input[1].input(password)
        button(at, "Sign in").click().run()
    assert not at.exception
    [refusal] = [e.value for e in at.error]
    assert refusal.startswith("Too many failed sign-ins with this e-mail address")
    assert "try again in" in refusal and "chorus users unlock" in refusal
    assert [t.label for t in at.text_input] == ["E-mail address", "Password"]
    assert not at.dataframe


def test_a_removed_users_open_session_never_passes_to_the_next_user_added(
    seeded: Seeded, seeded_sessions: sessionmaker[Session]
) -> None:
    """SQLite used to give the next user the removed user's id, and the session held only
    that: a partner's open tab became an officer's."""
    leaving = Person("lee@york.example", "Lee Leaving", "partner", COUNCIL.organisation)
    with db.transaction(seeded_sessions) as session:
        add_user(session=session, email=leaving.email, name=leaving.name, role=leaving.role,
                 organisation_key=leaving.organisation, password=PASSWORD, now=NOW)
    at = sign_in(leaving)
    assert leaving.name in at.sidebar.caption[0].value
    with db.transaction(seeded_sessions) as session:
        remove_user(leaving.email, session=session)
    with db.transaction(seeded_sessions) as session:
        add_user(session=session, email="new@chorus.example", name="Nia Newofficer",
                 role="officer", password=PASSWORD, now=NOW)
    at.run()
    assert not at.exception
    assert [t.label for t in at.text_input] == ["E-mail address", "Password"]
    assert "Nia Newofficer" not in rendered_text(at)
    assert not at.dataframe and not at.sidebar.caption


def test_signing_out_ends_the_users_sessions_in_every_tab(signed_in: SignedIn) -> None:
    first, second = signed_in(OFFICER), signed_in(OFFICER)
    button(first, "Sign out").click().run()
    second.run()
    assert [t.label for t in second.text_input] == ["E-mail address", "Password"]
    assert not second.dataframe


def test_disabling_a_user_ends_their_open_session(
    signed_in: SignedIn, seeded_sessions: sessionmaker[Session]
) -> None:
    at = signed_in(OFFICER)
    with db.transaction(seeded_sessions) as session:
        session.scalars(select(User).where(User.email == OFFICER.email)).one().disabled = True
    at.run()
    assert [t.label for t in at.text_input] == ["E-mail address", "Password"]
    assert not at.dataframe


def test_the_role_comes_from_the_database_on_every_run(
    signed_in: SignedIn, seeded_sessions: sessionmaker[Session]
) -> None:
    at = open_page(signed_in(OFFICER), "campaigns")
    assert any(b.label.startswith("Pause") for b in at.button)
    with db.transaction(seeded_sessions) as session:
        session.scalars(select(User).where(User.email == OFFICER.email)).one().role = "board"
    at.run()
    assert {b.label for b in at.button} <= HARMLESS_BUTTONS


def test_signing_out_returns_to_the_sign_in_form(signed_in: SignedIn) -> None:
    at = signed_in(OFFICER)
    button(at, "Sign out").click().run()
    assert [t.label for t in at.text_input] == ["E-mail address", "Password"]
    assert USER_KEY not in at.session_state
    assert not at.dataframe


OIDC = {"auth": {"redirect_uri": "http://localhost:8501/oauth2callback",
                 "cookie_secret": "a cookie secret for tests",
                 "client_id": "chorus", "client_secret": "not-a-real-secret",
                 "server_metadata_url": "https://id.example/.well-known/openid-configuration"}}


def oidc_app(user: dict[str, object]) -> AppTest:
    at = open_app()
    at.secrets.update(OIDC)
    at.user = user
    return at.run()


def test_with_oidc_configured_the_provider_signs_people_in_instead_of_passwords(
    seeded: Seeded,
) -> None:
    at = oidc_app({"is_logged_in": False})
    assert not at.exception
    assert not at.text_input
    assert [b.label for b in at.button] == ["Sign in"]


def test_an_oidc_address_is_mapped_to_its_role_in_the_users_table(seeded: Seeded) -> None:
    at = oidc_app({"is_logged_in": True, "email": BOARD.email, "email_verified": True})
    assert not at.exception
    assert at.title[0].value == "Board overview"
    assert {b.label for b in at.button} <= HARMLESS_BUTTONS


def test_an_oidc_address_not_in_the_users_table_is_refused_politely(seeded: Seeded) -> None:
    at = oidc_app({"is_logged_in": True, "email": "stranger@elsewhere.example"})
    assert not at.exception
    assert "does not have access to Chorus" in at.warning[0].value
    assert [b.label for b in at.button] == ["Sign out"]
    assert not at.dataframe
    unverified = oidc_app({"is_logged_in": True, "email": OFFICER.email,
                           "email_verified": False})
    assert "not verified" in unverified.warning[0].value
    assert not unverified.dataframe


# ---- every page, every role --------------------------------------------------------------------


@pytest.mark.parametrize("person", EVERYONE, ids=lambda p: p.email)
def test_every_page_opens_for_every_role_without_errors_or_tokens(
    signed_in: SignedIn, seeded: Seeded, person: Person
) -> None:
    at = signed_in(person)
    opened = 0
    for page in PAGES.values():
        if person.role not in page.roles:
            continue
        at.switch_page(page.path).run()
        opened += 1
        assert not at.exception, f"{page.title}: {at.exception}"
        assert not at.error, f"{page.title}: {[e.value for e in at.error]}"
        assert at.title, page.title
        text = rendered_text(at)
        assert TOKEN not in text, page.title
        assert seeded.sealed_token not in text, page.title
        assert seeded.sealed_token[:40] not in text, page.title
    assert opened >= 3


def test_a_role_taken_away_mid_session_closes_its_pages(
    signed_in: SignedIn, seeded_sessions: sessionmaker[Session]
) -> None:
    at = open_page(signed_in(OFFICER), "board")
    with db.transaction(seeded_sessions) as session:
        user = session.scalars(select(User).where(User.email == OFFICER.email)).one()
        user.role, user.organisation_key = "partner", COUNCIL.organisation
    at.run()  # asks for the board page again, which partners may not open
    assert at.title[0].value != PAGES["board"].title
    assert not at.metric


def test_a_page_script_run_on_its_own_still_checks_the_role(
    seeded: Seeded, seeded_sessions: sessionmaker[Session]
) -> None:
    with seeded_sessions() as session:
        partner_key = session_key(
            session.scalars(select(User).where(User.email == COUNCIL.email)).one())
    at = AppTest.from_file(str(APP.parent / page_path("board")), default_timeout=30)
    at.session_state[USER_KEY] = partner_key.stored()
    at.run()
    assert [e.value for e in at.error] == ["This page is not available to you."]
    assert not at.metric and not at.dataframe


def test_pages_live_outside_a_pages_directory() -> None:
    """A `pages/` folder beside app.py switches Streamlit to its older multipage mode, where
    each page file is reachable by its address without app.py's sign-in step."""
    assert not (APP.parent / "pages").exists()


# ---- the board: read-only ----------------------------------------------------------------------


def test_the_board_is_shown_nothing_that_changes_anything(signed_in: SignedIn) -> None:
    at = signed_in(BOARD)
    for name in ("board", "campaigns", "deliveries", "partners", "data"):
        open_page(at, name)
        assert {b.label for b in at.button} <= HARMLESS_BUTTONS, name
        assert not at.text_input and not at.radio, name
        if name != "board":  # the board pack's downloads read; they change nothing
            downloads = {d.label for d in at.get("download_button")}
            assert downloads <= {"Download as CSV (with ids)"}, name  # reads, too


# The board overview's figures, charts, effect estimates and board pack are tested in
# tests/dashboard/test_board.py.


# ---- partners: their own organisation only -----------------------------------------------------


OTHER_ORGANISATIONS = ("North Yorkshire Police", "police-x", "NYP_YorkHate", "University of York",
                       "university-bluesky", "Citizens Advice York",
                       "We take every report of hate crime seriously")  # the police's wording


def test_a_partner_sees_only_its_own_organisation_on_every_page(signed_in: SignedIn) -> None:
    at = signed_in(COUNCIL)
    for name in ("campaigns", "deliveries", "partners"):
        open_page(at, name)
        text = rendered_text(at)
        for other in OTHER_ORGANISATIONS:
            assert other not in text, f"{name} shows {other!r}"
        for frame in frames(at):
            if "organisation" in frame.columns:
                assert set(frame["organisation"]) <= {"City of York Council"}, name
            if "account" in frame.columns:
                assert all(a.startswith("City of York Council · ") for a in frame["account"])
            if "account key" in frame.columns:
                assert all(a.startswith("council-") for a in frame["account key"]), name
    open_page(at, "partners")
    assert frames(at)[0]["organisation"].tolist() == ["City of York Council"]
    assert frames(at)[1]["partner"].tolist() == ["City of York Council"]


#: All a partner may change: a link to its own post made by hand, on the partners page.
PARTNER_FORM = {"partners": ({"Record this post"}, ["Link to the post"])}


def test_a_partner_cannot_approve_or_pause(signed_in: SignedIn) -> None:
    at = signed_in(POLICE)
    for name in ("campaigns", "deliveries", "partners"):
        open_page(at, name)
        buttons, inputs = PARTNER_FORM.get(name, (set(), []))
        assert {b.label for b in at.button} <= HARMLESS_BUTTONS | buttons, name
        assert [t.label for t in at.text_input] == inputs and not at.radio, name


def test_a_partner_that_posts_by_hand_downloads_its_share_kit(signed_in: SignedIn) -> None:
    at = open_page(signed_in(SHARE_KIT_PARTNER), "partners")
    labels = [d.label for d in at.get("download_button")]
    assert labels == ["Download the share kit of Citizens Advice York for National Hate Crime "
                      "Awareness Week 2026 (ZIP)"]
    council = open_page(signed_in(COUNCIL), "partners")
    assert not council.get("download_button")
    assert any("No share kits" in i.value for i in council.info)


# ---- officers: approve, pause, resume, settle ----------------------------------------------------


def choose_campaign(at: AppTest, key: str) -> AppTest:
    open_page(at, "campaigns")
    campaign = next(s for s in at.selectbox if s.label == "Campaign")
    return campaign.select(key).run()


def test_an_officer_approves_a_campaign_as_the_named_approver(
    signed_in: SignedIn, seeded_sessions: sessionmaker[Session]
) -> None:
    at = choose_campaign(signed_in(OFFICER), DRAFT_CAMPAIGN)
    button(at, "Approve 9 posts as Olu Officer").click().run()
    assert not at.exception
    assert "approved by Olu Officer" in at.success[0].value
    assert statuses(seeded_sessions, DRAFT_CAMPAIGN) == {S.APPROVED}
    with seeded_sessions() as session:
        campaign = session.scalars(select(Campaign).where(Campaign.key == DRAFT_CAMPAIGN)).one()
        assert campaign.approved_by == "Olu Officer"
    assert not any(b.label.startswith("Approve") for b in at.button)


def test_the_author_of_a_campaign_is_not_offered_approve_but_told_who_can(
    seeded: Seeded, seeded_sessions: sessionmaker[Session]
) -> None:
    with db.transaction(seeded_sessions) as session:
        author = session.scalars(
            select(Campaign.author).where(Campaign.key == DRAFT_CAMPAIGN)).one()
        add_user(session=session, email="jo@chorus.example", name=author, role="officer",
                 password=PASSWORD, now=NOW)
    at = choose_campaign(sign_in(Person("jo@chorus.example", author, "officer")),
                         DRAFT_CAMPAIGN)
    assert not any(b.label.startswith("Approve") for b in at.button)
    assert "Send back" not in [b.label for b in at.button]
    assert any(v.value.startswith("An approver, or a communications officer who neither wrote "
                                  "nor edited this campaign, can sign it off") for v in at.info)
    assert statuses(seeded_sessions, DRAFT_CAMPAIGN) == {S.DRAFT}


def test_an_officer_pauses_and_resumes_a_campaign(
    signed_in: SignedIn, seeded_sessions: sessionmaker[Session]
) -> None:
    at = choose_campaign(signed_in(OFFICER), APPROVED_CAMPAIGN)
    before = statuses(seeded_sessions, APPROVED_CAMPAIGN)
    assert S.APPROVED in before
    at.text_input[0].input("a serious incident in the city")
    button(at, "Pause this campaign").click().run()
    assert "waiting posts held" in at.success[0].value
    paused = statuses(seeded_sessions, APPROVED_CAMPAIGN)
    assert S.APPROVED not in paused and S.PAUSED in paused
    assert any("This campaign is paused" in w.value for w in at.warning)
    button(at, "Resume this campaign").click().run()
    assert "posts released" in at.success[0].value
    assert statuses(seeded_sessions, APPROVED_CAMPAIGN) == before


def test_pausing_needs_a_reason(
    signed_in: SignedIn, seeded_sessions: sessionmaker[Session]
) -> None:
    at = choose_campaign(signed_in(OFFICER), APPROVED_CAMPAIGN)
    button(at, "Pause this campaign").click().run()
    assert at.error[0].value == ("Not paused: say why the campaign is paused, then press "
                                 "Pause again.")
    assert S.PAUSED not in statuses(seeded_sessions, APPROVED_CAMPAIGN)


def test_an_officer_pauses_all_posting_and_every_page_says_so(
    signed_in: SignedIn, seeded_sessions: sessionmaker[Session]
) -> None:
    at = open_page(signed_in(OFFICER), "deliveries")
    at.text_input[0].input("pre-election period")
    button(at, "Pause all posting").click().run()
    with seeded_sessions() as session:
        control = session.get(Control, PAUSE_KEY)
        assert control is not None and control.value["active"]
    open_page(at, "partners")
    assert any("Posting is paused for the whole partnership" in w.value for w in at.warning)
    open_page(at, "deliveries")
    button(at, "Resume all posting").click().run()
    assert "Posting resumed" in at.success[0].value


def test_an_officer_settles_an_unconfirmed_post(
    signed_in: SignedIn, seeded: Seeded, seeded_sessions: sessionmaker[Session]
) -> None:
    at = open_page(signed_in(OFFICER), "deliveries")
    next(s for s in at.selectbox if s.label == "Which post").select(seeded.unconfirmed_id)
    at.radio[0].set_value(RESOLUTIONS[0])
    next(t for t in at.text_input if t.label.startswith("Its id")).input("1861234567890")
    button(at, "Record what I found").click().run()
    assert not at.exception
    assert "is now posted" in at.success[0].value
    with seeded_sessions() as session:
        delivery = session.get(Delivery, seeded.unconfirmed_id)
        assert delivery is not None
        assert (delivery.status, delivery.remote_id) == (S.POSTED, "1861234567890")


def test_failed_and_unconfirmed_posts_show_their_reason_and_what_to_do(
    signed_in: SignedIn, seeded: Seeded
) -> None:
    at = open_ids(open_page(signed_in(OFFICER), "deliveries"), "needs-attention.csv")
    attention, ids = frames(at)[:2]  # the table, then its ids (same rows, same order)
    by_id = attention.set_index(ids["id"])
    assert by_id.loc[seeded.failed_id, "reason"] == FAILED_REASON
    assert "change the post's wording" in by_id.loc[seeded.failed_id, "what to do next"]
    assert "timeline" in by_id.loc[seeded.unconfirmed_id, "what to do next"]


def test_ids_for_support_are_drawn_only_once_their_expander_is_opened(
    signed_in: SignedIn,
) -> None:
    at = open_page(signed_in(OFFICER), "deliveries")
    closed = len(at.dataframe)
    assert not any("id" in frame.columns for frame in frames(at))
    open_ids(at, "needs-attention.csv")
    assert len(at.dataframe) == closed + 1
    assert any("id" in frame.columns for frame in frames(at))


def test_sandbox_data_is_labelled_wherever_it_is_shown(signed_in: SignedIn) -> None:
    at = open_page(signed_in(OFFICER), "deliveries")
    assert any(SANDBOX_LABEL in w.value for w in at.warning)
    health = table(at, "Accounts: connection state and errors").value
    council = health.set_index("account").loc["City of York Council · X @YorkCouncilSafe"]
    assert council["sandbox"] == SANDBOX_LABEL
    assert council["token stored"] == "yes"
    assert council["last error"].startswith("429")


def test_deliveries_can_be_filtered_by_status(signed_in: SignedIn) -> None:
    at = open_page(signed_in(OFFICER), "deliveries")
    at.multiselect[0].select("posted").run()
    listing = table(at, "Deliveries in send order").value
    assert listing["status"].tolist() == ["posted"]


def test_the_data_page_lists_reporting_sources_with_synthetic_ones_labelled(
    signed_in: SignedIn, seeded_sessions: sessionmaker[Session]
) -> None:
    with db.transaction(seeded_sessions) as session:
        import_report_file(ROOT / "tests" / "fixtures" / "reports" / "long-synthetic.csv",
                           session=session, now=NOW, imported_by="test")
    at = open_page(signed_in(BOARD), "data")
    [sources] = frames(at)
    assert sources["file"].str.endswith("long-synthetic.csv").all()
    assert sources["synthetic"].tolist() == [SYNTHETIC_LABEL]
    assert any(SYNTHETIC_LABEL in w.value for w in at.warning)


def test_delivery_tables_show_names_first_and_keep_ids_in_their_details(
    signed_in: SignedIn, seeded: Seeded
) -> None:
    at = open_ids(open_page(signed_in(OFFICER), "deliveries"),
                  "needs-attention.csv", "deliveries.csv", "accounts.csv")
    attention = table(at, "Failed, unconfirmed and missed posts, with what to do")
    listing = table(at, "Deliveries in send order")
    assert headers(attention)[:5] == ["When (local time)", "Status", "Why", "What to do next",
                                      "Account"]
    assert headers(listing)[:5] == ["When (local time)", "Status", "Campaign", "Account", "Why"]
    for shown in (attention, listing):
        assert headers(shown)[-1] == "Post text"  # the long text last
        for key_or_id in ("nhcaw-2026", "police-x", "lead-x", "remote id", "id,"):
            assert key_or_id not in shown.value.to_csv()
    assert "North Yorkshire Police (York) · X @NYP_YorkHate" in set(listing.value["account"])
    assert "awaiting sign-off" in set(listing.value["approved by"])
    listing_ids = table(at, "Deliveries: ids").value
    assert {"id", "remote id", "account key"} <= set(listing_ids.columns)
    assert seeded.failed_id in set(table(at, "Posts that need attention: ids").value["id"])
    health = table(at, "Accounts: connection state and errors")
    assert "account key" not in health.value.columns
    assert set(table(at, "Accounts: ids").value["account key"]) >= {"police-x", "lead-x"}
    labels = [d.label for d in at.get("download_button")]
    assert labels.count("Download as CSV (with ids)") == 3


def test_account_health_says_in_words_what_state_each_account_is_in_and_what_to_do(
    signed_in: SignedIn,
) -> None:
    at = open_page(signed_in(OFFICER), "deliveries")
    health = table(at, "Accounts: connection state and errors")
    assert headers(health)[:3] == ["Account", "State", "What to do next"]
    rows = health.value.set_index("account")
    police = rows.loc["North Yorkshire Police (York) · X @NYP_YorkHate"]
    assert police["state"] == "Not connected yet"
    assert police["what to do next"].startswith(
        "Connect it: chorus accounts connect x --account police-x")
    assert rows.loc["City of York Council · X @YorkCouncilSafe", "state"] == "Connected"
    assert not {"not-connected", "connected", "needs-reconnect"} & set(rows["state"])


#: A column a person should not have to read: a key or an id (they live in "… : ids" tables).
KEY_OR_ID = re.compile(r"\b(key|id)s?\b", re.IGNORECASE)


@pytest.mark.parametrize("name", ["campaigns", "deliveries", "partners"])
def test_no_table_shows_a_key_or_id_column_and_each_starts_with_what_people_read(
    signed_in: SignedIn, name: str
) -> None:
    at = open_page(signed_in(OFFICER), name)
    shown = [d for d in at.dataframe if not d.proto.alt.endswith(": ids")]
    assert shown, name
    for frame in shown:
        columns = headers(frame)
        assert not [c for c in columns if KEY_OR_ID.search(c)], (frame.proto.alt, columns)
        assert columns[0] not in {"Sandbox", "sandbox", "Post", "post"}, frame.proto.alt


def test_the_campaign_picker_and_the_campaigns_table_name_campaigns_by_their_names(
    signed_in: SignedIn, seeded_sessions: sessionmaker[Session]
) -> None:
    with seeded_sessions() as session:
        names = {key: name for key, name in session.execute(
            select(Campaign.key, Campaign.name).where(Campaign.withdrawn.is_(False)))}
    at = open_page(signed_in(OFFICER), "campaigns")
    picker = next(s for s in at.selectbox if s.label == "Campaign")
    assert set(picker.options) == set(names.values())
    assert not set(picker.options) & set(names)
    campaigns = table(at, "Campaigns with their posts by state")
    assert headers(campaigns)[:3] == ["Campaign", "Awaiting sign-off", "Approved by"]
    assert set(campaigns.value["campaign"]) == set(names.values())
    assert set(table(open_ids(at, "campaigns.csv"), "Campaigns: ids").value["key"]) == set(names)
    picker.select(APPROVED_CAMPAIGN).run()
    assert at.subheader[0].value == names[APPROVED_CAMPAIGN]
    deliveries = table(at, f"Deliveries of {names[APPROVED_CAMPAIGN]}")
    assert headers(deliveries)[:2] == ["When (local time)", "Status"]
    events = next(d for d in at.dataframe if d.proto.alt.startswith("Awareness events in "))
    assert "key" not in events.value.columns
    assert names[APPROVED_CAMPAIGN] in set(events.value["campaign"])


def test_settling_a_post_says_so_under_the_form_and_in_no_toast(
    signed_in: SignedIn, seeded: Seeded
) -> None:
    at = open_page(signed_in(OFFICER), "deliveries")
    at.radio[0].set_value(RESOLUTIONS[2])
    button(at, "Record what I found").click().run()
    [said] = [s.value for s in at.success if s.value.startswith("Recorded:")]
    assert "City of York Council · X @YorkCouncilSafe" in said and "is now failed" in said
    assert not at.toast  # Streamlit's toast is a dialog with no accessible name
