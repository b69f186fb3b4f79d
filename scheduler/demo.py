"""`chorus demo` (what `make run` starts): a whole partnership's year, on this machine.

It prepares a demo database the way an operator would, through the same code: migrate, load
`content/`, connect every starter account to the sandbox, plan every campaign and have a demo
approver sign it off, import the demo reporting data, and add demo dashboard sign-ins. Then it
replays the past months through the real worker (the dispatcher, the X publisher over HTTP,
the collector) under a `WarpClock` shared with an in-process sandbox, so each post goes out at
its own simulated moment and the sandbox's engagement model grows its metrics. When the replay
reaches the present the same worker carries on in real time, beside the dashboard.

Running it again is safe: loading, planning, sign-off, connecting and importing change nothing
the second time, and the replay starts where the last run stopped (`var/demo-state.json`).
Everything it shows came from the sandbox or synthetic data, and is labelled so.
"""

from __future__ import annotations

import json
import logging
import os
import re
import secrets
import subprocess
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from campaigns.config.secrets import Vault, vault_from_settings
from campaigns.config.settings import Settings
from campaigns.core.clock import WarpClock, utcnow
from campaigns.core.planning import Rules
from campaigns.formats.content import read_library
from campaigns.storage import db
from campaigns.storage.approval import ApprovalError, approve_campaign
from campaigns.storage.loader import ContentConflict, load_library
from campaigns.storage.models import (
    Account,
    Delivery,
    DeliveryStatus,
    EngagementSnapshot,
    Organisation,
    ReportCount,
)
from campaigns.storage.plans import campaigns_to_plan, plan_and_store, rules_from
from campaigns.storage.users import APPROVER as APPROVER_ROLE
from campaigns.storage.users import BOARD, OFFICER, PARTNER, add_user, find_user, hash_password
from scheduler.dispatch import Dispatcher, WorkerConfig
from scheduler.publishers.base import Publisher
from scheduler.sandbox.client import SandboxClient
from scheduler.sandbox.seed import sandbox_connection
from scheduler.sandbox.server import RunningSandbox
from scheduler.sandbox.server import start as start_sandbox

log = logging.getLogger("chorus.demo")

#: Who signs the starter campaigns off (never their author).
APPROVER = "Demo Approver (demo sign-off)"
STATE_FILE = "demo-state.json"
SIGN_INS_FILE = "demo-sign-ins.json"
LOG_FILE = "demo.log"
#: The demo's reporting data: real published North Yorkshire figures and synthetic York ones.
REPORT_FILES = ("north-yorkshire-home-office-2017-2019.csv", "york-synthetic-weekly-2023-2026.csv")
#: Followers each kind of organisation's sandbox accounts start with (the sandbox's engagement
#: model scales with them).
FOLLOWERS = {"lead": 4_200, "police": 38_000, "council": 21_000, "university": 15_000,
             "reporting-centre": 1_300}
DEFAULT_FOLLOWERS = 2_500


#: The demo serves the sandbox and the dashboard to this machine only.
ADDRESS = "127.0.0.1"


class DemoError(RuntimeError):
    """The demo cannot run here, with the reason and what to do."""


@dataclass(frozen=True)
class DemoSignIn:
    email: str
    name: str
    role: str
    password: str
    organisation_key: str | None = None


@dataclass(frozen=True)
class DemoOptions:
    var: Path
    content: Path
    #: How far back a first run starts its replay.
    replay_days: int = 365
    #: Replay from here instead (tests); default: where the last run stopped, or replay_days.
    replay_from: datetime | None = None
    #: End the replay here instead of at the present (tests); the demo then stops.
    replay_until: datetime | None = None
    dashboard_port: int = 8501
    sandbox_port: int = 8787
    address: str = ADDRESS
    #: The command that serves the dashboard on dashboard_port (the CLI builds it); None: none.
    dashboard_command: tuple[str, ...] | None = None
    #: Variables the dashboard also needs once the demo has upgraded the schema (the CLI's
    #: mark that it is up to date, so the dashboard's first page does not load Alembic).
    dashboard_environment: tuple[tuple[str, str], ...] = ()
    #: Stop once the replay has reached its end instead of running on.
    exit_after_replay: bool = False


