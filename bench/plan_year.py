"""Plan a busy year: 25 events x 40 partner accounts x 10 posts (10,000 deliveries).

Prints the time and peak memory of Chorus's planner (campaigns.storage.plans, the code
`chorus plan` runs) beside a naive baseline measured in the same run on the same data:
one query and one commit per delivery, and every pair of X texts compared in full.

    .venv/bin/python bench/plan_year.py            # target: Chorus under 2 s
"""

from __future__ import annotations

import gc
import multiprocessing
import resource
import shutil
import sys
import tempfile
import time
from datetime import UTC, datetime
from difflib import SequenceMatcher
from itertools import combinations
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from campaigns.core.planning import Rules, plan_campaign, words
from campaigns.storage import db
from campaigns.storage.models import (
    Account,
    Campaign,
    Consent,
    Delivery,
    DeliveryStatus,
    Event,
    Organisation,
    Post,
    ReportingChannel,
    Variant,
)
from campaigns.storage.plans import _accounts, campaign_spec, plan_and_store

EVENTS, ACCOUNTS, POSTS = 25, 40, 10
NETWORKS = ("x", "mastodon", "bluesky")
NOW = datetime(2026, 1, 1, tzinfo=UTC)
#: Words partners choose from, so that every partner's X wording is its own.
VOCABULARY = (
    "report", "support", "listen", "community", "safe", "together", "respect", "city",
    "neighbours", "friends", "helpline", "online", "confidential", "trained", "staff", "centre",
    "library", "campus", "students", "faith", "families", "visitors", "workers", "everyone",
    "belongs", "welcome", "stand", "speak", "share", "kindness", "courage", "change", "care",
    "justice", "fairness", "trust", "voice", "help",
)


