"""`chorus db`: the database schema."""

from __future__ import annotations

import typer

from campaigns.cli.runtime import runtime, safe_url
from campaigns.storage import db

db_app = typer.Typer(help="The database schema.", no_args_is_help=True)


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Create or migrate the database schema to the latest version."""
    with runtime(migrate=False) as rt:
        before = db.current_revision(rt.engine)
        db.upgrade(rt.engine)
        after = db.current_revision(rt.engine)
    state = "already up to date" if before == after else f"upgraded {before or 'empty'} -> {after}"
    typer.echo(f"database {state} ({safe_url(rt.settings.database_url)})")
