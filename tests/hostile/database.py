"""What the hostile-input properties share: a migrated SQLite database for the CLI, and the
whole of its contents, to show that a refused input wrote nothing."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, MetaData, select

from campaigns.storage import db


@pytest.fixture
def database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Engine]:
    url = f"sqlite:///{tmp_path / 'chorus.db'}"
    monkeypatch.setenv("CHORUS_DATABASE_URL", url)
    monkeypatch.chdir(tmp_path)
    engine = db.make_engine(url)
    db.upgrade(engine)
    yield engine
    engine.dispose()


def contents(engine: Engine) -> dict[str, list[tuple[object, ...]]]:
    """Every row of every table, in a stable order."""
    tables = MetaData()
    tables.reflect(engine)
    with engine.connect() as connection:
        return {name: sorted((tuple(row) for row in connection.execute(select(table))), key=repr)
                for name, table in tables.tables.items()}
