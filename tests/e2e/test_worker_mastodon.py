"""The worker's rules and the engagement collector over Mastodon.py's real HTTP path to the
sandbox's Mastodon instance (not a fake network)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

import pytest
import requests
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
from scheduler.publishers.mastodon import MastodonPublisher
from scheduler.sandbox import seed
from tests.e2e import PNG, Sandbox

S = DeliveryStatus
LEASE = timedelta(seconds=30)


@dataclass
class Rig:
    sessions: sessionmaker[Session]
    vault: Vault
    sandbox: Sandbox
    accounts: list[Account]
    delivery_ids: list[int]
    publisher: MastodonPublisher = field(default_factory=lambda: MastodonPublisher(3))

    def dispatcher(self, clock: Callable[[], datetime] = utcnow) -> Dispatcher:
        return Dispatcher(self.sessions, {"mastodon": self.publisher}, self.vault,
                          WorkerConfig(worker_id="w1", lease=LEASE), clock)

    def run_due(self, worker: Dispatcher) -> None:
        now = worker.clock()
        worker.promote(now, paused=False)
        for delivery_id, when in worker.due_soon(now, timedelta(0)):
            if when <= now:
                worker.deliver(delivery_id)

    def delivery(self, index: int) -> Delivery:
        with self.sessions() as session:
            found = session.get(Delivery, self.delivery_ids[index])
            assert found is not None
            return found

    def statuses(self, username: str | None = None) -> list[dict[str, object]]:
        return [p for p in self.sandbox.control.posts()
                if p["network"] == "mastodon" and username in (None, p["username"])]

    def collector(self) -> Collector:
        config = CollectorConfig(schedule=parse_schedule("15m/6h,1h/48h,1d/30d"),
                                 budget_per_day=1000)
        return Collector(self.sessions, {"mastodon": self.publisher}, self.vault, config)

    def snapshots(self, delivery_id: int) -> list[EngagementSnapshot]:
        with self.sessions() as session:
            return list(session.scalars(select(EngagementSnapshot).where(
                EngagementSnapshot.delivery_id == delivery_id).order_by(EngagementSnapshot.id)))


@pytest.fixture
def rig(sandbox: Sandbox, engine: object, sessions: sessionmaker[Session]) -> Rig:
    vault = Vault(Fernet.generate_key())
    now = utcnow() - timedelta(seconds=1)
    with db.transaction(sessions) as session:
        accounts = seed.connect_mastodon_accounts(sandbox.control, vault, 2, session=session)
        ids = seed.schedule(accounts, [now] * 4, session=session, now=now)
    return Rig(sessions, vault, sandbox, accounts, ids)


def test_due_statuses_go_out_through_mastodon_py_once_each(rig: Rig) -> None:
    worker = rig.dispatcher()
    rig.run_due(worker)
    rig.run_due(worker)
    assert {rig.delivery(i).status for i in range(4)} == {S.POSTED}
    stored = rig.statuses()
    assert len(stored) == 4
    assert {str(s["id"]) for s in stored} == {rig.delivery(i).remote_id for i in range(4)}
    assert {s["visibility"] for s in stored} == {"public"}


def test_dropped_answers_still_post_each_delivery_exactly_once(rig: Rig) -> None:
    rig.sandbox.control.set_faults(drop_after_store_rate=1.0,
                                   routes=["POST /mastodon/api/v1/statuses"])
    rig.run_due(rig.dispatcher())
    for index in range(4):
        delivery = rig.delivery(index)
        assert delivery.status is S.POSTED
        assert "on the timeline" in delivery.status_reason
    assert sorted(str(s["text"]) for s in rig.statuses()) == sorted(
        rig.delivery(i).text for i in range(4))


def test_a_send_left_unknown_is_settled_by_the_next_worker_without_a_second_status(
        rig: Rig) -> None:
    """The answer is dropped and the timeline cannot be read: the delivery waits, unknown; when
    its lease has run out another look finds the status, and nothing is posted twice."""
    rig.sandbox.control.set_faults(
        drop_after_store_rate=1.0, users=["masto000"], routes=["POST /mastodon/api/v1/statuses"],
        fail_next=[{"status": 503, "count": 2, "user": "masto000",
                    "route": "GET /mastodon/api/v1/accounts/"}])
    rig.run_due(rig.dispatcher())
    waiting = [rig.delivery(i) for i in (0, 2)]  # round-robin: masto000's deliveries
    assert {d.status for d in waiting} == {S.SENDING}
    assert all("outcome unknown" in d.status_reason for d in waiting)
    rig.sandbox.control.clear_faults()

    later = utcnow() + LEASE + timedelta(seconds=15)
    worker = rig.dispatcher(clock=lambda: later)
    for delivery_id in worker.stale(later):
        worker.reconcile_stale(delivery_id)

    assert {rig.delivery(i).status for i in range(4)} == {S.POSTED}
    assert len(rig.statuses("masto000")) == 2
    assert {rig.delivery(i).remote_id for i in (0, 2)} == {
        str(s["id"]) for s in rig.statuses("masto000")}


def test_a_revoked_token_holds_only_its_own_account(rig: Rig) -> None:
    rig.sandbox.control.revoke("masto001")
    rig.run_due(rig.dispatcher())
    held = [rig.delivery(i) for i in (1, 3)]
    assert {d.status for d in held} == {S.PAUSED}
    assert all("needs reconnecting" in d.status_reason for d in held)
    assert {rig.delivery(i).status for i in (0, 2)} == {S.POSTED}
    with rig.sessions() as session:
        account = session.scalars(select(Account).where(Account.key == "masto-001")).one()
    assert account.state == "needs-reconnect"


def test_a_429_backs_off_that_account_until_the_reset(rig: Rig) -> None:
    rig.sandbox.control.set_faults(fail_next=[{"status": 429, "count": 1, "user": "masto001",
                                               "route": "POST /mastodon/api/v1/statuses"}])
    rig.run_due(rig.dispatcher())
    limited = rig.delivery(1)
    assert limited.status is S.SCHEDULED
    assert limited.not_before is not None and limited.not_before > utcnow()
    with rig.sessions() as session:
        account = session.scalars(select(Account).where(Account.key == "masto-001")).one()
    assert account.backoff_until is not None
    assert {rig.delivery(i).status for i in (0, 2)} == {S.POSTED}


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
    stored = next(s for s in rig.statuses() if s["text"] == rig.delivery(0).text)
    assert [m["alt_text"] for m in stored["media"]] == [  # type: ignore[attr-defined]
        "A purple card: report hate crime."]


# ---- engagement -----------------------------------------------------------------------------


def test_engagement_snapshots_are_recorded_and_grow_with_sandbox_time(rig: Rig) -> None:
    rig.run_due(rig.dispatcher())
    assert {rig.delivery(i).status for i in range(4)} == {S.POSTED}

    first = rig.collector().sweep(utcnow(), everything=True)
    assert (first.newly_tracked, first.read) == (4, 4)
    assert first.calls == 2  # one read per account: a status id means nothing elsewhere
    later = timedelta(hours=48)
    rig.sandbox.control.set_clock(offset_seconds=later.total_seconds())
    second = rig.collector().sweep(utcnow() + later, everything=True)
    assert (second.read, second.calls) == (4, 2)
    for index in range(4):
        before, after = rig.snapshots(rig.delivery_ids[index])
        assert after.likes >= before.likes and after.reposts >= before.reposts
        assert after.impressions == 0  # Mastodon publishes none
    assert sum(rig.snapshots(i)[-1].likes for i in rig.delivery_ids) > 0


def test_a_deleted_status_is_marked_deleted_and_no_longer_read(rig: Rig) -> None:
    rig.run_due(rig.dispatcher())
    gone = rig.delivery(0)
    author = rig.sandbox.control.create_account("masto000")["mastodon"]
    answer = requests.delete(f"{rig.sandbox.url}{author['instance']}/api/v1/statuses/"
                             f"{gone.remote_id}", timeout=5,
                             headers={"Authorization": f"Bearer {author['access_token']}"})
    assert answer.status_code == 200
    now = utcnow()
    report = rig.collector().sweep(now, everything=True)
    assert (report.read, report.deleted) == (3, 1)
    marked = rig.delivery(0)
    assert (marked.remote_state, marked.metrics_due_at) == ("deleted", None)
    assert rig.snapshots(gone.id) == []
