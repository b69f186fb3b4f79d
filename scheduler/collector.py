"""The engagement collector's sweep: reads posted deliveries' metrics on a decaying schedule.

When a post is due and how due posts are packed into calls is decided in
`scheduler.collect_schedule`, which touches neither the database nor the network. `Collector`
is the edge: a sweep claims the due posts, reads them batch by batch and records each reading
as a new `EngagementSnapshot` (history is never overwritten), in short transactions that are
never open across a network call.

A sweep stops early, and says why, when the day's read budget is spent, on a 429 (reading that
network resumes after the reset), or when the network does not answer. Posts it did not get to
stay due and are read by a later sweep.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import (
    ColumnElement,
    String,
    Table,
    bindparam,
    exists,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from campaigns.config.secrets import Credentials, SecretKeyMissing, Vault
from campaigns.config.settings import Settings
from campaigns.storage.models import (
    Account,
    ApiUsage,
    Control,
    Delivery,
    DeliveryStatus,
    EngagementSnapshot,
)
from scheduler.collect_schedule import (
    Batch,
    CollectorConfig,
    DuePost,
    ScheduleError,
    SweepReport,
    next_read_at,
    parse_schedule,
    plan_batches,
    tomorrow,
)
from scheduler.publishers.base import (
    MetricsReader,
    MetricsResult,
    Publisher,
    RateInfo,
    ReadOutcome,
)

log = logging.getLogger("chorus.collector")

#: What the calls are counted against in `ApiUsage`.
PURPOSE = "engagement"
ACTOR = "engagement collector"
#: The deliveries table, for statements run once per row (executemany).
DELIVERIES: Table = Delivery.__table__  # type: ignore[assignment]


# ---- the collector (the edge) ---------------------------------------------------------------


@dataclass
class _Claim:
    """The posts one sweep is reading, and what it may read them with."""

    lease_until: datetime
    posts: list[DuePost]
    original_due: dict[int, datetime]
    tokens: dict[int, bytes]
    #: Per network, the accounts whose tokens may still be used in this sweep.
    readers: dict[str, set[int]]
    account_keys: dict[int, str]
    credentials: dict[int, Credentials] = field(default_factory=dict)

    def settle(self, delivery_ids: Iterable[int]) -> None:
        for delivery_id in delivery_ids:
            self.original_due.pop(delivery_id, None)


class Collector:
    """Reads due posts' metrics through `readers` (network -> reader) and records them."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        readers: Mapping[str, MetricsReader],
        vault: Vault,
        config: CollectorConfig,
    ) -> None:
        self.sessions = sessions
        self.readers = readers
        self.vault = vault
        self.config = config

    @property
    def networks(self) -> list[str]:
        return sorted(self.readers)

    def sweep(self, now: datetime, *, everything: bool = False) -> SweepReport:
        """Read every post due at `now` (every tracked post with `everything`)."""
        report = SweepReport(now=now, budget=self.config.budget_per_day * len(self.networks))
        report.newly_tracked = self._start_tracking(now)
        calls_left = self._calls_left(now, report)
        if calls_left:
            claim = self._claim(now, list(calls_left), everything=everything)
            report.due = len(claim.posts)
            try:
                self._read_all(claim, calls_left, now, report)
            finally:
                self._release(claim)
        with self.sessions() as session:
            report.used_today = sum(reads_used(session=session, day=now.date(), network=n)
                                    for n in self.networks)
        return report

    # -- before reading --

    def _start_tracking(self, now: datetime) -> int:
        """Posted deliveries never read get their first reading one interval after posting."""
        never_read = ~exists().where(EngagementSnapshot.delivery_id == Delivery.id)
        query = select(Delivery.id, Delivery.posted_at).where(
            Delivery.status == DeliveryStatus.POSTED, Delivery.network.in_(self.networks),
            Delivery.posted_at.is_not(None), Delivery.remote_id.is_not(None),
            Delivery.metrics_due_at.is_(None), Delivery.remote_state.is_(None), never_read)
        with self.sessions() as session, session.begin():
            rows = [{"row_id": i, "due": next_read_at(p, None, self.config.schedule)}
                    for i, p in session.execute(query) if p is not None]
            if rows:
                table = DELIVERIES  # one UPDATE per row, sent as one executemany
                session.execute(
                    update(table).where(table.c.id == bindparam("row_id"),
                                        table.c.metrics_due_at.is_(None))
                    .values(metrics_due_at=bindparam("due")), rows)
        return len(rows)

    def _calls_left(self, now: datetime, report: SweepReport) -> dict[str, int]:
        """Today's calls left on each network that is not rate limited and has any left."""
        ready = {}
        with self.sessions() as session:
            for network in self.networks:
                until = held_until(session=session, network=network, now=now)
                left = self.config.budget_per_day - reads_used(session=session, day=now.date(),
                                                               network=network)
                if until is not None:
                    report.stop(f"{network}: rate limited until {until:%Y-%m-%d %H:%M:%S} UTC; "
                                "reading resumes then", until)
                elif left <= 0:
                    report.stop(self._budget_spent(network), tomorrow(now))
                else:
                    ready[network] = left
        return ready

    def _budget_spent(self, network: str, waiting: int = 0) -> str:
        wait = f" ({waiting} due posts wait)" if waiting else ""
        return (f"{network}: today's read budget of {self.config.budget_per_day} calls is used "
                f"up{wait}; reading resumes after midnight UTC")

    def _claim(self, now: datetime, networks: list[str], *, everything: bool) -> _Claim:
        """Take the due posts for this sweep (a lease: other sweeps skip them meanwhile)."""
        lease_until = now + self.config.lease
        due_now = (Delivery.metrics_due_at.is_not(None) if everything
                   else Delivery.metrics_due_at <= now)
        tracked = (Delivery.status == DeliveryStatus.POSTED, Delivery.network.in_(networks),
                   Delivery.remote_id.is_not(None), Delivery.posted_at.is_not(None), due_now)
        with self.sessions() as session, session.begin():
            rows = session.execute(
                select(Delivery.id, Delivery.remote_id, Delivery.account_id, Delivery.posted_at,
                       Delivery.network, Delivery.metrics_due_at).where(*tracked)).all()
            claimed: set[int] = set()
            for chunk in _chunks([r.id for r in rows], 500):
                claimed.update(session.scalars(
                    update(Delivery).where(Delivery.id.in_(chunk), *tracked)
                    .values(metrics_due_at=lease_until).returning(Delivery.id)
                    .execution_options(synchronize_session=False)))
            accounts = session.execute(
                select(Account.id, Account.key, Account.network, Account.token_encrypted).where(
                    Account.network.in_(networks), Account.state == "connected",
                    Account.token_encrypted.is_not(None))).all()
        taken = [r for r in rows if r.id in claimed]
        posts = [DuePost(r.id, str(r.remote_id), r.account_id, r.posted_at, r.network)
                 for r in taken]
        readers: dict[str, set[int]] = {n: set() for n in networks}
        for account in accounts:
            readers[account.network].add(account.id)
        return _Claim(lease_until, posts, {r.id: r.metrics_due_at for r in taken},
                      {a.id: a.token_encrypted for a in accounts if a.token_encrypted}, readers,
                      {a.id: a.key for a in accounts})

    def _release(self, claim: _Claim) -> None:
        """Posts claimed but not read become due again as they were."""
        if not claim.original_due:
            return
        table = DELIVERIES
        rows = [{"row_id": k, "due": v} for k, v in claim.original_due.items()]
        with self.sessions() as session, session.begin():
            session.execute(
                update(table).where(table.c.id == bindparam("row_id"),
                                    table.c.metrics_due_at == claim.lease_until)
                .values(metrics_due_at=bindparam("due")), rows)
        claim.original_due.clear()

    # -- reading --

    def _read_all(self, claim: _Claim, calls_left: dict[str, int], now: datetime,
                  report: SweepReport) -> None:
        pending: deque[Batch] = deque()
        for network, readers in claim.readers.items():
            posts = self._affordable(claim, network, calls_left[network], now, report)
            pending.extend(plan_batches(posts, now, readers=readers,
                                        size=self._batch_size(network),
                                        per_account=self._per_account(network)))
        stopped: set[str] = set()
        while pending:
            batch = pending.popleft()
            if batch.network in stopped:
                continue
            if batch.account_id is None:
                report.problems.append(f"{len(batch.posts)} {batch.network} posts not read: no "
                                       f"connected {batch.network} account to read them with")
                continue
            if not self._read_batch(batch, batch.account_id, claim, now, report, pending):
                stopped.add(batch.network)

    def _affordable(self, claim: _Claim, network: str, calls: int, now: datetime,
                    report: SweepReport) -> list[DuePost]:
        """The network's claimed posts if today's budget covers them, else the longest
        overdue that it does (so a tight budget never starves the same posts)."""
        posts = [p for p in claim.posts if p.network == network]
        most = calls * self._batch_size(network)
        if len(posts) <= most:
            return posts
        posts.sort(key=lambda p: (claim.original_due[p.delivery_id], p.delivery_id))
        report.stop(self._budget_spent(network, len(posts) - most), tomorrow(now))
        return posts[:most]

    def _read_batch(self, batch: Batch, account_id: int, claim: _Claim, now: datetime,
                    report: SweepReport, pending: deque[Batch]) -> bool:
        """Read one batch as `account_id` and record it; False when this network must stop."""
        reader = self.readers[batch.network]
        credentials = self._credentials(claim, account_id, reader, now)
        if credentials is None:
            report.problems.append(f"account {claim.account_keys[account_id]}: its stored token "
                                   "cannot be opened; reconnect it")
            self._read_with_another(batch, account_id, claim, now, pending)
            return True
        result = self._call(reader, credentials, batch, batch.non_public, now, report)
        if result is not None and result.outcome is ReadOutcome.REFUSED and batch.non_public:
            # Real X may refuse non_public_metrics for posts the reading account does not own
            # (the sandbox leaves them out silently instead): so a batch refused while asking
            # for them is read once more, with public metrics only.
            result = self._call(reader, credentials, batch, False, now, report)
        if result is None:
            return False
        outcome = result.outcome
        if outcome is ReadOutcome.OK:
            self._record(batch, result, claim, now, report)
            return not self._rate_spent(batch.network, result.rate, now, report)
        if outcome is ReadOutcome.RATE_LIMITED:
            until = result.retry_at or now + timedelta(minutes=1)
            self._hold(batch.network, until, result.reason, now)
            report.stop(f"{batch.network}: {result.reason}; reading resumes then", until)
            return False
        if outcome is ReadOutcome.REAUTH:
            self._disconnect(claim, account_id, result.reason)
            report.problems.append(f"account {claim.account_keys[account_id]}: {result.reason}")
            self._read_with_another(batch, account_id, claim, now, pending)
            return True
        if outcome is ReadOutcome.REFUSED:
            self._skip(batch, claim, now)
            report.problems.append(f"{len(batch.posts)} posts skipped until their next "
                                   f"reading: {result.reason}")
            return True
        report.stop(f"{batch.network}: {result.reason}; the rest waits for the next sweep")
        return False

    def _call(self, reader: MetricsReader, credentials: Credentials, batch: Batch,
              non_public: bool, now: datetime, report: SweepReport) -> MetricsResult | None:
        """One read call, counted against today's budget first; None when it is spent."""
        if not self._spend_one_call(batch.network, now.date()):
            report.stop(self._budget_spent(batch.network), tomorrow(now))
            return None
        report.calls += 1
        return reader.read_metrics(credentials, batch.ids, non_public=non_public)

    def _read_with_another(self, batch: Batch, account_id: int, claim: _Claim, now: datetime,
                           pending: deque[Batch]) -> None:
        """This account cannot read: plan the batch again without it (at most once each)."""
        readers = claim.readers[batch.network]
        readers.discard(account_id)
        again = plan_batches(batch.posts, now, readers=readers,
                             size=self._batch_size(batch.network),
                             per_account=self._per_account(batch.network))
        pending.extendleft(reversed(again))

    def _batch_size(self, network: str) -> int:
        """Ids per read call: the configured size, or less where the network takes fewer
        (a reader's `batch_size`, e.g. Bluesky's 25 per getPosts)."""
        most = getattr(self.readers[network], "batch_size", None)
        return min(self.config.batch_size, most) if most else self.config.batch_size

    def _per_account(self, network: str) -> bool:
        """Whether only a post's own account can read it (a reader's `batch_per_account`)."""
        return bool(getattr(self.readers[network], "batch_per_account", False))

    def _credentials(self, claim: _Claim, account_id: int, reader: MetricsReader,
                     now: datetime) -> Credentials | None:
        if account_id in claim.credentials:
            return claim.credentials[account_id]
        sealed = claim.tokens.get(account_id)
        if sealed is None:
            return None
        try:
            credentials = self.vault.open(sealed)
        except SecretKeyMissing:
            return None
        refresh = getattr(reader, "fresh_credentials", None)
        fresh = refresh(credentials, now) if refresh is not None else None
        if fresh is not None:  # X's refresh tokens work once: keep the new ones at once
            resealed = self.vault.seal(fresh)
            with self.sessions() as session, session.begin():
                session.execute(update(Account).where(Account.id == account_id,
                                                      Account.token_encrypted == sealed)
                                .values(token_encrypted=resealed)
                                .execution_options(synchronize_session=False))
            claim.tokens[account_id], credentials = resealed, fresh
        claim.credentials[account_id] = credentials
        return credentials

    # -- recording --

    def _record(self, batch: Batch, result: MetricsResult, claim: _Claim, now: datetime,
                report: SweepReport) -> None:
        snapshots, rows = [], []
        for post in batch.posts:
            gone = result.gone.get(post.remote_id)
            metrics = result.metrics.get(post.remote_id)
            if gone is not None:
                rows.append({"row_id": post.delivery_id, "due": None, "state": gone.state,
                             "gone_at": now})
                report.deleted += gone.state == "deleted"
                report.unavailable += gone.state != "deleted"
                continue
            if metrics is not None:
                snapshots.append({
                    "delivery_id": post.delivery_id, "read_at": now,
                    "impressions": metrics.impressions, "likes": metrics.likes,
                    "reposts": metrics.reposts, "replies": metrics.replies,
                    "quotes": metrics.quotes, "bookmarks": metrics.bookmarks,
                    "link_clicks": metrics.link_clicks, "profile_clicks": metrics.profile_clicks,
                })
                report.with_non_public += metrics.link_clicks is not None
            # An id X said nothing about waits for its next reading like the others.
            rows.append({"row_id": post.delivery_id, "gone_at": None,
                         "due": next_read_at(post.posted_at, now, self.config.schedule),
                         "state": "live" if metrics is not None else None})
        table = DELIVERIES
        with self.sessions() as session, session.begin():
            if snapshots:
                session.execute(insert(EngagementSnapshot), snapshots)
            session.execute(
                update(table).where(table.c.id == bindparam("row_id"))
                .values(metrics_due_at=bindparam("due"),
                        remote_state=func.coalesce(bindparam("state", type_=String(20)),
                                                   table.c.remote_state),
                        remote_gone_at=func.coalesce(bindparam("gone_at", type_=table.c.
                                                               remote_gone_at.type),
                                                     table.c.remote_gone_at)), rows)
            session.execute(update(ApiUsage).where(*_usage_row(now.date(), batch.network))
                            .values(items=ApiUsage.items + len(snapshots)))
        report.read += len(snapshots)
        claim.settle(p.delivery_id for p in batch.posts)

    def _skip(self, batch: Batch, claim: _Claim, now: datetime) -> None:
        """X refused the read as asked: these posts wait for their next reading instead."""
        table = DELIVERIES
        rows = [{"row_id": p.delivery_id,
                 "due": next_read_at(p.posted_at, now, self.config.schedule)}
                for p in batch.posts]
        with self.sessions() as session, session.begin():
            session.execute(update(table).where(table.c.id == bindparam("row_id"))
                            .values(metrics_due_at=bindparam("due")), rows)
        claim.settle(p.delivery_id for p in batch.posts)

    # -- budget, rate limits, accounts --

    def _spend_one_call(self, network: str, day: date) -> bool:
        """Count one call against the day's budget, atomically; False if none is left."""
        with self.sessions() as session, session.begin():
            if session.scalar(select(ApiUsage.id).where(*_usage_row(day, network))) is None:
                try:
                    with session.begin_nested():
                        session.add(ApiUsage(day=day, network=network, purpose=PURPOSE,
                                             calls=0, items=0))
                except IntegrityError:
                    pass  # another sweep made the row first
            spent = session.execute(
                update(ApiUsage).where(*_usage_row(day, network),
                                       ApiUsage.calls < self.config.budget_per_day)
                .values(calls=ApiUsage.calls + 1).execution_options(synchronize_session=False))
            return bool(spent.rowcount)  # type: ignore[attr-defined]

    def _rate_spent(self, network: str, rate: RateInfo | None, now: datetime,
                    report: SweepReport) -> bool:
        """The last call used the window's last read: stop now rather than earn a 429."""
        if rate is None or rate.remaining != 0 or rate.reset is None or rate.reset <= now:
            return False
        reason = f"{network}: no reads left in the rate-limit window until " \
                 f"{rate.reset:%Y-%m-%d %H:%M:%S} UTC"
        self._hold(network, rate.reset, reason, now)
        report.stop(f"{reason}; reading resumes then", rate.reset)
        return True

    def _hold(self, network: str, until: datetime, reason: str, now: datetime) -> None:
        value = {"until": until.astimezone(UTC).isoformat(), "reason": reason}
        with self.sessions() as session, session.begin():
            control = session.get(Control, _hold_key(network))
            if control is None:
                session.add(Control(key=_hold_key(network), value=value, updated_at=now,
                                    updated_by=ACTOR))
            else:
                control.value, control.updated_at, control.updated_by = value, now, ACTOR

    def _disconnect(self, claim: _Claim, account_id: int, reason: str) -> None:
        """The network refused the token: the account needs reconnecting, as after a send."""
        sealed = claim.tokens.pop(account_id, None)
        claim.credentials.pop(account_id, None)
        with self.sessions() as session, session.begin():
            session.execute(update(Account).where(Account.id == account_id,
                                                  Account.token_encrypted == sealed)
                            .values(state="needs-reconnect", last_error=reason)
                            .execution_options(synchronize_session=False))


