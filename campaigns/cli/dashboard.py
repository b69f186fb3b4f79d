"""`chorus dashboard`: run the Streamlit dashboard in its own process."""

from __future__ import annotations

import os
import signal
import subprocess
from pathlib import Path
from typing import Annotated

import typer
from sqlalchemy import func, select

from campaigns.cli.runtime import runtime
from campaigns.core.clock import utcnow
from campaigns.storage.models import User
from dashboard.serve import streamlit_command


def dashboard_command(
    port: Annotated[int, typer.Option(help="The port to serve on.")] = 8501,
    address: Annotated[
        str, typer.Option(help="The address to listen on; 127.0.0.1 keeps it to this machine "
                               "(put a TLS reverse proxy in front to share it).")
    ] = "127.0.0.1",
    content: Annotated[
        Path, typer.Option(help="The content directory (share kits take their images from it).",
                           file_okay=False)
    ] = Path("content"),
) -> None:
    """Run the dashboard (Streamlit) for officers, partners and the board, until Ctrl-C.

    Sign-in: OIDC when .streamlit/secrets.toml has an auth section, else local accounts.
    Before Streamlit starts, the schema is brought up to date and the effect estimates the
    board page shows first are fitted and stored.
    """
    from dashboard import startup  # here: it loads pandas, which other commands do not need

    with runtime() as rt:  # the schema is brought up to date here, once
        with rt.sessions() as session:
            users = session.scalar(select(func.count()).select_from(User)) or 0
        fitted = startup.fit_first_effects(rt.sessions, now=utcnow())
    if not users:
        typer.secho("note: no dashboard users yet; add one with: chorus users add EMAIL "
                    "--name NAME --role officer", fg=typer.colors.YELLOW, err=True)
    if fitted:
        typer.echo(f"fitted and stored {fitted} effect estimates for the board page")
    environment = {**os.environ, "CHORUS_CONTENT_DIR": str(content.resolve()),
                   startup.SCHEMA_READY_ENV: startup.schema_marker(rt.settings.database_url)}
    typer.echo(f"dashboard on http://{address}:{port}; Ctrl-C to stop")
    raise typer.Exit(run_until_stopped(streamlit_command(port=port, address=address),
                                       environment))


def run_until_stopped(command: list[str], environment: dict[str, str]) -> int:
    """Run `command` until it ends; SIGTERM and Ctrl-C sent to this process reach it too, so
    stopping `chorus dashboard` (as a service manager does) never leaves Streamlit behind."""
    process = subprocess.Popen(command, env=environment)

    def forward(signum: int, _frame: object) -> None:
        process.send_signal(signum)

    previous = signal.signal(signal.SIGTERM, forward)
    try:
        while True:
            try:
                return process.wait()
            except KeyboardInterrupt:
                process.send_signal(signal.SIGINT)
    finally:
        signal.signal(signal.SIGTERM, previous)
