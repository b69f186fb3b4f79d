"""Shared fixtures: a fresh database per test, on SQLite and (when configured) PostgreSQL."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session, sessionmaker

from campaigns import db

ROOT = Path(__file__).resolve().parent.parent
CONTENT = ROOT / "content"
POSTGRES_ENV = "CHORUS_TEST_POSTGRES_URL"
NOW = datetime(2026, 9, 1, 12, 0, tzinfo=UTC)


def _backends() -> list[object]:
    postgres = pytest.param(
        "postgresql",
        marks=pytest.mark.skipif(
            not os.environ.get(POSTGRES_ENV),
            reason=f"set {POSTGRES_ENV} to run the PostgreSQL integration tests",
        ),
    )
    return ["sqlite", postgres]


@pytest.fixture(params=_backends())
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'chorus.db'}"
        return
    url = os.environ[POSTGRES_ENV]
    _reset_postgres(url)
    yield url


def _reset_postgres(url: str) -> None:
    engine = db.make_engine(url)
    with engine.begin() as connection:
        connection.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        connection.execute(text("CREATE SCHEMA public"))
    engine.dispose()


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    engine = db.make_engine(database_url)
    db.upgrade(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def sessions(engine: Engine) -> sessionmaker[Session]:
    return db.session_factory(engine)


@pytest.fixture
def content_dir(tmp_path: Path) -> Path:
    """A private copy of the shipped content, safe to edit."""
    target = tmp_path / "content"
    shutil.copytree(CONTENT, target)
    return target


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch, database_url: str, tmp_path: Path) -> str:
    """Point the CLI at this test's database, and run it from a scratch directory."""
    monkeypatch.setenv("CHORUS_DATABASE_URL", database_url)
    monkeypatch.chdir(tmp_path)
    return database_url
