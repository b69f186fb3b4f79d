"""The worker's rules over tweepy's real HTTP path to the sandbox (not a fake network)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from campaigns.config.secrets import Credentials, Vault
from campaigns.core.clock import utcnow
from campaigns.storage import db
from campaigns.storage.models import Account, Delivery, DeliveryStatus, Post
from scheduler.dispatch import Dispatcher, WorkerConfig
from scheduler.publishers.base import Outcome, SendRequest
from scheduler.publishers.x import XPublisher
from scheduler.sandbox import seed
from tests.e2e import PNG, Sandbox

S = DeliveryStatus
ROOT = Path(__file__).resolve().parents[2]


@dataclass
class Rig:
    sessions: sessionmaker[Session]
    vault: Vault
    sandbox: Sandbox
    accounts: list[Account]
    delivery_ids: list[int]

    def dispatcher(self, name: str = "w1") -> Dispatcher:
        publisher = XPublisher(self.sandbox.url, 3, None, None, client_id="chorus-sandbox-app")
        return Dispatcher(self.sessions, {"x": publisher}, self.vault,
                          WorkerConfig(worker_id=name, lease=timedelta(seconds=30)), utcnow)

    def run_due(self, worker: Dispatcher) -> None:
        now = utcnow()
        worker.promote(now, paused=False)
        for delivery_id, when in worker.due_soon(now, timedelta(0)):
            if when <= now:
                worker.deliver(delivery_id)

    def delivery(self, index: int) -> Delivery:
        with self.sessions() as session:
            found = session.get(Delivery, self.delivery_ids[index])
            assert found is not None
            return found


@pytest.fixture
def rig(sandbox: Sandbox, engine: object, sessions: sessionmaker[Session]) -> Rig:
    vault = Vault(Fernet.generate_key())
    now = utcnow() - timedelta(seconds=1)
    with db.transaction(sessions) as session:
        accounts = seed.connect_accounts(sandbox.control, vault, 3, session=session)
        ids = seed.schedule(accounts, [now] * 6, session=session, now=now)
    return Rig(sessions, vault, sandbox, accounts, ids)


def posts_by(sandbox: Sandbox, username: str) -> list[dict[str, object]]:
    return [p for p in sandbox.control.posts() if p["username"] == username]


def test_due_posts_go_out_through_tweepy_once_each(rig: Rig) -> None:
    worker = rig.dispatcher()
    rig.run_due(worker)
    rig.run_due(worker)
    assert {rig.delivery(i).status for i in range(6)} == {S.POSTED}
    stored = [p for p in rig.sandbox.control.posts() if p["kind"] == "post"]
    assert len(stored) == 6
    assert {str(p["id"]) for p in stored} == {rig.delivery(i).remote_id for i in range(6)}


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
    stored = next(p for p in rig.sandbox.control.posts() if p["text"] == rig.delivery(0).text)
    assert [m["alt_text"] for m in stored["media"]] == ["A purple card: report hate crime."]


def test_a_revoked_token_holds_only_its_own_account(rig: Rig) -> None:
    rig.sandbox.control.revoke("load000")
    rig.run_due(rig.dispatcher())
    held = [rig.delivery(i) for i in (0, 3)]  # round-robin: deliveries 0 and 3 are load000's
    assert {d.status for d in held} == {S.PAUSED}
    assert all("needs reconnecting" in d.status_reason for d in held)
    assert {rig.delivery(i).status for i in (1, 2, 4, 5)} == {S.POSTED}
    with rig.sessions() as session:
        account = session.scalars(select(Account).where(Account.key == "load-000")).one()
    assert account.state == "needs-reconnect"


def test_a_429_backs_off_that_account_until_the_reset(rig: Rig) -> None:
    rig.sandbox.control.set_faults(fail_next=[{"status": 429, "count": 1, "user": "load001"}])
    rig.run_due(rig.dispatcher())
    limited = rig.delivery(1)
    assert limited.status is S.SCHEDULED
    assert limited.not_before is not None and limited.not_before > utcnow()
    with rig.sessions() as session:
        account = session.scalars(select(Account).where(Account.key == "load-001")).one()
    assert account.backoff_until is not None
    assert {rig.delivery(i).status for i in (0, 2, 3, 5)} == {S.POSTED}


def test_a_dropped_connection_is_reconciled_from_the_timeline(rig: Rig) -> None:
    rig.sandbox.control.set_faults(drop_after_store_rate=1.0, users=["load002"],
                                   routes=["POST /2/tweets"])
    rig.run_due(rig.dispatcher())
    for index in (2, 5):
        delivery = rig.delivery(index)
        assert delivery.status is S.POSTED
        assert "on the timeline" in delivery.status_reason
    assert len(posts_by(rig.sandbox, "load002")) == 2


def test_duplicate_text_is_refused_with_xs_reason(rig: Rig) -> None:
    """Someone posted the same words by hand an hour ago: X refuses the worker's copy."""
    first = rig.delivery(0)
    created = rig.sandbox.control.create_account("load000")
    by_hand = Credentials("oauth1", {"access_token": created["oauth1"]["token"],
                                     "access_token_secret": created["oauth1"]["secret"],
                                     "consumer_key": "sandbox", "consumer_secret": "sandbox"})
    rig.sandbox.control.set_clock(offset_seconds=-3600)
    posted = rig.sandbox.publisher().send(
        SendRequest(0, "load-000", str(created["id"]), by_hand, first.text))
    rig.sandbox.control.set_clock(offset_seconds=0)
    assert posted.outcome is Outcome.POSTED
    rig.run_due(rig.dispatcher())
    refused = rig.delivery(0)
    assert refused.status is S.FAILED
    assert "duplicate content" in refused.status_reason
    assert len([p for p in posts_by(rig.sandbox, "load000") if p["text"] == first.text]) == 1


