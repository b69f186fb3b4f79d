"""Dashboard users and local passwords (campaigns.storage.users), against a real database."""

from __future__ import annotations

from pathlib import Path

import pytest
from argon2 import PasswordHasher
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from campaigns.formats.content import read_library
from campaigns.storage import db
from campaigns.storage.loader import load_library
from campaigns.storage.models import User
from campaigns.storage.users import (
    DISABLED,
    NOT_RECOGNISED,
    ReadOnly,
    SignInRefused,
    UserError,
    Viewer,
    active_viewer,
    add_user,
    authenticate,
    hash_password,
    set_disabled,
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


def sign_in(sessions: sessionmaker[Session], email: str, password: str) -> Viewer:
    with db.transaction(sessions) as session:
        return authenticate(email, password, session=session)


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
    with pytest.raises(SignInRefused) as refused:
        sign_in(loaded, email, password)
    assert str(refused.value) == NOT_RECOGNISED


def test_a_user_without_a_password_cannot_sign_in_locally(loaded: sessionmaker[Session]) -> None:
    add(loaded, password=None)
    with pytest.raises(SignInRefused, match=NOT_RECOGNISED):
        sign_in(loaded, "ann@chorus.example", "")
    with loaded() as session:
        assert viewer_for_email("ann@chorus.example", session=session) is not None


def test_a_disabled_user_is_refused_everywhere(loaded: sessionmaker[Session]) -> None:
    add(loaded)
    with loaded() as session:
        user_id = session.scalars(select(User.id)).one()
    with db.transaction(loaded) as session:
        set_disabled("ann@chorus.example", True, session=session)
    with pytest.raises(SignInRefused, match=DISABLED):
        sign_in(loaded, "ann@chorus.example", PASSWORD)
    with loaded() as session:
        assert active_viewer(user_id, session=session) is None
        assert viewer_for_email("ann@chorus.example", session=session) is None


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
