"""`chorus content export`: write the database's content back to content files.

Registered by `campaigns.cli` on its `content` group (import that, not this module, first).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from campaigns.content import read_library
from campaigns.export import NothingToExport, export_content


def content_export(
    directory: Annotated[Path, typer.Argument(
        help="Where to write the files (created if needed); campaign files already there are "
             "rewritten in place.", file_okay=False)] = Path("content"),
) -> None:
    """Write the database's content (including edits made in the browser) as content files,
    to review and version them. Comments are not kept."""
    # Imported here, not at the top: campaigns.cli imports this module to register it.
    from campaigns.cli import fail, runtime

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

