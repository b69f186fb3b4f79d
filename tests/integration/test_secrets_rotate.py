"""Rotating CHORUS_SECRET_KEY (`chorus secrets rotate`): every stored token re-encrypted with
the new key, without asking any account to authorise Chorus again."""

from __future__ import annotations

from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from campaigns.cli import app
from campaigns.config.secrets import Credentials, SecretKeyMissing, Vault
from campaigns.storage import db
from campaigns.storage.accounts import store_connection
from campaigns.storage.models import Account

runner = CliRunner()
OLD, NEW, LOST = (Fernet.generate_key().decode() for _ in range(3))
TOKENS = {"lead-x": "tok-lead-5e1f", "police-x": "tok-police-77ab", "council-x": "tok-council-0c2d"}


def chorus(*args: str, input: str | None = None) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args), input=input)
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def connected(env: str, sessions: sessionmaker[Session], content_dir: Path) -> None:
    """Three connected accounts: two sealed with the old key, one with a key since lost."""
    code, _, err = chorus("content", "load", str(content_dir))
    assert code == 0, err
    with db.transaction(sessions) as session:
        for key, token in TOKENS.items():
            account = session.scalars(select(Account).where(Account.key == key)).one()
            vault = Vault(LOST if key == "council-x" else OLD)
            store_connection(account, Credentials("oauth2", {"access_token": token}),
                             vault=vault, remote_user_id="1", sandbox=True, session=session)


def sealed(sessions: sessionmaker[Session]) -> dict[str, bytes]:
    with sessions() as session:
        rows = session.execute(select(Account.key, Account.token_encrypted)
                               .where(Account.token_encrypted.is_not(None))).all()
    return {key: token for key, token in rows if token is not None}


def test_reseal_opens_with_an_old_key_and_seals_with_the_new_one() -> None:
    token = Vault(OLD).seal(Credentials("oauth1", {"access_token": "a"}))
    resealed = Vault(NEW).reseal(token, [OLD])
    assert Vault(NEW).open(resealed)["access_token"] == "a"
    with pytest.raises(SecretKeyMissing):
        Vault(OLD).open(resealed)
    with pytest.raises(SecretKeyMissing):
        Vault(NEW).reseal(token, [LOST])


def test_rotate_reseals_every_token_it_can_open_and_names_the_rest(
    connected: None, sessions: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CHORUS_SECRET_KEY", NEW)
    before = sealed(sessions)
    code, out, err = chorus("secrets", "rotate", input=f"{OLD}\n")
    assert code == 1
    assert "2 account tokens now encrypted with the current key" in out
    assert "council-x" in err and "chorus accounts connect" in err
    after = sealed(sessions)
    for key in ("lead-x", "police-x"):
        assert Vault(NEW).open(after[key])["access_token"] == TOKENS[key]
    assert after["council-x"] == before["council-x"]
    assert not any(key in out + err for key in (OLD, NEW, *TOKENS.values()))


def test_rotate_refuses_a_missing_or_malformed_old_key(
    connected: None, sessions: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CHORUS_SECRET_KEY", NEW)
    before = sealed(sessions)
    code, _, err = chorus("secrets", "rotate", input="")
    assert code == 1 and "old key on standard input" in err
    code, _, err = chorus("secrets", "rotate", input="not-a-key\n")
    assert code == 1 and "not a Fernet key" in err and "not-a-key" not in err
    assert sealed(sessions) == before


def test_rotate_needs_the_new_key_set(
    connected: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CHORUS_SECRET_KEY", raising=False)
    code, _, err = chorus("secrets", "rotate", input=f"{OLD}\n")
    assert code == 1 and "CHORUS_SECRET_KEY" in err


def test_a_worker_with_a_key_that_opens_no_token_refuses_to_start(
    connected: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CHORUS_SECRET_KEY", NEW)
    code, _, err = chorus("run", "--worker-id", "wrong-key")
    assert code == 1
    assert "opens none of the 3 stored account tokens" in err


def test_tokens_the_key_cannot_open_are_named(
    connected: None, sessions: sessionmaker[Session]
) -> None:
    from campaigns.storage.accounts import unopenable_tokens

    with sessions() as session:
        assert unopenable_tokens(vault=Vault(OLD), session=session) == (["council-x"], 3)
        assert unopenable_tokens(vault=Vault(NEW), session=session) == (
            ["council-x", "lead-x", "police-x"], 3)
