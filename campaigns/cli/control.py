"""`chorus pause` and `chorus resume`: stop all posting at once, and release it again."""

from __future__ import annotations

from typing import Annotated

import typer

from campaigns.cli.runtime import current_user, fail, runtime
from campaigns.core.clock import utcnow
from campaigns.storage import db
from campaigns.storage.control import ControlError, pause, resume


def pause_command(
    reason: Annotated[str, typer.Option(help="Why: shown on every held post.")],
    campaign: Annotated[
        str | None, typer.Option(help="Only this campaign (default: everything).")
    ] = None,
    by: Annotated[str | None, typer.Option("--as", help="Who is pausing.")] = None,
) -> None:
    """Stop posting at once (a crisis, a pre-election period). Nothing is lost: resume later."""
    with runtime() as rt, db.transaction(rt.sessions) as session:
        try:
            result = pause(session=session, now=utcnow(), by=by or current_user(), reason=reason,
                           campaign_key=campaign)
        except ControlError as exc:
            raise fail(str(exc)) from exc
    typer.echo(f"paused {result.scope}: {result.deliveries} waiting posts held"
               + (f"; {result.in_flight} already sending will finish" if result.in_flight else ""))


def resume_command(
    campaign: Annotated[
        str | None, typer.Option(help="Only this campaign (default: everything).")
    ] = None,
    by: Annotated[str | None, typer.Option("--as", help="Who is resuming.")] = None,
) -> None:
    """Release what a pause held; posts more than the grace window late end as missed."""
    with runtime() as rt, db.transaction(rt.sessions) as session:
        try:
            result = resume(session=session, now=utcnow(), by=by or current_user(),
                            campaign_key=campaign)
        except ControlError as exc:
            raise fail(str(exc)) from exc
    typer.echo(f"resumed {result.scope}: {result.deliveries} posts released")
