"""`chorus demo`: the whole demo `make run` starts (see scheduler/demo.py)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer

from campaigns.cli.runtime import checked_settings, fail
from dashboard.serve import streamlit_command


def demo_command(
    replay_days: Annotated[int, typer.Option(
        min=0, help="How many days back the first run replays (later runs carry on from where "
                    "the last one stopped).")] = 365,
    replay_from: Annotated[datetime | None, typer.Option(
        help="Replay from this UTC moment instead (e.g. 2026-10-01).")] = None,
    replay_until: Annotated[datetime | None, typer.Option(
        help="End the replay at this UTC moment instead of now (the demo then stops).")] = None,
    port: Annotated[int, typer.Option(help="The dashboard's port.")] = 8501,
    sandbox_port: Annotated[int, typer.Option(help="The sandbox's port.")] = 8787,
    dashboard: Annotated[bool, typer.Option(help="Serve the dashboard.")] = True,
    exit_after_replay: Annotated[bool, typer.Option(
        help="Stop once the replay is done instead of running on.")] = False,
    content: Annotated[Path, typer.Option(help="The content directory.", file_okay=False,
                                          exists=True)] = Path("content"),
    var: Annotated[Path, typer.Option(help="Where the demo keeps its state.",
                                      file_okay=False)] = Path("var"),
) -> None:
    """Run the demo: sandbox accounts, a year of campaigns replayed through the real worker,
    reporting data, and the dashboard at http://localhost:8501. Ctrl-C stops everything.

    Safe to run again (nothing is doubled); `make reset` starts over. Uses its own database
    (CHORUS_DATABASE_URL, default var/chorus.db) and refuses one with real accounts connected.
    """
    from dashboard.startup import SCHEMA_READY_ENV, schema_marker
    from scheduler.demo import ADDRESS, DemoError, DemoOptions, run

    if replay_from and replay_until and replay_until.replace(tzinfo=None) <= replay_from.replace(
            tzinfo=None):
        raise fail(f"--replay-until ({replay_until:%Y-%m-%d %H:%M}) must be after "
                   f"--replay-from ({replay_from:%Y-%m-%d %H:%M})")
    settings = checked_settings()
    options = DemoOptions(
        var=var, content=content, replay_days=replay_days, replay_from=replay_from,
        replay_until=replay_until, dashboard_port=port, sandbox_port=sandbox_port,
        dashboard_command=tuple(streamlit_command(port=port, address=ADDRESS)) if dashboard
        else None, exit_after_replay=exit_after_replay or replay_until is not None,
        dashboard_environment=((SCHEMA_READY_ENV, schema_marker(settings.database_url)),))
    try:
        code = run(settings, options, lambda line: typer.echo(line))
    except DemoError as exc:
        raise fail(str(exc)) from None
    raise typer.Exit(code)