def _usage_row(day: date, network: str) -> tuple[ColumnElement[bool], ...]:
    return (ApiUsage.day == day, ApiUsage.network == network, ApiUsage.purpose == PURPOSE)


def _hold_key(network: str) -> str:
    return f"engagement-rate-limit:{network}"


def _chunks(items: list[int], size: int) -> Iterator[list[int]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


# ---- queries for the command line -----------------------------------------------------------


def reads_used(*, session: Session, day: date, network: str = "x") -> int:
    """Engagement read calls spent on `network` on this UTC day."""
    return session.scalar(select(ApiUsage.calls).where(*_usage_row(day, network))) or 0


def held_until(*, session: Session, network: str, now: datetime) -> datetime | None:
    """The end of the network's rate-limit hold, if one is still running at `now`."""
    control = session.get(Control, _hold_key(network))
    if control is None or not control.value.get("until"):
        return None
    until = datetime.fromisoformat(str(control.value["until"]))
    return until if until > now else None


@dataclass(frozen=True)
class TrackedPost:
    delivery_id: int
    account_key: str
    sandbox: bool
    remote_id: str
    posted_at: datetime
    next_read_at: datetime
    readings: int


def tracked_posts(*, session: Session, limit: int = 20) -> tuple[int, list[TrackedPost]]:
    """How many posts are tracked, and the `limit` next to be read."""
    tracked = (Delivery.metrics_due_at.is_not(None), Delivery.status == DeliveryStatus.POSTED)
    total = session.scalar(select(func.count()).select_from(Delivery).where(*tracked)) or 0
    readings = (select(func.count()).where(EngagementSnapshot.delivery_id == Delivery.id)
                .correlate(Delivery).scalar_subquery())
    rows = session.execute(
        select(Delivery.id, Account.key, Account.is_sandbox, Delivery.remote_id,
               Delivery.posted_at, Delivery.metrics_due_at, readings)
        .join(Account, Account.id == Delivery.account_id).where(*tracked)
        .order_by(Delivery.metrics_due_at, Delivery.id).limit(limit)).all()
    return total, [TrackedPost(*row) for row in rows]


# ---- building one ---------------------------------------------------------------------------


def metrics_readers(publishers: Mapping[str, Publisher]) -> dict[str, MetricsReader]:
    """The publishers that can also read their posts' engagement."""
    return {n: p for n, p in publishers.items() if isinstance(p, MetricsReader)}


def config_from_settings(settings: Settings) -> CollectorConfig:
    """The collector's configuration; `ScheduleError` if the schedule setting is wrong."""
    try:
        schedule = parse_schedule(settings.engagement_schedule)
    except ScheduleError as exc:
        raise ScheduleError(f"CHORUS_ENGAGEMENT_SCHEDULE: {exc}") from None
    return CollectorConfig(schedule=schedule, budget_per_day=settings.read_budget_per_day)


def build_collector(settings: Settings, *, sessions: sessionmaker[Session],
                    publishers: Mapping[str, Publisher], vault: Vault) -> Collector:
    return Collector(sessions, metrics_readers(publishers), vault, config_from_settings(settings))
