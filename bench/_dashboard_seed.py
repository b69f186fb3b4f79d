"""A large partnership's history for bench/dashboard.py, written with bulk inserts.

Ten years up to `anchor` (the Monday this week, so the most recent weeks have data whatever
period the board page picks): 16 organisations with 40 accounts on X, Mastodon and Bluesky;
about 14 awareness campaigns a year on the real calendar (content/events.yaml); 20,000 posted
deliveries plus a small realistic tail (failed, missed and unconfirmed posts, one approved and
one draft campaign still to come); 1,000,000 engagement snapshots, cumulative readings taken on
the collector's decaying schedule (`scheduler.collect_schedule.next_read_at`); and ten years of
weekly report counts for one area by strand and source, in one synthetic `ReportDataset`.

The collector's default schedule reads a post 94 times in its first 30 days; at that density
20,000 posts would make 1.9 million readings. The seed uses the same shape at about half the
density (`SCHEDULE`) and leaves out a few readings at random, as missed sweeps do, so the
table holds exactly `SNAPSHOTS` rows.

Small tables go in through the ORM; deliveries, snapshots and report counts through
SQLAlchemy Core `insert()` executemany, in chunks, so the same code seeds SQLite and
PostgreSQL. Everything is drawn from a seeded generator: the same anchor gives the same data.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
from sqlalchemy import Engine, Table, func, insert, select
from sqlalchemy.orm import Session

from campaigns.core import calendar
from campaigns.formats.content import read_library
from campaigns.storage import db
from campaigns.storage.loader import jsonable
from campaigns.storage.models import (
    Account,
    Campaign,
    Consent,
    Delivery,
    DeliveryStatus,
    EngagementSnapshot,
    Event,
    Organisation,
    Post,
    ReportCount,
    ReportDataset,
    ReportingChannel,
    User,
    Variant,
)
from campaigns.storage.users import BOARD, add_user
from scheduler.collect_schedule import next_read_at, parse_schedule

#: Bump when the data below changes shape, so a cached file made by older code is not used.
SEED_VERSION = 1
POSTED = 20_000
SNAPSHOTS = 1_000_000
YEARS = 10
#: Posts that did not go out as planned, on top of the POSTED ones.
FAILED, MISSED, UNCONFIRMED = 40, 25, 15
SCHEDULE = "30m/6h,3h/48h,1d/30d"
ZONE = ZoneInfo("Europe/London")
AREA = "York"
BOARD_EMAIL = "board@bench.example"
CONTENT = Path(__file__).resolve().parent.parent / "content"
#: Stored as the dataset's file hash: a database holding it was seeded by this version.
MARKER = hashlib.sha256(f"chorus bench/dashboard.py seed v{SEED_VERSION}".encode()).hexdigest()
CHUNK = 50_000
S = DeliveryStatus

#: (key, name, kind, networks); the first is the lead, whose last X account is a sandbox.
ORGANISATIONS = (
    ("york-partnership", "York Hate Crime Partnership", "partnership", "x mastodon bluesky x"),
    ("north-yorkshire-police", "North Yorkshire Police (York)", "police", "x mastodon bluesky"),
    ("city-of-york-council", "City of York Council", "council", "x mastodon bluesky"),
    ("citizens-advice-york", "Citizens Advice York", "voluntary", "x bluesky"),
    ("university-of-york", "University of York", "university", "x mastodon bluesky"),
    ("york-st-john-university", "York St John University", "university", "x bluesky"),
    ("york-cvs", "York CVS", "voluntary", "x mastodon"),
    ("york-interfaith-forum", "York Interfaith Forum", "faith", "x mastodon"),
    ("york-pride", "York Pride", "voluntary", "x mastodon bluesky"),
    ("york-disability-rights-forum", "York Disability Rights Forum", "voluntary", "x bluesky"),
    ("refugee-action-york", "Refugee Action York", "voluntary", "x mastodon"),
    ("nhs-vale-of-york", "NHS Vale of York", "health", "x bluesky"),
    ("north-yorkshire-fire", "North Yorkshire Fire and Rescue", "fire", "x mastodon"),
    ("york-housing-association", "York Housing Association", "housing", "x bluesky"),
    ("york-racial-equality-network", "York Racial Equality Network", "voluntary",
     "x mastodon bluesky"),
    ("explore-york-libraries", "Explore York Libraries", "library", "x mastodon bluesky"),
)
CAMPAIGNS_PER_YEAR = 14
#: Days before an event that a campaign's first posts may go out.
EARLY = 5
ALWAYS = ("national-hate-crime-awareness-week",)
#: Median final impressions of a post, by network; the lead's posts reach three times more.
MEDIAN_REACH = {"x": 500.0, "mastodon": 120.0, "bluesky": 250.0}
#: Share of a post's impressions that turn into each kind of engagement.
RATES = {"likes": 0.02, "reposts": 0.005, "replies": 0.002, "quotes": 0.0006,
         "bookmarks": 0.001, "link_clicks": 0.006}
SOURCES = {"police-recorded": 12.0, "third-party-centre": 3.0, "true-vision": 2.0}
STRAND_SHARES = {"race": 0.72, "religion": 0.09, "sexual-orientation": 0.19,
                 "disability": 0.11, "transgender": 0.05}


def anchor_for(now: datetime) -> datetime:
    """Midnight UTC on the Monday of `now`'s week: the seed's 'now'."""
    monday = now.date() - timedelta(days=now.weekday())
    return datetime.combine(monday, time(), UTC)


@dataclass(frozen=True)
class SeedResult:
    deliveries: int
    posted: int
    snapshots: int
    report_counts: int
    campaigns: int
    accounts: int
    board_user_id: int


@dataclass(frozen=True)
class _Account:
    id: int
    organisation: int  # index into ORGANISATIONS
    network: str
    sandbox: bool


@dataclass(frozen=True)
class _Slot:
    """One post sent by one account: a delivery to be."""

    campaign_id: int
    post_id: int
    account: _Account
    send_at: datetime
    text: str
    boost: float


def seed(engine: Engine, anchor: datetime) -> SeedResult:
    """Fill an empty, migrated database; returns what was written."""
    rng = np.random.default_rng(SEED_VERSION)
    sessions = db.session_factory(engine)
    with db.transaction(sessions) as session:
        accounts = _partnership(session)
        past, planned = _campaigns(session, rng, accounts, anchor)
        board = add_user(session=session, email=BOARD_EMAIL, name="Bea Board", role=BOARD,
                         now=anchor)
        board_id = board.id
    chosen = rng.choice(len(past), size=POSTED + FAILED + MISSED + UNCONFIRMED, replace=False)
    slots = [past[i] for i in sorted(chosen)]
    statuses = _past_statuses(rng, len(slots))
    with engine.begin() as connection:
        delivered = _deliveries(connection, rng, slots, statuses, anchor)
        _deliveries(connection, rng, [s for s, _ in planned], [s for _, s in planned],
                    anchor)
        snapshots = _snapshots(connection, rng, delivered, anchor)
        counts = _report_counts(connection, rng, anchor)
    with sessions() as session:
        total = session.scalar(select(func.count()).select_from(Delivery)) or 0
        campaigns = session.scalar(select(func.count()).select_from(Campaign)) or 0
    return SeedResult(total, len(delivered), snapshots, counts, campaigns, len(accounts),
                      board_id)


def is_seeded(engine: Engine) -> bool:
    """Whether this database already holds this version's seed."""
    with db.session_factory(engine)() as session:
        return session.scalar(select(ReportDataset.id).where(
            ReportDataset.file_hash == MARKER)) is not None


