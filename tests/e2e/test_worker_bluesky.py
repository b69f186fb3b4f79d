"""The worker's rules and the engagement collector over atproto's real HTTP path to the
sandbox, for Bluesky accounts (not a fake network)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from campaigns.config.secrets import Vault
from campaigns.core.clock import utcnow
from campaigns.storage import db
from campaigns.storage.models import Account, Delivery, DeliveryStatus, EngagementSnapshot
from scheduler.collect_schedule import CollectorConfig, parse_schedule
from scheduler.collector import Collector
from scheduler.dispatch import Dispatcher, WorkerConfig
from scheduler.publishers.bluesky import BlueskyPublisher
from scheduler.sandbox import seed
from tests.e2e import PNG, Sandbox
from tests.e2e.bluesky_kit import XRPC, BlueskyAccount, Xrpc

S = DeliveryStatus
ROOT = Path(__file__).resolve().parents[2]
TERMINAL = {S.POSTED, S.FAILED, S.UNCONFIRMED, S.MISSED, S.CANCELLED}


@dataclass
class Clock:
    """The workers' time, moved on by the test (retries wait for their `not_before`)."""

    now: datetime = field(default_factory=utcnow)

    def __call__(self) -> datetime:
        return self.now


@dataclass
class Rig:
    sessions: sessionmaker[Session]
    vault: Vault
    sandbox: Sandbox
    accounts: list[Account]
    delivery_ids: list[int]
    clock: Clock = field(default_factory=Clock)
    publisher: BlueskyPublisher = field(default_factory=lambda: BlueskyPublisher(3.0))

    def dispatcher(self, name: str = "w1") -> Dispatcher:
        return Dispatcher(self.sessions, {"bluesky": self.publisher}, self.vault,
                          WorkerConfig(worker_id=name, lease=timedelta(seconds=30)), self.clock)

    def run_due(self, worker: Dispatcher) -> None:
        now = self.clock()
        worker.promote(now, paused=False)
        for delivery_id, when in worker.due_soon(now, timedelta(0)):
            if when <= now:
                worker.deliver(delivery_id)
        for delivery_id in worker.stale(now):
            worker.reconcile_stale(delivery_id)

    def delivery(self, index: int) -> Delivery:
        with self.sessions() as session:
            found = session.get(Delivery, self.delivery_ids[index])
            assert found is not None
            return found

    def collector(self) -> Collector:
        config = CollectorConfig(schedule=parse_schedule("15m/6h,1h/48h,1d/30d"),
                                 budget_per_day=1000)
        return Collector(self.sessions, {"bluesky": self.publisher}, self.vault, config)

    def snapshots(self, index: int) -> list[EngagementSnapshot]:
        with self.sessions() as session:
            return list(session.scalars(select(EngagementSnapshot).where(
                EngagementSnapshot.delivery_id == self.delivery_ids[index])
                .order_by(EngagementSnapshot.id)))


def make_rig(sandbox: Sandbox, sessions: sessionmaker[Session], *, accounts: int,
             deliveries: int) -> Rig:
    vault = Vault(Fernet.generate_key())
    now = utcnow() - timedelta(seconds=1)
    with db.transaction(sessions) as session:
        connected = seed.connect_bluesky_accounts(sandbox.control, vault, accounts,
                                                  session=session)
        ids = seed.schedule(connected, [now] * deliveries, session=session, now=now)
    return Rig(sessions, vault, sandbox, connected, ids)


@pytest.fixture
def rig(sandbox: Sandbox, engine: object, sessions: sessionmaker[Session]) -> Iterator[Rig]:
    made = make_rig(sandbox, sessions, accounts=3, deliveries=6)
    yield made
    made.publisher.close()


def bluesky_posts(sandbox: Sandbox) -> list[dict[str, object]]:
    return [p for p in sandbox.control.posts() if p["network"] == "bluesky"]