def test_an_expiring_oauth2_token_is_refreshed_before_sending(rig: Rig) -> None:
    created = rig.sandbox.control.create_account("load001")
    soon = (utcnow() + timedelta(minutes=1)).timestamp()
    credentials = Credentials("oauth2", {**created["oauth2"], "expires_at": soon})
    with db.transaction(rig.sessions) as session:
        account = session.scalars(select(Account).where(Account.key == "load-001")).one()
        account.token_encrypted = rig.vault.seal(credentials)
    rig.run_due(rig.dispatcher())
    assert {rig.delivery(i).status for i in (1, 4)} == {S.POSTED}
    with rig.sessions() as session:
        account = session.scalars(select(Account).where(Account.key == "load-001")).one()
        fresh = rig.vault.open(account.token_encrypted)  # type: ignore[arg-type]
    assert fresh["access_token"] != created["oauth2"]["access_token"]
    assert float(fresh["expires_at"]) > soon


def test_the_worker_process_picks_up_a_post_added_while_it_runs(
    sandbox: Sandbox, database_url: str, engine: object, sessions: sessionmaker[Session],
    tmp_path: Path,
) -> None:
    key = Fernet.generate_key()
    with db.transaction(sessions) as session:
        accounts = seed.connect_accounts(sandbox.control, Vault(key), 1, session=session)
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
            seed.schedule([account], [due_at], session=session, now=utcnow())
        deadline = time.monotonic() + 15
        posted: list[dict[str, object]] = []
        while time.monotonic() < deadline and not posted:
            posted = [p for p in sandbox.control.posts() if p["kind"] == "post"]
            time.sleep(0.2)
    finally:
        worker.send_signal(signal.SIGTERM)
        worker.wait(timeout=20)
    assert len(posted) == 1
    stored_at = datetime.fromisoformat(str(posted[0]["created_at"]).replace("Z", "+00:00"))
    assert due_at <= stored_at.astimezone(UTC) < due_at + timedelta(seconds=3)
    with sessions() as session:
        delivery = session.scalars(select(Delivery).join(Delivery.post)
                                   .where(Post.key == "p0")).one()
    assert delivery.status is S.POSTED
