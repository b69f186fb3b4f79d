"""The engagement collector against a real database, with a fake network and a fixed clock."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from campaigns.cli import app
from campaigns.config.secrets import Credentials, Vault
from campaigns.config.settings import load_settings
from campaigns.storage import db
from campaigns.storage.models import (
    Account,
    ApiUsage,
    Campaign,
    Delivery,
    DeliveryStatus,
    EngagementSnapshot,
    Organisation,
    Post,
    ReportingChannel,
)
from scheduler.collect_schedule import CollectorConfig, parse_schedule
from scheduler.collector import Collector, metrics_readers
from scheduler.publishers.base import (
    GonePost,
    MetricsResult,
    PostMetrics,
    RateInfo,
    ReadOutcome,
)
from scheduler.publishers.registry import build_publishers

VAULT = Vault(Fernet.generate_key())
T = datetime(2026, 10, 10, 9, 0, tzinfo=UTC)
SCHEDULE = parse_schedule("15m/6h,1h/48h,1d/30d")


@dataclass
class Call:
    account: str
    ids: list[str]
    non_public: bool


@dataclass
class FakeReader:
    """A network of posts whose counts grow by one per reading; owners see link clicks."""

    owners: dict[str, str] = field(default_factory=dict)
    deleted: set[str] = field(default_factory=set)
    unavailable: set[str] = field(default_factory=set)
    #: Answers to give instead of reading, by call number (1-based).
    scripted: dict[int, MetricsResult] = field(default_factory=dict)
    refuse_non_public: bool = False
    revoked: set[str] = field(default_factory=set)
    during_call: Callable[[], None] | None = None
    calls: list[Call] = field(default_factory=list)
    seen: dict[str, int] = field(default_factory=dict)
    network: str = "x"

    def read_metrics(self, credentials: Credentials, ids: Sequence[str], *,
                     non_public: bool) -> MetricsResult:
        account = credentials["account_key"]
        self.calls.append(Call(account, list(ids), non_public))
        if self.during_call is not None:
            self.during_call()
        if len(self.calls) in self.scripted:
            return self.scripted[len(self.calls)]
        if account in self.revoked:
            return MetricsResult(ReadOutcome.REAUTH, reason="X refused the account's token")
        if non_public and self.refuse_non_public:
            return MetricsResult(ReadOutcome.REFUSED, reason="X answered 403: not authorised")
        metrics, gone = {}, {}
        for remote_id in ids:
            if remote_id in self.deleted:
                gone[remote_id] = GonePost(remote_id, "deleted", "Could not find tweet")
            elif remote_id in self.unavailable:
                gone[remote_id] = GonePost(remote_id, "unavailable", "Authorization Error")
            else:
                count = self.seen[remote_id] = self.seen.get(remote_id, 0) + 1
                own = non_public and self.owners.get(remote_id) == account
                metrics[remote_id] = PostMetrics(remote_id, impressions=100 * count,
                                                 likes=count, link_clicks=count if own else None,
                                                 profile_clicks=0 if own else None)
        return MetricsResult(ReadOutcome.OK, metrics=metrics, gone=gone)


@dataclass
class World:
    sessions: sessionmaker[Session]
    reader: FakeReader
    ids: dict[str, list[int]]

    def collector(self, budget: int = 10_000) -> Collector:
        return Collector(self.sessions, {"x": self.reader}, VAULT,
                         CollectorConfig(schedule=SCHEDULE, budget_per_day=budget))

    def delivery(self, delivery_id: int) -> Delivery:
        with self.sessions() as session:
            found = session.get(Delivery, delivery_id)
            assert found is not None
            return found

    def snapshots(self, delivery_id: int) -> list[EngagementSnapshot]:
        with self.sessions() as session:
            return list(session.scalars(select(EngagementSnapshot).where(
                EngagementSnapshot.delivery_id == delivery_id).order_by(EngagementSnapshot.id)))

    def snapshot_count(self) -> int:
        with self.sessions() as session:
            return session.scalar(select(func.count()).select_from(EngagementSnapshot)) or 0

    def remote_id(self, delivery_id: int) -> str:
        return str(self.delivery(delivery_id).remote_id)

    def all_ids(self) -> list[int]:
        return [i for ids in self.ids.values() for i in ids]


def make_world(sessions: sessionmaker[Session], counts: dict[str, int],
               posted_at: datetime = T) -> World:
    """Posted deliveries: `counts[account key]` of them, all posted at `posted_at`."""
    reader = FakeReader()
    ids: dict[str, list[int]] = {}
    with db.transaction(sessions) as session:
        organisation = Organisation(key="lead", name="Lead", kind="police", is_lead=True)
        channel = ReportingChannel(key="true-vision", name="True Vision")
        campaign = Campaign(key="c", name="C", year=2026, timezone="UTC", author="A")
        session.add_all([organisation, channel, campaign])
        session.flush()
        serial = 0
        for key, count in counts.items():
            account = Account(key=key, organisation_id=organisation.id, network="x",
                              handle=f"@{key}", state="connected",
                              token_encrypted=VAULT.seal(Credentials("oauth1",
                                                                     {"account_key": key})))
            session.add(account)
            session.flush()
            rows = []
            for _ in range(count):
                serial += 1
                remote_id = str(1_800_000_000_000_000_000 + serial)
                reader.owners[remote_id] = key
                post = Post(campaign_id=campaign.id, key=f"p{serial}", send={},
                            reporting_channel_key=channel.key)
                session.add(post)
                session.flush()
                rows.append({"campaign_id": campaign.id, "post_id": post.id,
                             "account_id": account.id, "network": "x", "text": f"post {serial}",
                             "send_at": posted_at, "local_time": "", "content_hash": str(serial),
                             "status": DeliveryStatus.POSTED, "remote_id": remote_id,
                             "posted_at": posted_at, "created_at": posted_at,
                             "updated_at": posted_at})
            session.execute(insert(Delivery), rows)
            ids[key] = list(session.scalars(select(Delivery.id).where(
                Delivery.account_id == account.id).order_by(Delivery.id)))
    return World(sessions, reader, ids)


@pytest.fixture
def world(sessions: sessionmaker[Session]) -> World:
    return make_world(sessions, {"lead-x": 3})


# ---- the schedule ---------------------------------------------------------------------------


def test_a_posted_delivery_is_first_read_one_interval_after_posting(world: World) -> None:
    collector = world.collector()
    report = collector.sweep(T + timedelta(minutes=1))
    assert report.newly_tracked == 3 and report.calls == 0
    first = world.ids["lead-x"][0]
    assert world.delivery(first).metrics_due_at == T + timedelta(minutes=15)
    report = collector.sweep(T + timedelta(minutes=15))
    assert (report.read, report.calls, report.newly_tracked) == (3, 1, 0)
    assert world.delivery(first).metrics_due_at == T + timedelta(minutes=30)
    assert world.delivery(first).remote_state == "live"


def test_two_sweeps_give_two_snapshots_per_post_and_keep_the_first(world: World) -> None:
    collector = world.collector()
    collector.sweep(T + timedelta(minutes=15))
    collector.sweep(T + timedelta(minutes=31))
    for delivery_id in world.ids["lead-x"]:
        first, second = world.snapshots(delivery_id)
        assert (first.read_at, first.impressions) == (T + timedelta(minutes=15), 100)
        assert (second.read_at, second.impressions) == (T + timedelta(minutes=31), 200)
        assert first.link_clicks == 1 and second.link_clicks == 2  # the owner read them


def test_nothing_is_read_before_it_is_due(world: World) -> None:
    collector = world.collector()
    collector.sweep(T + timedelta(minutes=15))
    report = collector.sweep(T + timedelta(minutes=29))
    assert (report.due, report.calls, report.read) == (0, 0, 0)


def test_now_reads_every_tracked_post_whatever_its_schedule(world: World) -> None:
    collector = world.collector()
    collector.sweep(T + timedelta(minutes=15))
    report = collector.sweep(T + timedelta(minutes=16), everything=True)
    assert (report.due, report.read, report.calls) == (3, 3, 1)
    assert world.delivery(world.ids["lead-x"][0]).metrics_due_at == T + timedelta(minutes=30)


def test_posts_older_than_30_days_stop_being_tracked(sessions: sessionmaker[Session]) -> None:
    world = make_world(sessions, {"lead-x": 2}, posted_at=T - timedelta(days=29, hours=12))
    collector = world.collector()
    report = collector.sweep(T)
    assert report.read == 2 and world.reader.calls[-1].non_public
    delivery_id = world.ids["lead-x"][0]
    assert world.delivery(delivery_id).metrics_due_at == T + timedelta(hours=12)
    report = collector.sweep(T + timedelta(hours=12))
    assert report.read == 2 and not world.reader.calls[-1].non_public  # 30 days old
    assert world.delivery(delivery_id).metrics_due_at is None
    assert world.delivery(delivery_id).remote_state == "live"
    report = collector.sweep(T + timedelta(days=3), everything=True)
    assert (report.newly_tracked, report.due, report.calls) == (0, 0, 0)
    assert len(world.snapshots(delivery_id)) == 2


# ---- batching -------------------------------------------------------------------------------


def test_a_sweep_of_250_posts_makes_3_calls_of_at_most_100_ids(
        sessions: sessionmaker[Session]) -> None:
    world = make_world(sessions, {"a1": 120, "a2": 80, "a3": 50})
    report = world.collector().sweep(T + timedelta(minutes=15))
    assert (report.due, report.read, report.calls) == (250, 250, 3)
    assert [len(c.ids) for c in world.reader.calls] == [100, 100, 50]
    assert [c.account for c in world.reader.calls] == ["a1", "a2", "a3"]
    assert all(c.non_public for c in world.reader.calls)
    assert world.snapshot_count() == 250


def test_non_public_metrics_are_read_only_for_the_reading_accounts_posts(
        sessions: sessionmaker[Session]) -> None:
    world = make_world(sessions, {"a1": 60, "a2": 40})
    world.collector().sweep(T + timedelta(minutes=15))
    [call] = world.reader.calls
    assert call.account == "a1" and call.non_public
    assert {s.link_clicks is not None for i in world.ids["a1"] for s in world.snapshots(i)} == {
        True}
    assert {s.link_clicks for i in world.ids["a2"] for s in world.snapshots(i)} == {None}


# ---- posts that are gone --------------------------------------------------------------------


def test_deleted_and_unavailable_posts_are_marked_and_no_longer_read(world: World) -> None:
    deleted, unavailable, live = world.ids["lead-x"]
    world.reader.deleted.add(world.remote_id(deleted))
    world.reader.unavailable.add(world.remote_id(unavailable))
    collector = world.collector()
    now = T + timedelta(minutes=15)
    report = collector.sweep(now)
    assert (report.read, report.deleted, report.unavailable) == (1, 1, 1)
    for delivery_id, state in ((deleted, "deleted"), (unavailable, "unavailable")):
        delivery = world.delivery(delivery_id)
        assert (delivery.remote_state, delivery.remote_gone_at) == (state, now)
        assert delivery.metrics_due_at is None and world.snapshots(delivery_id) == []
        assert delivery.status is DeliveryStatus.POSTED
    collector.sweep(T + timedelta(minutes=30), everything=True)
    assert world.reader.calls[-1].ids == [world.remote_id(live)]
    assert world.delivery(deleted).remote_gone_at == now


# ---- budget and rate limits -----------------------------------------------------------------


def test_the_daily_budget_stops_the_sweep_and_is_reported(
        sessions: sessionmaker[Session]) -> None:
    world = make_world(sessions, {"a1": 120, "a2": 80, "a3": 50})
    collector = world.collector(budget=2)
    report = collector.sweep(T + timedelta(minutes=15))
    assert (report.calls, report.read, report.used_today, report.budget_left) == (2, 200, 2, 0)
    assert "read budget of 2 calls is used up" in report.stopped
    assert report.resume_at == datetime(2026, 10, 11, tzinfo=UTC)
    with sessions() as session:
        usage = session.scalars(select(ApiUsage)).one()
    assert (usage.day, usage.network, usage.purpose, usage.calls, usage.items) == (
        T.date(), "x", "engagement", 2, 200)
    unread = [i for i in world.all_ids() if not world.snapshots(i)]
    assert len(unread) == 50 and world.delivery(unread[0]).metrics_due_at == T + timedelta(
        minutes=15)
    again = collector.sweep(T + timedelta(hours=1))
    assert again.calls == 0 and "used up" in again.stopped
    tomorrow = collector.sweep(datetime(2026, 10, 11, 0, 5, tzinfo=UTC))
    assert tomorrow.calls == 2 and tomorrow.budget_left == 0
    assert all(world.snapshots(i) for i in unread), "the longest overdue are read first"



def test_a_429_stops_the_sweep_and_reading_resumes_after_the_reset(
        sessions: sessionmaker[Session]) -> None:
    world = make_world(sessions, {"a1": 120, "a2": 80, "a3": 50})
    now = T + timedelta(minutes=15)
    reset = now + timedelta(minutes=10)
    world.reader.scripted[2] = MetricsResult(
        ReadOutcome.RATE_LIMITED, retry_at=reset, rate=RateInfo(900, 0, reset),
        reason="rate limited by X (429) on GET /2/tweets")
    collector = world.collector()
    report = collector.sweep(now)
    assert (report.calls, report.read, report.resume_at) == (2, 100, reset)
    assert "429" in report.stopped
    unread = [i for i in world.all_ids() if not world.snapshots(i)]
    assert len(unread) == 150
    assert {world.delivery(i).metrics_due_at for i in unread} == {now}
    held = collector.sweep(now + timedelta(minutes=5))
    assert held.calls == 0 and "rate limited until" in held.stopped
    resumed = collector.sweep(reset + timedelta(seconds=1))
    assert (resumed.calls, resumed.read, resumed.stopped) == (2, 150, "")
    assert all(world.snapshots(i) for i in unread)


def test_a_window_with_no_reads_left_stops_before_earning_a_429(
        sessions: sessionmaker[Session]) -> None:
    world = make_world(sessions, {"a1": 150})
    now = T + timedelta(minutes=15)
    reset = now + timedelta(minutes=3)
    world.reader.scripted[1] = MetricsResult(
        ReadOutcome.OK, rate=RateInfo(900, 0, reset),
        metrics={world.remote_id(i): PostMetrics(world.remote_id(i))
                 for i in world.ids["a1"][:100]})
    report = world.collector().sweep(now)
    assert (report.calls, report.read, report.resume_at) == (1, 100, reset)


def test_a_network_that_does_not_answer_stops_the_sweep_and_the_posts_stay_due(
        world: World) -> None:
    world.reader.scripted[1] = MetricsResult(ReadOutcome.UNREACHABLE,
                                             reason="no answer from X (ReadTimeout)")
    now = T + timedelta(minutes=15)
    report = world.collector().sweep(now)
    assert report.calls == 1 and report.read == 0 and "ReadTimeout" in report.stopped
    assert {world.delivery(i).metrics_due_at for i in world.ids["lead-x"]} == {now}


# ---- refusals and accounts ------------------------------------------------------------------


def test_a_refused_non_public_read_is_retried_once_without_them(world: World) -> None:
    world.reader.refuse_non_public = True
    report = world.collector().sweep(T + timedelta(minutes=15))
    assert [c.non_public for c in world.reader.calls] == [True, False]
    assert (report.calls, report.read, report.with_non_public) == (2, 3, 0)
    assert {s.link_clicks for i in world.ids["lead-x"] for s in world.snapshots(i)} == {None}


def test_a_refused_read_skips_to_the_next_reading_without_a_snapshot(world: World) -> None:
    refused = MetricsResult(ReadOutcome.REFUSED, reason="X answered 400: invalid request")
    world.reader.scripted.update({1: refused, 2: refused})
    report = world.collector().sweep(T + timedelta(minutes=15))
    assert report.calls == 2 and report.read == 0 and "400" in report.problems[0]
    assert {world.delivery(i).metrics_due_at for i in world.ids["lead-x"]} == {
        T + timedelta(minutes=30)}


def test_a_revoked_token_is_marked_and_another_account_reads_its_batch(
        sessions: sessionmaker[Session]) -> None:
    world = make_world(sessions, {"a1": 60, "a2": 30})
    world.reader.revoked.add("a1")
    report = world.collector().sweep(T + timedelta(minutes=15))
    assert [c.account for c in world.reader.calls] == ["a1", "a2"]
    assert (report.calls, report.read) == (2, 90)
    with sessions() as session:
        account = session.scalars(select(Account).where(Account.key == "a1")).one()
    assert account.state == "needs-reconnect" and "token" in account.last_error
    again = world.collector().sweep(T + timedelta(minutes=30))
    assert [c.account for c in world.reader.calls[2:]] == ["a2"] and again.read == 90


def test_with_no_account_to_read_with_posts_wait_and_the_sweep_says_so(world: World) -> None:
    with db.transaction(world.sessions) as session:
        session.execute(Account.__table__.update().values(state="needs-reconnect"))
    now = T + timedelta(minutes=15)
    report = world.collector().sweep(now)
    assert report.calls == 0 and "no connected x account" in report.problems[0]
    assert {world.delivery(i).metrics_due_at for i in world.ids["lead-x"]} == {now}


def test_a_sweep_running_meanwhile_skips_the_posts_already_claimed(world: World) -> None:
    other = world.collector()
    meanwhile: list[int] = []
    world.reader.during_call = lambda: meanwhile.append(
        other.sweep(T + timedelta(minutes=16)).due)
    report = world.collector().sweep(T + timedelta(minutes=15))
    assert report.read == 3 and meanwhile == [0]
    assert all(len(world.snapshots(i)) == 1 for i in world.ids["lead-x"])


# ---- the command line -----------------------------------------------------------------------


def test_collect_reports_reads_calls_budget_and_gone_posts(
        env: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CHORUS_SECRET_KEY", Fernet.generate_key().decode())
    monkeypatch.setenv("CHORUS_READ_BUDGET_PER_DAY", "500")
    result = CliRunner().invoke(app, ["engagement", "collect", "--now"])
    assert result.exit_code == 0, result.output
    assert "posts read: 0 of 0 due" in result.stdout
    assert "API calls used: 0" in result.stdout
    budget = 500 * len(metrics_readers(build_publishers(load_settings())))  # per network
    assert f"budget left today: {budget} of {budget} calls" in result.stdout
    assert "deleted: 0, unavailable: 0" in result.stdout
    status = CliRunner().invoke(app, ["engagement", "status"])
    assert status.exit_code == 0 and "tracked posts: 0" in status.stdout


def test_collect_refuses_a_bad_schedule_with_a_clear_error(
        env: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CHORUS_SECRET_KEY", Fernet.generate_key().decode())
    monkeypatch.setenv("CHORUS_ENGAGEMENT_SCHEDULE", "15m/6h,1x/2d")
    result = CliRunner().invoke(app, ["engagement", "collect"])
    assert result.exit_code == 1
    assert "CHORUS_ENGAGEMENT_SCHEDULE" in result.stderr
    assert "'1x' is not a duration" in result.stderr
