"""What the `chorus accounts` tests share: the CLI, a sandbox, a secret key, and a database
with content loaded and the CLI pointed at both."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import select
from typer.testing import CliRunner

from campaigns.cli import app
from campaigns.storage import db
from campaigns.storage.models import Account
from tests.e2e import Sandbox, running_sandbox

runner = CliRunner()


def chorus(*args: str, typed: str | None = None) -> tuple[int, str, str]:
    """Run a `chorus` command in-process: (exit code, stdout, stderr)."""
    result = runner.invoke(app, list(args), input=typed)
    return result.exit_code, result.stdout, result.stderr


def account(database_url: str, key: str) -> Account:
    """The account `key` as the database holds it now."""
    engine = db.make_engine(database_url)
    try:
        with db.session_factory(engine)() as session:
            return session.scalars(select(Account).where(Account.key == key)).one()
    finally:
        engine.dispose()


@pytest.fixture
def sandbox(tmp_path: Path) -> Iterator[Sandbox]:
    with running_sandbox(tmp_path / "sandbox.db") as running:
        yield running


@pytest.fixture
def key() -> str:
    return Fernet.generate_key().decode()


@pytest.fixture
def chorus_env(env: str, content_dir: Path, sandbox: Sandbox, key: str,
               monkeypatch: pytest.MonkeyPatch) -> str:
    """The CLI pointed at a fresh database with content loaded, and at the sandbox (with no
    real X app keys, so nothing can reach X)."""
    for name in ("CHORUS_X_CONSUMER_KEY", "CHORUS_X_CONSUMER_SECRET", "CHORUS_X_CLIENT_ID",
                 "CHORUS_X_CLIENT_SECRET", "CHORUS_DEMO"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("CHORUS_X_API_URL", sandbox.url)
    monkeypatch.setenv("CHORUS_SECRET_KEY", key)
    assert chorus("content", "load", str(content_dir))[0] == 0
    return env
