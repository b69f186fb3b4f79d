"""The `chorus` command line, end to end through Typer against a real database."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from icalendar import Calendar
from sqlalchemy import inspect
from typer.core import TyperGroup
from typer.main import get_command
from typer.testing import CliRunner

from campaigns.cli import app
from campaigns.storage import db

runner = CliRunner()


def chorus(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def all_commands() -> list[tuple[str, ...]]:
    found: list[tuple[str, ...]] = []

    def walk(command: Any, path: tuple[str, ...]) -> None:
        found.append(path)
        if isinstance(command, TyperGroup):
            for name, sub in command.commands.items():
                walk(sub, (*path, name))

    walk(get_command(app), ())
    return found


@pytest.mark.parametrize("path", all_commands(), ids=lambda p: " ".join(p) or "chorus")
def test_every_command_has_help_text(path: tuple[str, ...]) -> None:
    code, out, _ = chorus(*path, "--help")
    assert code == 0
    command = get_command(app)
    for name in path:
        assert isinstance(command, TyperGroup)
        command = command.commands[name]
    assert command.help, f"chorus {' '.join(path)} has no help text"
    assert "Usage:" in out


def test_db_upgrade_creates_the_schema_and_is_idempotent(env: str) -> None:
    code, out, _ = chorus("db", "upgrade")
    assert code == 0 and "upgraded" in out
    code, out, _ = chorus("db", "upgrade")
    assert code == 0 and "already up to date" in out
    engine = db.make_engine(env)
    assert {"campaigns", "deliveries", "audit_log"} <= set(inspect(engine).get_table_names())
    engine.dispose()


def test_calendar_json_lists_events_with_inclusive_iso_dates() -> None:
    code, out, _ = chorus("calendar", "--year", "2025", "--format", "json",
                          "--content", str(Path(__file__).parents[2] / "content"))
    assert code == 0
    events = {e["key"]: e for e in json.loads(out)}
    assert events["national-hate-crime-awareness-week"]["start"] == "2025-10-11"
    assert events["national-hate-crime-awareness-week"]["end"] == "2025-10-18"
    assert {"key", "name", "start", "end"} <= set(events["refugee-week"])


def test_calendar_ics_is_a_valid_icalendar_file() -> None:
    code, out, _ = chorus("calendar", "--year", "2026", "--format", "ics",
                          "--content", str(Path(__file__).parents[2] / "content"))
    assert code == 0
    calendar = Calendar.from_ical(out)
    summaries = [str(e["SUMMARY"]) for e in calendar.walk("VEVENT")]
    assert len(summaries) >= 22


def test_calendar_rejects_an_unknown_format() -> None:
    code, _, err = chorus("calendar", "--year", "2026", "--format", "pdf")
    assert code != 0
    assert "unknown format" in err


def test_validate_reports_every_error_and_exits_non_zero(content_dir: Path) -> None:
    campaign = content_dir / "campaigns" / "nhcaw-2026.yaml"
    campaign.write_text(campaign.read_text().replace("event: national-hate-crime-awareness-week",
                                                     "event: no-such-week"))
    partners = content_dir / "partners.yaml"
    partners.write_text(partners.read_text().replace("kind: police", "kind: army"))
    code, _, err = chorus("content", "validate", str(content_dir))
    assert code == 1
    assert "nhcaw-2026.yaml:" in err and "unknown event key 'no-such-week'" in err
    assert "partners.yaml:" in err and "partners[1].kind" in err
    assert "2 error(s)" in err


def test_validate_passes_the_shipped_content() -> None:
    code, out, _ = chorus("content", "validate", str(Path(__file__).parents[2] / "content"))
    assert code == 0
    assert "no errors" in out


def test_load_plan_approve_and_list(env: str, content_dir: Path) -> None:
    assert chorus("content", "load", str(content_dir))[0] == 0
    code, out, _ = chorus("content", "load", str(content_dir))
    assert code == 0 and "nothing changed" in out

    code, out, _ = chorus("plan", "--campaign", "nhcaw-2026")
    assert code == 0 and "nhcaw-2026:" in out and "new" in out

    code, _, err = chorus("approve", "--campaign", "nhcaw-2026", "--as",
                          "Sam Patel (Communications Officer)")
    assert code == 1 and "someone other than its author" in err

    code, out, _ = chorus("approve", "--campaign", "nhcaw-2026", "--as", "Advisory Group")
    assert code == 0 and "approved by Advisory Group" in out

    code, out, _ = chorus("deliveries", "list", "--status", "approved", "--json")
    rows = json.loads(out)
    assert code == 0 and rows
    assert {r["status"] for r in rows} == {"approved"}
    assert {r["campaign"] for r in rows} == {"nhcaw-2026"}
    assert all("token" not in key for row in rows for key in row)

    code, out, _ = chorus("deliveries", "list", "--campaign", "nhcaw-2026")
    assert code == 0 and "local_time" in out and "lead-x" in out


def test_plan_by_year_only_plans_that_years_campaigns(env: str, content_dir: Path) -> None:
    chorus("content", "load", str(content_dir))
    code, out, _ = chorus("plan", "--year", "2027")
    assert code == 0
    assert "refugee-week-2027:" in out and "nhcaw-2026" not in out


def test_deliveries_list_rejects_an_unknown_status(env: str) -> None:
    code, _, err = chorus("deliveries", "list", "--status", "sent")
    assert code != 0 and "unknown status 'sent'" in err


def test_plan_names_an_unknown_campaign(env: str) -> None:
    code, _, err = chorus("plan", "--campaign", "nope")
    assert code == 1 and "no campaign 'nope'" in err


def test_pause_and_resume_hold_and_release_approved_posts(env: str, content_dir: Path) -> None:
    chorus("content", "load", str(content_dir))
    chorus("plan", "--campaign", "refugee-week-2027")
    chorus("approve", "--campaign", "refugee-week-2027", "--as", "Advisory Group")
    code, out, _ = chorus("pause", "--reason", "major incident", "--as", "Duty Officer")
    assert code == 0 and "10 waiting posts held" in out
    _, out, _ = chorus("deliveries", "list", "--status", "paused", "--json")
    rows = json.loads(out)
    assert len(rows) == 10
    assert rows[0]["reason"] == "paused by Duty Officer: major incident"
    code, out, _ = chorus("resume", "--as", "Duty Officer")
    assert code == 0 and "10 posts released" in out
    _, out, _ = chorus("deliveries", "list", "--status", "approved", "--json")
    assert len(json.loads(out)) == 10


def test_pause_names_an_unknown_campaign(env: str) -> None:
    code, _, err = chorus("pause", "--reason", "x", "--campaign", "nope")
    assert code == 1 and "no campaign 'nope'" in err


def test_resolve_needs_exactly_one_answer(env: str) -> None:
    code, _, err = chorus("deliveries", "resolve", "1", "--posted", "5", "--cancel")
    assert code == 1 and "exactly one of" in err
    code, _, err = chorus("deliveries", "resolve", "999", "--not-posted")
    assert code == 1 and "no delivery 999" in err


def test_validate_reports_what_the_planner_would_refuse_with_file_and_line(
    content_dir: Path,
) -> None:
    campaign = content_dir / "campaigns" / "nhcaw-2026.yaml"
    body = campaign.read_text()
    start = body.index("      north-yorkshire-police:\n        x: >-\n          We take")
    campaign.write_text(body[:start] + body[body.index("      city-of-york-council:", start):])
    code, _, err = chorus("content", "validate", str(content_dir))
    assert code == 1
    line = 1 + body[:body.index("  - key: launch")].count("\n") + 11  # the launch's `x:`
    assert f"nhcaw-2026.yaml:{line}: posts[1].variants.x: York Hate Crime Partnership on X " \
           "(@YorkAgainstHate) and North Yorkshire Police (York) on X (@NYP_YorkHate) would " \
           "post the same words" in err
    assert "1 error(s)" in err