@dataclass
class Prepared:
    connected: dict[str, int] = field(default_factory=dict)
    approved: dict[str, int] = field(default_factory=dict)
    planned: int = 0
    imported: list[str] = field(default_factory=list)
    sign_ins: list[DemoSignIn] = field(default_factory=list)


# ---- preparing the database ------------------------------------------------------------------


def check_demo_database(*, session: Session) -> None:
    """Refuse a database with an account connected to a real network: the demo posts freely."""
    real = session.scalars(select(Account.key).where(
        Account.state == "connected", Account.is_sandbox.is_(False))).all()
    if real:
        raise DemoError(
            f"this database has accounts connected to a real network ({', '.join(real)}); the "
            "demo only runs on a database of its own: set CHORUS_DATABASE_URL to another one")


def load_content(directory: Path, *, sessions: sessionmaker[Session], timezone: str,
                 say: Callable[[str], None]) -> None:
    library = read_library(directory, default_timezone=timezone)
    errors = [p for p in library.problems if p.severity == "error"]
    if errors:
        raise DemoError("the content has errors; see `chorus content validate "
                        f"{directory}`:\n" + "\n".join(str(p) for p in errors[:10]))
    try:
        with db.transaction(sessions) as session:
            result = load_library(library, session=session, default_timezone=timezone)
    except ContentConflict as conflict:
        # Browser edits win: the demo never overwrites them (chorus content load says more).
        say(f"content: {len(conflict.conflicts)} campaign(s) edited in the dashboard kept as "
            "edited; the files were not loaded")
        return
    say("content: loaded" if result.changed else "content: up to date")


def sandbox_username(handle: str, key: str) -> str:
    """A valid sandbox username for an account: the name in its handle (X's `@name`,
    Mastodon's `@name@instance`, Bluesky's `name.bsky.social`), or its key, squeezed."""
    name = handle.lstrip("@").split("@")[0].split(".")[0] if handle else key
    name = re.sub(r"[^A-Za-z0-9_]", "_", name)[:15]
    return name or re.sub(r"[^A-Za-z0-9_]", "_", key)[:15]


#: The networks whose accounts the demo connects to the sandbox.
NETWORKS = ("x", "mastodon", "bluesky")


def connect_accounts(client: SandboxClient, vault: Vault, networks: set[str], *,
                     sessions: sessionmaker[Session]) -> dict[str, int]:
    """Connect every not-yet-connected account on `networks` to its sandbox account."""
    from campaigns.storage.accounts import store_connection

    connected: dict[str, int] = {}
    with db.transaction(sessions) as session:
        query = (select(Account, Organisation.kind).join(Account.organisation)
                 .where(Account.network.in_(sorted(networks & set(NETWORKS))))
                 .order_by(Account.key))
        for account, kind in session.execute(query).all():
            if account.state == "connected" and account.token_encrypted:
                continue
            followers = FOLLOWERS.get(kind, DEFAULT_FOLLOWERS)
            created = client.create_account(sandbox_username(account.handle, account.key),
                                            followers=followers)
            credentials, remote_id = sandbox_connection(account.network, created,
                                                        client.base_url)
            store_connection(account, credentials, vault=vault, remote_user_id=remote_id,
                             sandbox=True, session=session)
            connected[account.network] = connected.get(account.network, 0) + 1
    return connected


def plan_and_approve(rules: Rules, *, sessions: sessionmaker[Session], now: datetime,
                     since: datetime) -> tuple[int, dict[str, int]]:
    """Plan every campaign not over before `since`, and sign the starter campaigns' drafts
    off as the demo approver; (deliveries planned, approved per campaign).

    A campaign someone has edited in the dashboard is not signed off here: its changes wait
    for a person's sign-off on the Calendar and campaigns page, as they would for real.
    """
    from campaigns.storage.approval import editors_of
    from campaigns.storage.plans import occurrence_of

    planned, approved = 0, {}
    with db.transaction(sessions) as session:
        for campaign in campaigns_to_plan(session=session):
            if occurrence_of(campaign, session=session).end < since.date():
                continue
            with session.begin_nested():
                result = plan_and_store(campaign, rules, session=session, now=now)
            if not result.ok:
                log.warning("%s not planned: %s", campaign.key, result.refusals)
                continue
            planned += result.created
            has_drafts = session.scalar(select(Delivery.id).where(
                Delivery.campaign_id == campaign.id,
                Delivery.status == DeliveryStatus.DRAFT).limit(1))
            if has_drafts is None or editors_of(campaign):
                continue
            try:
                signed = approve_campaign(campaign.key, APPROVER, session=session, now=now)
            except ApprovalError as exc:  # e.g. the author is the demo approver: say so
                log.warning("%s not approved: %s", campaign.key, exc)
                continue
            approved[campaign.key] = signed.approved
    return planned, approved


