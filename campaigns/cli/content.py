"""`chorus content`: check content files, load them, write the database's content back."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from campaigns.cli.runtime import checked_library, fail, runtime
from campaigns.formats.content import read_library
from campaigns.storage import db
from campaigns.storage.export import (
    CONFLICT_ADVICE,
    ContentConflict,
    NothingToExport,
    export_content,
)
from campaigns.storage.loader import load_library

content_app = typer.Typer(help="Content files: check them, load them.", no_args_is_help=True)

ContentDir = Annotated[
    Path, typer.Argument(help="The content directory.", file_okay=False)
]


@content_app.command("validate")
def content_validate(directory: ContentDir = Path("content")) -> None:
    """Check every content file and report every problem with its file, line and field."""
    library = checked_library(directory)
    typer.echo(
        f"{directory}: {len(library.events)} events, {len(library.channels)} reporting channels, "
        f"{len(library.partners)} partners, {len(library.campaigns)} campaigns with "
        f"{sum(len(c.spec.posts) for c in library.campaigns)} posts; "
        f"no errors, {len(library.warnings)} warning(s)"
    )


@content_app.command("load")
def content_load(
    directory: ContentDir = Path("content"),
    overwrite: Annotated[bool, typer.Option(
        help="Replace campaigns edited in the browser with the files' versions.")] = False,
) -> None:
    """Validate, then load the content into the database in one transaction."""
    library = checked_library(directory)
    try:
        with runtime() as rt, db.transaction(rt.sessions) as session:
            result = load_library(library, session=session,
                                  default_timezone=rt.settings.timezone, overwrite=overwrite)
    except ContentConflict as conflict:
        for each in conflict.conflicts:
            typer.secho(str(each), fg=typer.colors.RED, err=True)
        raise fail(CONFLICT_ADVICE) from conflict
    if not result.changed:
        typer.echo("content loaded: nothing changed")
        return
    for label, counts in (("new", result.created), ("changed", result.updated),
                          ("withdrawn", result.withdrawn)):
        if counts:
            listed = ", ".join(f"{n} {kind}" for kind, n in sorted(counts.items()))
            typer.echo(f"{label}: {listed}")


@content_app.command("export")
def content_export(
    directory: Annotated[Path, typer.Argument(
        help="Where to write the files (created if needed); campaign files already there are "
             "rewritten in place.", file_okay=False)] = Path("content"),
) -> None:
    """Write the database's content (including edits made in the browser) as content files,
    to review and version them. Comments are not kept."""
    with runtime() as rt, rt.sessions() as session:
        try:
            result = export_content(directory, session=session,
                                    images_from=rt.settings.content_dir)
        except NothingToExport as exc:
            raise fail(str(exc)) from None
        zone = rt.settings.timezone
    for path in result.written:
        typer.echo(f"wrote {path}")
    if result.images_copied:
        typer.echo(f"copied {result.images_copied} image(s) from {rt.settings.content_dir}")
    for note in result.notes:
        typer.secho(f"note: {note}", fg=typer.colors.YELLOW, err=True)
    errors = read_library(directory, default_timezone=zone).errors
    for problem in errors:
        typer.secho(str(problem), fg=typer.colors.RED, err=True)
    if errors:
        raise fail(f"{len(errors)} error(s) in the exported files; see above")
    typer.echo(f"{directory}: the files validate; `chorus content load {directory}` will find "
               "them in step with the database")

