"""`chorus demo` serves the dashboard as `chorus dashboard` does: with the mark that the schema
is up to date (the demo upgrades it first), so the dashboard's first page does not load
Alembic to check it again."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

import scheduler.demo
from campaigns.cli import app
from dashboard.startup import schema_ready
from scheduler.demo import DemoOptions
from tests.conftest import ROOT


def test_the_demos_dashboard_is_told_the_schema_is_up_to_date(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"sqlite:///{tmp_path / 'chorus.db'}"
    monkeypatch.setenv("CHORUS_DATABASE_URL", url)
    given: list[DemoOptions] = []

    def run(settings: object, options: DemoOptions, say: object) -> int:
        given.append(options)
        return 0

    monkeypatch.setattr(scheduler.demo, "run", run)
    result = CliRunner().invoke(app, ["demo", "--content", str(ROOT / "content"),
                                      "--var", str(tmp_path / "var")])
    assert result.exit_code == 0, result.output
    [options] = given
    assert options.dashboard_command is not None
    assert schema_ready(url, dict(options.dashboard_environment))
    assert not schema_ready(f"sqlite:///{tmp_path / 'other.db'}",
                            dict(options.dashboard_environment))