def seed(sessions: sessionmaker[Session]) -> None:
    with db.transaction(sessions) as session:
        session.add(ReportingChannel(key="true-vision", name="True Vision",
                                     url="https://www.report-it.org.uk"))
        organisations = []
        for index in range(ACCOUNTS // 2):
            organisation = Organisation(key=f"org-{index:02d}", name=f"Partner {index}",
                                        kind="voluntary", is_lead=index == 0)
            session.add(organisation)
            organisations.append(organisation)
        session.flush()
        for index in range(ACCOUNTS):
            organisation = organisations[index // 2]
            session.add(Account(key=f"acct-{index:02d}", organisation_id=organisation.id,
                                network=NETWORKS[index % 3], handle=f"@partner{index}"))
        for number in range(EVENTS):
            _seed_campaign(session, number, organisations)


def _seed_campaign(session: Session, number: int, organisations: list[Organisation]) -> None:
    month, day = 1 + number % 12, 1 + (number * 3) % 25
    session.add(Event(key=f"event-{number:02d}", name=f"Event {number}", strands=[],
                      definition={"key": f"event-{number:02d}", "name": f"Event {number}",
                                  "rule": {"date": f"{day} {_MONTHS[month - 1]}",
                                           "days": 7}}))
    campaign = Campaign(key=f"campaign-{number:02d}", name=f"Campaign {number}",
                        event_key=f"event-{number:02d}", year=2026,
                        timezone="Europe/London", author="Author")
    session.add(campaign)
    session.flush()
    for organisation in organisations[1:]:
        session.add(Consent(campaign_id=campaign.id, organisation_id=organisation.id,
                            mode="accounts"))
    for post_number in range(POSTS):
        post = Post(campaign_id=campaign.id, key=f"post-{post_number}",
                    send={"day": 1 + post_number % 7, "at": f"{9 + post_number % 8:02d}:15"},
                    audience="all", reporting_channel_key="true-vision",
                    link="https://www.report-it.org.uk")
        post.variants = [Variant(network=n, organisation_key="", text=_text(number, post_number,
                                                                             -1)) for n in NETWORKS]
        post.variants += [
            Variant(network="x", organisation_key=o.key, text=_text(number, post_number, i))
            for i, o in enumerate(organisations[1:])
        ]
        session.add(post)


_MONTHS = (
    "January", "February", "March", "April", "May", "June", "July", "August",
    "September", "October", "November", "December",
)


def _text(event: int, post: int, partner: int) -> str:
    picks = [VOCABULARY[(partner * 7 + k * (partner + 3) + post) % len(VOCABULARY)]
             for k in range(14)]
    return f"Event {event} post {post}: " + " ".join(picks) + " #Report"


def run_chorus(sessions: sessionmaker[Session]) -> int:
    rules = Rules(daily_cap=50)
    with db.transaction(sessions) as session:
        for campaign in session.scalars(select(Campaign).order_by(Campaign.key)):
            result = plan_and_store(campaign, rules, session=session, now=NOW)
            assert result.ok, result.refusals[:3]
    return _count(sessions)


def run_naive(sessions: sessionmaker[Session]) -> int:
    """What a first attempt looks like: a query and a commit per delivery, full comparisons."""
    rules = Rules(daily_cap=50)
    with sessions() as session:
        campaigns = session.scalars(select(Campaign).order_by(Campaign.key)).all()
        accounts = _accounts(session)
        for campaign in campaigns:
            spec = campaign_spec(campaign, session=session)
            plan = plan_campaign(spec, [a for a, _ in accounts.values()], rules)
            _naive_duplicates(plan.deliveries)
            posts = {p.key: p.id for p in session.scalars(
                select(Post).where(Post.campaign_id == campaign.id))}
            for item in plan.deliveries:
                account = accounts[item.account_key][1]
                existing = session.scalars(select(Delivery).where(
                    Delivery.post_id == posts[item.post_key],
                    Delivery.account_id == account.id)).first()
                if existing is None:
                    session.add(Delivery(
                        campaign_id=campaign.id, post_id=posts[item.post_key],
                        account_id=account.id, network=item.network, text=item.text,
                        send_at=item.send_at, local_time=item.local_time,
                        status=DeliveryStatus.DRAFT, content_hash=item.content_hash,
                        created_at=NOW, updated_at=NOW))
                    session.commit()
    return _count(sessions)


def _naive_duplicates(deliveries: list) -> None:  # type: ignore[type-arg]
    on_x = [d for d in deliveries if d.network == "x"]
    for a, b in combinations(on_x, 2):
        if a.post_key == b.post_key and a.account_key != b.account_key:
            SequenceMatcher(None, words(a.text), words(b.text)).ratio()


def _count(sessions: sessionmaker[Session]) -> int:
    with sessions() as session:
        return session.scalar(select(func.count()).select_from(Delivery)) or 0


def _job(name: str, template: str, results: multiprocessing.Queue) -> None:  # type: ignore[type-arg]
    """Time one planner on a copy of the seeded database, in this (child) process."""
    job = {"chorus": run_chorus, "naive": run_naive}[name]
    with tempfile.TemporaryDirectory() as folder:
        shutil.copy(template, f"{folder}/bench.db")
        engine = db.make_engine(f"sqlite:///{folder}/bench.db")
        sessions = db.session_factory(engine)
        gc.collect()
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        started = time.perf_counter()
        made = job(sessions)
        elapsed = time.perf_counter() - started
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        engine.dispose()
    results.put((elapsed, peak, before, made))


def measure(name: str, template: str) -> tuple[float, float, int]:
    """Time a planner in its own process, so each peak memory figure is its own."""
    context = multiprocessing.get_context("spawn")
    results = context.Queue()
    child = context.Process(target=_job, args=(name, template, results))
    child.start()
    elapsed, peak, before, made = results.get()
    child.join()
    print(f"{name:>8}: {made:,} deliveries in {elapsed:6.2f} s, process peak RSS "
          f"{peak:6.1f} MB ({before:.1f} MB before planning)", flush=True)
    return elapsed, peak, made


def main() -> None:
    print(f"planning {EVENTS} events x {ACCOUNTS} partner accounts x {POSTS} posts "
          "(SQLite, this machine)", flush=True)
    with tempfile.TemporaryDirectory() as folder:
        template = f"{folder}/seeded.db"
        engine = db.make_engine(f"sqlite:///{template}")
        db.upgrade(engine)
        seed(db.session_factory(engine))
        engine.dispose()
        fast, fast_peak, made = measure("chorus", template)
        slow, slow_peak, naive_made = measure("naive", template)
    assert made == naive_made == EVENTS * ACCOUNTS * POSTS, (made, naive_made)
    verdict = "met" if fast < 2 else "NOT met"
    print(f"plan year: chorus {fast:.2f} s, peak {fast_peak:.0f} MB; naive baseline "
          f"{slow:.2f} s, peak {slow_peak:.0f} MB; {slow / fast:.1f}x faster; "
          f"target < 2 s {verdict}")


if __name__ == "__main__":
    main()
