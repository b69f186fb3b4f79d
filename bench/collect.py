"""How many X API calls does engagement collection cost? 10,000 posts, batched against naive.

1. A real sweep. 10,000 posts are created in the sandbox (POST /2/tweets by 50 sandbox
   accounts) and recorded as posted deliveries; one sweep reads them all, as `chorus
   engagement collect --now` does, through tweepy. The sandbox's request log counts the GET
   /2/tweets calls: they must be ceil(10,000 / 100) = 100. Naive polling, one call per post,
   makes 10,000 calls for the same pass (and makes it every hour).
2. Thirty simulated days. The pure schedule (settings.engagement_schedule) and the same
   batching, driven by a simulated clock at the worker's sweep cadence, against naive hourly
   polling of each post, for 10,000 posts posted at once and spread over a week.

    .venv/bin/python bench/collect.py
"""

from __future__ import annotations

import heapq
import math
import random
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import requests
from cryptography.fernet import Fernet
from sqlalchemy import insert, select
from sqlalchemy.orm import Session, sessionmaker

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from campaigns.config.secrets import Vault  # noqa: E402
from campaigns.config.settings import load_settings  # noqa: E402
from campaigns.core.clock import utcnow  # noqa: E402
from campaigns.storage import db  # noqa: E402
from campaigns.storage.models import (  # noqa: E402
    Account,
    Campaign,
    Delivery,
    DeliveryStatus,
    Post,
    ReportingChannel,
)
from scheduler.collect_schedule import (  # noqa: E402
    BATCH_SIZE,
    CollectorConfig,
    DuePost,
    Schedule,
    next_read_at,
    parse_schedule,
    plan_batches,
)
from scheduler.collector import Collector  # noqa: E402
from scheduler.publishers.x import XPublisher  # noqa: E402
from scheduler.sandbox import seed  # noqa: E402
from scheduler.sandbox.client import SandboxClient  # noqa: E402
from scheduler.sandbox.server import start  # noqa: E402
from scheduler.worker import COLLECT_SECONDS  # noqa: E402

POSTS, ACCOUNTS, POSTING_THREADS = 10_000, 50, 16
DAYS = 30
HOUR = timedelta(hours=1)


# ---- 1. a real sweep against the sandbox ----------------------------------------------------


@contextmanager
def sandbox_and_database(folder: Path) -> Iterator[tuple[str, sessionmaker[Session]]]:
    running = start(folder / "sandbox.db", port=0)
    engine = db.make_engine(f"sqlite:///{folder / 'collect.db'}")
    try:
        db.upgrade(engine)
        yield running.url, db.session_factory(engine)
    finally:
        engine.dispose()
        running.stop()


def create_posts(url: str, tokens: list[str]) -> list[str]:
    """POST /2/tweets `POSTS` times; post i is by account i % len(tokens). Their ids, in order."""

    def post_every_nth(first: int) -> list[tuple[int, str]]:
        made = []
        with requests.Session() as session:
            for index in range(first, POSTS, POSTING_THREADS):
                token = tokens[index % len(tokens)]
                answer = session.post(f"{url}/2/tweets", timeout=10,
                                      json={"text": f"Bench post {index}: report hate crime"},
                                      headers={"Authorization": f'OAuth oauth_token="{token}"'})
                answer.raise_for_status()
                made.append((index, str(answer.json()["data"]["id"])))
        return made

    with ThreadPoolExecutor(POSTING_THREADS) as pool:
        made = dict(pair for part in pool.map(post_every_nth, range(POSTING_THREADS))
                    for pair in part)
    return [made[i] for i in range(POSTS)]


def record_posted(sessions: sessionmaker[Session], accounts: list[Account],
                  remote_ids: list[str], posted_at: datetime) -> None:
    with db.transaction(sessions) as session:
        campaign = Campaign(key="bench-collect", name="Collector benchmark (sandbox)",
                            year=posted_at.year, timezone="UTC", author="bench")
        session.add(campaign)
        session.flush()
        session.execute(insert(Post), [
            {"campaign_id": campaign.id, "key": f"p{i}", "send": {}, "audience": "all",
             "reporting_channel_key": "true-vision"} for i in range(POSTS)])
        post_ids = list(session.scalars(select(Post.id).where(Post.campaign_id == campaign.id)
                                        .order_by(Post.id)))
        session.execute(insert(Delivery), [
            {"campaign_id": campaign.id, "post_id": post_ids[i],
             "account_id": accounts[i % len(accounts)].id, "network": "x",
             "text": f"Bench post {i}", "send_at": posted_at, "local_time": "",
             "status": DeliveryStatus.POSTED, "content_hash": f"bench-{i}",
             "remote_id": remote_ids[i], "posted_at": posted_at, "created_at": posted_at,
             "updated_at": posted_at} for i in range(POSTS)])


@dataclass
class RealSweep:
    read: int
    calls_logged: int
    calls_reported: int
    posting_seconds: float
    sweep_seconds: float


