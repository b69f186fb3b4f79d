"""The database edge: engine and session factory, built on request, never at import time."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine, create_engine, event, inspect
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS = Path(__file__).parent / "migrations"


def make_engine(url: str, **kwargs: Any) -> Engine:
    """An engine for `url`; SQLite gets WAL, enforced foreign keys and a busy timeout."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:" and not parsed.query.get("uri"):
            _create_private(Path(parsed.database))
        kwargs.setdefault("connect_args", {"timeout": 30})
        engine = create_engine(url, **kwargs)
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    engine = create_engine(url, pool_pre_ping=True, **kwargs)
    if parsed.get_backend_name() == "postgresql":
        event.listen(engine, "connect", _postgres_settings)
    return engine


def _create_private(path: Path) -> None:
    """Create the database file readable by its owner only (it holds sign-in hashes and
    encrypted tokens); SQLite gives its -wal and -shm files the same mode."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with suppress(FileExistsError):
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))


def busy_timeout(url: str, seconds: float) -> dict[str, Any]:
    """Engine options to wait `seconds` for a lock held by another process (SQLite)."""
    if make_url(url).get_backend_name() == "sqlite":
        return {"connect_args": {"timeout": seconds}}
    return {}


def _postgres_settings(dbapi_connection: Any, _record: Any) -> None:
    # The JIT compiles the dashboard's short aggregates for longer than they take to run.
    with dbapi_connection.cursor() as cursor:
        cursor.execute("SET jit = off")
    dbapi_connection.commit()


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(bind=engine, expire_on_commit=False)


@contextmanager
def transaction(factory: sessionmaker[Session]) -> Iterator[Session]:
    """A session whose work commits together or not at all."""
    with factory() as session, session.begin():
        yield session


def alembic_config(engine: Engine) -> Config:
    from alembic.config import Config  # here, not at the top: a dashboard page never needs it

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["engine"] = engine
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring the schema up to `revision` (idempotent)."""
    from alembic import command

    command.upgrade(alembic_config(engine), revision)


def current_revision(engine: Engine) -> str | None:
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def has_schema(engine: Engine) -> bool:
    return inspect(engine).has_table("alembic_version")


#: What a database's own error says, and what to tell the person running Chorus. SQLite's and
#: PostgreSQL's messages are in English whatever the locale (they are not translated).
_FAILURES = (
    (("readonly", "read-only", "read only"),
     "{db} is read-only: give the user running Chorus write access to the file and its "
     "folder"),
    (("database is locked", "database is busy", "lock timeout", "could not obtain lock"),
     "{db} is locked by another program (a backup, a migration or an open sqlite3 shell); "
     "try again when it has finished"),
    (("disk is full", "no space left", "disk full"),
     "no space is left on the disk holding {db}; free some space and try again (nothing was "
     "half-written)"),
    (("unable to open database", "could not translate host", "connection refused",
      "could not connect", "connection to server"),
     "cannot open {db}: check CHORUS_DATABASE_URL, that the server is running and that the "
     "folder is writable"),
    (("file is not a database", "database disk image is malformed"),
     "{db} is damaged or is not a Chorus database; restore it from a backup"),
    (("disk i/o error",),
     "the disk holding {db} reported an error; check the disk and its free space"),
    (("too many sql variables", "too many terms"),
     "a request to {db} was too large for it; this is a bug in Chorus, please report it"),
)


def describe_failure(error: BaseException, url: str | None = None) -> str:
    """A database error as one line that says what to do, never a traceback."""
    found = str(getattr(error, "orig", None) or error).splitlines()[0] if str(error) else ""
    text = found.casefold()
    where = _database_name(url)
    for needles, message in _FAILURES:
        if any(needle in text for needle in needles):
            return message.format(db=where)
    return f"{where} refused the command ({found or type(error).__name__})"


def _database_name(url: str | None) -> str:
    if not url:
        return "the database"
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        name = (parsed.database or "").removeprefix("file:")  # a URI filename, as in ?mode=ro
        return f"the database file {name}" if name else "the database"
    return f"the database {parsed.render_as_string(hide_password=True)}"
