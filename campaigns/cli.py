"""The `chorus` command line: parses options and calls library functions."""

from __future__ import annotations

import getpass
import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Annotated

import typer
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from campaigns import calendar, db
from campaigns.approval import ApprovalError, approve_campaign
from campaigns.clock import utcnow
from campaigns.content import EVENTS_FILE, Library, read_library
from campaigns.control import ControlError, pause, resume
from campaigns.deliveries import ResolveError, list_deliveries, resolve_unconfirmed
from campaigns.export import CONFLICT_ADVICE, ContentConflict
from campaigns.loader import load_library
from campaigns.models import Delivery, DeliveryStatus
from campaigns.plan_store import (
    PlanResult,
    campaigns_to_plan,
    occurrence_of,
    plan_and_store,
    rules_from,
)
from campaigns.secrets import SecretKeyMissing, Vault, vault_from_settings
from campaigns.settings import Settings, load_settings

app = typer.Typer(
    help="Chorus: plan, schedule and measure awareness campaigns across a partnership.",
    no_args_is_help=True,
    add_completion=False,
)
db_app = typer.Typer(help="The database schema.", no_args_is_help=True)
content_app = typer.Typer(help="Content files: check them, load them.", no_args_is_help=True)
deliveries_app = typer.Typer(help="Planned and sent posts.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(content_app, name="content")
app.add_typer(deliveries_app, name="deliveries")

ContentDir = Annotated[
    Path, typer.Argument(help="The content directory.", file_okay=False)
]


@dataclass
class Runtime:
    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]

    def vault(self) -> Vault:
        """The token vault; fails with a clear message when no key is configured."""
        key = self.settings.secret_key
        return vault_from_settings(key.get_secret_value() if key else None,
                                   demo=self.settings.demo)


@contextmanager
def runtime(migrate: bool = True) -> Iterator[Runtime]:
    """Settings, engine and sessions for one command; the schema brought up to date first."""
    settings = load_settings()
    engine = db.make_engine(settings.database_url)
    try:
        if migrate:
            db.upgrade(engine)
        yield Runtime(settings, engine, db.session_factory(engine))
    finally:
        engine.dispose()


def _user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown user"


def fail(message: str) -> typer.Exit:
    typer.secho(message, fg=typer.colors.RED, err=True)
    return typer.Exit(1)


# ---- db ------------------------------------------------------------------------------------


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Create or migrate the database schema to the latest version."""
    with runtime(migrate=False) as rt:
        before = db.current_revision(rt.engine)
        db.upgrade(rt.engine)
        after = db.current_revision(rt.engine)
    state = "already up to date" if before == after else f"upgraded {before or 'empty'} -> {after}"
    typer.echo(f"database {state} ({_safe_url(rt.settings.database_url)})")


def _safe_url(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


# ---- calendar ------------------------------------------------------------------------------


@app.command("calendar")
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
    library = _checked(content, show_warnings=False, events_only=True)
    found = calendar.occurrences(library.events, year)
    if format == "json":
        typer.echo(calendar.to_json(found))
    elif format == "ics":
        body = calendar.to_ics(found, calendar_name=f"Awareness events {year}")
        typer.echo(body.decode("utf-8"), nl=False)
    else:
        typer.echo(calendar.to_table(found))


# ---- content -------------------------------------------------------------------------------


def _checked(
    directory: Path, *, show_warnings: bool = True, events_only: bool = False
) -> Library:
    library = read_library(directory, default_timezone=load_settings().timezone)
    problems = library.problems
    if events_only:
        problems = [p for p in problems if p.file.endswith(EVENTS_FILE)]
    for problem in problems:
        if problem.severity == "error" or show_warnings:
            colour = typer.colors.RED if problem.severity == "error" else typer.colors.YELLOW
            typer.secho(str(problem), fg=colour, err=True)
    errors = [p for p in problems if p.severity == "error"]
    if errors:
        raise fail(f"{len(errors)} error(s); nothing was loaded")
    return library


@content_app.command("validate")
def content_validate(directory: ContentDir = Path("content")) -> None:
    """Check every content file and report every problem with its file, line and field."""
    library = _checked(directory)
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
    library = _checked(directory)
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


# ---- planning ------------------------------------------------------------------------------


@app.command("plan")
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
        for refusal in result.refusals:
            typer.secho(f"  {refusal}", fg=typer.colors.RED, err=True)
        return
    total = result.created + result.updated + result.unchanged + result.kept_sent
    typer.echo(
        f"{result.campaign_key}: {total} deliveries ({result.created} new, {result.updated} "
        f"changed, {result.unchanged} unchanged, {result.kept_sent} already sent or cancelled, "
        f"{result.cancelled} cancelled, {result.back_to_draft} need sign-off again)"
    )
    for note in result.notes:
        typer.echo(f"  note: {note}")


@app.command("approve")
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


# ---- the worker and the pause ---------------------------------------------------------------


@app.command("run")
def run_command(
    worker_id: Annotated[
        str | None, typer.Option(help="A name for this worker (default: host-pid).")
    ] = None,
    threads: Annotated[int, typer.Option(help="Sends that may be in flight at once.")] = 16,
) -> None:
    """Run the worker: send approved posts at their time, until Ctrl-C or SIGTERM."""
    from scheduler.dispatch import Dispatcher, WorkerConfig
    from scheduler.publishers.registry import build_publishers
    from scheduler.worker import Worker, alerts_sender, collector_for, default_worker_id

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    with runtime() as rt:
        settings = rt.settings
        config = WorkerConfig(
            worker_id=worker_id or default_worker_id(),
            lease=timedelta(seconds=settings.lease_seconds),
            grace=timedelta(minutes=settings.missed_grace_minutes),
        )
        vault = _vault_opening_tokens(rt)
        dispatcher = Dispatcher(rt.sessions, build_publishers(settings), vault, config, utcnow)
        typer.echo(f"worker {config.worker_id} running against "
                   f"{_safe_url(settings.database_url)}; Ctrl-C to stop")
        Worker(dispatcher, rt.sessions, clock=utcnow, send_alerts=alerts_sender(settings),
               threads=threads, collector=collector_for(settings, dispatcher)).run()


def _vault_opening_tokens(rt: Runtime) -> Vault:
    """The vault, if it opens the stored tokens: with the wrong CHORUS_SECRET_KEY a worker would
    hold every account's posts as disconnected, so it refuses to start instead."""
    from campaigns.accounts import unopenable_tokens

    try:
        vault = rt.vault()
    except SecretKeyMissing as exc:
        raise fail(str(exc)) from None
    with rt.sessions() as session:
        unopenable, stored = unopenable_tokens(vault=vault, session=session)
    if stored and len(unopenable) == stored:
        raise fail(f"CHORUS_SECRET_KEY opens none of the {stored} stored account tokens (is it "
                   "the key they were stored with?); not starting. Set the right key, or rotate "
                   "with `chorus secrets rotate`")
    if unopenable:
        typer.secho(f"warning: CHORUS_SECRET_KEY cannot open the tokens of "
                    f"{', '.join(unopenable)}; their posts will be held until they are "
                    "connected again", fg=typer.colors.YELLOW, err=True)
    return vault