def is_empty(engine: Engine) -> bool:
    with db.session_factory(engine)() as session:
        return session.scalar(select(func.count()).select_from(Delivery)) == 0


def board_user_id(engine: Engine) -> tuple[int, str]:
    """What the sign-in form leaves in the board user's session (SessionKey.stored)."""
    from campaigns.storage.users import session_key

    db.upgrade(engine)  # a seed cached before users had session secrets gets them
    with db.session_factory(engine)() as session:
        user = session.scalars(select(User).where(User.email == BOARD_EMAIL)).one()
        return session_key(user).stored()


# ---- the partnership and its campaigns (ORM: a few thousand rows) ---------------------------


def _partnership(session: Session) -> list[_Account]:
    library = read_library(CONTENT)
    for event in library.events:
        session.add(Event(key=event.key, name=event.name, description=event.description or "",
                          url=event.url, strands=list(event.strands),
                          definition=jsonable(library.event_data[event.key])))
    for channel in library.channels:
        session.add(ReportingChannel(key=channel.key, name=channel.name, url=channel.url,
                                     phone=channel.phone, description=channel.description))
    made: list[tuple[int, Account]] = []
    for index, (key, name, kind, networks) in enumerate(ORGANISATIONS):
        organisation = Organisation(key=key, name=name, kind=kind, is_lead=index == 0,
                                    website=f"https://{key}.example")
        session.add(organisation)
        for number, network in enumerate(networks.split()):
            sandbox = index == 0 and number == 3
            account = Account(key=f"{key}-{network}" + ("-sandbox" if sandbox else ""),
                              organisation=organisation, network=network,
                              handle=f"@{key.replace('-', '')}", state="connected",
                              is_sandbox=sandbox, last_error="")
            session.add(account)
            made.append((index, account))
    session.flush()
    return [_Account(a.id, index, a.network, a.is_sandbox) for index, a in made]


