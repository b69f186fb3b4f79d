"""`chorus run`: the worker process. APScheduler 3.x times the sends; the database decides.

Every few hundred milliseconds the worker looks for deliveries coming due and gives each a
one-off job at its exact time. Jobs are module-level functions referenced by name, with ids
as their only arguments, in an in-memory job store: the database, not APScheduler, is what
several workers share, and a claim there decides which one sends.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import threading
from collections.abc import Callable
from datetime import datetime, timedelta
from types import FrameType

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.blocking import BlockingScheduler
from sqlalchemy import select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

from campaigns.config.settings import Settings
from campaigns.core.clock import WarpClock
from campaigns.storage import db
from campaigns.storage.control import is_paused
from campaigns.storage.models import Account, Delivery, DeliveryStatus, WorkerHeartbeat
from scheduler import alerts
from scheduler.collect_schedule import ScheduleError
from scheduler.collector import Collector, build_collector
from scheduler.dispatch import Dispatcher

log = logging.getLogger("chorus.worker")

#: How far ahead the sync job looks for deliveries to give a timed job.
HORIZON = timedelta(seconds=5)
SYNC_SECONDS = 0.5
HOUSEKEEPING_SECONDS = 5
#: How often the engagement collector looks for posts due a reading (at most this late).
COLLECT_SECONDS = 60

#: Replaying under a `WarpClock`: the longest single jump, how far before a post's time a
#: jump stops, how often (in simulated time) engagement is read, and the sync interval.
WARP_STEP = timedelta(hours=12)
WARP_LEAD = timedelta(milliseconds=20)
WARP_COLLECT_EVERY = timedelta(hours=6)
WARP_SYNC_SECONDS = 0.02
#: A post this long past its time and still not sent does not hold the replay up (the
#: missed policy and the back-off deal with it as they would in real time).
WARP_STALL = timedelta(seconds=10)

_current: Worker | None = None


def current() -> Worker:
    if _current is None:
        raise RuntimeError("no worker is running in this process")
    return _current


# ---- jobs: importable by reference, arguments are ids ---------------------------------------


def deliver_job(delivery_id: int) -> None:
    worker = current()
    worker.guarded("sending", lambda: worker.dispatcher.deliver(delivery_id))


def reconcile_job(delivery_id: int) -> None:
    worker = current()
    worker.guarded("reconciling", lambda: worker.dispatcher.reconcile_stale(delivery_id))


def sync_job() -> None:
    worker = current()
    worker.guarded("scheduling", worker.sync)


def housekeeping_job() -> None:
    worker = current()
    worker.guarded("housekeeping", worker.housekeeping)


def collect_job() -> None:
    worker = current()
    worker.guarded("reading engagement", worker.collect)


class Worker:
    def __init__(
        self,
        dispatcher: Dispatcher,
        sessions: sessionmaker[Session],
        *,
        clock: Callable[[], datetime],
        send_alerts: Callable[[Session, datetime], int] | None = None,
        send_urgent: Callable[[str, str, datetime], str] | None = None,
        threads: int = 16,
        collector: Collector | None = None,
        warp: WarpClock | None = None,
    ) -> None:
        self.dispatcher = dispatcher
        #: Replaying: `clock` is this warp clock's `now`, and quiet stretches are skipped.
        self.warp = warp
        #: None: built from the settings when the worker starts.
        self.collector = collector
        self.sessions = sessions
        self.clock = clock
        self.send_alerts = send_alerts
        #: Alerts that cannot wait for the database: (subject, body, now) -> sending errors.
        self.send_urgent = send_urgent
        #: What is stopping the worker now (the database full, read-only...), said once.
        self.trouble: str | None = None
        self.scheduler = BlockingScheduler(
            executors={"default": ThreadPoolExecutor(threads)},
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": None},
            timezone="UTC",
        )
        self._queued: dict[int, datetime] = {}
        self._lock = threading.Lock()
        self.started_at = clock()
        self._last_collect = self.started_at

    @property
    def worker_id(self) -> str:
        return self.dispatcher.config.worker_id

    def guarded(self, job: str, work: Callable[[], object]) -> None:
        """Run one job; a failure that is not a bug (the database or disk refusing) is said in
        one line and one alert per incident, not a traceback every half second. The job runs
        again on its schedule, and no post is lost: a claim not recorded is reconciled."""
        try:
            work()
        except (DBAPIError, OSError) as exc:
            self._in_trouble(job, db.describe_failure(exc, self.database_url()))
        else:
            if self.trouble is not None:
                log.warning("worker %s: working again (%s)", self.worker_id, job)
                self.trouble = None

    def _in_trouble(self, job: str, problem: str) -> None:
        if problem == self.trouble:
            return
        self.trouble = problem
        log.error("worker %s: %s failed: %s", self.worker_id, job, problem)
        if self.send_urgent is None:
            return
        subject = f"Chorus: the worker {self.worker_id} cannot work"
        body = (f"{problem}.\n\nWhile this lasts no post is sent; posts already claimed are "
                "checked against the network when the worker can work again, so none is sent "
                "twice. Posts kept waiting past their grace time end as missed, with a reason.")
        failed = self.send_urgent(subject, body, self.clock())
        if failed:
            log.error("worker %s: the alert could not be sent either: %s", self.worker_id,
                      failed)

    def database_url(self) -> str | None:
        bind = self.sessions.kw.get("bind")
        return bind.url.render_as_string(hide_password=True) if bind is not None else None

    def sync(self) -> None:
        """Promote approved posts, and give every delivery coming due a job at its time."""
        now = self.clock()
        with self.sessions() as session:
            paused = is_paused(session=session)
        self.dispatcher.promote(now, paused=paused)
        if paused:
            return
        for delivery_id, when in self.dispatcher.due_soon(now, HORIZON):
            self._queue(delivery_id, when, now)
        for delivery_id in self.dispatcher.stale(now):
            self.scheduler.add_job(reconcile_job, args=[delivery_id], id=f"reconcile-{delivery_id}",
                                   replace_existing=True, trigger="date",
                                   run_date=self._real(now))
        if self.warp is not None and not self.warp.caught_up:
            self._fast_forward(now)

    def _fast_forward(self, now: datetime) -> None:
        """Replaying: when nothing is being sent or due, jump to just before the next post
        (at most `WARP_STEP`), reading engagement on the way as the collector would."""
        assert self.warp is not None
        waiting, upcoming = self._next_ready(now)
        if waiting:
            return
        target = now + WARP_STEP
        if upcoming is not None:
            target = min(target, upcoming - WARP_LEAD)
        if target <= now:
            return
        now = self.warp.jump_to(target)
        if now - self._last_collect >= WARP_COLLECT_EVERY or self.warp.caught_up:
            self._last_collect = now
            self.collect()
        for delivery_id, when in self.dispatcher.due_soon(now, HORIZON):
            self._queue(delivery_id, when, now)

    def _next_ready(self, now: datetime) -> tuple[bool, datetime | None]:
        """Whether a post is being sent or is due now, and when the next one will be ready.

        One statement, so a post changing state mid-check (claimed, or back from `sending`
        with a retry time) is seen in exactly one of its states.
        """
        networks = list(self.dispatcher.publishers)
        states = (DeliveryStatus.APPROVED, DeliveryStatus.SCHEDULED, DeliveryStatus.SENDING)
        with self.sessions() as session:
            rows = session.execute(
                select(Delivery.status, Delivery.send_at, Delivery.not_before,
                       Account.backoff_until)
                .join(Delivery.account)
                .where(Delivery.status.in_(states), Delivery.network.in_(networks),
                       Delivery.send_at <= now + WARP_STEP)).all()
        if any(row.status == DeliveryStatus.SENDING for row in rows):
            return True, None
        ready = [max(t for t in row[1:] if t is not None) for row in rows]
        if any(now - WARP_STALL < r <= now for r in ready):
            return True, None
        return False, min((r for r in ready if r > now), default=None)

    def _real(self, moment: datetime) -> datetime:
        """When APScheduler (which keeps real time) should run a job due at `moment`."""
        return moment if self.warp is None else self.warp.to_real(moment)

    def _queue(self, delivery_id: int, when: datetime, now: datetime) -> None:
        with self._lock:
            if self._queued.get(delivery_id) == when and when > now:
                return
            self._queued[delivery_id] = when
        self.scheduler.add_job(deliver_job, args=[delivery_id], id=f"deliver-{delivery_id}",
                               replace_existing=True, trigger="date",
                               run_date=self._real(max(when, now)))

    def housekeeping(self) -> None:
        now = self.clock()
        self.dispatcher.mark_missed(now)
        self.dispatcher.settle_sign_off_deadlines(now)
        self._heartbeat(now)
        with self._lock:
            self._queued = {k: v for k, v in self._queued.items() if v > now - HORIZON}
        if self.send_alerts is not None:
            with self.sessions() as session, session.begin():
                self.send_alerts(session, now)

    def collect(self) -> None:
        """Read the engagement of posts due a reading (the pause stops posting, not this)."""
        if self.collector is None:
            return
        report = self.collector.sweep(self.clock())
        if report.calls or report.stopped or report.problems:
            log.info("engagement: %s posts read in %s calls, %s deleted, %s unavailable, "
                     "%s calls left today%s", report.read, report.calls, report.deleted,
                     report.unavailable, report.budget_left,
                     f"; stopped: {report.stopped}" if report.stopped else "")
        for problem in report.problems:
            log.warning("engagement: %s", problem)

    def _heartbeat(self, now: datetime) -> None:
        with self.sessions() as session, session.begin():
            row = session.scalars(select(WorkerHeartbeat).where(
                WorkerHeartbeat.worker_id == self.worker_id)).one_or_none()
            if row is None:
                session.add(WorkerHeartbeat(worker_id=self.worker_id, host=socket.gethostname(),
                                            pid=os.getpid(), started_at=self.started_at,
                                            seen_at=now))
            else:
                row.seen_at, row.pid = now, os.getpid()

    def run(self) -> None:
        """Run until SIGINT or SIGTERM; in-flight sends finish and are recorded first."""
        global _current
        # The first heartbeat is not guarded: a database the worker cannot write (read-only,
        # full) stops it here, with the command's one-line message, rather than at every job.
        self._heartbeat(self.clock())
        _current = self
        started = self._real(self.clock())
        sync_seconds = SYNC_SECONDS if self.warp is None else WARP_SYNC_SECONDS
        self.scheduler.add_job(sync_job, "interval", seconds=sync_seconds, id="sync",
                               replace_existing=True, next_run_time=started)
        self.scheduler.add_job(housekeeping_job, "interval", seconds=HOUSEKEEPING_SECONDS,
                               id="housekeeping", replace_existing=True,
                               next_run_time=started)
        if self.collector is not None:
            self.scheduler.add_job(collect_job, "interval", seconds=COLLECT_SECONDS, id="collect",
                                   replace_existing=True, next_run_time=started)
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, self._stop)
        log.info("worker %s started", self.worker_id)
        try:
            self.scheduler.start()
        finally:
            _current = None
            log.info("worker %s stopped", self.worker_id)

    def _stop(self, signum: int, _frame: FrameType | None) -> None:
        log.info("worker %s: signal %s, finishing in-flight sends", self.worker_id, signum)
        threading.Thread(target=self.scheduler.shutdown, kwargs={"wait": True}).start()


def collector_for(settings: Settings, dispatcher: Dispatcher) -> Collector | None:
    """The engagement collector over the dispatcher's database, networks and vault; a wrong
    schedule setting turns collection off (posting goes on) and says so."""
    try:
        return build_collector(settings, sessions=dispatcher.sessions,
                               publishers=dispatcher.publishers, vault=dispatcher.vault)
    except ScheduleError as exc:
        log.error("engagement collection is off: %s", exc)
        return None


def default_worker_id() -> str:
    return f"{socket.gethostname()}-{os.getpid()}"


def urgent_sender(settings: Settings) -> Callable[[str, str, datetime], str]:
    def send(subject: str, body: str, now: datetime) -> str:
        return alerts.send_unstored(subject, body, settings=settings, now=now)
    return send


def alerts_sender(settings: Settings) -> Callable[[Session, datetime], int]:
    def send(session: Session, now: datetime) -> int:
        return alerts.send_pending_alerts(session=session, settings=settings, now=now)
    return send
