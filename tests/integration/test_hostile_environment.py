"""The command line and the worker when their surroundings are hostile or broken: a garbage
secret key, a read-only, locked or full database. Each gives one line saying what to do, a
non-zero exit where a command could not do its work, and never a traceback (issue 12)."""

from __future__ import annotations

import logging
import signal
import sqlite3
import stat
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import event, text
from typer.testing import CliRunner, Result

from campaigns.cli import app
from campaigns.storage import db
from scheduler.dispatch import Dispatcher, WorkerConfig
from scheduler.worker import Worker

runner = CliRunner()
NOW = datetime(2026, 9, 1, 12, tzinfo=UTC)

#: Commands that change the database, with what they need, run from the test's folder.
WRITING = [
    ("content", "load", "{content}"),
    ("plan", "--campaign", "refugee-week-2027"),
    ("approve", "--campaign", "nhcaw-2026", "--as", "Sam Patel"),
    ("pause", "--reason", "a test"),
    ("resume",),
    ("users", "add", "jo@example.org", "--name", "Jo", "--role", "board"),
    ("posts", "import", "posts.csv", "--as", "Sam Patel"),
    ("reports", "import", "{reports}"),
    ("run",),
]


class Hung(Exception):
    """A command that should have stopped at once kept running (the worker, say)."""


def invoke(*args: str) -> Result:
    def hung(signum: int, frame: object) -> None:
        raise Hung(" ".join(args))

    previous = signal.signal(signal.SIGALRM, hung)
    signal.alarm(60)
    try:
        return runner.invoke(app, list(args), input="a long enough password\n" * 2)
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def no_traceback(result: Result) -> None:
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), (
        f"{type(result.exception).__name__}: {result.exception}")


@pytest.fixture
def migrated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, content_dir: Path) -> Path:
    """A loaded SQLite database, the CLI pointed at it from the test's folder."""
    path = tmp_path / "chorus.db"
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("CHORUS_DATABASE_URL", f"sqlite:///{path}")
    monkeypatch.setenv("CHORUS_SECRET_KEY", Fernet.generate_key().decode())
    monkeypatch.setenv("CHORUS_CONTENT_DIR", str(content_dir))
    assert invoke("content", "load", str(content_dir)).exit_code == 0
    assert invoke("plan", "--campaign", "nhcaw-2026").exit_code == 0
    campaign = content_dir / "campaigns" / "refugee-week-2027.yaml"  # so loading changes it
    campaign.write_text(campaign.read_text().replace("make reporting abuse", "make reporting"))
    (tmp_path / "posts.csv").write_text(
        "account,send_at,text\nlead-mastodon,2027-01-03 09:30,Report hate crime: "
        "https://www.report-it.org.uk\n", encoding="utf-8")
    return path


def command(args: tuple[str, ...], content_dir: Path) -> list[str]:
    reports = (Path(__file__).parents[2] / "content" / "reports"
               / "north-yorkshire-home-office-2017-2019.csv")
    return [a.format(content=content_dir, reports=reports) for a in args]