def _campaigns(
    session: Session, rng: np.random.Generator, accounts: list[_Account], anchor: datetime
) -> tuple[list[_Slot], list[tuple[_Slot, S]]]:
    """Every (post, account) pair sent before `anchor`, and the planned ones after it: the
    rest of a campaign under way and the next two campaigns (approved, then a draft)."""
    events = {e.key: calendar.parse_event(e.definition) for e in session.scalars(select(Event))}
    first = anchor - timedelta(days=365 * YEARS)
    organisations = session.scalars(select(Organisation).order_by(Organisation.id)).all()
    others = sorted(set(events) - set(ALWAYS))
    found = []
    for year in range(first.year, anchor.year + 2):
        picked = [*ALWAYS, *(str(k) for k in rng.choice(
            others, size=CAMPAIGNS_PER_YEAR - len(ALWAYS), replace=False))]
        found += [(calendar.occurrence(events[k], year), k, year) for k in picked]
    past: list[_Slot] = []
    planned: list[tuple[_Slot, S]] = []
    to_come = 0
    for occurrence, event_key, year in sorted(found, key=lambda f: (f[0].start, f[1])):
        begins = datetime.combine(occurrence.start - timedelta(days=EARLY), time(), ZONE)
        if begins < first:
            continue
        if begins > anchor:
            if to_come == 2:
                continue
            to_come += 1
        approved = to_come < 2
        for slot in _campaign(session, rng, organisations, accounts, event_key, year,
                              occurrence.start, occurrence.end, approved=approved):
            if slot.send_at < anchor:
                past.append(slot)
            else:
                planned.append((slot, S.APPROVED if approved else S.DRAFT))
    return past, planned


def _campaign(
    session: Session, rng: np.random.Generator, organisations: Sequence[Organisation],
    accounts: list[_Account], event_key: str, year: int, start: date, end: date, *,
    approved: bool,
) -> list[_Slot]:
    campaign = Campaign(
        key=f"{event_key}-{year}", name=f"{event_key.replace('-', ' ').title()} {year}",
        event_key=event_key, year=year, timezone=str(ZONE), author="Sam Patel",
        summary="Make it easier to report hate crime in York.",
        approved_by="Ade Okafor" if approved else None,
        approved_at=datetime.combine(start - timedelta(days=14), time(12), UTC)
        if approved else None)
    session.add(campaign)
    session.flush()
    taking_part = {0}
    for index, organisation in enumerate(organisations[1:], start=1):
        mode = rng.choice(["accounts", "share-kit", "declined"], p=[0.7, 0.15, 0.15])
        session.add(Consent(campaign_id=campaign.id, organisation_id=organisation.id,
                            mode=str(mode), recorded_on=start - timedelta(days=30)))
        if mode == "accounts":
            taking_part.add(index)
    boost = 2.0 if event_key in ALWAYS else float(rng.uniform(0.7, 1.3))
    days = max((end - start).days, 1)
    slots = []
    for number in range(int(rng.integers(6, 13))):
        lead_only = rng.random() < 0.3
        day = start + timedelta(days=int(rng.integers(-EARLY, days + 1)))
        local = datetime.combine(day, time(int(rng.integers(8, 19)), 15 * int(rng.integers(4))))
        texts = {n: f"{campaign.name}, post {number + 1}: report hate crime, online or in "
                    f"person. #{event_key.replace('-', '')} ({n})"
                 for n in ("x", "mastodon", "bluesky")}
        post = Post(campaign_id=campaign.id, key=f"post-{number + 1:02d}",
                    send={"day": (day - start).days + 1, "at": f"{local:%H:%M}"},
                    audience="lead" if lead_only else "all", link="https://www.report-it.org.uk",
                    reporting_channel_key="true-vision",
                    variants=[Variant(network=n, organisation_key="", text=t)
                              for n, t in texts.items()])
        session.add(post)
        session.flush()
        send_at = local.replace(tzinfo=ZONE).astimezone(UTC)
        for account in accounts:
            if account.organisation in ({0} if lead_only else taking_part):
                stagger = timedelta(minutes=10 * account.organisation)
                slots.append(_Slot(campaign.id, post.id, account, send_at + stagger,
                                   texts[account.network], boost))
    return slots


