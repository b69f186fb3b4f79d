"""`chorus sandbox`: serve the X API emulator until Ctrl-C."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from scheduler.sandbox.faults import PROFILES
from scheduler.sandbox.server import start


def sandbox_command(
    port: Annotated[int, typer.Option(help="Port to listen on (0: any free port).")] = 8787,
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    state: Annotated[Path, typer.Option(
        help="SQLite file keeping accounts, posts, faults and the clock across restarts.",
        dir_okay=False)] = Path("var/sandbox.db"),
    faults: Annotated[str | None, typer.Option(
        help=f"Fault profile: {', '.join(PROFILES)}. Default: keep the faults saved in "
             "the state file (none for a new one).")] = None,
) -> None:
    """Serve the X API sandbox (and a Mastodon instance under /mastodon, and a Bluesky PDS
    under /bluesky/xrpc): an emulator for tests and demos. Its data is sandbox data."""
    if faults is not None and faults not in PROFILES:
        raise typer.BadParameter(f"use one of {', '.join(PROFILES)}", param_hint="--faults")
    try:
        running = start(state, port=port, faults=faults, host=host)
    except OSError as error:
        typer.echo(f"error: cannot listen on {host}:{port}: {error.strerror}", err=True)
        raise typer.Exit(1) from None
    typer.echo(f"X API sandbox at {running.url} (state: {state})")
    typer.echo(f"Point Chorus at it with CHORUS_X_API_URL={running.url}")
    typer.echo("Press Ctrl-C to stop.")
    try:
        while running.serving:
            running.wait(0.5)
    except KeyboardInterrupt:
        typer.echo("stopping the sandbox")
    finally:
        running.stop()