def import_reports(directory: Path, *, sessions: sessionmaker[Session],
                   now: datetime) -> list[str]:
    """Import the demo's reporting files (the same file twice changes nothing)."""
    from campaigns.storage.reports import import_report_file

    imported = []
    for name in REPORT_FILES:
        path = directory / "reports" / name
        if not path.exists():
            continue
        with db.transaction(sessions) as session:
            result = import_report_file(path, session=session, now=now, source=None,
                                        citation=None, imported_by="chorus demo")
        if not result.already_imported:
            imported.append(name)
    return imported


def demo_sign_ins(path: Path, *, sessions: sessionmaker[Session],
                  now: datetime) -> list[DemoSignIn]:
    """An officer, a board member, a partner (the police) and an approver (who signs off in
    the browser what the officer edits there), with passwords made on the first run and kept
    in `path` (readable by this user only) so they stay the same."""
    saved: dict[str, str] = json.loads(path.read_text()) if path.exists() else {}
    wanted = [
        ("officer@demo.chorus.invalid", "Alex Morgan (demo officer)", OFFICER, None),
        ("board@demo.chorus.invalid", "Priya Shah (demo board member)", BOARD, None),
        ("police@demo.chorus.invalid", "Dan Hughes (demo partner, police)", PARTNER,
         "north-yorkshire-police"),
        ("approver@demo.chorus.invalid", "Jordan Lee (demo approver)", APPROVER_ROLE, None),
    ]
    sign_ins = []
    with db.transaction(sessions) as session:
        for email, name, role, organisation in wanted:
            password = saved.get(email) or secrets.token_urlsafe(9)
            user = find_user(email, session=session)
            if user is None:
                add_user(session=session, email=email, name=name, role=role, now=now,
                         organisation_key=organisation, password=password)
            elif email not in saved:  # the file was lost: the new password must work
                user.password_hash = hash_password(password)
            saved[email] = password
            sign_ins.append(DemoSignIn(email, name, role, password, organisation))
    path.parent.mkdir(parents=True, exist_ok=True)
    with os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as out:
        json.dump(saved, out, indent=2)
    return sign_ins


# ---- replaying -----------------------------------------------------------------------------


def replay_start(options: DemoOptions, now: datetime) -> datetime:
    """Where the replay begins: given, else where the last run stopped, else replay_days ago."""
    if options.replay_from is not None:
        return options.replay_from
    earliest = now - timedelta(days=options.replay_days)
    state = options.var / STATE_FILE
    if state.exists():
        with suppress(ValueError, KeyError, TypeError):
            stopped = datetime.fromisoformat(json.loads(state.read_text())["replayed_until"])
            return max(stopped, earliest)
    return earliest


def save_replayed_until(var: Path, moment: datetime) -> None:
    path = var / STATE_FILE
    temporary = path.with_suffix(".tmp")
    temporary.write_text(json.dumps({"replayed_until": moment.isoformat()}))
    temporary.replace(path)


@dataclass(frozen=True)
class Progress:
    now: datetime
    posted: int
    readings: int


def progress(sessions: sessionmaker[Session], now: datetime) -> Progress:
    with sessions() as session:
        posted = session.scalar(select(func.count()).select_from(Delivery).where(
            Delivery.status == DeliveryStatus.POSTED)) or 0
        readings = session.scalar(select(func.count()).select_from(EngagementSnapshot)) or 0
    return Progress(now, posted, readings)


# ---- processes ----------------------------------------------------------------------------


@contextmanager
def sandbox_running(var: Path, port: int, clock: WarpClock) -> Iterator[RunningSandbox]:
    try:
        sandbox = start_sandbox(var / "sandbox.db", port=port, real_time=clock.epoch)
    except OSError as exc:
        raise DemoError(f"cannot serve the sandbox on port {port} ({exc.strerror}); is another "
                        "demo running? Stop it, or choose another with --sandbox-port") from None
    sandbox.state.set_clock(offset_seconds=0, speed=1)  # exactly the replay's clock
    try:
        yield sandbox
    finally:
        sandbox.stop()


