"""`chorus plan` and `chorus approve`: campaigns into deliveries, and their sign-off."""

from __future__ import annotations

from typing import Annotated

import typer

from campaigns.cli.runtime import fail, runtime
from campaigns.core.clock import utcnow
from campaigns.formats.content import field_name
from campaigns.formats.plan_check import field_words
from campaigns.storage import db
from campaigns.storage.approval import ApprovalError, approve_campaign
from campaigns.storage.plans import (
    PlanResult,
    campaigns_to_plan,
    occurrence_of,
    plan_and_store,
    rules_from,
)


def plan_command(
    campaign: Annotated[str | None, typer.Option(help="Only this campaign (its key).")] = None,
    year: Annotated[int | None, typer.Option(help="Only campaigns for this year.")] = None,
    upcoming: Annotated[
        bool, typer.Option(help="Only campaigns whose event has not yet ended.")
    ] = False,
) -> None:
    """Expand campaigns into deliveries (one variant x one account x one send time)."""
    now = utcnow()
    refused = 0
    with runtime() as rt:
        rules = rules_from(rt.settings)
        with db.transaction(rt.sessions) as session:
            chosen = campaigns_to_plan(session=session, campaign_key=campaign, year=year)
            if campaign and not chosen:
                raise fail(f"no campaign {campaign!r}; load content first (chorus content load)")
            for item in chosen:
                if upcoming and occurrence_of(item, session=session).end < now.date():
                    continue
                with session.begin_nested():
                    result = plan_and_store(item, rules, session=session, now=now)
                _print_plan(result)
                refused += not result.ok
    if refused:
        raise fail(f"{refused} campaign(s) not planned; fix the problems above and plan again")


def _print_plan(result: PlanResult) -> None:
    if not result.ok:
        typer.secho(f"{result.campaign_key}: not planned", fg=typer.colors.RED, err=True)
        for finding in result.findings:
            if finding.severity == "error":
                typer.secho(f"  post {finding.post_key}, {field_words(field_name(finding.path))}:"
                            f" {finding.message}", fg=typer.colors.RED, err=True)
        return
    total = result.created + result.updated + result.unchanged + result.kept_sent
    typer.echo(
        f"{result.campaign_key}: {total} deliveries ({result.created} new, {result.updated} "
        f"changed, {result.unchanged} unchanged, {result.kept_sent} already sent or cancelled, "
        f"{result.cancelled} cancelled, {result.back_to_draft} need sign-off again)"
    )
    for note in result.notes:
        typer.echo(f"  note: {note}")


def approve_command(
    campaign: Annotated[str, typer.Option(help="The campaign to approve (its key).")],
    approver: Annotated[
        str, typer.Option("--as", help="The approver's name; not the campaign's author.")
    ],
) -> None:
    """Sign off a campaign's planned posts as a named approver."""
    with runtime() as rt, db.transaction(rt.sessions) as session:
        try:
            result = approve_campaign(campaign, approver, session=session, now=utcnow())
        except ApprovalError as exc:
            raise fail(str(exc)) from exc
    typer.echo(f"{result.campaign_key}: {result.approved} deliveries approved by {result.approver}")
