"""`chorus engagement`: read posts' engagement by hand, and see what is being tracked.

The worker (`chorus run`) reads on the schedule by itself; these commands are for a sweep now
and for looking. The collector lives in `scheduler.collector`; this module only calls it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from campaigns.cli.runtime import fail, runtime
from campaigns.core.clock import utcnow

if TYPE_CHECKING:
    from scheduler.collect_schedule import SweepReport
    from scheduler.collector import TrackedPost

engagement_app = typer.Typer(
    help="Engagement of sent posts: read it on a decaying schedule, see what is tracked.",
    no_args_is_help=True,
)


@engagement_app.command("collect")
def engagement_collect(
    everything: Annotated[bool, typer.Option(
        "--now", help="Read every tracked post now, whatever its schedule says.")] = False,
) -> None:
    """Read the metrics of posts due a reading (all tracked posts with --now) and store them."""
    from scheduler.collect_schedule import ScheduleError
    from scheduler.collector import build_collector
    from scheduler.publishers.registry import build_publishers

    with runtime() as rt:
        try:
            collector = build_collector(rt.settings, sessions=rt.sessions, vault=rt.vault(),
                                        publishers=build_publishers(rt.settings))
        except ScheduleError as exc:
            raise fail(str(exc)) from None
        report = collector.sweep(utcnow(), everything=everything)
    _print_report(report)


def _print_report(report: SweepReport) -> None:
    if report.newly_tracked:
        typer.echo(f"newly tracked: {report.newly_tracked} posts")
    typer.echo(f"posts read: {report.read} of {report.due} due "
               f"({report.with_non_public} with non-public metrics)")
    typer.echo(f"API calls used: {report.calls}")
    typer.echo(f"budget left today: {report.budget_left} of {report.budget} calls "
               f"({report.used_today} used)")
    typer.echo(f"deleted: {report.deleted}, unavailable: {report.unavailable}")
    for problem in report.problems:
        typer.secho(f"problem: {problem}", fg=typer.colors.YELLOW, err=True)
    if report.stopped:
        typer.secho(f"stopped early: {report.stopped}", fg=typer.colors.YELLOW, err=True)


@engagement_app.command("status")
def engagement_status(
    limit: Annotated[int, typer.Option(help="How many of the next readings to list.")] = 20,
) -> None:
    """Show how many posts are tracked, the next readings, and today's reads."""
    from scheduler.collector import held_until, reads_used, tracked_posts

    now = utcnow()
    with runtime() as rt, rt.sessions() as session:
        total, upcoming = tracked_posts(session=session, limit=limit)
        used = reads_used(session=session, day=now.date(), network="x")
        held = held_until(session=session, network="x", now=now)
        budget = rt.settings.read_budget_per_day
    typer.echo(f"tracked posts: {total}")
    typer.echo(f"X reads today: {used} of {budget} calls")
    if held is not None:
        typer.echo(f"X rate limited until {held:%Y-%m-%d %H:%M:%S} UTC")
    if upcoming:
        typer.echo(_table(upcoming))


def _table(posts: list[TrackedPost]) -> str:
    header = ("next read (UTC)", "delivery", "account", "remote id", "posted (UTC)", "readings")
    rows = [(f"{p.next_read_at:%Y-%m-%d %H:%M}", str(p.delivery_id),
             p.account_key + (" (sandbox)" if p.sandbox else ""), p.remote_id,
             f"{p.posted_at:%Y-%m-%d %H:%M}", str(p.readings)) for p in posts]
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    return "\n".join("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True))
                     .rstrip() for row in [header, *rows])
