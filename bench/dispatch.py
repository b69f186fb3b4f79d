"""How late do posts go out? 2,000 deliveries over 60 s across 50 sandbox accounts.

The sandbox answers every request after 20 ms. Chorus's worker (`chorus run`, the real
process, talking to the sandbox through tweepy) runs once alone and once as two workers on
one database; the baseline is a worker that scans for due posts once a minute and sends what
it finds, measured in the same run on the same data. Lateness is the time the sandbox stored
the post minus the time it was due.

    .venv/bin/python bench/dispatch.py [--postgres URL] [--skip-baseline]

Target: p99 lateness under 1 s.
"""

from __future__ import annotations

import argparse
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from cryptography.fernet import Fernet
from sqlalchemy import func, select, text

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from campaigns.config.secrets import Vault  # noqa: E402
from campaigns.core.clock import utcnow  # noqa: E402
from campaigns.storage import db  # noqa: E402
from campaigns.storage.models import Delivery, DeliveryStatus  # noqa: E402
from scheduler.dispatch import Dispatcher, WorkerConfig  # noqa: E402
from scheduler.publishers.x import XPublisher  # noqa: E402
from scheduler.sandbox import seed  # noqa: E402
from scheduler.sandbox.client import SandboxClient  # noqa: E402
from scheduler.sandbox.server import start  # noqa: E402

POSTS, ACCOUNTS, SPREAD, LATENCY_MS = 2000, 50, 60.0, 20
LEAD_IN = timedelta(seconds=8)  # time for the workers to start before the first post is due


@dataclass
class Figures:
    label: str
    lateness: list[float]
    posted: int
    seconds: float

    def line(self) -> str:
        ordered = sorted(self.lateness)
        p50 = statistics.median(ordered)
        p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
        return (f"{self.label:>22}: {self.posted:>5} posted, lateness p50 {p50:6.3f} s, "
                f"p99 {p99:6.3f} s, max {ordered[-1]:6.3f} s, "
                f"throughput {self.posted / self.seconds:5.1f} posts/s")

    @property
    def p99(self) -> float:
        ordered = sorted(self.lateness)
        return ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]


def prepare(database_url: str, sandbox_url: str, key: bytes) -> datetime:
    engine = db.make_engine(database_url)
    if engine.dialect.name == "postgresql":
        with engine.begin() as connection:
            connection.execute(text("DROP SCHEMA IF EXISTS public CASCADE; CREATE SCHEMA public"))
    db.upgrade(engine)
    client = SandboxClient(sandbox_url)
    client.reset()
    client.set_faults(latency_ms=LATENCY_MS,
                      rate_limit={"posts_per_window": 1000, "window_seconds": 900})
    now = utcnow()
    first = now + LEAD_IN
    times = [first + timedelta(seconds=SPREAD * i / POSTS) for i in range(POSTS)]
    with db.transaction(db.session_factory(engine)) as session:
        accounts = seed.connect_accounts(client, Vault(key), ACCOUNTS, session=session)
        seed.schedule(accounts, times, session=session, now=now)
    engine.dispose()
    return times[-1]


def measure(label: str, database_url: str, sandbox_url: str) -> Figures:
    engine = db.make_engine(database_url)
    with db.session_factory(engine)() as session:
        due = dict(session.execute(select(Delivery.text, Delivery.send_at)).all())
        posted = session.scalar(select(func.count()).where(
            Delivery.status == DeliveryStatus.POSTED)) or 0
    engine.dispose()
    stored = [p for p in SandboxClient(sandbox_url).posts() if p["text"] in due]
    moments = [datetime.fromisoformat(p["created_at"].replace("Z", "+00:00")) for p in stored]
    lateness = [(moment - due[p["text"]]).total_seconds() for p, moment in zip(stored, moments,
                                                                              strict=True)]
    seconds = (max(moments) - min(moments)).total_seconds() or 1.0
    return Figures(label, lateness, posted, seconds)


