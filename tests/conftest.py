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

from campaigns.storage import db

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
    yield _fresh_postgres_schema(os.environ[POSTGRES_ENV])


def _fresh_postgres_schema(url: str) -> str:
    """An empty schema of this test process's own, so concurrent test runs never collide."""
    schema = f"chorus_test_{os.getpid()}"
    engine = db.make_engine(url)
    with engine.begin() as connection:
        connection.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
        connection.execute(text(f"CREATE SCHEMA {schema}"))
    engine.dispose()
    separator = "&" if "?" in url else "?"
    return f"{url}{separator}options=-csearch_path%3D{schema}"


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


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Drop this run's PostgreSQL schema."""
    url = os.environ.get(POSTGRES_ENV)
    if not url:
        return
    engine = db.make_engine(url)
    with engine.begin() as connection:
        connection.execute(text(f"DROP SCHEMA IF EXISTS chorus_test_{os.getpid()} CASCADE"))
    engine.dispose()
