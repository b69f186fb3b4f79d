"""`chorus deliveries`: list planned and sent posts; settle an unconfirmed one."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Annotated

import typer

from campaigns.cli.runtime import current_user, fail, runtime
from campaigns.core.clock import utcnow
from campaigns.storage import db
from campaigns.storage.deliveries import ResolveError, list_deliveries, resolve_unconfirmed
from campaigns.storage.models import Delivery, DeliveryStatus

deliveries_app = typer.Typer(help="Planned and sent posts.", no_args_is_help=True)


@deliveries_app.command("list")
def deliveries_list(
    status: Annotated[
        str | None, typer.Option(help="Only this status, e.g. draft, approved, failed.")
    ] = None,
    campaign: Annotated[str | None, typer.Option(help="Only this campaign (its key).")] = None,
    upcoming: Annotated[bool, typer.Option(help="Only the next twelve months.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """List deliveries in send order."""
    wanted = _status(status)
    now = utcnow()
    with runtime() as rt, rt.sessions() as session:
        found = list_deliveries(
            session=session, status=wanted, campaign_key=campaign,
            since=now if upcoming else None,
            until=now + timedelta(days=365) if upcoming else None,
        )
        rows = [_delivery_row(d) for d in found]
    if as_json:
        typer.echo(json.dumps(rows, indent=2, ensure_ascii=False))
        return
    if not rows:
        typer.echo("no deliveries")
        return
    typer.echo(_table(rows))


@deliveries_app.command("resolve")
def deliveries_resolve(
    delivery_id: Annotated[int, typer.Argument(help="The delivery's id (see deliveries list).")],
    posted: Annotated[
        str | None, typer.Option("--posted", help="It is on the network: its remote id.")
    ] = None,
    not_posted: Annotated[
        bool, typer.Option("--not-posted", help="It is not there: send it again now.")
    ] = False,
    cancel: Annotated[bool, typer.Option(help="It is not there: do not send it.")] = False,
    by: Annotated[str | None, typer.Option("--as", help="Who checked.")] = None,
) -> None:
    """Settle an unconfirmed post after checking the account's timeline by hand."""
    if sum((posted is not None, not_posted, cancel)) != 1:
        raise fail("give exactly one of --posted REMOTE_ID, --not-posted or --cancel")
    with runtime() as rt, db.transaction(rt.sessions) as session:
        try:
            delivery = resolve_unconfirmed(delivery_id, session=session, by=by or current_user(),
                                           now=utcnow(), remote_id=posted, cancel=cancel)
        except ResolveError as exc:
            raise fail(str(exc)) from exc
        typer.echo(f"delivery {delivery_id}: {delivery.status.value} ({delivery.status_reason})")


def _status(value: str | None) -> DeliveryStatus | None:
    if value is None:
        return None
    try:
        return DeliveryStatus(value)
    except ValueError:
        names = ", ".join(s.value for s in DeliveryStatus)
        raise fail(f"unknown status {value!r}: use one of {names}") from None


def _delivery_row(delivery: Delivery) -> dict[str, object]:
    return {
        "id": delivery.id,
        "campaign": delivery.campaign.key,
        "post": delivery.post.key,
        "account": delivery.account.key,
        "network": delivery.network,
        "send_at": delivery.send_at.isoformat(),
        "local_time": delivery.local_time,
        "status": delivery.status.value,
        "reason": delivery.status_reason,
        "approved_by": delivery.approved_by,
        "text": delivery.text,
        "notes": [n for n in delivery.plan_notes.splitlines() if n],
    }


def _table(rows: list[dict[str, object]]) -> str:
    columns = ("local_time", "campaign", "post", "account", "status", "reason", "text")
    shown = [
        {c: (" ".join(str(r[c]).split())[:48] if c in ("text", "reason") else str(r[c]))
         for c in columns}
        for r in rows
    ]
    widths = {c: max(len(c), *(len(r[c]) for r in shown)) for c in columns}
    lines = ["  ".join(c.ljust(widths[c]) for c in columns)]
    lines += ["  ".join(r[c].ljust(widths[c]) for c in columns) for r in shown]
    return "\n".join(line.rstrip() for line in lines)