def _past_statuses(rng: np.random.Generator, n: int) -> list[S]:
    statuses = [S.POSTED] * n
    unlucky = rng.choice(n, size=FAILED + MISSED + UNCONFIRMED, replace=False)
    for position, index in enumerate(unlucky):
        statuses[index] = (S.FAILED if position < FAILED else
                           S.MISSED if position < FAILED + MISSED else S.UNCONFIRMED)
    return statuses


# ---- deliveries, snapshots and report counts (Core executemany) -----------------------------


@dataclass(frozen=True)
class _Posted:
    id: int
    posted_at: datetime
    reach: float  # final impressions
    tracks_clicks: bool  # the lead's own posts: non-public metrics are readable


REASONS = {S.POSTED: "posted", S.FAILED: "X refused the post: 403 duplicate content",
           S.MISSED: "Chorus was not running when it was due",
           S.UNCONFIRMED: "timed out; not on the timeline yet", S.APPROVED: "",
           S.DRAFT: ""}


def _deliveries(
    connection: Any, rng: np.random.Generator, slots: Sequence[_Slot], statuses: Sequence[S],
    anchor: datetime,
) -> list[_Posted]:
    table: Table = Delivery.__table__  # type: ignore[assignment]
    schedule = parse_schedule(SCHEDULE)
    start_id = (connection.scalar(select(func.max(table.c.id))) or 0) + 1
    delays = rng.integers(5, 120, size=len(slots))
    reach = rng.lognormal(0.0, 1.0, size=len(slots))
    rows, posted = [], []
    for number, (slot, status, delay, spread) in enumerate(
            zip(slots, statuses, delays, reach, strict=True)):
        ident = start_id + number
        sent = status in (S.POSTED,)
        posted_at = slot.send_at + timedelta(seconds=int(delay)) if sent else None
        due = None
        if posted_at is not None and anchor - posted_at < timedelta(days=30):
            due = next_read_at(posted_at, _last_read(posted_at, anchor, schedule), schedule)
        rows.append({
            "id": ident, "campaign_id": slot.campaign_id, "post_id": slot.post_id,
            "account_id": slot.account.id, "network": slot.account.network,
            "text": slot.text, "send_at": slot.send_at,
            "local_time": f"{slot.send_at.astimezone(ZONE):%Y-%m-%d %H:%M %Z}",
            "status": status, "status_reason": REASONS[status], "plan_notes": "",
            "content_hash": hashlib.sha256(slot.text.encode()).hexdigest(),
            "approved_by": None if status == S.DRAFT else "Ade Okafor",
            "remote_id": f"{ident}" if sent else None,
            "attempts": 0 if status in (S.APPROVED, S.DRAFT) else 1, "posted_at": posted_at,
            "metrics_due_at": due, "remote_state": "live" if sent else None,
            "created_at": slot.send_at - timedelta(days=21),
            "updated_at": posted_at or slot.send_at - timedelta(days=14),
        })
        if posted_at is not None:
            lead = slot.account.organisation == 0
            median = MEDIAN_REACH[slot.account.network] * (3.0 if lead else 1.0) * slot.boost
            posted.append(_Posted(ident, posted_at, median * float(spread),
                                  lead and not slot.account.sandbox))
    for chunk in _chunks(rows):
        connection.execute(insert(table), chunk)
    return posted


def _last_read(posted_at: datetime, anchor: datetime, schedule: Any) -> datetime | None:
    last = None
    while (following := next_read_at(posted_at, last, schedule)) and following <= anchor:
        last = following
    return last


def _offsets() -> np.ndarray:
    """Seconds after posting of each scheduled reading, from the collector's own rule."""
    schedule = parse_schedule(SCHEDULE)
    origin = datetime(2000, 1, 1, tzinfo=UTC)
    found, last = [], None
    while (following := next_read_at(origin, last, schedule)) is not None:
        found.append((following - origin).total_seconds())
        last = following
    return np.array(found)


