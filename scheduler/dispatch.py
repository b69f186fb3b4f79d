"""Claiming and sending deliveries so that each is posted at most once, whatever happens.

The database is the source of truth. A delivery is claimed with a conditional UPDATE that
only one worker can win (`scheduled -> sending`, with a lease); the outcome is recorded only
while the claim is still ours. A send whose outcome is unknown is never simply repeated:
the account's timeline is read first, and the post is sent again only if it is not there.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import and_, or_, select, update
from sqlalchemy.orm import Session, joinedload, sessionmaker

from campaigns.config.secrets import Credentials, SecretKeyMissing, Vault
from campaigns.core import sign_off_deadlines
from campaigns.core.planning import words
from campaigns.formats.images import ImageRefused, confined
from campaigns.storage.control import HELD_FOR_ACCOUNT
from campaigns.storage.deliveries import change_status
from campaigns.storage.models import (
    Account,
    AuditEntry,
    Campaign,
    Delivery,
    DeliveryStatus,
    Post,
)
from scheduler import alerts
from scheduler.publishers.base import (
    Image,
    Outcome,
    Publisher,
    RateInfo,
    SendRequest,
    SendResult,
)

log = logging.getLogger("chorus.worker")

S = DeliveryStatus
#: How far before the claim a reconciled post may have been created (clock skew).
RECONCILE_MARGIN = timedelta(minutes=5)
#: Sends whose outcome stayed unknown after this many tries go to a person.
MAX_UNKNOWN_ATTEMPTS = 3
#: Wait before retrying a send that was refused before anything went out.
SHORT_RETRY = timedelta(seconds=15)
#: Retry interval for reading a timeline that could not be read.
RECONCILE_RETRY = timedelta(seconds=10)
NO_PUBLISHER = "Chorus has no publisher for this network yet"


@dataclass(frozen=True)
class WorkerConfig:
    worker_id: str
    lease: timedelta = timedelta(seconds=120)
    grace: timedelta = timedelta(minutes=30)
    #: How long before a post awaiting sign-off is due its campaign is reminded.
    sign_off_reminder: timedelta = timedelta(hours=24)
    content_root: Path = Path("content")


class Dispatcher:
    """One worker's view of the delivery queue. Every method takes `now` or asks `clock`."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        publishers: Mapping[str, Publisher],
        vault: Vault,
        config: WorkerConfig,
        clock: Callable[[], datetime],
    ) -> None:
        self.sessions = sessions
        self.publishers = publishers
        self.vault = vault
        self.config = config
        self.clock = clock

    @property
    def actor(self) -> str:
        return f"worker {self.config.worker_id}"

    # ---- the queue ----------------------------------------------------------------------

    def promote(self, now: datetime, *, paused: bool) -> int:
        """Approved deliveries join the schedule (or wait, paused, if everything is paused)."""
        with self.sessions() as session, session.begin():
            query = (select(Delivery).join(Delivery.campaign)
                     .where(Delivery.status == S.APPROVED)
                     .where(Delivery.network.in_(list(self.publishers)))
                     .options(joinedload(Delivery.campaign)))
            found = list(session.scalars(query))
            for delivery in found:
                if paused or delivery.campaign.paused:
                    change_status(delivery, S.PAUSED, session=session, actor=self.actor,
                                  now=now, reason="paused: the partnership's posting is paused")
                else:
                    change_status(delivery, S.SCHEDULED, session=session, actor=self.actor,
                                  now=now, reason="scheduled by the worker")
            return len(found)

    def due_soon(self, now: datetime, horizon: timedelta) -> list[tuple[int, datetime]]:
        """(id, when to try) for scheduled deliveries due before `now + horizon`."""
        with self.sessions() as session:
            query = (select(Delivery.id, Delivery.send_at, Delivery.not_before)
                     .where(Delivery.status == S.SCHEDULED,
                            Delivery.send_at <= now + horizon,
                            or_(Delivery.not_before.is_(None),
                                Delivery.not_before <= now + horizon))
                     .order_by(Delivery.send_at))
            rows = session.execute(query).all()
        backoff = self._backoffs(now)
        due = []
        for delivery_id, send_at, not_before in rows:
            when = max(send_at, not_before or send_at, backoff.get(delivery_id, send_at))
            due.append((delivery_id, when))
        return due

    def _backoffs(self, now: datetime) -> dict[int, datetime]:
        with self.sessions() as session:
            query = (select(Delivery.id, Account.backoff_until).join(Delivery.account)
                     .where(Delivery.status == S.SCHEDULED, Account.backoff_until > now))
            return dict(session.execute(query).all())  # type: ignore[arg-type]

    def claim(self, delivery_id: int, now: datetime) -> bool:
        """Take the delivery if it is due and nobody else has: exactly one worker wins."""
        account_ready = select(Account.id).where(
            Account.id == Delivery.account_id,
            or_(Account.backoff_until.is_(None), Account.backoff_until <= now),
        ).exists()
        statement = (
            update(Delivery)
            .where(Delivery.id == delivery_id, Delivery.status == S.SCHEDULED,
                   Delivery.send_at <= now,
                   or_(Delivery.not_before.is_(None), Delivery.not_before <= now),
                   account_ready)
            .values(status=S.SENDING, claimed_by=self.config.worker_id, claimed_at=now,
                    lease_until=now + self.config.lease, attempts=Delivery.attempts + 1,
                    status_reason="sending", updated_at=now)
            .execution_options(synchronize_session=False)
        )
        with self.sessions() as session, session.begin():
            if session.execute(statement).rowcount != 1:  # type: ignore[attr-defined]
                return False
            session.add(AuditEntry(at=now, delivery_id=delivery_id, actor=self.actor,
                                   old_status=S.SCHEDULED.value, new_status=S.SENDING.value,
                                   reason="claimed"))
        return True

    def claim_stale(self, delivery_id: int, now: datetime) -> bool:
        """Take over a `sending` delivery whose worker's lease ran out (it died)."""
        statement = (
            update(Delivery)
            .where(Delivery.id == delivery_id, Delivery.status == S.SENDING,
                   Delivery.lease_until < now)
            .values(claimed_by=self.config.worker_id, lease_until=now + self.config.lease,
                    updated_at=now)
            .execution_options(synchronize_session=False)
        )
        with self.sessions() as session, session.begin():
            if session.execute(statement).rowcount != 1:  # type: ignore[attr-defined]
                return False
            session.add(AuditEntry(at=now, delivery_id=delivery_id, actor=self.actor,
                                   old_status=S.SENDING.value, new_status=S.SENDING.value,
                                   reason="lease expired; taken over to reconcile"))
        return True

    def stale(self, now: datetime, limit: int = 100) -> list[int]:
        with self.sessions() as session:
            query = (select(Delivery.id)
                     .where(Delivery.status == S.SENDING, Delivery.lease_until < now)
                     .order_by(Delivery.lease_until).limit(limit))
            if session.get_bind().dialect.name == "postgresql":
                query = query.with_for_update(skip_locked=True)
            return list(session.scalars(query))

    def mark_missed(self, now: datetime) -> int:
        """Deliveries past their grace window that never went out end as `missed`."""
        cutoff = now - self.config.grace
        with self.sessions() as session, session.begin():
            query = (select(Delivery).where(
                Delivery.status.in_([S.APPROVED, S.SCHEDULED]), Delivery.send_at < cutoff)
                .options(joinedload(Delivery.account), joinedload(Delivery.campaign),
                         joinedload(Delivery.post)))
            found = list(session.scalars(query))
            for delivery in found:
                reason = self._missed_reason(delivery)
                change_status(delivery, S.MISSED, session=session, actor=self.actor, now=now,
                              reason=reason)
                self._alert(session, "missed", delivery, reason, now)
            return len(found)

    def settle_sign_off_deadlines(self, now: datetime) -> sign_off_deadlines.Deadlines:
        """Posts awaiting sign-off at their time end `expired`; a campaign with posts due within
        the reminder window gets one reminder alert (per round of sign-off)."""
        horizon = now + self.config.sign_off_reminder
        with self.sessions() as session, session.begin():
            query = (select(Delivery).where(Delivery.status == S.DRAFT,
                                            Delivery.send_at <= horizon)
                     .options(joinedload(Delivery.campaign)))
            if session.get_bind().dialect.name == "postgresql":  # one worker expires each post
                query = query.with_for_update(skip_locked=True, of=Delivery)
            drafts = list(session.scalars(query))
            decided = sign_off_deadlines.decide(
                (sign_off_deadlines.Waiting(d.id, d.campaign_id, d.send_at) for d in drafts),
                now=now, remind_before=self.config.sign_off_reminder)
            by_id = {d.id: d for d in drafts}
            reason = sign_off_deadlines.EXPIRED_REASON
            for delivery_id in decided.expire:
                change_status(by_id[delivery_id], S.EXPIRED, session=session, actor=self.actor,
                              now=now, reason=reason)
            for campaign, count in _per_campaign(by_id[i] for i in decided.expire).items():
                subject, body = alerts.describe_expired(campaign, count, reason)
                alerts.raise_alert(session=session, kind=alerts.EXPIRED, subject=subject,
                                   incident_key=f"expired:{campaign.key}:{now.isoformat()}",
                                   body=body, now=now)
            for campaign_id, first_at in decided.remind.items():
                self._remind(session, [d for d in drafts if d.campaign_id == campaign_id
                                       and d.status == S.DRAFT], first_at, now)
            return decided

    def _remind(self, session: Session, waiting: list[Delivery], first_at: datetime,
                now: datetime) -> None:
        campaign = waiting[0].campaign
        first = next(d for d in waiting if d.send_at == first_at)
        hours = self.config.sign_off_reminder.total_seconds() / 3600
        subject, body = alerts.describe_sign_off_due(campaign, first, len(waiting), hours)
        alerts.raise_alert(session=session, kind=alerts.SIGN_OFF_DUE, subject=subject,
                           incident_key=sign_off_deadlines.reminder_key(campaign.key,
                                                                        campaign.approved_at),
                           body=body, now=now)

    def _missed_reason(self, delivery: Delivery) -> str:
        minutes = int(self.config.grace.total_seconds() // 60)
        if delivery.network not in self.publishers:
            return f"{NO_PUBLISHER} ({delivery.network}); not sent"
        return (f"not sent within {minutes} minutes of its time (no worker was running, or "
                "the account was held); too late to post")

    # ---- sending ------------------------------------------------------------------------

    def deliver(self, delivery_id: int) -> None:
        """Claim, send and record one due delivery (a scheduler job)."""
        if not self.claim(delivery_id, self.clock()):
            return
        self._work(delivery_id, reconcile_first=False)

    def reconcile_stale(self, delivery_id: int) -> None:
        """Finish a delivery whose worker died mid-send: find it, or send it (a job)."""
        if not self.claim_stale(delivery_id, self.clock()):
            return
        self._work(delivery_id, reconcile_first=True)

    def _work(self, delivery_id: int, *, reconcile_first: bool) -> None:
        job = self._load(delivery_id)
        if job is None:
            return
        publisher, request, since, send_at = job
        if reconcile_first:
            found = self._find_sent(publisher, request, since)
            if found is None:
                self._retry_reconcile(delivery_id, "could not read the account's timeline")
                return
            if found:
                self._record(delivery_id, SendResult(Outcome.POSTED, remote_id=str(found),
                                                     reason="found on the timeline"))
                return
        now = self.clock()
        if now > send_at + self.config.grace:
            self._finish(delivery_id, S.MISSED, "too late to post after a failed attempt",
                         now, alert="missed")
            return
        result = publisher.send(request)
        log.info("delivery %s: %s %s", delivery_id, result.outcome.value, result.reason)
        if result.outcome is Outcome.UNKNOWN or result.duplicate:
            result = self._resolve_unknown(publisher, request, since, result)
        self._record(delivery_id, result)

    def _load(self, delivery_id: int) -> tuple[Publisher, SendRequest, datetime, datetime] | None:
        now = self.clock()
        with self.sessions() as session, session.begin():
            delivery = session.get(Delivery, delivery_id, options=[
                joinedload(Delivery.account), joinedload(Delivery.post)])
            if delivery is None or delivery.claimed_by != self.config.worker_id:
                return None
            account = delivery.account
            publisher = self.publishers.get(delivery.network)
            credentials = self._credentials(account)
            if publisher is None or credentials is None:
                reason = NO_PUBLISHER if publisher is None else "the account is not connected"
                self._hold_account(session, account, f"{HELD_FOR_ACCOUNT}: {reason}", now)
                return None
            credentials = self._refreshed(publisher, account, credentials, now)
            try:
                images = self._images(delivery.post)
            except ImageRefused as refused:  # named outside the content directory, say
                reason = f"image refused: {refused}"
                self._move(session, delivery, S.FAILED, reason, now)
                self._alert(session, "failed", delivery, reason, now)
                return None
            request = SendRequest(
                delivery_id=delivery.id, account_key=account.key,
                remote_user_id=account.remote_user_id, credentials=credentials,
                text=delivery.text, images=images,
            )
            since = (delivery.claimed_at or now) - RECONCILE_MARGIN
            first_try = session.scalar(
                select(AuditEntry.at).where(AuditEntry.delivery_id == delivery.id,
                                            AuditEntry.reason == "claimed")
                .order_by(AuditEntry.at).limit(1))
            if first_try is not None:
                since = first_try - RECONCILE_MARGIN
            return publisher, request, since, delivery.send_at

    def _credentials(self, account: Account) -> Credentials | None:
        if account.token_encrypted is None or account.state == "needs-reconnect":
            return None
        try:
            return self.vault.open(account.token_encrypted)
        except SecretKeyMissing:
            return None

    def _refreshed(self, publisher: Publisher, account: Account, credentials: Credentials,
                   now: datetime) -> Credentials:
        """Renew expiring OAuth 2.0 tokens before sending, and keep the new ones at once."""
        refresh = getattr(publisher, "fresh_credentials", None)
        fresh = refresh(credentials, now) if refresh is not None else None
        if fresh is None:
            return credentials
        account.token_encrypted = self.vault.seal(fresh)
        return fresh

    def _images(self, post: Post) -> tuple[Image, ...]:
        """The post's images, each confined to the content directory (raises ImageRefused)."""
        root = self.config.content_root
        return tuple(Image(confined(root, i["file"]), i["alt"]) for i in post.images or [])

    def _find_sent(self, publisher: Publisher, request: SendRequest,
                   since: datetime) -> str | bool | None:
        """The remote id if the account already posted this text, False if not, None if unknown."""
        timeline = publisher.recent_posts(credentials=request.credentials,
                                          remote_user_id=request.remote_user_id, since=since)
        if not timeline.ok:
            return None
        wanted = words(request.text)
        for post in timeline.posts:
            if post.created_at >= since and words(post.text) == wanted:
                return post.remote_id
        return False

    def _resolve_unknown(self, publisher: Publisher, request: SendRequest, since: datetime,
                         result: SendResult) -> SendResult:
        found = self._find_sent(publisher, request, since)
        if found:
            return SendResult(Outcome.POSTED, remote_id=str(found),
                              reason=f"confirmed on the timeline after: {result.reason}",
                              rate=result.rate)
        if found is None:
            return SendResult(Outcome.UNKNOWN, reason=f"{result.reason}; timeline unreadable",
                              rate=result.rate)
        if result.duplicate:
            return SendResult(Outcome.FAILED, reason=result.reason, rate=result.rate)
        return SendResult(Outcome.RETRY_LATER, reason=f"not posted ({result.reason}); will retry",
                          retry_at=self.clock() + SHORT_RETRY, rate=result.rate)

    # ---- recording ----------------------------------------------------------------------

    def _record(self, delivery_id: int, result: SendResult) -> None:
        now = self.clock()
        with self.sessions() as session, session.begin():
            delivery = self._ours(session, delivery_id)
            if delivery is None:
                log.warning("delivery %s: claim lost before recording %s", delivery_id,
                            result.outcome.value)
                return
            account = delivery.account
            _apply_rate(account, result.rate, now)
            outcome = result.outcome
            if outcome is Outcome.POSTED:
                delivery.remote_id = result.remote_id
                delivery.posted_at = now
                self._move(session, delivery, S.POSTED, result.reason or "posted", now)
                account.last_error = ""
            elif outcome is Outcome.RETRY_LATER:
                self._retry(session, delivery, account, result, now)
            elif outcome is Outcome.UNKNOWN:
                self._unknown(session, delivery, result.reason, now)
            elif outcome is Outcome.FAILED:
                self._move(session, delivery, S.FAILED, result.reason, now)
                self._alert(session, "failed", delivery, result.reason, now)
            else:
                account.state = "needs-reconnect"
                account.last_error = result.reason
                self._move(session, delivery, S.PAUSED, f"{HELD_FOR_ACCOUNT}: {result.reason}",
                           now)
                self._hold_account(session, account, f"{HELD_FOR_ACCOUNT}: {result.reason}",
                                   now)

    def _ours(self, session: Session, delivery_id: int) -> Delivery | None:
        query = (select(Delivery).where(Delivery.id == delivery_id,
                                        Delivery.status == S.SENDING,
                                        Delivery.claimed_by == self.config.worker_id)
                 .options(joinedload(Delivery.account, innerjoin=True)))
        if session.get_bind().dialect.name == "postgresql":
            query = query.with_for_update(of=Delivery)
        return session.scalars(query).one_or_none()

    def _move(self, session: Session, delivery: Delivery, status: DeliveryStatus, reason: str,
              now: datetime) -> None:
        delivery.lease_until = None
        change_status(delivery, status, session=session, actor=self.actor, reason=reason,
                      now=now)

    def _retry(self, session: Session, delivery: Delivery, account: Account,
               result: SendResult, now: datetime) -> None:
        retry_at = result.retry_at or now + SHORT_RETRY
        if result.rate is not None and result.rate.remaining == 0:
            account.backoff_until = max(retry_at, account.backoff_until or retry_at)
        delivery.not_before = retry_at
        delivery.claimed_by = None
        self._move(session, delivery, S.SCHEDULED,
                   f"retry at {retry_at:%H:%M:%S} UTC: {result.reason}", now)

    def _unknown(self, session: Session, delivery: Delivery, reason: str, now: datetime) -> None:
        if delivery.attempts >= MAX_UNKNOWN_ATTEMPTS:
            text = (f"outcome unknown after {delivery.attempts} attempts ({reason}); check the "
                    "account's timeline and resolve it by hand")
            self._move(session, delivery, S.UNCONFIRMED, text, now)
            self._alert(session, "unconfirmed", delivery, text, now)
            return
        delivery.lease_until = now + RECONCILE_RETRY  # another look at the timeline soon
        delivery.status_reason = f"outcome unknown ({reason}); will check the timeline"
        delivery.updated_at = now

    def _retry_reconcile(self, delivery_id: int, reason: str) -> None:
        now = self.clock()
        with self.sessions() as session, session.begin():
            delivery = self._ours(session, delivery_id)
            if delivery is not None:
                delivery.attempts += 1
                self._unknown(session, delivery, reason, now)

    def _finish(self, delivery_id: int, status: DeliveryStatus, reason: str, now: datetime,
                *, alert: str) -> None:
        with self.sessions() as session, session.begin():
            delivery = self._ours(session, delivery_id)
            if delivery is not None:
                self._move(session, delivery, status, reason, now)
                self._alert(session, alert, delivery, reason, now)

    def _hold_account(self, session: Session, account: Account, reason: str,
                      now: datetime) -> None:
        """Hold every waiting post of one account; other accounts carry on."""
        query = select(Delivery).where(
            Delivery.account_id == account.id,
            or_(Delivery.status.in_([S.APPROVED, S.SCHEDULED]),
                and_(Delivery.status == S.SENDING,
                     Delivery.claimed_by == self.config.worker_id)))
        for delivery in session.scalars(query):
            self._move(session, delivery, S.PAUSED, reason, now)
        description = alerts.describe_reconnect(account, reason)
        alerts.raise_alert(session=session, kind="reconnect",
                           incident_key=f"reconnect:{account.id}:{_token_mark(account)}",
                           subject=description[0], body=description[1],
                           account_id=account.id, now=now)

    def _alert(self, session: Session, kind: str, delivery: Delivery, reason: str,
               now: datetime) -> None:
        describe = {"failed": alerts.describe_failed, "unconfirmed": alerts.describe_unconfirmed,
                    "missed": alerts.describe_missed}[kind]
        subject, body = describe(delivery, delivery.account, reason)
        alerts.raise_alert(session=session, kind=kind, incident_key=f"{kind}:{delivery.id}",
                           subject=subject, body=body, delivery_id=delivery.id,
                           account_id=delivery.account_id, now=now)


def _per_campaign(deliveries: Iterable[Delivery]) -> dict[Campaign, int]:
    counts: dict[Campaign, int] = {}
    for delivery in deliveries:
        counts[delivery.campaign] = counts.get(delivery.campaign, 0) + 1
    return counts


def _token_mark(account: Account) -> str:
    """Changes when the account is reconnected, so each loss of access is its own incident."""
    if account.token_encrypted is None:
        return "none"
    return hashlib.sha256(account.token_encrypted).hexdigest()[:12]


def _apply_rate(account: Account, rate: RateInfo | None, now: datetime) -> None:
    if rate is None:
        return
    account.rate_remaining = rate.remaining
    account.rate_reset = rate.reset
    if rate.remaining == 0 and rate.reset is not None and rate.reset > now:
        account.backoff_until = rate.reset