def wait_until_done(database_url: str, last_due: datetime, patience: float) -> None:
    engine = db.make_engine(database_url)
    deadline = time.monotonic() + (last_due - utcnow()).total_seconds() + patience
    while time.monotonic() < deadline:
        with db.session_factory(engine)() as session:
            waiting = session.scalar(select(func.count()).where(Delivery.status.in_(
                [DeliveryStatus.APPROVED, DeliveryStatus.SCHEDULED, DeliveryStatus.SENDING])))
        if not waiting:
            break
        time.sleep(0.5)
    engine.dispose()


def run_workers(count: int, database_url: str, sandbox_url: str) -> Figures:
    key = Fernet.generate_key()
    last_due = prepare(database_url, sandbox_url, key)
    env = {**os.environ, "CHORUS_DATABASE_URL": database_url, "CHORUS_X_API_URL": sandbox_url,
           "CHORUS_SECRET_KEY": key.decode()}
    processes = [subprocess.Popen([sys.executable, "-m", "campaigns", "run"], env=env, cwd=ROOT,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                 for _ in range(count)]
    try:
        wait_until_done(database_url, last_due, patience=30)
    finally:
        for process in processes:
            process.send_signal(signal.SIGTERM)
        for process in processes:
            process.wait(timeout=30)
    label = "chorus, 1 worker" if count == 1 else f"chorus, {count} workers"
    return measure(label, database_url, sandbox_url)


def run_baseline(database_url: str, sandbox_url: str) -> Figures:
    """A worker that looks for due posts once a minute and sends them one after another."""
    key = Fernet.generate_key()
    last_due = prepare(database_url, sandbox_url, key)
    engine = db.make_engine(database_url)
    sessions = db.session_factory(engine)
    dispatcher = Dispatcher(sessions, {"x": XPublisher(sandbox_url, 10, None, None)}, Vault(key),
                            WorkerConfig(worker_id="baseline"), utcnow)
    while True:
        now = utcnow()
        dispatcher.promote(now, paused=False)
        for delivery_id, when in dispatcher.due_soon(now, timedelta(0)):
            if when <= now:
                dispatcher.deliver(delivery_id)
        if utcnow() > last_due + timedelta(seconds=5):
            with sessions() as session:
                waiting = session.scalar(select(func.count()).where(
                    Delivery.status == DeliveryStatus.SCHEDULED))
            if not waiting:
                break
        time.sleep(60)
    engine.dispose()
    return measure("baseline, 60 s scan", database_url, sandbox_url)


def fresh(folder: str) -> None:
    """Start each run from an empty SQLite database (PostgreSQL is reset by `prepare`)."""
    for suffix in ("", "-wal", "-shm"):
        Path(f"{folder}/dispatch.db{suffix}").unlink(missing_ok=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postgres", help="run on this PostgreSQL URL instead of SQLite")
    parser.add_argument("--skip-baseline", action="store_true")
    options = parser.parse_args()
    print(f"{POSTS} posts over {SPREAD:.0f} s across {ACCOUNTS} sandbox accounts, "
          f"{LATENCY_MS} ms sandbox latency", flush=True)
    with tempfile.TemporaryDirectory() as folder:
        sandbox = start(Path(folder) / "sandbox.db", port=0)
        database_url = options.postgres or f"sqlite:///{folder}/dispatch.db"
        try:
            results = []
            for count in (1, 2):
                fresh(folder)
                results.append(run_workers(count, database_url, sandbox.url))
                print(results[-1].line(), flush=True)
            if not options.skip_baseline:
                fresh(folder)
                results.append(run_baseline(database_url, sandbox.url))
                print(results[-1].line(), flush=True)
        finally:
            sandbox.stop()
    worst = max(r.p99 for r in results[:2])
    print(f"dispatch: p99 lateness {worst:.3f} s with one or two workers; target < 1 s: "
          f"{'met' if worst < 1 else 'NOT met'}")


if __name__ == "__main__":
    main()
