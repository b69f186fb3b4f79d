"""Dashboard users and local passwords (campaigns.storage.users), against a real database."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pytest
from argon2 import PasswordHasher
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from campaigns.formats.content import read_library
from campaigns.storage import db
from campaigns.storage.loader import load_library
from campaigns.storage.models import User
from campaigns.storage.throttle import ACCOUNT_RULE, CLIENT_RULE
from campaigns.storage.users import (
    DISABLED,
    NOT_RECOGNISED,
    ReadOnly,
    Refused,
    SessionKey,
    SignedIn,
    UserError,
    Viewer,
    active_viewer,
    add_user,
    authenticate,
    end_sessions_of,
    hash_password,
    session_key,
    set_disabled,
    unlock,
    verify_password,
    viewer_for_email,
)
from tests.conftest import NOW

PASSWORD = "a long enough pass phrase"


@pytest.fixture
def loaded(sessions: sessionmaker[Session], content_dir: Path) -> sessionmaker[Session]:
    with db.transaction(sessions) as session:
        load_library(read_library(content_dir), session=session,
                     default_timezone="Europe/London")
    return sessions


def add(
    sessions: sessionmaker[Session], email: str = "Ann@Chorus.Example", **values: object
) -> None:
    fields: dict[str, object] = {"name": "Ann Officer", "role": "officer", "password": PASSWORD}
    fields.update(values)
    with db.transaction(sessions) as session:
        add_user(session=session, email=email, now=NOW, **fields)  # type: ignore[arg-type]


def attempt(sessions: sessionmaker[Session], email: str, password: str) -> SignedIn | Refused:
    with db.transaction(sessions) as session:
        return authenticate(email, password, session=session, now=NOW)


def sign_in(sessions: sessionmaker[Session], email: str, password: str) -> Viewer:
    outcome = attempt(sessions, email, password)
    assert isinstance(outcome, SignedIn), outcome
    return outcome.viewer


def refusal(sessions: sessionmaker[Session], email: str, password: str) -> str:
    outcome = attempt(sessions, email, password)
    assert isinstance(outcome, Refused), outcome
    return outcome.message


# ---- passwords ---------------------------------------------------------------------------------


def test_a_password_hash_is_salted_argon2id_and_verifies_only_the_same_password() -> None:
    first, second = hash_password(PASSWORD), hash_password(PASSWORD)
    assert first.startswith("$argon2id$") and first != second
    assert verify_password(first, PASSWORD)
    assert not verify_password(first, PASSWORD + "!")
    assert not verify_password("not a hash", PASSWORD)


def test_a_short_password_is_refused() -> None:
    with pytest.raises(UserError, match="at least 12 characters"):
        hash_password("short")


# ---- adding users ------------------------------------------------------------------------------


def test_an_added_user_is_stored_with_a_normalised_address_and_never_the_password(
    loaded: sessionmaker[Session],
) -> None:
    add(loaded, "  Ann@Chorus.Example ")
    with loaded() as session:
        user = session.scalars(select(User)).one()
    assert user.email == "ann@chorus.example"
    assert user.password_hash and PASSWORD not in user.password_hash


@pytest.mark.parametrize(("values", "message"), [
    ({"email": "not-an-address"}, "is not an e-mail address"),
    ({"name": "  "}, "give the user's name"),
    ({"role": "admin"}, "unknown role 'admin'"),
    ({"role": "partner"}, "a partner user belongs to an organisation"),
    ({"role": "partner", "organisation_key": "nowhere"}, "no organisation 'nowhere'"),
])
def test_an_invalid_user_is_refused_with_the_reason(
    loaded: sessionmaker[Session], values: dict[str, object], message: str
) -> None:
    with pytest.raises(UserError, match=message):
        add(loaded, **values)


def test_an_address_can_belong_to_one_user_only(loaded: sessionmaker[Session]) -> None:
    add(loaded, "ann@chorus.example")
    with pytest.raises(UserError, match="already a user"):
        add(loaded, "ANN@chorus.example")


# ---- signing in --------------------------------------------------------------------------------


def test_the_right_password_signs_in_as_the_stored_role(loaded: sessionmaker[Session]) -> None:
    add(loaded, "cat@york.example", name="Cat", role="partner",
        organisation_key="city-of-york-council")
    viewer = sign_in(loaded, "CAT@york.example", PASSWORD)
    assert (viewer.role, viewer.organisation_key) == ("partner", "city-of-york-council")
    assert not viewer.may_change and not viewer.sees_everything


@pytest.mark.parametrize(("email", "password"), [
    ("ann@chorus.example", "the wrong pass phrase"),
    ("nobody@chorus.example", PASSWORD),
])
def test_a_wrong_password_and_an_unknown_address_get_the_same_answer(
    loaded: sessionmaker[Session], email: str, password: str
) -> None:
    add(loaded)
    assert refusal(loaded, email, password) == NOT_RECOGNISED


def test_a_user_without_a_password_cannot_sign_in_locally(loaded: sessionmaker[Session]) -> None:
    add(loaded, password=None)
    assert refusal(loaded, "ann@chorus.example", "") == NOT_RECOGNISED
    with loaded() as session:
        assert viewer_for_email("ann@chorus.example", session=session) is not None


def test_a_disabled_user_is_refused_everywhere(loaded: sessionmaker[Session]) -> None:
    add(loaded)
    with loaded() as session:
        key = session_key(session.scalars(select(User)).one())
    with db.transaction(loaded) as session:
        set_disabled("ann@chorus.example", True, session=session)
    assert refusal(loaded, "ann@chorus.example", PASSWORD) == DISABLED
    with loaded() as session:
        assert active_viewer(key, session=session) is None
        assert viewer_for_email("ann@chorus.example", session=session) is None
    with db.transaction(loaded) as session:
        set_disabled("ann@chorus.example", False, session=session)
    with loaded() as session:  # enabled again, the sessions open before stay ended
        assert active_viewer(key, session=session) is None
    assert sign_in(loaded, "ann@chorus.example", PASSWORD).email == "ann@chorus.example"


def test_a_hash_made_with_weaker_parameters_is_upgraded_at_sign_in(
    loaded: sessionmaker[Session],
) -> None:
    add(loaded)
    weak = PasswordHasher(time_cost=1, memory_cost=8 * 1024).hash(PASSWORD)
    with db.transaction(loaded) as session:
        session.scalars(select(User)).one().password_hash = weak
    sign_in(loaded, "ann@chorus.example", PASSWORD)
    with loaded() as session:
        upgraded = session.scalars(select(User.password_hash)).one()
    assert upgraded != weak and verify_password(upgraded or "", PASSWORD)


@pytest.mark.parametrize(("role", "may_change", "sees_everything"), [
    ("officer", True, True), ("board", False, True), ("partner", False, False),
])
def test_what_each_role_may_do(role: str, may_change: bool, sees_everything: bool) -> None:
    viewer = Viewer(1, "a@b.example", "A", role, "org" if role == "partner" else None)
    assert (viewer.may_change, viewer.sees_everything) == (may_change, sees_everything)
    if may_change:
        viewer.require_change()
    else:
        with pytest.raises(ReadOnly):
            viewer.require_change()


# ---- throttling --------------------------------------------------------------------------------


def attempt_at(
    sessions: sessionmaker[Session], email: str, password: str, now: datetime,
    client: str | None = None,
) -> SignedIn | Refused:
    with db.transaction(sessions) as session:
        return authenticate(email, password, session=session, now=now, client=client)


def test_forty_wrong_passwords_then_the_right_one_does_not_sign_in(
    loaded: sessionmaker[Session],
) -> None:
    add(loaded)
    for second in range(40):
        attempt_at(loaded, "ann@chorus.example", "a wrong guess", NOW + timedelta(seconds=second))
    outcome = attempt_at(loaded, "ann@chorus.example", PASSWORD, NOW + timedelta(seconds=41))
    assert isinstance(outcome, Refused)
    assert "Too many failed sign-ins with this e-mail address" in outcome.message
    assert "try again in" in outcome.message and "chorus users unlock" in outcome.message


def test_five_failures_lock_an_address_for_a_quarter_hour_and_each_lock_out_doubles(
    loaded: sessionmaker[Session],
) -> None:
    add(loaded)
    start = NOW
    for minutes in (15, 30, 60):
        for second in range(ACCOUNT_RULE.limit):
            attempt_at(loaded, "ann@chorus.example", "a wrong guess",
                       start + timedelta(seconds=second))
        locked_at = start + timedelta(seconds=ACCOUNT_RULE.limit - 1)
        still = attempt_at(loaded, "ann@chorus.example", PASSWORD,
                           locked_at + timedelta(minutes=minutes, seconds=-1))
        assert isinstance(still, Refused) and "try again in 1 minute " in still.message
        start = locked_at + timedelta(minutes=minutes)
    assert isinstance(attempt_at(loaded, "ann@chorus.example", PASSWORD, start), SignedIn)


def test_four_failures_in_a_quarter_hour_lock_nothing_and_a_sign_in_forgets_them(
    loaded: sessionmaker[Session],
) -> None:
    add(loaded)
    for round_ in range(3):
        for second in range(ACCOUNT_RULE.limit - 1):
            attempt_at(loaded, "ann@chorus.example", "a wrong guess",
                       NOW + timedelta(minutes=round_, seconds=second))
        signed = attempt_at(loaded, "ann@chorus.example", PASSWORD,
                            NOW + timedelta(minutes=round_, seconds=30))
        assert isinstance(signed, SignedIn)


def test_an_unknown_address_is_locked_out_with_the_same_words_as_a_real_one(
    loaded: sessionmaker[Session],
) -> None:
    add(loaded)
    answers = []
    for email in ("ann@chorus.example", "nobody@chorus.example"):
        for second in range(ACCOUNT_RULE.limit):
            attempt_at(loaded, email, "a wrong guess", NOW + timedelta(seconds=second))
        answers.append(attempt_at(loaded, email, PASSWORD, NOW + timedelta(seconds=10)))
    assert answers[0] == answers[1] and isinstance(answers[0], Refused)


def test_one_client_failing_with_many_addresses_is_locked_out_but_others_are_not(
    loaded: sessionmaker[Session],
) -> None:
    add(loaded)
    for n in range(CLIENT_RULE.limit):
        attempt_at(loaded, f"guess{n}@chorus.example", "a wrong guess",
                   NOW + timedelta(seconds=n), client="203.0.113.9")
    later = NOW + timedelta(minutes=1)
    blocked = attempt_at(loaded, "ann@chorus.example", PASSWORD, later, client="203.0.113.9")
    assert isinstance(blocked, Refused)
    assert "Too many failed sign-ins from your network address" in blocked.message
    other = attempt_at(loaded, "ann@chorus.example", PASSWORD, later, client="198.51.100.7")
    assert isinstance(other, SignedIn)


def test_failures_are_counted_in_the_database_so_every_replica_sees_them(
    loaded: sessionmaker[Session], engine: Engine,
) -> None:
    add(loaded)
    replicas = [db.session_factory(db.make_engine(str(engine.url.render_as_string(False))))
                for _ in range(2)]
    for second in range(ACCOUNT_RULE.limit):
        attempt_at(replicas[second % 2], "ann@chorus.example", "a wrong guess",
                   NOW + timedelta(seconds=second))
    for replica in replicas:
        assert isinstance(attempt_at(replica, "ann@chorus.example", PASSWORD,
                                     NOW + timedelta(minutes=1)), Refused)
        replica.kw["bind"].dispose()


def test_an_officer_can_lift_a_lock_out(loaded: sessionmaker[Session]) -> None:
    add(loaded)
    for second in range(ACCOUNT_RULE.limit):
        attempt_at(loaded, "ann@chorus.example", "a wrong guess", NOW + timedelta(seconds=second))
    with db.transaction(loaded) as session:
        assert unlock(" ANN@chorus.example", session=session) == ACCOUNT_RULE.limit
    signed = attempt_at(loaded, "ann@chorus.example", PASSWORD, NOW + timedelta(minutes=1))
    assert isinstance(signed, SignedIn)


# ---- sessions ----------------------------------------------------------------------------------


def test_a_session_holds_a_secret_the_user_alone_has_and_signing_out_ends_all_of_them(
    loaded: sessionmaker[Session],
) -> None:
    add(loaded)
    first, second = (attempt_at(loaded, "ann@chorus.example", PASSWORD, NOW) for _ in range(2))
    assert isinstance(first, SignedIn) and isinstance(second, SignedIn)
    assert first.key.secret not in repr(first.key)
    forged = SessionKey(first.key.user_id, "a guessed secret")
    with loaded() as session:
        assert active_viewer(first.key, session=session) == first.viewer
        assert active_viewer(forged, session=session) is None
    with db.transaction(loaded) as session:
        end_sessions_of(first.key, session=session)
    with loaded() as session:
        assert active_viewer(first.key, session=session) is None
        assert active_viewer(second.key, session=session) is None
