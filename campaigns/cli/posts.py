"""`chorus posts`: one-off posts imported in bulk from a spreadsheet (campaigns.storage.bulk)."""

from __future__ import annotations

import getpass
from pathlib import Path
from typing import Annotated

import typer

from campaigns.cli.runtime import fail, runtime
from campaigns.core.clock import utcnow
from campaigns.formats.bulk import BulkImportInvalid
from campaigns.storage import db
from campaigns.storage.bulk import ImportResult, import_csv

posts_app = typer.Typer(help="One-off posts: import them in bulk from a CSV file.",
                        no_args_is_help=True)


@posts_app.command("import")
def posts_import(
    file: Annotated[Path, typer.Argument(
        help="CSV (UTF-8) with columns account, send_at, text and optional link, image, "
             "alt_text.", dir_okay=False)],
    approver: Annotated[str | None, typer.Option(
        "--as", help="Your name, recorded as author and approver (default: your OS user).",
    )] = None,
) -> None:
    """Check a CSV of one-off posts and schedule them all, or none if any row is wrong."""

    name = approver if approver is not None else _os_user()
    with runtime() as rt:
        try:
            with db.transaction(rt.sessions) as session:
                result = import_csv(
                    file, session=session, content_dir=rt.settings.content_dir,
                    approver=name, timezone=rt.settings.timezone,
                    near_duplicate_threshold=rt.settings.near_duplicate_threshold,
                    now=utcnow(),
                )
        except BulkImportInvalid as exc:
            for problem in exc.problems:
                typer.secho(str(problem), fg=typer.colors.RED, err=True)
            raise fail(str(exc)) from None
    _print_result(result)


def _os_user() -> str:
    try:
        return getpass.getuser()
    except (OSError, KeyError):
        return ""  # import_csv then asks for --as


def _print_result(result: ImportResult) -> None:
    if result.already_imported:
        typer.echo(f"{result.file}: already imported as campaign {result.campaign_key} "
                   f"({result.total} deliveries); nothing changed")
        return
    typer.echo(f"{result.file}: {result.total} deliveries scheduled "
               f"(campaign {result.campaign_key})")
    for account, count in sorted(result.per_account.items()):
        typer.echo(f"  {account}: {count}")
