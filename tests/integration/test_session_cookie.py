"""A browser's signed session cookie against the database: it stands for its user only while
their session secret stands, so signing out, `chorus users sign-out`, `disable` and `remove`
each end every cookie at once, and no later user ever accepts one."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from campaigns.cli import app
from campaigns.core.session_tokens import HANDOFF, SESSION
from campaigns.storage import db
from campaigns.storage.users import (
    SessionKey,
    add_user,
    check_token,
    end_sessions_of,
    remove_user,
    session_key,
    session_token,
    set_disabled,
)
from tests.conftest import NOW

KEY = "the server's cookie secret"
ANN = "ann@chorus.example"


def ann(sessions: sessionmaker[Session]) -> SessionKey:
    with db.transaction(sessions) as session:
        user = add_user(session=session, email=ANN, name="Ann Officer", role="officer",
                        password="a long enough pass phrase", now=NOW)
        return session_key(user)


def cookie(key: SessionKey, *, hours: float = 8, purpose: str = SESSION) -> str:
    return session_token(key, server_key=KEY, purpose=purpose,
                         expires=NOW + timedelta(hours=hours))


def accepted(sessions: sessionmaker[Session], value: str, *, later: timedelta = timedelta(),
             purpose: str = SESSION) -> SessionKey | None:
    with sessions() as session:
        found = check_token(value, session=session, server_key=KEY, purpose=purpose,
                            now=NOW + later)
    return None if found is None else found.key


def test_a_cookie_stands_for_its_user_until_it_expires(sessions: sessionmaker[Session]) -> None:
    key = ann(sessions)
    value = cookie(key)
    assert accepted(sessions, value) == key
    assert accepted(sessions, value, later=timedelta(hours=7, minutes=59)) == key
    assert accepted(sessions, value, later=timedelta(hours=8)) is None
    assert accepted(sessions, value, purpose=HANDOFF) is None


def _sign_out(sessions: sessionmaker[Session], key: SessionKey) -> None:
    with db.transaction(sessions) as session:
        end_sessions_of(key, session=session)


def _cli_sign_out(sessions: sessionmaker[Session], key: SessionKey) -> None:
    result = CliRunner().invoke(app, ["users", "sign-out", ANN])
    assert result.exit_code == 0, result.stderr


def _disable(sessions: sessionmaker[Session], key: SessionKey) -> None:
    with db.transaction(sessions) as session:
        set_disabled(ANN, True, session=session)


def _disable_and_enable(sessions: sessionmaker[Session], key: SessionKey) -> None:
    _disable(sessions, key)
    with db.transaction(sessions) as session:
        set_disabled(ANN, False, session=session)


def _remove(sessions: sessionmaker[Session], key: SessionKey) -> None:
    with db.transaction(sessions) as session:
        remove_user(ANN, session=session)


@pytest.mark.parametrize("end", [_sign_out, _cli_sign_out, _disable, _disable_and_enable,
                                 _remove])
def test_every_way_of_ending_a_users_sessions_ends_their_cookies(
    env: str, sessions: sessionmaker[Session],
    end: Callable[[sessionmaker[Session], SessionKey], None],
) -> None:
    key = ann(sessions)
    values = [cookie(key), cookie(key, hours=1), cookie(key, purpose=HANDOFF)]
    end(sessions, key)
    assert accepted(sessions, values[0]) is None
    assert accepted(sessions, values[1]) is None
    assert accepted(sessions, values[2], purpose=HANDOFF) is None


def test_a_user_added_after_a_removal_never_accepts_the_removed_users_cookie(
    sessions: sessionmaker[Session],
) -> None:
    old = cookie(ann(sessions))
    _remove(sessions, SessionKey(0, ""))
    again = ann(sessions)  # the same address, added again: a new id and a new secret
    assert accepted(sessions, old) is None
    assert accepted(sessions, cookie(again)) == again


def test_a_cookie_made_with_another_server_key_is_refused(
    sessions: sessionmaker[Session],
) -> None:
    key = ann(sessions)
    forged = session_token(key, server_key="a guessed key", purpose=SESSION,
                           expires=NOW + timedelta(hours=8))
    assert accepted(sessions, forged) is None