def start_dashboard(command: tuple[str, ...], environment: dict[str, str],
                    log_file: Any) -> subprocess.Popen[bytes]:
    return subprocess.Popen(list(command), env=environment, stdout=log_file,
                            stderr=subprocess.STDOUT)


def wait_for_http(url: str, timeout: float, alive: Callable[[], bool] = lambda: True) -> bool:
    """Whether `url` answers 200 within `timeout` seconds (giving up once `alive` is False)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and alive():
        try:
            with urllib.request.urlopen(url, timeout=1) as answer:
                if answer.status == 200:
                    return True
        except OSError:
            time.sleep(0.2)
    return False


def stop_process(process: subprocess.Popen[bytes] | None) -> None:
    if process is None or process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def build_worker(settings: Settings, sessions: sessionmaker[Session], vault: Vault,
                 publishers: dict[str, Publisher], clock: WarpClock,
                 content: Path) -> Any:
    from scheduler.worker import Worker, collector_for

    config = WorkerConfig(worker_id="demo", lease=timedelta(seconds=settings.lease_seconds),
                          grace=timedelta(minutes=settings.missed_grace_minutes),
                          sign_off_reminder=timedelta(hours=settings.sign_off_reminder_hours),
                          content_root=content)
    dispatcher = Dispatcher(sessions, publishers, vault, config, clock.now)
    return Worker(dispatcher, sessions, clock=clock.now, threads=8,
                  collector=collector_for(settings, dispatcher), warp=clock)


def count_reports(sessions: sessionmaker[Session]) -> int:
    with sessions() as session:
        return session.scalar(select(func.count()).select_from(ReportCount)) or 0


def utc(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def run(settings: Settings, options: DemoOptions, say: Callable[[str], None]) -> int:
    """The whole demo; returns the exit status. Ctrl-C (or SIGTERM) stops all of it."""
    options.var.mkdir(parents=True, exist_ok=True)
    log_path = options.var / LOG_FILE
    handler = logging.FileHandler(log_path)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    root = logging.getLogger()
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    # Replaying, the fast sync job often finds its last run still busy: expected, not news.
    logging.getLogger("apscheduler.scheduler").setLevel(logging.ERROR)
    try:
        return _run(settings, options, say, log_path)
    finally:
        root.removeHandler(handler)
        handler.close()


def _run(settings: Settings, options: DemoOptions, say: Callable[[str], None],
         log_path: Path) -> int:
    real_now = utcnow()
    start = utc(replay_start(options, real_now))
    until = None if options.replay_until is None else utc(options.replay_until)
    clock = WarpClock(start, until=until)
    engine = db.make_engine(settings.database_url)
    try:
        db.upgrade(engine)
        sessions = db.session_factory(engine)
        with sessions() as session:
            check_demo_database(session=session)
        vault = vault_from_settings(
            settings.secret_key.get_secret_value() if settings.secret_key else None, demo=True)
        load_content(options.content, sessions=sessions, timezone=settings.timezone, say=say)
        with sandbox_running(options.var, options.sandbox_port, clock) as sandbox:
            return _serve(settings, options, say, log_path, sessions, vault, clock, sandbox)
    finally:
        engine.dispose()


def _serve(settings: Settings, options: DemoOptions, say: Callable[[str], None],
           log_path: Path, sessions: sessionmaker[Session], vault: Vault, clock: WarpClock,
           sandbox: RunningSandbox) -> int:
    from scheduler.publishers.registry import build_publishers

    settings = settings.model_copy(update={"x_api_url": sandbox.url, "demo": True})
    say(f"sandbox: {sandbox.url} (emulated X, Mastodon and Bluesky; nothing leaves this "
        "machine)")
    publishers = build_publishers(settings)
    connected = connect_accounts(SandboxClient(sandbox.url), vault, set(publishers),
                                 sessions=sessions)
    if connected:
        say("accounts: connected to the sandbox: "
            + ", ".join(f"{n} on {net}" for net, n in sorted(connected.items())))
    planned, approved = plan_and_approve(rules_from(settings), sessions=sessions,
                                         now=clock.now(), since=clock.now())
    if approved:
        say(f"campaigns: {planned} deliveries planned; signed off by {APPROVER}: "
            + ", ".join(f"{k} ({n})" for k, n in approved.items()))
    imported = import_reports(options.content, sessions=sessions, now=utcnow())
    say(f"reports: {count_reports(sessions):,} counts stored"
        + (f" (imported {', '.join(imported)})" if imported else ""))
    sign_ins = demo_sign_ins(options.var / SIGN_INS_FILE, sessions=sessions, now=utcnow())

    dashboard = None
    with open(log_path, "ab") as dashboard_log:
        try:
            if options.dashboard_command:
                environment = {**os.environ, "CHORUS_DATABASE_URL": settings.database_url,
                               "CHORUS_CONTENT_DIR": str(options.content.resolve()),
                               "CHORUS_X_API_URL": sandbox.url, "CHORUS_DEMO": "1",
                               **dict(options.dashboard_environment)}
                dashboard = start_dashboard(options.dashboard_command, environment,
                                            dashboard_log)
            worker = build_worker(settings, sessions, vault, publishers, clock, options.content)
            watcher = threading.Thread(
                target=_watch, name="chorus-demo-progress", daemon=True,
                args=(worker, clock, sessions, options, say, sign_ins, sandbox.url, dashboard))
            watcher.start()
            worker.run()
        finally:
            save_replayed_until(options.var, clock.now())
            stop_process(dashboard)
    final = progress(sessions, clock.now())
    say(f"stopped at {final.now:%Y-%m-%d %H:%M} UTC: {final.posted} posts sent, "
        f"{final.readings} engagement readings; `make run` carries on from here")
    return 0


def _watch(worker: Any, clock: WarpClock, sessions: sessionmaker[Session], options: DemoOptions,
           say: Callable[[str], None], sign_ins: list[DemoSignIn], sandbox_url: str,
           dashboard: subprocess.Popen[bytes] | None) -> None:
    """Show the replay's progress, then where everything is; stop the worker if asked."""
    started = time.monotonic()
    dashboard_url = f"http://localhost:{options.dashboard_port}"
    if dashboard is not None and wait_for_http(f"{dashboard_url}/_stcore/health", 60,
                                               alive=lambda: dashboard.poll() is None):
        say(f"dashboard: {dashboard_url} (sign-ins below once the replay is done)")
    elif dashboard is not None:
        stopped = dashboard.poll() is not None
        say(f"dashboard: {'it stopped' if stopped else 'no answer'} at {dashboard_url} "
            f"(is port {options.dashboard_port} in use? choose another with --port); see "
            f"{options.var / LOG_FILE}. The replay and the worker go on.")
    last = 0.0
    while not clock.caught_up:
        if time.monotonic() - last >= 3:
            last = time.monotonic()
            seen = progress(sessions, clock.now())
            say(f"replaying: {seen.now:%Y-%m-%d %H:%M} UTC, {seen.posted} posts sent, "
                f"{seen.readings} engagement readings")
        time.sleep(0.2)
    time.sleep(0.5)  # the last jump's sends and readings
    seen = progress(sessions, clock.now())
    say(f"replay done in {time.monotonic() - started:.0f} s: {seen.posted} posts sent, "
        f"{seen.readings} engagement readings, up to {seen.now:%Y-%m-%d %H:%M} UTC")
    if options.exit_after_replay:
        worker.scheduler.shutdown(wait=True)
        return
    lines = ["", "Chorus demo is running (sandbox and synthetic data, labelled as such):",
             f"  dashboard   {dashboard_url}" if dashboard is not None and dashboard.poll() is None
             else "  dashboard   not running",
             f"  sandbox     {sandbox_url}   (X, Mastodon and Bluesky; CHORUS_X_API_URL for "
             "other chorus commands)",
             "  sign in as (demo accounts; passwords kept in "
             f"{options.var / SIGN_INS_FILE}):"]
    lines += [f"    {s.role:<8} {s.email:<30} password {s.password}" for s in sign_ins]
    lines += ["  the worker keeps sending the coming posts in real time",
              f"  log: {options.var / LOG_FILE}",
              "  stop: Ctrl-C (stops the worker, the sandbox and the dashboard); "
              "start again: make run; start over: make reset", ""]
    say("\n".join(lines))
