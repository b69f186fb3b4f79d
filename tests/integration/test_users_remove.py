"""Erasing a dashboard user (`chorus users remove`): their personal data goes, the record of
what was done stays."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from campaigns.cli import app
from campaigns.storage import db
from campaigns.storage.models import AuditEntry, User
from campaigns.storage.users import (
    UserError,
    active_viewer,
    add_user,
    remove_user,
    session_key,
)
from tests.conftest import NOW

runner = CliRunner()


def chorus(*args: str, input: str | None = None) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args), input=input)
    return result.exit_code, result.stdout, result.stderr


def emails(sessions: sessionmaker[Session]) -> list[str]:
    with sessions() as session:
        return list(session.scalars(select(User.email).order_by(User.email)))


def test_removing_a_user_deletes_their_row_and_ends_their_session_but_keeps_the_audit_log(
    sessions: sessionmaker[Session],
) -> None:
    with db.transaction(sessions) as session:
        ann = add_user(session=session, email="ann@chorus.example", name="Ann Officer",
                       role="officer", password="a long enough pass phrase", now=NOW)
        add_user(session=session, email="bob@chorus.example", name="Bob Board", role="board",
                 now=NOW)
        session.add(AuditEntry(at=NOW, actor="Ann Officer", old_status="draft",
                               new_status="approved", reason="approved by Ann Officer"))
        ann_key = session_key(ann)
    with db.transaction(sessions) as session:
        removed = remove_user("ANN@chorus.example ", session=session)
        assert removed.name == "Ann Officer"
    assert emails(sessions) == ["bob@chorus.example"]
    with sessions() as session:
        assert active_viewer(ann_key, session=session) is None
        assert session.scalars(select(AuditEntry.actor)).all() == ["Ann Officer"]


def test_a_removed_users_id_and_session_secret_are_never_given_to_the_next_user_added(
    sessions: sessionmaker[Session],
) -> None:
    """SQLite without AUTOINCREMENT hands the largest id plus one to a new row, so the last
    user removed used to lend their id, and any session holding it, to the next one added."""
    with db.transaction(sessions) as session:
        add_user(session=session, email="ann@chorus.example", name="Ann Officer",
                 role="officer", now=NOW)
        pat = add_user(session=session, email="pat@chorus.example", name="Pat Partner",
                       role="board", now=NOW)
        pat_key = session_key(pat)
    with db.transaction(sessions) as session:
        remove_user("pat@chorus.example", session=session)
    with db.transaction(sessions) as session:
        olu = add_user(session=session, email="olu@chorus.example", name="Olu Officer",
                       role="officer", now=NOW)
        assert olu.id > pat_key.user_id
        assert olu.session_secret != pat_key.secret
    with sessions() as session:
        assert active_viewer(pat_key, session=session) is None


def test_removing_an_unknown_user_is_refused(sessions: sessionmaker[Session]) -> None:
    with db.transaction(sessions) as session, pytest.raises(UserError, match="no user"):
        remove_user("nobody@chorus.example", session=session)


def test_users_remove_asks_first_unless_told_yes(env: str, sessions: sessionmaker[Session]) -> None:
    for email in ("ann@chorus.example", "bob@chorus.example"):
        code, _, err = chorus("users", "add", email, "--name", "Someone", "--role", "board",
                              "--no-password")
        assert code == 0, err
    code, _, _ = chorus("users", "remove", "ann@chorus.example", input="n\n")
    assert code == 1 and emails(sessions) == ["ann@chorus.example", "bob@chorus.example"]
    code, out, _ = chorus("users", "remove", "ann@chorus.example", input="y\n")
    assert code == 0 and "removed board ann@chorus.example" in out
    code, out, _ = chorus("users", "remove", "bob@chorus.example", "--yes")
    assert code == 0 and emails(sessions) == []
    code, _, err = chorus("users", "remove", "bob@chorus.example", "--yes")
    assert code == 1 and "no user bob@chorus.example" in err
