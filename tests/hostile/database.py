"""What the hostile-input properties share: a migrated SQLite database for the CLI, the whole
of its contents (to show that a refused input wrote nothing), and damaged copies of files."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import strategies as st
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


def damaged(draw: st.DrawFn, data: bytes, *, most: int = 64) -> bytes:
    """`data` with one to four bytes flipped, runs cut or inserted, or its end cut off."""
    changed = bytearray(data)
    for _ in range(draw(st.integers(1, 4))):
        if not changed:
            break
        at = draw(st.integers(0, len(changed) - 1))
        action = draw(st.sampled_from(["flip", "cut", "insert", "truncate"]))
        if action == "flip":
            changed[at] ^= draw(st.integers(1, 255))
        elif action == "cut":
            del changed[at:at + draw(st.integers(1, most))]
        elif action == "insert":
            changed[at:at] = draw(st.binary(min_size=1, max_size=most))
        else:
            del changed[at:]
    return bytes(changed)