@app.command("pause")
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
            result = pause(session=session, now=utcnow(), by=by or _user(), reason=reason,
                           campaign_key=campaign)
        except ControlError as exc:
            raise fail(str(exc)) from exc
    typer.echo(f"paused {result.scope}: {result.deliveries} waiting posts held"
               + (f"; {result.in_flight} already sending will finish" if result.in_flight else ""))


@app.command("resume")
def resume_command(
    campaign: Annotated[
        str | None, typer.Option(help="Only this campaign (default: everything).")
    ] = None,
    by: Annotated[str | None, typer.Option("--as", help="Who is resuming.")] = None,
) -> None:
    """Release what a pause held; posts more than the grace window late end as missed."""
    with runtime() as rt, db.transaction(rt.sessions) as session:
        try:
            result = resume(session=session, now=utcnow(), by=by or _user(),
                            campaign_key=campaign)
        except ControlError as exc:
            raise fail(str(exc)) from exc
    typer.echo(f"resumed {result.scope}: {result.deliveries} posts released")


# ---- deliveries ----------------------------------------------------------------------------


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
            delivery = resolve_unconfirmed(delivery_id, session=session, by=by or _user(),
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
    columns = ("local_time", "campaign", "post", "account", "status", "text")
    shown = [
        {c: (" ".join(str(r[c]).split())[:48] if c == "text" else str(r[c])) for c in columns}
        for r in rows
    ]
    widths = {c: max(len(c), *(len(r[c]) for r in shown)) for c in columns}
    lines = ["  ".join(c.ljust(widths[c]) for c in columns)]
    lines += ["  ".join(r[c].ljust(widths[c]) for c in columns) for r in shown]
    return "\n".join(line.rstrip() for line in lines)


# ---- commands defined in other modules ------------------------------------------------------
# Each line below registers one command group; keep them in this block.
# (registrations go here)
from scheduler.sandbox.cli import sandbox_command  # noqa: E402

app.command("sandbox")(sandbox_command)
from campaigns.accounts_cli import accounts_app  # noqa: E402

app.add_typer(accounts_app, name="accounts")
from campaigns.bulk_cli import posts_app  # noqa: E402

app.add_typer(posts_app, name="posts")
from campaigns.users_cli import users_app  # noqa: E402

app.add_typer(users_app, name="users")
from campaigns.dashboard_cli import dashboard_command  # noqa: E402

app.command("dashboard")(dashboard_command)
from campaigns.reports_cli import reports_app  # noqa: E402

app.add_typer(reports_app, name="reports")
from campaigns.engagement_cli import engagement_app  # noqa: E402

app.add_typer(engagement_app, name="engagement")
from campaigns.export_cli import content_export  # noqa: E402

content_app.command("export")(content_export)
from campaigns.secrets_cli import secrets_app  # noqa: E402

app.add_typer(secrets_app, name="secrets")
from campaigns.demo_cli import demo_command  # noqa: E402

app.command("demo")(demo_command)


def main() -> None:
    app()
