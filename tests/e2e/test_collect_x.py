"""The engagement collector over tweepy's real HTTP path against the sandbox.

Posts go out through the worker's dispatcher; the collector then reads them with GET
/2/tweets. OAuth 1.0a credentials throughout: the sandbox's OAuth 2.0 tokens expire when its
clock jumps forward.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from cryptography.fernet import Fernet
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from campaigns.config.secrets import Vault
from campaigns.core.clock import utcnow
from campaigns.storage import db
from campaigns.storage.models import Account, Delivery, DeliveryStatus, EngagementSnapshot
from scheduler.collect_schedule import CollectorConfig, SweepReport, parse_schedule
from scheduler.collector import Collector
from scheduler.dispatch import Dispatcher, WorkerConfig
from scheduler.publishers.base import GonePost, ReadOutcome
from scheduler.publishers.x import XPublisher
from scheduler.sandbox import seed
from tests.e2e import Sandbox, SandboxAccount

SIX_HOURS = timedelta(hours=6)


@dataclass
class Rig:
    sessions: sessionmaker[Session]
    vault: Vault
    sandbox: Sandbox

    def publisher(self) -> XPublisher:
        return XPublisher(self.sandbox.url, 5, None, None)

    def post(self, accounts: int, count: int) -> list[int]:
        """`count` posts round-robin over `accounts` sandbox accounts, sent by the worker."""
        now = utcnow() - timedelta(seconds=1)
        with db.transaction(self.sessions) as session:
            connected = seed.connect_accounts(self.sandbox.control, self.vault, accounts,
                                              session=session)
            ids = seed.schedule(connected, [now] * count, session=session, now=now)
        worker = Dispatcher(self.sessions, {"x": self.publisher()}, self.vault,
                            WorkerConfig(worker_id="w1"), utcnow)
        worker.promote(utcnow(), paused=False)
        for delivery_id, _ in worker.due_soon(utcnow(), timedelta(0)):
            worker.deliver(delivery_id)
        assert {self.delivery(i).status for i in ids} == {DeliveryStatus.POSTED}
        return ids

    def collector(self) -> Collector:
        config = CollectorConfig(schedule=parse_schedule("15m/6h,1h/48h,1d/30d"),
                                 budget_per_day=1000)
        return Collector(self.sessions, {"x": self.publisher()}, self.vault, config)

    def delivery(self, delivery_id: int) -> Delivery:
        with self.sessions() as session:
            found = session.get(Delivery, delivery_id)
            assert found is not None
            return found

    def snapshots(self, delivery_id: int) -> list[EngagementSnapshot]:
        with self.sessions() as session:
            return list(session.scalars(select(EngagementSnapshot).where(
                EngagementSnapshot.delivery_id == delivery_id).order_by(EngagementSnapshot.id)))

    def account_key(self, delivery_id: int) -> str:
        with self.sessions() as session:
            return session.scalars(select(Account.key).join(Delivery, Delivery.account_id ==
                                                            Account.id)
                                   .where(Delivery.id == delivery_id)).one()

    def reads(self, since_id: int = 0) -> list[dict[str, object]]:
        return [r for r in self.sandbox.control.requests(since_id=since_id)
                if (r["method"], r["path"]) == ("GET", "/2/tweets")]

    def last_request_id(self) -> int:
        logged = self.sandbox.control.requests()
        return int(logged[-1]["id"]) if logged else 0


@pytest.fixture
def rig(sandbox: Sandbox, engine: object, sessions: sessionmaker[Session]) -> Rig:
    return Rig(sessions, Vault(Fernet.generate_key()), sandbox)


def sweep_later(rig: Rig, later: timedelta, **options: bool) -> SweepReport:
    """Move the sandbox's clock and the collector's `now` forward together, then sweep."""
    rig.sandbox.control.set_clock(offset_seconds=later.total_seconds())
    return rig.collector().sweep(utcnow() + later, **options)


def test_engagement_grows_between_two_readings_as_sandbox_time_passes(rig: Rig) -> None:
    ids = rig.post(accounts=2, count=3)
    first = rig.collector().sweep(utcnow(), everything=True)
    assert (first.newly_tracked, first.read, first.calls) == (3, 3, 1)
    second = sweep_later(rig, SIX_HOURS)
    assert (second.read, second.calls) == (3, 1)
    for delivery_id in ids:
        before, after = rig.snapshots(delivery_id)
        assert after.impressions > before.impressions
        assert after.likes >= before.likes and after.read_at - before.read_at >= SIX_HOURS
        assert rig.delivery(delivery_id).metrics_due_at is not None


def test_non_public_metrics_come_only_for_the_reading_accounts_own_posts(rig: Rig) -> None:
    ids = rig.post(accounts=2, count=3)  # load000 has two of them, load001 one
    report = sweep_later(rig, SIX_HOURS, everything=True)
    assert report.calls == 1 and report.with_non_public == 2
    for delivery_id in ids:
        [snapshot] = rig.snapshots(delivery_id)
        own = rig.account_key(delivery_id) == "load-000"
        assert (snapshot.link_clicks is not None) is own
        assert (snapshot.profile_clicks is not None) is own
        assert snapshot.impressions > 0


def test_a_post_deleted_in_the_sandbox_is_marked_deleted_and_no_longer_read(rig: Rig) -> None:
    deleted, kept = rig.post(accounts=1, count=2)
    author = rig.sandbox.control.create_account("load000")  # its live tokens
    answer = requests.delete(f"{rig.sandbox.url}/2/tweets/{rig.delivery(deleted).remote_id}",
                             headers={"Authorization":
                                      f'OAuth oauth_token="{author["oauth1"]["token"]}"'},
                             timeout=5)
    assert answer.status_code == 200 and answer.json() == {"data": {"deleted": True}}
    now = utcnow()
    report = rig.collector().sweep(now, everything=True)
    assert (report.read, report.deleted, report.unavailable) == (1, 1, 0)
    gone = rig.delivery(deleted)
    assert (gone.remote_state, gone.remote_gone_at, gone.metrics_due_at) == ("deleted", now, None)
    assert rig.delivery(kept).remote_state == "live"
    again = rig.collector().sweep(utcnow(), everything=True)
    assert (again.due, again.read, again.deleted) == (1, 1, 0)


def test_a_sweep_of_250_posts_makes_3_calls_in_the_sandboxs_log(rig: Rig) -> None:
    ids = rig.post(accounts=3, count=250)
    mark = rig.last_request_id()
    report = rig.collector().sweep(utcnow(), everything=True)
    assert (report.due, report.read, report.calls) == (250, 250, 3)
    reads = rig.reads(since_id=mark)
    assert len(reads) == 3 and {r["status"] for r in reads} == {200}
    assert {r["user"] for r in reads} == {"load000", "load001", "load002"}
    assert all(len(rig.snapshots(i)) == 1 for i in ids)


def test_a_429_from_the_sandbox_stops_the_sweep_until_its_reset(rig: Rig) -> None:
    rig.post(accounts=1, count=2)
    rig.sandbox.control.set_faults(fail_next=[{"status": 429, "count": 1,
                                               "route": "GET /2/tweets"}])
    now = utcnow()
    report = rig.collector().sweep(now, everything=True)
    assert (report.calls, report.read) == (1, 0) and "429" in report.stopped
    assert report.resume_at is not None and report.resume_at > now
    held = rig.collector().sweep(now + timedelta(seconds=1), everything=True)
    assert held.calls == 0 and "rate limited until" in held.stopped
    resumed = rig.collector().sweep(report.resume_at + timedelta(seconds=1), everything=True)
    assert (resumed.calls, resumed.read) == (1, 2)


def test_the_publisher_reports_unknown_and_malformed_ids_without_failing_the_batch(
        rig: Rig) -> None:
    [delivery_id] = rig.post(accounts=1, count=1)
    credentials = SandboxAccount(rig.sandbox.control.create_account("load000")).oauth1
    remote_id = str(rig.delivery(delivery_id).remote_id)
    result = rig.publisher().read_metrics(credentials, [remote_id, "99", "not-an-id"],
                                          non_public=True)
    assert result.outcome is ReadOutcome.OK
    assert set(result.metrics) == {remote_id}
    assert result.metrics[remote_id].link_clicks is not None
    assert result.gone == {
        "99": GonePost("99", "deleted", "Could not find tweet with ids: [99]."),
        "not-an-id": GonePost("not-an-id", "unavailable", "not an X post id")}
    assert result.rate is not None and result.rate.limit == 900


# ---- X's own answers (a local server playing X, for shapes the sandbox does not make) ----------

#: What X says about a post it will not show, and about a field the account may not read.
NOT_FOUND = {"value": "1002", "detail": "Could not find tweet with ids: [1002].",
             "title": "Not Found Error", "resource_type": "tweet", "parameter": "ids",
             "resource_id": "1002",
             "type": "https://api.twitter.com/2/problems/resource-not-found"}
PROTECTED = {"value": "1003", "detail": "Sorry, you are not authorized to see the Tweet with "
             "ids: [1003].", "title": "Authorization Error", "resource_type": "tweet",
             "parameter": "ids", "resource_id": "1003",
             "type": "https://api.twitter.com/2/problems/not-authorized-for-resource"}
FIELD_REFUSED = {"value": "1001", "detail": "Sorry, you are not authorized to access "
                 "'non_public_metrics' on a Tweet.", "title": "Field Authorization Error",
                 "resource_type": "tweet", "parameter": "non_public_metrics",
                 "field": "non_public_metrics", "section": "data", "resource_id": "1001",
                 "type": "https://api.twitter.com/2/problems/not-authorized-for-field"}
PUBLIC = {"retweet_count": 2, "reply_count": 1, "like_count": 9, "quote_count": 0,
          "bookmark_count": 3, "impression_count": 400}


class _PlaysX(BaseHTTPRequestHandler):
    """GET /2/tweets as X answers it; 403 for the whole batch if `refuse_non_public`."""

    refuse_non_public: ClassVar[bool] = False
    seen: ClassVar[list[str]] = []

    def do_GET(self) -> None:
        query = parse_qs(urlsplit(self.path).query)
        fields = query.get("tweet.fields", [""])[0]
        self.seen.append(fields)
        if self.refuse_non_public and "non_public_metrics" in fields:
            self._answer(403, {"title": "Forbidden", "status": 403, "type": "about:blank",
                               "detail": "non_public_metrics is not allowed for this request"})
            return
        self._answer(200, {"data": [{"id": "1001", "text": "t", "public_metrics": PUBLIC}],
                           "errors": [FIELD_REFUSED, NOT_FOUND, PROTECTED]})

    def _answer(self, status: int, body: dict[str, Any]) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def plays_x() -> Iterator[tuple[XPublisher, type[_PlaysX]]]:
    handler = type("Handler", (_PlaysX,), {"seen": [], "refuse_non_public": False})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield XPublisher(f"http://127.0.0.1:{server.server_address[1]}", 5, "k", "s"), handler
    finally:
        server.shutdown()
        server.server_close()


CREDENTIALS = SandboxAccount({"oauth1": {"token": "t", "secret": "s"}}).oauth1


def test_xs_errors_are_read_as_deleted_unavailable_or_only_a_refused_field(
        plays_x: tuple[XPublisher, type[_PlaysX]]) -> None:
    publisher, _ = plays_x
    result = publisher.read_metrics(CREDENTIALS, ["1001", "1002", "1003"], non_public=True)
    assert result.outcome is ReadOutcome.OK
    assert result.metrics["1001"].impressions == 400 and result.metrics["1001"].likes == 9
    assert result.metrics["1001"].link_clicks is None
    assert {k: v.state for k, v in result.gone.items()} == {"1002": "deleted",
                                                           "1003": "unavailable"}


def test_when_x_refuses_a_batch_for_non_public_metrics_it_reads_without_them(
        plays_x: tuple[XPublisher, type[_PlaysX]]) -> None:
    publisher, handler = plays_x
    handler.refuse_non_public = True
    refused = publisher.read_metrics(CREDENTIALS, ["1001"], non_public=True)
    assert refused.outcome is ReadOutcome.REFUSED and "403" in refused.reason
    assert publisher.read_metrics(CREDENTIALS, ["1001"], non_public=False).outcome is \
        ReadOutcome.OK
    assert handler.seen == ["public_metrics,non_public_metrics", "public_metrics"]
