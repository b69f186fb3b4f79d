"""The worker's delivery rules against a real database, with a fake network and a fixed clock."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload, sessionmaker

from campaigns.config.secrets import Credentials, Vault
from campaigns.core.planning import Rules
from campaigns.formats.content import read_library
from campaigns.storage import db
from campaigns.storage.approval import approve_campaign
from campaigns.storage.control import pause, resume
from campaigns.storage.loader import load_library
from campaigns.storage.models import Account, Alert, AuditEntry, Delivery, DeliveryStatus
from campaigns.storage.plans import campaigns_to_plan, plan_and_store
from scheduler.dispatch import MAX_UNKNOWN_ATTEMPTS, Dispatcher, WorkerConfig
from scheduler.publishers.base import Outcome, RateInfo, SendRequest, SendResult
from scheduler.publishers.fake import FakePublisher

S = DeliveryStatus
PLANNED_AT = datetime(2026, 9, 1, tzinfo=UTC)
#: The NHCAW 2026 countdown post: Saturday 3 October 2026, 10:00 BST.
COUNTDOWN = datetime(2026, 10, 3, 9, 0, tzinfo=UTC)
#: The launch post, Saturday 10 October 2026, 09:00 BST, with partners staggered after it.
LAUNCH = datetime(2026, 10, 10, 8, 0, tzinfo=UTC)
VAULT = Vault(Fernet.generate_key())


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@pytest.fixture
def world(sessions: sessionmaker[Session], content_dir: Path) -> sessionmaker[Session]:
    """Shipped content, planned and approved, with every X account connected."""
    library = read_library(content_dir)
    with db.transaction(sessions) as session:
        load_library(library, session=session, default_timezone="Europe/London")
    with db.transaction(sessions) as session:
        for campaign in campaigns_to_plan(session=session, campaign_key="nhcaw-2026"):
            plan_and_store(campaign, Rules(), session=session, now=PLANNED_AT)
        approve_campaign("nhcaw-2026", "Advisory Group", session=session, now=PLANNED_AT)
        for account in session.scalars(select(Account).where(Account.network == "x")):
            credentials = Credentials("oauth1", {"account_key": account.key, "token": "t"})
            account.token_encrypted = VAULT.seal(credentials)
            account.state = "connected"
            account.remote_user_id = f"id-{account.key}"
    return sessions


def dispatcher(sessions: sessionmaker[Session], fake: FakePublisher, clock: Clock,
               name: str = "w1") -> Dispatcher:
    config = WorkerConfig(worker_id=name, lease=timedelta(seconds=60),
                          grace=timedelta(minutes=30))
    return Dispatcher(sessions, {"x": fake}, VAULT, config, clock)


def x_deliveries(sessions: sessionmaker[Session], post: str | None = None) -> list[Delivery]:
    with sessions() as session:
        query = (select(Delivery).where(Delivery.network == "x")
                 .options(joinedload(Delivery.account), joinedload(Delivery.post))
                 .order_by(Delivery.send_at, Delivery.id))
        found = list(session.scalars(query))
    return [d for d in found if post is None or d.post.key == post]


def due(world: sessionmaker[Session], worker: Dispatcher, clock: Clock) -> list[int]:
    worker.promote(clock(), paused=False)
    return [i for i, when in worker.due_soon(clock(), timedelta(0)) if when <= clock()]


def status(sessions: sessionmaker[Session], delivery_id: int) -> tuple[DeliveryStatus, str]:
    with sessions() as session:
        delivery = session.get(Delivery, delivery_id)
        assert delivery is not None
        return delivery.status, delivery.status_reason


def test_a_due_delivery_is_posted_once_with_its_remote_id(world: sessionmaker[Session]) -> None:
    clock, fake = Clock(COUNTDOWN), FakePublisher()
    worker = dispatcher(world, fake, clock)
    ready = due(world, worker, clock)
    assert len(ready) == 1  # the countdown post goes from the lead's X account only
    worker.deliver(ready[0])
    worker.deliver(ready[0])
    [delivery] = x_deliveries(world, "countdown")
    assert (delivery.status, delivery.remote_id) == (S.POSTED, "1000")
    assert fake.posts_by("lead-x") == [delivery.text]
    with world() as session:
        trail = session.scalars(select(AuditEntry.new_status).where(
            AuditEntry.delivery_id == delivery.id).order_by(AuditEntry.id)).all()
    assert trail == ["approved", "scheduled", "sending", "posted"]


def test_nothing_is_sent_before_its_time(world: sessionmaker[Session]) -> None:
    clock, fake = Clock(COUNTDOWN - timedelta(seconds=1)), FakePublisher()
    worker = dispatcher(world, fake, clock)
    worker.promote(clock(), paused=False)
    [delivery] = x_deliveries(world, "countdown")
    assert not worker.claim(delivery.id, clock())
    assert fake.requests == []


def test_two_workers_racing_for_one_delivery_post_it_once(
    world: sessionmaker[Session],
) -> None:
    clock, fake = Clock(COUNTDOWN), FakePublisher()
    workers = [dispatcher(world, fake, clock, f"w{i}") for i in range(4)]
    [delivery_id] = due(world, workers[0], clock)
    barrier = threading.Barrier(len(workers))

    def race(worker: Dispatcher) -> None:
        barrier.wait()
        worker.deliver(delivery_id)

    threads = [threading.Thread(target=race, args=(w,)) for w in workers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(fake.stored) == 1
    assert status(world, delivery_id)[0] is S.POSTED


def test_a_429_waits_for_the_reset_and_holds_only_that_account(
    world: sessionmaker[Session],
) -> None:
    clock = Clock(LAUNCH + timedelta(minutes=25))  # lead, council and police are all due
    reset = clock() + timedelta(minutes=10)

    def limited(request: SendRequest) -> SendResult | None:
        if request.account_key == "lead-x":
            return SendResult(Outcome.RETRY_LATER, reason="429 Too Many Requests",
                              retry_at=reset, rate=RateInfo(100, 0, reset))
        return None

    fake = FakePublisher(script=limited)
    worker = dispatcher(world, fake, clock)
    for delivery_id in due(world, worker, clock):
        worker.deliver(delivery_id)
    launches = {d.account.key: d for d in x_deliveries(world, "launch")}
    assert launches["lead-x"].status is S.SCHEDULED
    assert launches["lead-x"].not_before == reset
    assert launches["council-x"].status is S.POSTED
    assert launches["police-x"].status is S.POSTED
    with world() as session:
        lead = session.scalars(select(Account).where(Account.key == "lead-x")).one()
        assert lead.backoff_until == reset
    assert not worker.claim(launches["lead-x"].id, clock())
    clock.now = reset
    fake.script = None
    assert worker.claim(launches["lead-x"].id, clock())


def test_a_revoked_token_holds_its_account_and_alerts_once(
    world: sessionmaker[Session],
) -> None:
    clock = Clock(LAUNCH + timedelta(minutes=25))

    def revoked(request: SendRequest) -> SendResult | None:
        if request.account_key == "police-x":
            return SendResult(Outcome.REAUTH, reason="401 Unauthorized")
        return None

    fake = FakePublisher(script=revoked)
    worker = dispatcher(world, fake, clock)
    for delivery_id in due(world, worker, clock):
        worker.deliver(delivery_id)
    police = [d for d in x_deliveries(world) if d.account.key == "police-x"]
    assert {d.status for d in police} == {S.PAUSED}
    assert all("needs reconnecting" in d.status_reason for d in police)
    others = [d for d in x_deliveries(world, "launch") if d.account.key != "police-x"]
    assert {d.status for d in others} == {S.POSTED}
    with world() as session:
        account = session.scalars(select(Account).where(Account.key == "police-x")).one()
        alerts = session.scalars(select(Alert).where(Alert.kind == "reconnect")).all()
    assert account.state == "needs-reconnect"
    assert len(alerts) == 1
    assert "police-x" in alerts[0].body or "@NYP_YorkHate" in alerts[0].body


def test_a_dropped_connection_after_posting_is_reconciled_not_resent(
    world: sessionmaker[Session],
) -> None:
    clock = Clock(COUNTDOWN)
    fake = FakePublisher(script=lambda r: SendResult(Outcome.UNKNOWN, remote_id="stored"))
    worker = dispatcher(world, fake, clock)
    [delivery_id] = due(world, worker, clock)
    worker.deliver(delivery_id)
    assert len(fake.stored) == 1
    assert status(world, delivery_id)[0] is S.POSTED


def test_an_unknown_outcome_not_on_the_timeline_is_sent_again_once(
    world: sessionmaker[Session],
) -> None:
    clock = Clock(COUNTDOWN)
    answers = iter([SendResult(Outcome.UNKNOWN, reason="503 Service Unavailable")])
    fake = FakePublisher(script=lambda r: next(answers, None))
    worker = dispatcher(world, fake, clock)
    [delivery_id] = due(world, worker, clock)
    worker.deliver(delivery_id)
    assert status(world, delivery_id)[0] is S.SCHEDULED  # verified not posted: safe to retry
    clock.advance(seconds=30)
    for ready in due(world, worker, clock):
        worker.deliver(ready)
    assert status(world, delivery_id)[0] is S.POSTED
    assert len(fake.stored) == 1 and len(fake.requests) == 2


def undecidable_send(world: sessionmaker[Session], clock: Clock) -> tuple[int, FakePublisher]:
    """A send that timed out, on an account whose timeline cannot be read, retried to the end."""
    fake = FakePublisher(script=lambda r: SendResult(Outcome.UNKNOWN, reason="timed out"))
    fake.timeline_fails = True
    worker = dispatcher(world, fake, clock)
    [delivery_id] = due(world, worker, clock)
    worker.deliver(delivery_id)
    assert status(world, delivery_id)[0] is S.SENDING  # held: never blindly re-sent
    for _ in range(MAX_UNKNOWN_ATTEMPTS):
        clock.advance(seconds=11)
        for stale in worker.stale(clock()):
            worker.reconcile_stale(stale)
    return delivery_id, fake


def test_an_outcome_that_cannot_be_decided_goes_to_a_person(
    world: sessionmaker[Session],
) -> None:
    clock = Clock(COUNTDOWN)
    delivery_id, fake = undecidable_send(world, clock)
    final, reason = status(world, delivery_id)
    assert final is S.UNCONFIRMED
    assert "resolve it by hand" in reason
    assert len(fake.requests) == 1
    with world() as session:
        assert session.scalars(select(Alert.kind)).all() == ["unconfirmed"]


def test_a_worker_killed_mid_send_is_reconciled_by_another(
    world: sessionmaker[Session],
) -> None:
    clock, fake = Clock(COUNTDOWN), FakePublisher()
    crashed = dispatcher(world, fake, clock, "crashed")
    [delivery_id] = due(world, crashed, clock)
    assert crashed.claim(delivery_id, clock())
    fake.send(SendRequest(delivery_id, "lead-x", None, Credentials("oauth1", {}),
                          x_deliveries(world, "countdown")[0].text))  # posted, then killed
    survivor = dispatcher(world, fake, clock, "survivor")
    assert survivor.stale(clock()) == []  # the lease still holds
    clock.advance(seconds=61)
    assert survivor.stale(clock()) == [delivery_id]
    survivor.reconcile_stale(delivery_id)
    assert status(world, delivery_id) == (S.POSTED, "found on the timeline")
    assert len(fake.stored) == 1


def test_a_worker_killed_before_sending_is_sent_by_another(
    world: sessionmaker[Session],
) -> None:
    clock, fake = Clock(COUNTDOWN), FakePublisher()
    crashed = dispatcher(world, fake, clock, "crashed")
    [delivery_id] = due(world, crashed, clock)
    assert crashed.claim(delivery_id, clock())
    clock.advance(seconds=61)
    survivor = dispatcher(world, fake, clock, "survivor")
    survivor.reconcile_stale(delivery_id)
    assert status(world, delivery_id)[0] is S.POSTED
    assert len(fake.stored) == 1


def test_duplicate_content_fails_with_xs_reason(world: sessionmaker[Session]) -> None:
    clock = Clock(COUNTDOWN)
    reason = "403 You are not allowed to create a Tweet with duplicate content."
    fake = FakePublisher(script=lambda r: SendResult(Outcome.FAILED, reason=reason,
                                                     duplicate=True))
    worker = dispatcher(world, fake, clock)
    [delivery_id] = due(world, worker, clock)
    worker.deliver(delivery_id)
    assert status(world, delivery_id) == (S.FAILED, reason)
    with world() as session:
        assert session.scalars(select(Alert.kind)).all() == ["failed"]


def test_posts_past_the_grace_window_are_missed_with_a_reason(
    world: sessionmaker[Session],
) -> None:
    clock, fake = Clock(COUNTDOWN + timedelta(minutes=31)), FakePublisher()
    worker = dispatcher(world, fake, clock)
    worker.promote(clock(), paused=False)
    worker.mark_missed(clock())
    [delivery] = x_deliveries(world, "countdown")
    assert delivery.status is S.MISSED
    assert "not sent within 30 minutes" in delivery.status_reason
    assert fake.requests == []


def test_networks_without_a_publisher_end_missed_not_silently_dropped(
    world: sessionmaker[Session],
) -> None:
    clock = Clock(COUNTDOWN + timedelta(minutes=31))
    worker = dispatcher(world, FakePublisher(), clock)
    worker.promote(clock(), paused=False)
    worker.mark_missed(clock())
    with world() as session:
        mastodon = session.scalars(select(Delivery).where(
            Delivery.network == "mastodon", Delivery.send_at <= COUNTDOWN)).one()
    assert mastodon.status is S.MISSED
    assert "no publisher" in mastodon.status_reason


def test_pause_holds_everything_and_resume_releases_it(world: sessionmaker[Session]) -> None:
    clock, fake = Clock(COUNTDOWN), FakePublisher()
    worker = dispatcher(world, fake, clock)
    worker.promote(clock(), paused=False)
    with db.transaction(world) as session:
        result = pause(session=session, now=clock(), by="Duty Officer",
                       reason="major incident in the city")
    assert result.deliveries > 0
    assert due(world, worker, clock) == []
    assert {d.status for d in x_deliveries(world)} == {S.PAUSED}
    with db.transaction(world) as session:
        resume(session=session, now=clock(), by="Duty Officer")
    assert len(due(world, worker, clock)) == 1


def test_a_paused_campaign_stays_held_when_its_posts_are_approved_later(
    world: sessionmaker[Session],
) -> None:
    clock = Clock(COUNTDOWN)
    with db.transaction(world) as session:
        pause(session=session, now=clock(), by="Officer", reason="review",
              campaign_key="nhcaw-2026")
    worker = dispatcher(world, FakePublisher(), clock)
    worker.promote(clock(), paused=False)
    assert {d.status for d in x_deliveries(world)} == {S.PAUSED}


def test_a_person_can_settle_an_unconfirmed_post(world: sessionmaker[Session]) -> None:
    from campaigns.storage.deliveries import ResolveError, resolve_unconfirmed

    clock = Clock(COUNTDOWN)
    delivery_id, _ = undecidable_send(world, clock)
    assert status(world, delivery_id)[0] is S.UNCONFIRMED
    with db.transaction(world) as session:
        resolve_unconfirmed(delivery_id, session=session, by="Sam", now=clock(),
                            remote_id="1799")
    assert status(world, delivery_id) == (S.POSTED, "confirmed posted by Sam (remote id 1799)")
    with pytest.raises(ResolveError, match="not unconfirmed"), db.transaction(world) as session:
        resolve_unconfirmed(delivery_id, session=session, by="Sam", now=clock())


def test_reconnecting_an_account_releases_only_the_posts_held_for_it(
    world: sessionmaker[Session],
) -> None:
    from campaigns.storage.control import release_held

    clock = Clock(LAUNCH + timedelta(minutes=25))
    fake = FakePublisher(script=lambda r: SendResult(Outcome.REAUTH, reason="401")
                         if r.account_key == "police-x" else None)
    worker = dispatcher(world, fake, clock)
    for delivery_id in due(world, worker, clock):
        worker.deliver(delivery_id)
    with db.transaction(world) as session:
        police = session.scalars(select(Account).where(Account.key == "police-x")).one()
        released = release_held(police.id, session=session, now=clock(), by="Sam")
    held = [d for d in x_deliveries(world) if d.account.key == "police-x"]
    assert released == len(held) == 2
    assert {d.status for d in held} == {S.APPROVED}


@pytest.mark.parametrize("named", ["/etc/passwd", "../var/secret.key", "images/../../x.png"])
def test_an_image_named_outside_the_content_directory_is_never_uploaded(
    world: sessionmaker[Session], named: str
) -> None:
    clock, fake = Clock(COUNTDOWN), FakePublisher()
    [delivery] = x_deliveries(world, "countdown")
    with db.transaction(world) as session:
        post = session.get(Delivery, delivery.id).post  # type: ignore[union-attr]
        post.images = [{"file": named, "alt": "a poster"}]
    worker = dispatcher(world, fake, clock)
    [ready] = due(world, worker, clock)
    worker.deliver(ready)
    state, reason = status(world, ready)
    assert state is S.FAILED
    assert "image refused" in reason and ("outside" in reason or "relative" in reason)
    assert fake.posts_by("lead-x") == []
    with world() as session:
        assert session.scalars(select(Alert.kind)).all() == ["failed"]