def test_a_garbage_secret_key_is_one_message_not_a_traceback(
    migrated: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CHORUS_SECRET_KEY", "garbage")
    result = invoke("run")
    no_traceback(result)
    assert result.exit_code == 1
    assert "CHORUS_SECRET_KEY is not a Fernet key" in result.output


def test_a_setting_with_a_wrong_value_is_named(
    migrated: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CHORUS_TIMEZONE", "Europe/Atlantis")
    result = invoke("deliveries", "list")
    no_traceback(result)
    assert result.exit_code == 1
    assert "CHORUS_TIMEZONE: unknown IANA time zone 'Europe/Atlantis'" in result.output


@pytest.mark.parametrize("url", ["", "garbage", "sqlite//var/chorus.db"])
def test_a_database_url_that_is_not_one_is_named_not_a_traceback(
    migrated: Path, monkeypatch: pytest.MonkeyPatch, url: str
) -> None:
    monkeypatch.setenv("CHORUS_DATABASE_URL", url)
    result = invoke("deliveries", "list")
    no_traceback(result)
    assert result.exit_code == 1
    assert "CHORUS_DATABASE_URL: not a database URL" in result.output


@pytest.mark.parametrize("args", WRITING, ids=lambda a: " ".join(a[:2]))
def test_a_read_only_database_is_one_message_on_every_command(
    migrated: Path, monkeypatch: pytest.MonkeyPatch, content_dir: Path, args: tuple[str, ...]
) -> None:
    # Tests run as root, which writes whatever a file's mode says: open the file read-only.
    monkeypatch.setenv("CHORUS_DATABASE_URL", f"sqlite:///file:{migrated}?mode=ro&uri=true")
    result = invoke(*command(args, content_dir))
    no_traceback(result)
    assert result.exit_code == 1
    assert result.output.strip().endswith(
        f"the database file {migrated} is read-only: give the user running Chorus write "
        "access to the file and its folder"), result.output


@pytest.fixture
def locked(migrated: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """The database with another program holding its write lock."""
    monkeypatch.setenv("CHORUS_DATABASE_BUSY_SECONDS", "0.1")
    holder = sqlite3.connect(migrated, timeout=0.1)
    holder.execute("BEGIN EXCLUSIVE")
    yield migrated
    holder.rollback()
    holder.close()


@pytest.mark.parametrize("args", WRITING, ids=lambda a: " ".join(a[:2]))
def test_a_locked_database_is_one_message_on_every_command(
    locked: Path, content_dir: Path, args: tuple[str, ...]
) -> None:
    result = invoke(*command(args, content_dir))
    no_traceback(result)
    assert result.exit_code == 1
    assert "is locked by another program" in result.output, result.output


def test_a_new_database_file_is_readable_by_its_owner_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "var" / "chorus.db"
    monkeypatch.setenv("CHORUS_DATABASE_URL", f"sqlite:///{path}")
    monkeypatch.chdir(tmp_path)
    assert invoke("deliveries", "list").exit_code == 0
    for file in [path, *path.parent.glob("chorus.db-*")]:
        assert stat.S_IMODE(file.stat().st_mode) == 0o600, file


# ---- the worker ------------------------------------------------------------------------------


def full_database(path: Path) -> db.Engine:  # type: ignore[name-defined]
    """An engine on `path` whose file cannot grow: SQLite answers SQLITE_FULL, as on a full
    disk."""
    engine = db.make_engine(f"sqlite:///{path}")

    def cap(connection: object, _record: object) -> None:
        cursor = connection.cursor()  # type: ignore[attr-defined]
        pages = cursor.execute("PRAGMA page_count").fetchone()[0]
        cursor.execute(f"PRAGMA max_page_count = {pages}")
        cursor.close()

    event.listen(engine, "connect", cap)
    return engine


def test_a_full_disk_in_the_worker_is_one_log_line_and_one_alert_until_it_recovers(
    migrated: Path, caplog: pytest.LogCaptureFixture
) -> None:
    engine = full_database(migrated)
    sessions = db.session_factory(engine)
    sent: list[tuple[str, str]] = []
    config = WorkerConfig(worker_id="w1", lease=timedelta(seconds=60), grace=timedelta(minutes=30))
    worker = Worker(Dispatcher(sessions, {}, None, config, lambda: NOW), sessions,  # type: ignore[arg-type]
                    clock=lambda: NOW,
                    send_urgent=lambda subject, body, now: sent.append((subject, body)) or "")

    def fill() -> None:
        with sessions() as session, session.begin():
            session.execute(text("CREATE TABLE IF NOT EXISTS ballast (b BLOB)"))
            session.execute(text("INSERT INTO ballast VALUES (zeroblob(1000000))"))

    with caplog.at_level(logging.INFO, logger="chorus.worker"):
        for _ in range(3):
            worker.guarded("housekeeping", fill)
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(errors) == 1 and not errors[0].exc_info
    assert "no space is left on the disk holding the database" in errors[0].getMessage()
    assert len(sent) == 1 and "cannot work" in sent[0][0]
    worker.guarded("housekeeping", lambda: None)
    assert worker.trouble is None
    assert "working again" in caplog.records[-1].getMessage()
    engine.dispose()