def _snapshots(
    connection: Any, rng: np.random.Generator, posts: Sequence[_Posted], anchor: datetime
) -> int:
    """SNAPSHOTS cumulative readings of `posts`: one row per scheduled reading already due,
    less a few left out at random (missed sweeps), never the first."""
    table: Table = EngagementSnapshot.__table__  # type: ignore[assignment]
    offsets = _offsets()
    posted = np.array([p.posted_at.timestamp() for p in posts])
    late = rng.uniform(0, 120, size=(len(posts), len(offsets)))  # the sweep's cadence
    read = posted[:, None] + offsets[None, :] + late
    due = read <= anchor.timestamp()
    spare = int(due.sum()) - SNAPSHOTS
    if spare < 0:
        raise RuntimeError(f"only {int(due.sum()):,} readings are due; add posts or readings")
    droppable = np.flatnonzero(due[:, 1:].ravel())
    dropped = rng.choice(droppable, size=spare, replace=False)
    later = due[:, 1:].ravel()  # a copy: the first reading of every post always stays
    later[dropped] = False
    keep = np.concatenate([due[:, :1], later.reshape(len(posts), -1)], axis=1)
    written = 0
    per_chunk = max(1, CHUNK // len(offsets))
    for first in range(0, len(posts), per_chunk):
        rows = _readings(rng, posts[first:first + per_chunk], read[first:first + per_chunk],
                         keep[first:first + per_chunk])
        connection.execute(insert(table), rows)
        written += len(rows)
    return written


def _readings(
    rng: np.random.Generator, posts: Sequence[_Posted], read: np.ndarray, keep: np.ndarray
) -> list[dict[str, Any]]:
    """Running totals: most reach in the first hours, a long slow tail, never going down."""
    posted = np.array([p.posted_at.timestamp() for p in posts])
    hours = (read - posted[:, None]) / 3600
    quick = rng.uniform(3, 12, size=(len(posts), 1))
    share = 0.85 * (1 - np.exp(-hours / quick)) + 0.15 * (1 - np.exp(-hours / (24 * 7)))
    noisy = share * rng.normal(1.0, 0.02, size=share.shape)
    final = np.array([p.reach for p in posts])[:, None]
    totals = {"impressions": np.maximum.accumulate(np.floor(final * noisy), axis=1)}
    for name, rate in RATES.items():
        totals[name] = np.floor(totals["impressions"] * rate * rng.uniform(0.5, 1.5, (
            len(posts), 1)))
    rows = []
    for i, j in zip(*np.nonzero(keep), strict=True):
        post = posts[i]
        rows.append({
            "delivery_id": post.id,
            "read_at": datetime.fromtimestamp(float(read[i, j]), UTC),
            "impressions": int(totals["impressions"][i, j]),
            "likes": int(totals["likes"][i, j]), "reposts": int(totals["reposts"][i, j]),
            "replies": int(totals["replies"][i, j]), "quotes": int(totals["quotes"][i, j]),
            "bookmarks": int(totals["bookmarks"][i, j]),
            "link_clicks": int(totals["link_clicks"][i, j]) if post.tracks_clicks else None,
            "profile_clicks": None,
        })
    return rows


def _report_counts(connection: Any, rng: np.random.Generator, anchor: datetime) -> int:
    """Weekly counts, Monday to Sunday, for YEARS years of complete weeks before `anchor`."""
    datasets: Table = ReportDataset.__table__  # type: ignore[assignment]
    table: Table = ReportCount.__table__  # type: ignore[assignment]
    dataset_id = connection.execute(insert(datasets).values(
        file_hash=MARKER, file_name="york-weekly-synthetic-bench.csv",
        source=", ".join(SOURCES), citation="Made up by bench/dashboard.py", synthetic=True,
        layout="long", rows=0, imported_at=anchor, imported_by="bench")).inserted_primary_key[0]
    weeks = YEARS * 52 + YEARS // 4
    mondays = [anchor.date() - timedelta(weeks=weeks - w) for w in range(weeks)]
    years = np.arange(weeks) / 52.18
    season = np.cos(2 * np.pi * (np.array([m.timetuple().tm_yday for m in mondays]) - 200)
                    / 365.25)
    rows = []
    for source, baseline in SOURCES.items():
        offences = rng.poisson(baseline * 1.05 ** years * np.exp(0.2 * season))
        series = {("all", "offences"): offences}
        for strand, share in STRAND_SHARES.items():
            series[(strand, "motivating-factors")] = rng.binomial(offences, share)
        for (strand, measure), counts in series.items():
            rows += [{"dataset_id": dataset_id, "period_start": monday,
                      "period_end": monday + timedelta(days=6), "area": AREA,
                      "strand": strand, "source": source, "measure": measure,
                      "count": int(n)} for monday, n in zip(mondays, counts, strict=True)]
    for chunk in _chunks(rows):
        connection.execute(insert(table), chunk)
    connection.execute(datasets.update().where(datasets.c.id == dataset_id)
                       .values(rows=len(rows)))
    return len(rows)


def _chunks(rows: list[dict[str, Any]]) -> Iterator[list[dict[str, Any]]]:
    for first in range(0, len(rows), CHUNK):
        yield rows[first:first + CHUNK]