def real_sweep(schedule: Schedule, budget: int) -> RealSweep:
    vault = Vault(Fernet.generate_key())
    with tempfile.TemporaryDirectory() as folder, \
            sandbox_and_database(Path(folder)) as (url, sessions):
        control = SandboxClient(url)
        control.set_faults(rate_limit={"posts_per_window": POSTS, "window_seconds": 900})
        with db.transaction(sessions) as session:
            accounts = seed.connect_accounts(control, vault, ACCOUNTS, session=session,
                                             prefix="bench")
            session.add(ReportingChannel(key="true-vision", name="True Vision",
                                         url="https://www.report-it.org.uk"))
        tokens = [vault.open(a.token_encrypted or b"")["access_token"] for a in accounts]
        started = time.perf_counter()
        remote_ids = create_posts(url, tokens)
        posting = time.perf_counter() - started
        record_posted(sessions, accounts, remote_ids, utcnow())
        mark = control.requests()[-1]["id"]
        config = CollectorConfig(schedule=schedule, budget_per_day=budget)
        collector = Collector(sessions, {"x": XPublisher(url, 10, None, None)}, vault, config)
        started = time.perf_counter()
        report = collector.sweep(utcnow(), everything=True)
        sweeping = time.perf_counter() - started
        logged = [r for r in control.requests(since_id=mark)
                  if (r["method"], r["path"]) == ("GET", "/2/tweets")]
    return RealSweep(report.read, len(logged), report.calls, posting, sweeping)


# ---- 2. thirty simulated days ---------------------------------------------------------------


@dataclass
class Simulated:
    label: str
    calls: int
    readings: int
    busiest_day: int
    naive_calls: int
    naive_busiest_day: int


def simulate(label: str, posted: list[datetime], schedule: Schedule, start: datetime,
             cadence: timedelta) -> Simulated:
    """Sweeps every `cadence` for DAYS days from `start`: due posts, batched as the collector
    does, against one call per post per hour from its posting."""
    end = start + timedelta(days=DAYS)
    queue: list[tuple[datetime, int]] = []
    for index, moment in enumerate(posted):
        first = next_read_at(moment, None, schedule)
        if first is not None:
            heapq.heappush(queue, (first, index))
    calls, readings, per_day = 0, 0, Counter[int]()
    now = start
    while now <= end and queue:
        due = []
        while queue and queue[0][0] <= now:
            due.append(heapq.heappop(queue)[1])
        if due:
            batches = plan_batches([DuePost(i, str(i), i % ACCOUNTS, posted[i]) for i in due], now)
            calls += len(batches)
            readings += len(due)
            per_day[(now - start).days] += len(batches)
            for index in due:
                following = next_read_at(posted[index], now, schedule)
                if following is not None:
                    heapq.heappush(queue, (following, index))
        now += cadence
    naive_per_day = Counter[int]()
    for moment in posted:
        polls = (end - moment) // HOUR  # one call per hour after posting, up to the end
        for hour in range(1, polls + 1):
            naive_per_day[(moment + hour * HOUR - start).days] += 1
    return Simulated(label, calls, readings, max(per_day.values(), default=0),
                     sum(naive_per_day.values()), max(naive_per_day.values(), default=0))


def main() -> None:
    settings = load_settings()
    schedule = parse_schedule(settings.engagement_schedule)
    budget = settings.read_budget_per_day
    print(f"engagement collection: {POSTS:,} posts across {ACCOUNTS} sandbox accounts; "
          f"schedule {settings.engagement_schedule}; read budget {budget:,} calls/day",
          flush=True)

    real = real_sweep(schedule, budget=max(budget, POSTS))  # one sweep must fit in a day
    expected = math.ceil(POSTS / BATCH_SIZE)
    equal = real.calls_logged == expected == real.calls_reported and real.read == POSTS
    print(f"\n1. one sweep of {POSTS:,} posted deliveries against the sandbox (tweepy, --now)")
    print(f"   chorus:  {real.calls_logged:>7,} GET /2/tweets calls in the sandbox's request "
          f"log ({real.calls_reported} reported), {real.read:,} posts read, "
          f"{real.sweep_seconds:.1f} s")
    print(f"   naive:   {POSTS:>7,} calls (one per post), every hour")
    print(f"   check:   calls per sweep = ceil({POSTS:,} / {BATCH_SIZE}) = {expected}: "
          f"{'equal' if equal else 'NOT EQUAL'}")
    print(f"   (creating the {POSTS:,} posts in the sandbox took {real.posting_seconds:.1f} s)")

    start = datetime(2026, 10, 10, 8, 0, tzinfo=UTC)
    cadence = timedelta(seconds=COLLECT_SECONDS)
    rng = random.Random(2026)
    spread = sorted(start + timedelta(seconds=rng.uniform(0, 7 * 86400)) for _ in range(POSTS))
    results = [simulate("all posted at once", [start] * POSTS, schedule, start, cadence),
               simulate("spread over the first week", spread, schedule, start, cadence)]
    print(f"\n2. {DAYS} simulated days, {POSTS:,} posts, a sweep every {COLLECT_SECONDS} s "
          "(same schedule and batching)")
    print(f"   {'posts':<28} {'chorus calls':>12} {'readings':>10} {'busiest day':>12}   "
          f"{'naive hourly calls':>18} {'busiest day':>12} {'naive/chorus':>13}")
    for r in results:
        print(f"   {r.label:<28} {r.calls:>12,} {r.readings:>10,} {r.busiest_day:>12,}   "
              f"{r.naive_calls:>18,} {r.naive_busiest_day:>12,} "
              f"{r.naive_calls / max(r.calls, 1):>12,.0f}x")
    worst = max(r.busiest_day for r in results)
    print(f"   busiest day {worst:,} calls against a budget of {budget:,}/day: "
          f"{'within' if worst <= budget else 'OVER'}; naive hourly polling needs "
          f"{max(r.naive_busiest_day for r in results):,}/day")
    if not equal:
        sys.exit(1)


if __name__ == "__main__":
    main()