def test_due_posts_go_out_through_atproto_once_each_on_one_session_per_account(
        rig: Rig) -> None:
    worker = rig.dispatcher()
    rig.run_due(worker)
    rig.run_due(worker)

    assert {rig.delivery(i).status for i in range(6)} == {S.POSTED}
    stored = bluesky_posts(rig.sandbox)
    assert len(stored) == 6
    assert {str(p["id"]) for p in stored} == {rig.delivery(i).remote_id for i in range(6)}
    logins = [r["user"] for r in rig.sandbox.control.requests()
              if r["path"] == f"{XRPC}/com.atproto.server.createSession"]
    assert sorted(logins) == ["bsky000", "bsky001", "bsky002"]


def test_an_image_goes_out_with_its_alt_text(
    rig: Rig, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # the worker reads images from ./content, its default
    image = Path("content") / "images" / "card.png"
    image.parent.mkdir(parents=True)
    image.write_bytes(PNG)
    with db.transaction(rig.sessions) as session:
        post = session.get(Delivery, rig.delivery_ids[0]).post  # type: ignore[union-attr]
        post.images = [{"file": "images/card.png", "alt": "A purple card: report hate crime."}]
    rig.run_due(rig.dispatcher())
    stored = next(p for p in bluesky_posts(rig.sandbox) if p["text"] == rig.delivery(0).text)
    assert [m["alt_text"] for m in stored["media"]] == [  # type: ignore[attr-defined]
        "A purple card: report hate crime."]


def test_dropped_answers_after_storing_still_post_each_delivery_exactly_once(rig: Rig) -> None:
    rig.sandbox.control.set_faults(drop_after_store_rate=1.0,
                                   routes=[f"POST {XRPC}/com.atproto.repo.createRecord"])
    rig.run_due(rig.dispatcher())

    assert {rig.delivery(i).status for i in range(6)} == {S.POSTED}
    assert all("on the timeline" in rig.delivery(i).status_reason for i in range(6))
    texts = Counter(str(p["text"]) for p in bluesky_posts(rig.sandbox))
    assert sorted(texts.values()) == [1] * 6


def test_a_revoked_account_holds_only_its_own_posts(rig: Rig) -> None:
    rig.sandbox.control.revoke("bsky000")
    rig.run_due(rig.dispatcher())
    held = [rig.delivery(i) for i in (0, 3)]  # round-robin: deliveries 0 and 3 are bsky000's
    assert {d.status for d in held} == {S.PAUSED}
    assert all("needs reconnecting" in d.status_reason for d in held)
    assert {rig.delivery(i).status for i in (1, 2, 4, 5)} == {S.POSTED}
    with rig.sessions() as session:
        account = session.scalars(select(Account).where(Account.key == "bsky-000")).one()
    assert account.state == "needs-reconnect"


def test_a_429_backs_off_only_that_account_until_the_reset(rig: Rig) -> None:
    rig.sandbox.control.set_faults(fail_next=[
        {"status": 429, "count": 1, "user": "bsky001",
         "route": f"POST {XRPC}/com.atproto.repo.createRecord"}])
    rig.run_due(rig.dispatcher())
    limited = rig.delivery(1)
    assert limited.status is S.SCHEDULED
    assert limited.not_before is not None and limited.not_before > rig.clock()
    with rig.sessions() as session:
        account = session.scalars(select(Account).where(Account.key == "bsky-001")).one()
    assert account.backoff_until is not None
    assert {rig.delivery(i).status for i in (0, 2, 3, 5)} == {S.POSTED}


def test_under_random_faults_nothing_is_posted_twice_and_nothing_is_lost(
        sandbox: Sandbox, engine: object, sessions: sessionmaker[Session]) -> None:
    rig = make_rig(sandbox, sessions, accounts=4, deliveries=24)
    sandbox.control.set_faults(error_rate=0.2, drop_after_store_rate=0.3, seed=11)
    worker = rig.dispatcher()
    for _ in range(40):
        rig.run_due(worker)
        if {rig.delivery(i).status for i in range(24)} <= TERMINAL:
            break
        rig.clock.now += timedelta(seconds=20)
    sandbox.control.clear_faults()

    statuses = Counter(rig.delivery(i).status for i in range(24))
    texts = Counter(str(p["text"]) for p in bluesky_posts(sandbox))
    assert set(statuses) <= TERMINAL, statuses
    assert [t for t, n in texts.items() if n > 1] == []
    for index in range(24):
        delivery = rig.delivery(index)
        assert texts[delivery.text] == (1 if delivery.status is S.POSTED else 0), (
            delivery.status, delivery.status_reason)
    assert statuses[S.POSTED] >= 20, statuses
    rig.publisher.close()


def test_engagement_snapshots_are_recorded_25_posts_a_call(
        sandbox: Sandbox, engine: object, sessions: sessionmaker[Session]) -> None:
    rig = make_rig(sandbox, sessions, accounts=3, deliveries=30)
    rig.run_due(rig.dispatcher())
    assert {rig.delivery(i).status for i in range(30)} == {S.POSTED}
    author = BlueskyAccount(sandbox.url, sandbox.control.create_account("bsky000"))
    assert Xrpc(author).delete(str(rig.delivery(0).remote_id)).ok
    mark = sandbox.control.requests()[-1]["id"]

    first = rig.collector().sweep(utcnow(), everything=True)
    sandbox.control.set_clock(offset_seconds=6 * 3600)
    second = rig.collector().sweep(utcnow() + timedelta(hours=6), everything=True)

    assert (first.newly_tracked, first.read, first.deleted, first.calls) == (30, 29, 1, 2)
    assert (second.read, second.deleted, second.calls) == (29, 0, 2)
    reads = [r for r in sandbox.control.requests(since_id=mark)
             if r["path"] == f"{XRPC}/app.bsky.feed.getPosts" and r["status"] == 200]
    assert len(reads) == 4
    assert rig.delivery(0).remote_state == "deleted"
    grown = 0
    for index in range(1, 30):
        before, after = rig.snapshots(index)
        assert after.impressions == before.impressions == 0
        assert after.likes >= before.likes and after.reposts >= before.reposts
        grown += after.likes > before.likes
    assert grown > 0
    rig.publisher.close()


def test_the_worker_process_posts_to_bluesky_through_the_registry(
    sandbox: Sandbox, database_url: str, engine: object, sessions: sessionmaker[Session],
    tmp_path: Path,
) -> None:
    key = Fernet.generate_key()
    with db.transaction(sessions) as session:
        accounts = seed.connect_bluesky_accounts(sandbox.control, Vault(key), 1,
                                                 session=session)
        account_id = accounts[0].id
    env = {**os.environ, "CHORUS_DATABASE_URL": database_url, "CHORUS_X_API_URL": sandbox.url,
           "CHORUS_SECRET_KEY": key.decode()}
    log = (tmp_path / "worker.log").open("wb")
    worker = subprocess.Popen([sys.executable, "-m", "campaigns", "run"], env=env, cwd=ROOT,
                              stdout=log, stderr=subprocess.STDOUT)
    try:
        time.sleep(3)  # the worker is up and idle
        due_at = utcnow() + timedelta(seconds=2)
        with db.transaction(sessions) as session:
            account = session.get(Account, account_id)
            assert account is not None
            ids = seed.schedule([account], [due_at], session=session, now=utcnow())
        deadline = time.monotonic() + 15
        posted: list[dict[str, object]] = []
        while time.monotonic() < deadline and not posted:
            posted = bluesky_posts(sandbox)
            time.sleep(0.2)
    finally:
        worker.send_signal(signal.SIGTERM)
        worker.wait(timeout=20)
    assert len(posted) == 1
    with sessions() as session:
        delivery = session.get(Delivery, ids[0])
        assert delivery is not None
        assert (delivery.status, delivery.remote_id) == (S.POSTED, posted[0]["id"])
