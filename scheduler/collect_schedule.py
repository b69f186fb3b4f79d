"""The engagement collector's pure core: when each post is read, and how reads are packed.

`parse_schedule` and `next_read_at` give the decaying schedule; `plan_batches` packs due posts
into the fewest read calls; `CollectorConfig` holds the schedule and the daily read budget, and
`SweepReport` what a sweep did and why it stopped. Everything here takes `now` and touches
neither the database nor the network: the sweep that does is `scheduler.collector`.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from itertools import groupby

#: X's most ids per GET /2/tweets: a sweep of n due posts makes ceil(n / 100) calls.
BATCH_SIZE = 100
#: X gives non-public metrics only for posts younger than this.
NON_PUBLIC_AGE = timedelta(days=30)


# ---- the schedule ---------------------------------------------------------------------------


class ScheduleError(ValueError):
    """The engagement schedule cannot be understood; the message says why and how to fix it."""


@dataclass(frozen=True)
class Tier:
    """Read every `every` until `until` after posting."""

    every: timedelta
    until: timedelta


Schedule = tuple[Tier, ...]

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
_PART = re.compile(r"(\d+)([smhdw])")
EXAMPLE = "15m/6h,1h/48h,1d/30d"


def parse_duration(text: str) -> timedelta:
    """'15m', '6h', '1d', '2w' or a sum such as '1h30m'."""
    compact = text.strip().lower()
    parts = _PART.findall(compact)
    if not compact or "".join(n + u for n, u in parts) != compact:
        raise ScheduleError(f"{text.strip()!r} is not a duration such as 15m, 6h, 1d or 1h30m")
    seconds = sum(int(n) * _UNITS[u] for n, u in parts)
    if seconds == 0:
        raise ScheduleError(f"{text.strip()!r} must be longer than zero")
    return timedelta(seconds=seconds)


def parse_schedule(text: str) -> Schedule:
    """Parse EVERY/UNTIL pairs, e.g. '15m/6h,1h/48h,1d/30d': every 15 minutes until 6 hours
    after posting, hourly until 48 hours, daily until 30 days, then no more readings."""
    try:
        return _tiers(text)
    except ScheduleError as exc:
        raise ScheduleError(f"engagement schedule {text!r}: {exc}") from None


def _tiers(text: str) -> Schedule:
    if not text.strip():
        raise ScheduleError(f"it is empty; give EVERY/UNTIL pairs such as {EXAMPLE}")
    tiers: list[Tier] = []
    for item in (i.strip() for i in text.split(",")):
        every_text, slash, until_text = item.partition("/")
        if not slash or "/" in until_text:
            raise ScheduleError(f"{item!r} is not EVERY/UNTIL (such as 15m/6h)")
        every, until = parse_duration(every_text), parse_duration(until_text)
        if every > until:
            raise ScheduleError(f"in {item!r} the interval is longer than the time it covers")
        if tiers and until <= tiers[-1].until:
            raise ScheduleError(f"in {item!r} UNTIL must be later than the one before it")
        tiers.append(Tier(every, until))
    return tuple(tiers)


def next_read_at(
    posted_at: datetime, last_read_at: datetime | None, schedule: Schedule
) -> datetime | None:
    """When to read a post next, or None when it is no longer tracked.

    The first reading is one first interval after posting. After that, readings fall on the
    grid of the current tier's interval counted from posting (a late reading does not push
    the later ones back), and stop after the last tier's UNTIL.
    """
    if last_read_at is None:
        return posted_at + schedule[0].every
    age = max(last_read_at - posted_at, timedelta(0))
    for tier in schedule:
        if age < tier.until:
            due = posted_at + (age // tier.every + 1) * tier.every
            return due if due - posted_at <= schedule[-1].until else None
    return None


# ---- batching -------------------------------------------------------------------------------


@dataclass(frozen=True)
class DuePost:
    delivery_id: int
    remote_id: str
    account_id: int
    posted_at: datetime
    network: str = "x"


@dataclass(frozen=True)
class Batch:
    """One read call: these posts, as `account_id` (None: no account can read them)."""

    network: str
    account_id: int | None
    posts: tuple[DuePost, ...]
    #: Ask for non-public metrics: the reading account owns young posts in the batch.
    non_public: bool

    @property
    def ids(self) -> list[str]:
        return [p.remote_id for p in self.posts]


def plan_batches(
    due: Iterable[DuePost],
    now: datetime,
    *,
    readers: Collection[int] | None = None,
    size: int = BATCH_SIZE,
    per_account: bool = False,
) -> list[Batch]:
    """Pack due posts into ceil(n / size) reads per network, the fewest possible.

    Each account's posts are kept together (busiest accounts first), so most batches belong to
    one account. Each batch is read as the account owning most of its posts younger than 30
    days, which then asks for non-public metrics (X gives them only to a post's author).
    `readers` are the accounts whose tokens may be used (None: every owner's).

    `per_account` is for networks whose post ids mean something only on the author's own
    server (Mastodon's instances): each batch then holds one account's posts and is read with
    that account's token, or not at all.
    """
    batches: list[Batch] = []
    for network, posts in groupby(sorted(due, key=lambda p: p.network), lambda p: p.network):
        ordered = _by_account(list(posts))
        groups = ([list(g) for _, g in groupby(ordered, lambda p: p.account_id)]
                  if per_account else [ordered])
        for group in groups:
            for start in range(0, len(group), size):
                chunk = tuple(group[start:start + size])
                allowed = readers
                if per_account:
                    owner = chunk[0].account_id
                    allowed = {owner} if readers is None or owner in readers else set()
                account_id, non_public = _reader_for(chunk, now, allowed)
                batches.append(Batch(network, account_id, chunk, non_public))
    return batches


def _by_account(posts: list[DuePost]) -> list[DuePost]:
    groups: dict[int, list[DuePost]] = {}
    for post in posts:
        groups.setdefault(post.account_id, []).append(post)
    order = sorted(groups, key=lambda a: (-len(groups[a]), a))
    return [p for a in order
            for p in sorted(groups[a], key=lambda p: (-p.posted_at.timestamp(), p.delivery_id))]


def _reader_for(chunk: Sequence[DuePost], now: datetime,
                readers: Collection[int] | None) -> tuple[int | None, bool]:
    owners = Counter(p.account_id for p in chunk)
    young = Counter(p.account_id for p in chunk if now - p.posted_at < NON_PUBLIC_AGE)
    able = [a for a in owners if readers is None or a in readers]
    if able:
        best = min(able, key=lambda a: (-young[a], -owners[a], a))
        return best, young[best] > 0
    if readers:  # none of the owners can read: any account can read the public metrics
        return min(readers), False
    return None, False


# ---- what a sweep reports -------------------------------------------------------------------


@dataclass(frozen=True)
class CollectorConfig:
    schedule: Schedule
    #: Most read calls per network per UTC day.
    budget_per_day: int
    #: A sweep's claim on the posts it reads; if the collector dies they are due again after.
    lease: timedelta = timedelta(minutes=10)
    batch_size: int = BATCH_SIZE


@dataclass
class SweepReport:
    now: datetime
    budget: int
    newly_tracked: int = 0
    due: int = 0
    read: int = 0
    with_non_public: int = 0
    calls: int = 0
    deleted: int = 0
    unavailable: int = 0
    used_today: int = 0
    stops: list[str] = field(default_factory=list)
    resume_at: datetime | None = None
    problems: list[str] = field(default_factory=list)

    @property
    def budget_left(self) -> int:
        return max(self.budget - self.used_today, 0)

    @property
    def stopped(self) -> str:
        """Why the sweep ended before reading everything due ('' if it did not)."""
        return "; ".join(self.stops)

    def stop(self, reason: str, resume_at: datetime | None = None) -> None:
        self.stops.append(reason)
        if resume_at is not None:
            self.resume_at = min(self.resume_at or resume_at, resume_at)


# ---- budgets --------------------------------------------------------------------------------


def tomorrow(now: datetime) -> datetime:
    """The next midnight UTC, when each network's daily read budget starts again."""
    return datetime.combine(now.date() + timedelta(days=1), time(0), tzinfo=UTC)

