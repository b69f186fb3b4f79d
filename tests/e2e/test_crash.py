"""Kill -9 a worker at random moments: every post still goes out exactly once.

300 deliveries fall due within a minute across 20 sandbox accounts on X, Mastodon and
Bluesky (8, 6 and 6). Two `chorus run`
processes share the database; one is killed with SIGKILL several times and restarted. The
sandbox drops some connections after storing the post and fails some requests, so the
workers must reconcile. Afterwards every delivery is posted exactly once (checked against
the sandbox's own record) or failed with a reason: nothing doubled, nothing lost.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import select

from campaigns.config.secrets import Vault
from campaigns.core.clock import utcnow
from campaigns.storage import db
from campaigns.storage.models import AuditEntry, Delivery, DeliveryStatus
from scheduler.sandbox import seed
from tests.e2e import Sandbox

DELIVERIES = 300
#: Accounts per network: together 20.
ACCOUNTS = {"x": 8, "mastodon": 6, "bluesky": 6}
TERMINAL = {DeliveryStatus.POSTED, DeliveryStatus.FAILED, DeliveryStatus.UNCONFIRMED,
            DeliveryStatus.MISSED, DeliveryStatus.CANCELLED}
ROOT = Path(__file__).resolve().parents[2]


class Workers:
    """`chorus run` processes with a shared environment; logs kept for a failing test."""

    def __init__(self, env: dict[str, str], logs: Path) -> None:
        self.env = env
        self.logs = logs
        self.started = 0
        self.running: dict[str, subprocess.Popen[bytes]] = {}

    def start(self, slot: str) -> None:
        self.started += 1
        log = (self.logs / f"worker-{slot}-{self.started}.log").open("wb")
        self.running[slot] = subprocess.Popen(
            [sys.executable, "-m", "campaigns", "run", "--threads", "8"],
            env=self.env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)

    def kill(self, slot: str) -> None:
        process = self.running.pop(slot)
        process.send_signal(signal.SIGKILL)
        process.wait()

    def stop_all(self) -> None:
        for process in self.running.values():
            process.send_signal(signal.SIGTERM)
        for process in self.running.values():
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
        self.running.clear()


@pytest.fixture
def workers(sandbox: Sandbox, database_url: str, tmp_path: Path) -> Iterator[Workers]:
    key = Fernet.generate_key()
    engine = db.make_engine(database_url)
    db.upgrade(engine)
    now = utcnow()
    with db.transaction(db.session_factory(engine)) as session:
        vault = Vault(key)
        accounts = [
            *seed.connect_accounts(sandbox.control, vault, ACCOUNTS["x"], session=session),
            *seed.connect_mastodon_accounts(sandbox.control, vault, ACCOUNTS["mastodon"],
                                            session=session, prefix="masto"),
            *seed.connect_bluesky_accounts(sandbox.control, vault, ACCOUNTS["bluesky"],
                                           session=session, prefix="bsky"),
        ]
        rng = random.Random(300)
        start = now + timedelta(seconds=8)
        times = sorted(start + timedelta(seconds=rng.uniform(0, 45)) for _ in range(DELIVERIES))
        seed.schedule(accounts, times, session=session, now=now)
    engine.dispose()
    sandbox.control.set_faults(latency_ms=[5, 60], drop_after_store_rate=0.03,
                               error_rate=0.02, seed=7,
                               rate_limit={"posts_per_window": 1000, "window_seconds": 900})
    env = {**os.environ, "CHORUS_DATABASE_URL": database_url, "CHORUS_X_API_URL": sandbox.url,
           "CHORUS_SECRET_KEY": key.decode(), "CHORUS_LEASE_SECONDS": "10",
           "CHORUS_HTTP_TIMEOUT": "3", "PYTHONUNBUFFERED": "1"}
    running = Workers(env, tmp_path)
    yield running
    running.stop_all()


def audit_reasons(database_url: str) -> Counter[str]:
    engine = db.make_engine(database_url)
    with db.session_factory(engine)() as session:
        reasons = Counter(session.scalars(select(AuditEntry.reason)))
    engine.dispose()
    return reasons


def statuses(database_url: str) -> list[tuple[str, DeliveryStatus, str]]:
    return [(text, status, reason) for text, status, reason, _ in deliveries(database_url)]


def deliveries(database_url: str) -> list[tuple[str, DeliveryStatus, str, str]]:
    engine = db.make_engine(database_url)
    with db.session_factory(engine)() as session:
        rows = session.execute(select(Delivery.text, Delivery.status, Delivery.status_reason,
                                      Delivery.network))
        found = [(text, status, reason, network) for text, status, reason, network in rows]
    engine.dispose()
    return found


def test_killed_workers_never_double_post_or_lose_a_post(
    workers: Workers, sandbox: Sandbox, database_url: str
) -> None:
    rng = random.Random(9)
    workers.start("steady")
    workers.start("victim")
    deadline = time.monotonic() + 45
    kills = 0
    while time.monotonic() < deadline:
        time.sleep(rng.uniform(2, 7))
        workers.kill("victim")
        kills += 1
        time.sleep(rng.uniform(0.2, 1.5))
        workers.start("victim")
    # Until every delivery has ended: a send refused before anything was posted (a 503 on
    # Bluesky's login, say) waits 30 s to retry, and may be refused again.
    settle = time.monotonic() + 120
    while time.monotonic() < settle:
        if all(status in TERMINAL for _, status, _ in statuses(database_url)):
            break
        time.sleep(1)
    workers.stop_all()

    rows = statuses(database_url)
    posts = [p for p in sandbox.control.posts() if p["kind"] == "post"]
    per_text = Counter(p["text"] for p in posts)
    by_status = Counter(status for _, status, _ in rows)
    network_of = {text: network for text, _, _, network in deliveries(database_url)}
    assert all(network_of.get(p["text"]) == p["network"] for p in posts), "on the wrong network"
    posted_on = Counter(p["network"] for p in posts)
    assert set(posted_on) == set(ACCOUNTS) and min(posted_on.values()) >= 60, posted_on
    assert kills >= 5
    assert len(rows) == DELIVERIES
    assert [t for t, n in per_text.items() if n > 1] == [], "a post went out twice"
    assert {t for t, _, _ in rows} >= set(per_text), "the sandbox holds a post nobody planned"
    for text, status, reason in rows:
        if status is DeliveryStatus.POSTED:
            assert per_text[text] == 1, f"posted but not on the network: {text}"
        else:
            assert status is DeliveryStatus.FAILED and reason, (status, reason)
            assert per_text[text] == 0
    assert by_status[DeliveryStatus.POSTED] >= DELIVERIES * 0.95, by_status
    reasons = audit_reasons(database_url)
    reconciled = sum(n for r, n in reasons.items() if "on the timeline" in r)
    taken_over = reasons["lease expired; taken over to reconcile"]
    print(f"{kills} kills, {taken_over} deliveries taken over from a killed worker, "
          f"{reconciled} settled from the timeline, outcomes {dict(by_status)}, "
          f"posts per network {dict(posted_on)}")
    assert reconciled > 0, "the dropped connections were never reconciled"
