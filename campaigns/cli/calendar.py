"""`chorus calendar`: the awareness events of a year, as a table, JSON or iCalendar."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from campaigns.cli.runtime import checked_library, fail
from campaigns.core import calendar


def calendar_command(
    year: Annotated[int, typer.Option(help="The year to show.")],
    format: Annotated[
        str, typer.Option("--format", help="table, json or ics.", case_sensitive=False)
    ] = "table",
    content: Annotated[Path, typer.Option(help="The content directory.")] = Path("content"),
) -> None:
    """Print the awareness events that start in YEAR."""
    if format not in ("table", "json", "ics"):
        raise fail(f"unknown format {format!r}: use table, json or ics")
    library = checked_library(content, show_warnings=False, events_only=True)
    found = calendar.occurrences(library.events, year)
    if format == "json":
        typer.echo(calendar.to_json(found))
    elif format == "ics":
        body = calendar.to_ics(found, calendar_name=f"Awareness events {year}")
        typer.echo(body.decode("utf-8"), nl=False)
    else:
        typer.echo(calendar.to_table(found))
