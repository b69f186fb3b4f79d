"""Settings, local-time resolution and the line-aware YAML reader."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from pydantic import ValidationError

from campaigns.config.settings import Settings
from campaigns.core.timezones import LocalTimeKind, classify_local, resolve_local
from campaigns.formats.sourcemap import YamlSyntaxError, load_located

LONDON = ZoneInfo("Europe/London")


def test_settings_default_to_a_sqlite_file_under_var_and_london(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)
    for name in ("CHORUS_DATABASE_URL", "CHORUS_TIMEZONE", "CHORUS_SECRET_KEY"):
        monkeypatch.delenv(name, raising=False)
    settings = Settings()
    assert settings.database_url == "sqlite:///var/chorus.db"
    assert settings.timezone == "Europe/London"
    assert settings.secret_key is None


def test_settings_read_the_chorus_prefix_and_a_dotenv_file(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("CHORUS_TIMEZONE", raising=False)
    (tmp_path / ".env").write_text("CHORUS_TIMEZONE=Europe/Dublin\nCHORUS_SECRET_KEY=s3cret\n")
    monkeypatch.setenv("CHORUS_DAILY_CAP", "2")
    settings = Settings()
    assert (settings.timezone, settings.daily_cap) == ("Europe/Dublin", 2)
    assert "s3cret" not in repr(settings)  # the key never shows up in logs or tracebacks


def test_settings_refuse_an_unknown_time_zone(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CHORUS_TIMEZONE", "Europe/Londres")
    with pytest.raises(ValidationError, match="unknown IANA time zone"):
        Settings()


@pytest.mark.parametrize(
    ("local", "kind", "utc"),
    [
        (datetime(2026, 6, 1, 9, 0), LocalTimeKind.NORMAL, datetime(2026, 6, 1, 8, 0)),
        (datetime(2026, 1, 5, 9, 0), LocalTimeKind.NORMAL, datetime(2026, 1, 5, 9, 0)),
        (datetime(2026, 3, 29, 1, 0), LocalTimeKind.GAP, datetime(2026, 3, 29, 1, 0)),
        (datetime(2026, 3, 29, 1, 59), LocalTimeKind.GAP, datetime(2026, 3, 29, 1, 59)),
        (datetime(2026, 3, 29, 2, 0), LocalTimeKind.NORMAL, datetime(2026, 3, 29, 1, 0)),
        (datetime(2026, 10, 25, 1, 0), LocalTimeKind.FOLD, datetime(2026, 10, 25, 0, 0)),
        (datetime(2026, 10, 25, 2, 0), LocalTimeKind.NORMAL, datetime(2026, 10, 25, 2, 0)),
    ],
)
def test_local_times_around_clock_changes(
    local: datetime, kind: LocalTimeKind, utc: datetime
) -> None:
    assert classify_local(local, LONDON) is kind
    resolved, note = resolve_local(local, LONDON)
    assert resolved == utc.replace(tzinfo=UTC)
    assert (note is None) is (kind is LocalTimeKind.NORMAL)


def test_yaml_reader_remembers_the_line_of_every_key(tmp_path: Path) -> None:
    file = tmp_path / "f.yaml"
    file.write_text("posts:\n  - key: a\n    send:\n      at: '10:00'\n  - key: b\n")
    located = load_located(file)
    assert located.data == {"posts": [{"key": "a", "send": {"at": "10:00"}}, {"key": "b"}]}
    assert located.line_of(("posts", 0, "send", "at")) == 4
    assert located.line_of(("posts", 1, "key")) == 5
    assert located.line_of(("posts", 1, "missing")) == 5  # nearest known ancestor


def test_yaml_reader_names_the_line_of_a_syntax_error(tmp_path: Path) -> None:
    file = tmp_path / "f.yaml"
    file.write_text("a: 1\nb: [1, 2\nc: 3\n")
    with pytest.raises(YamlSyntaxError) as caught:
        load_located(file)
    assert caught.value.line in (2, 3)
    assert str(file) in str(caught.value)
