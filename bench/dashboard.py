"""Time the board page on a large partnership's data: 20,000 posts, 1,000,000 engagement
snapshots and ten years of weekly report counts (seeded by bench/_dashboard_seed.py).

First the database is made ready as `chorus dashboard` makes it before it starts Streamlit
(dashboard.startup): its schema brought up to date, and the effect estimates the board page
shows first fitted and stored; that is timed and printed, not counted in the page's times.

The page is rendered through Streamlit's AppTest for a signed-in board user (the user id the
sign-in form leaves in the session), each time in a fresh process, with the environment
`chorus dashboard` gives Streamlit. Cold is the page's first run there: Streamlit is up, as a
server is before its first visitor, but none of the app's modules are imported and every
cache in the process is empty, so it counts the app's imports, the engine and every query
(the estimates are read from the database, not fitted). It is the median over COLD_RUNS
processes. Warm is the median of the WARM_RUNS runs after it in the same session, caches
filled. Peak memory is the largest peak RSS of those processes. The first of them then clears
`st.cache_data` and runs the page once more, as a visit after the cache's time to live does,
and replays each SQL statement of that run alone, to say which ones the time goes to. Last,
one more fresh process times a cold run after the stored estimates are deleted, as the first
visit after reports were imported from the command line (`chorus reports import`) would be:
the page then fits them itself.

Beside it, in the same run and in a process of its own, a naive baseline loads the
deliveries, engagement_snapshots and report_counts tables (and the 40 accounts, for the
sandbox flag) into pandas with `pd.read_sql` and works out the page's headline figures there;
the two are checked against each other.

The seeded SQLite file is kept under var/bench/, keyed by the seed's version, the schema's
migration head and the week, so later runs start at once; each run times a fresh copy of it
(already in the OS's file cache: the cold figure has no disk reads in it). `--postgres URL`
seeds an empty PostgreSQL database once and times that instead.

    .venv/bin/python bench/dashboard.py            # cold < 1.5 s, warm < 0.3 s, peak < 400 MB
    .venv/bin/python bench/dashboard.py --profile  # and where the time goes, with query plans
"""

from __future__ import annotations

# Only the standard library up here: each measuring process is started with "spawn" and
# imports this module first, so whatever it imported would be missing from the cold time.
import argparse
import multiprocessing
import os
import queue
import resource
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

APP = ROOT / "dashboard" / "app.py"
CONTENT = ROOT / "content"
CACHE = ROOT / "var" / "bench"
PAGE_TITLE = "Board overview"
#: The empty page: Streamlit rendering a page with one title (the board page's).
EMPTY_PAGE = f"import streamlit as st\nst.title({PAGE_TITLE!r})\n"
#: Targets: first visit under 2 x cache expired; cache expired under 2 x sql + the empty
#: page; warm under 3 x the empty page; peak under 400 MB.
FIRST_PER_EXPIRED, EXPIRED_PER_SQL, WARM_PER_EMPTY, TARGET_PEAK = 2.0, 2.0, 3.0, 400.0
#: The board page's default period, when dashboard.insights.periods does not say: whole weeks,
#: local to the partnership, the last of them this week; compared with as many weeks before.
DEFAULT_WEEKS = 13
ZONE = "Europe/London"
#: Fresh processes the page's cold run is timed in (the median is reported), and runs after
#: the first in each (warm: the median of them all).
COLD_RUNS, WARM_RUNS = 3, 5
#: Times each read of the page is replayed alone (the fastest is counted).
REPLAYS = 2
#: Statements named, slowest first, when saying where the database time goes.
SLOWEST = 5
#: Functions listed from the cold run's profile (--profile).
PROFILE_LINES = 30


def peak_mb() -> float:
    """This process's peak RSS. On Linux a spawned child's ru_maxrss starts from its parent's
    RSS at the fork (the exec keeps it), so read the peak of this process's own memory map."""
    try:
        status = Path("/proc/self/status").read_text()
    except OSError:
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    kilobytes = next(line.split()[1] for line in status.splitlines()
                     if line.startswith("VmHWM:"))
    return int(kilobytes) / 1024


def busy_share(seconds: float = 1.0) -> float:
    """How busy the CPUs are with other work: from /proc/stat over `seconds`, or else the load
    average per CPU."""
    def ticks() -> tuple[int, int]:
        fields = [int(f) for f in Path("/proc/stat").read_text().split("\n")[0].split()[1:]]
        idle = fields[3] + fields[4]  # idle and iowait
        return sum(fields) - idle, sum(fields)

    try:
        busy, total = ticks()
        time.sleep(seconds)
        later_busy, later_total = ticks()
    except OSError:
        return os.getloadavg()[0] / (os.cpu_count() or 1)
    return (later_busy - busy) / max(later_total - total, 1)


# ---- the seeded database --------------------------------------------------------------------


def migration_head() -> str:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    from campaigns.storage import db

    config = Config()
    config.set_main_option("script_location", str(db.MIGRATIONS))
    return ScriptDirectory.from_config(config).get_current_head() or "none"


def cached_sqlite(reseed: bool) -> tuple[Path, float | None]:
    """This week's seeded file, made now if missing; and how long seeding took, if it ran."""
    import _dashboard_seed as seeding

    anchor = seeding.anchor_for(datetime.now(UTC))
    key = f"dashboard-v{seeding.SEED_VERSION}-{migration_head()}-{anchor:%Y%m%d}"
    path = CACHE / f"{key}.db"
    if path.exists() and not reseed:
        return path, None
    CACHE.mkdir(parents=True, exist_ok=True)
    for old in CACHE.glob("dashboard-*.db*"):  # older seeds, or one left half made
        old.unlink()
    building = CACHE / f"{key}.building.db"
    started = time.perf_counter()
    _seed(f"sqlite:///{building}", anchor)
    _fold_log(building)
    seconds = time.perf_counter() - started
    building.replace(path)
    return path, seconds


def _fold_log(path: Path) -> None:
    """Checkpoint the write-ahead log into the file, so that copying the file copies it all."""
    import sqlite3

    connection = sqlite3.connect(path)
    connection.execute("PRAGMA journal_mode=DELETE")
    connection.close()


def seeded_postgres(url: str) -> float | None:
    """Seed an empty PostgreSQL database; None if it already holds this version's seed."""
    import _dashboard_seed as seeding

    from campaigns.storage import db

    engine = db.make_engine(url)
    try:
        db.upgrade(engine)
        if seeding.is_seeded(engine):
            return None
        if not seeding.is_empty(engine):
            raise SystemExit("that database holds other data: give the benchmark an empty one")
    finally:
        engine.dispose()
    started = time.perf_counter()
    _seed(url, seeding.anchor_for(datetime.now(UTC)))
    return time.perf_counter() - started


def _seed(url: str, anchor: datetime) -> None:
    import _dashboard_seed as seeding
    from sqlalchemy import text

    from campaigns.storage import db

    engine = db.make_engine(url)
    try:
        db.upgrade(engine)
        seeding.seed(engine, anchor)
        if engine.dialect.name == "postgresql":  # statistics, as autovacuum would have by now
            with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
                c.execute(text("ANALYZE"))
    finally:
        engine.dispose()


@dataclass(frozen=True)
class Facts:
    backend: str
    deliveries: int
    posted: int
    snapshots: int
    report_counts: int
    campaigns: int
    accounts: int
    anchor: datetime
    board_user_id: tuple[int, str]


def facts(url: str) -> Facts:
    """What the seeded database holds, counted."""
    import _dashboard_seed as seeding
    from sqlalchemy import func, select

    from campaigns.storage import db
    from campaigns.storage.models import (
        Account,
        Campaign,
        Delivery,
        DeliveryStatus,
        EngagementSnapshot,
        ReportCount,
        ReportDataset,
    )

    engine = db.make_engine(url)
    try:
        with db.session_factory(engine)() as session:
            def count(*what: Any) -> int:
                return session.scalar(select(func.count()).select_from(*what[:1])
                                      .where(*what[1:])) or 0

            anchor = session.scalars(select(ReportDataset.imported_at).where(
                ReportDataset.file_hash == seeding.MARKER)).one()
            return Facts(
                engine.dialect.name, count(Delivery),
                count(Delivery, Delivery.status == DeliveryStatus.POSTED),
                count(EngagementSnapshot), count(ReportCount), count(Campaign), count(Account),
                anchor, seeding.board_user_id(engine))
    finally:
        engine.dispose()


# ---- measuring, each in a process of its own ------------------------------------------------


def measure(job: Callable[..., None], *args: Any) -> Any:
    """Run `job(*args, results)` in a fresh process and return what it put on `results`."""
    context = multiprocessing.get_context("spawn")
    results = context.Queue()
    child = context.Process(target=job, args=(*args, results))
    child.start()
    while True:
        try:
            found = results.get(timeout=1)
            break
        except queue.Empty:
            if not child.is_alive():
                raise SystemExit(f"{job.__name__} died (exit code {child.exitcode}); "
                                 "its error is above") from None
    child.join()
    return found


def prepare_job(url: str, results: Any) -> None:
    """What `chorus dashboard` does before it starts Streamlit: upgrade the schema, and fit
    and store the effect estimates the board page shows first."""
    from campaigns.core.clock import utcnow
    from campaigns.storage import db
    from dashboard import startup

    started = time.perf_counter()
    engine = db.make_engine(url)
    try:
        db.upgrade(engine)
        fitted = startup.fit_first_effects(db.session_factory(engine), now=utcnow())
    finally:
        engine.dispose()
    results.put({"seconds": time.perf_counter() - started, "fitted": fitted})


def forget_estimates(url: str) -> int:
    """Delete the stored effect estimates (as after `chorus reports import`); how many."""
    from sqlalchemy import delete

    from campaigns.storage import db
    from campaigns.storage.models import StoredEffectEstimate

    engine = db.make_engine(url)
    try:
        with db.transaction(db.session_factory(engine)) as session:
            return session.execute(delete(StoredEffectEstimate)).rowcount
    finally:
        engine.dispose()


#: dashboard.startup's, repeated so that a measuring process need not import the app's
#: modules before it times them (main checks that they agree).
SCHEMA_READY_ENV = "CHORUS_DASHBOARD_SCHEMA_READY"


def schema_marker(url: str) -> str:
    import hashlib

    return hashlib.sha256(url.encode()).hexdigest()


@contextmanager
def _app_environment(url: str) -> Iterator[None]:
    """The dashboard pointed at `url`, run from an empty folder (no .env, no OIDC secrets),
    told that its schema is up to date, as `chorus dashboard` tells it."""
    os.environ["CHORUS_DATABASE_URL"] = url
    os.environ["CHORUS_CONTENT_DIR"] = str(CONTENT)
    os.environ[SCHEMA_READY_ENV] = schema_marker(url)
    with tempfile.TemporaryDirectory() as scratch:
        os.chdir(scratch)
        yield


def _quiet_streamlit() -> None:
    """Streamlit warns of a missing runtime when an app module is imported outside one, and
    AppTest runs without one. Errors still show: now, and after Streamlit reads its config
    (which sets the level again)."""
    from streamlit import config, logger

    def quiet() -> None:
        logger.set_log_level("error")

    quiet()
    config.on_config_parsed(quiet, force_connect=True)


def _start_streamlit() -> tuple[float, Any]:
    """Bring Streamlit up as a server is before its first visitor: one run of an empty script,
    which also finds the installed components (a server does that once, at start-up; AppTest
    does it on each instance's first run). Returns the seconds it took and that registry."""
    from streamlit.testing.v1 import AppTest

    started = time.perf_counter()
    empty = AppTest.from_string("", default_timeout=300).run()
    return time.perf_counter() - started, getattr(empty, "_bidi_component_manager", None)


def _open_board_page(user_key: str, user_id: tuple[int, str], components: Any) -> Any:
    """An AppTest session signed in as the board user (the marker the sign-in form leaves),
    on the already started Streamlit."""
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(APP), default_timeout=300)
    if components is not None and hasattr(at, "_bidi_component_manager"):
        at._bidi_component_manager = components
    at.session_state[user_key] = user_id
    return at


def _trouble(at: Any) -> str | None:
    """Why this run is not a rendering of the board page, if it is not."""
    if at.exception:
        return "the page raised: " + "\n".join(str(e.value) for e in at.exception)
    titles = [t.value for t in at.title]
    if PAGE_TITLE not in titles:
        return f"the first page shown was not {PAGE_TITLE!r} but {titles}"
    return None


def _timed(at: Any) -> float:
    started = time.perf_counter()
    at.run()
    return time.perf_counter() - started


def render_job(url: str, user_key: str, user_id: tuple[int, str], inspect: bool,
               results: Any) -> None:
    """A new server's first visit to the board page in this fresh process, after the server's
    own start-up (Streamlit, then the app's imports, as dashboard/server.py does them); then
    WARM_RUNS more (warm); then a run after the cached reads expired; with `inspect`, that
    run's SQL is replayed."""
    with _app_environment(url):
        _quiet_streamlit()
        streamlit_up, components = _start_streamlit()  # imports no pandas, numpy or SQLAlchemy
        started = time.perf_counter()
        from dashboard import startup

        startup.import_app_modules()  # what dashboard/server.py does before anyone visits
        imports = time.perf_counter() - started
        before = peak_mb()
        at = _open_board_page(user_key, user_id, components)
        cold = _timed(at)
        trouble = _trouble(at)
        warm = [_timed(at) for _ in range(WARM_RUNS)]
        found = {"cold": cold, "warm": warm, "before": before,
                 "startup": streamlit_up + imports, "imports": imports,
                 "trouble": trouble or _trouble(at),
                 "metrics": {m.label: m.value for m in at.metric},
                 "errors": [e.value for e in at.error]}
        found["expired"], statements = _expired_run(at, record=inspect)
        found["statements"] = _replay(statements) if inspect else []
        found["peak"] = peak_mb()
    results.put(found)


def empty_job(results: Any) -> None:
    """The empty page, timed as the board page is: Streamlit rendering a page with one title,
    its first run after Streamlit's start-up in this fresh process, then WARM_RUNS more."""
    from streamlit.testing.v1 import AppTest

    _quiet_streamlit()
    _, components = _start_streamlit()
    at = AppTest.from_string(EMPTY_PAGE, default_timeout=300)
    if components is not None and hasattr(at, "_bidi_component_manager"):
        at._bidi_component_manager = components
    first = _timed(at)
    runs = [_timed(at) for _ in range(WARM_RUNS)]
    titles = [t.value for t in at.title]
    results.put({"first": first, "runs": runs,
                 "trouble": None if titles == [PAGE_TITLE] else f"it showed {titles}"})


def _expired_run(at: Any, *, record: bool) -> tuple[float, list[tuple[str, Any]]]:
    """The page once its cached reads have expired (st.cache_data cleared, as at the end of
    its time to live; the engine stays): how long it takes, and with `record` each statement
    it ran."""
    import streamlit as st
    from sqlalchemy import Engine, event

    seen: list[tuple[str, Any]] = []

    def remember(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        seen.append((statement, parameters))

    st.cache_data.clear()
    if record:
        event.listen(Engine, "before_cursor_execute", remember)
    started = time.perf_counter()
    at.run()
    expired = time.perf_counter() - started
    if record:
        event.remove(Engine, "before_cursor_execute", remember)
    return expired, seen


def is_read(statement: str) -> bool:
    return statement.lstrip().upper().startswith(("SELECT", "WITH"))


def _replay(seen: list[tuple[str, Any]]) -> list[tuple[float, int, str, Any]]:
    """Each read alone, fetched in full (a board page only reads; anything else is skipped)."""
    from campaigns.storage import db

    engine = db.make_engine(os.environ["CHORUS_DATABASE_URL"])
    timed = []
    try:
        with engine.connect() as connection:
            for statement, parameters in seen:
                if not is_read(statement):
                    continue
                times = []
                for _ in range(REPLAYS):
                    started = time.perf_counter()
                    rows = connection.exec_driver_sql(statement, parameters).fetchall()
                    times.append(time.perf_counter() - started)
                timed.append((min(times), len(rows), statement, parameters))
    finally:
        engine.dispose()
    return sorted(timed, key=lambda t: -t[0])


def profile_job(url: str, user_key: str, user_id: tuple[int, str], results: Any) -> None:
    """The cold run and then a warm one, in another fresh process, each under cProfile.
    AppTest runs the script in a thread of its own, so a profiler is started in every thread
    begun while profiling."""
    with _app_environment(url):
        _quiet_streamlit()
        _, components = _start_streamlit()
        from dashboard import startup

        startup.import_app_modules()  # as dashboard/server.py does
        at = _open_board_page(user_key, user_id, components)
        cold = _profiled(at.run)
        warm = _profiled(at.run)
    results.put((cold, warm))


def _profiled(run: Callable[[], Any]) -> str:
    import cProfile
    import io
    import pstats
    import threading

    profilers: list[cProfile.Profile] = []

    def start_profiler(*_: Any) -> None:
        profilers.append(cProfile.Profile())
        profilers[-1].enable()  # replaces this hook for the rest of the thread

    threading.setprofile(start_profiler)
    run()
    threading.setprofile(None)
    out = io.StringIO()
    stats = pstats.Stats(*profilers, stream=out).sort_stats("cumulative")
    stats.print_stats(r"(dashboard|campaigns)/", PROFILE_LINES)
    stats.print_stats(PROFILE_LINES // 2)
    return out.getvalue()


def explain(url: str, statement: str, parameters: Any) -> list[str]:
    """The database's plan for one read: SQLite's query plan, or PostgreSQL's plan as run
    (EXPLAIN ANALYZE, which runs the statement: only ever given a SELECT)."""
    from campaigns.storage import db

    engine = db.make_engine(url)
    prefix = ("EXPLAIN QUERY PLAN " if engine.dialect.name == "sqlite" else
              "EXPLAIN (ANALYZE, BUFFERS) " if is_read(statement) else "EXPLAIN ")
    try:
        with engine.connect() as connection:
            rows = connection.exec_driver_sql(prefix + statement, parameters).fetchall()
    finally:
        engine.dispose()
    return [str(row[-1]) for row in rows]  # SQLite: the detail column; PostgreSQL: the only one


# ---- the naive baseline ---------------------------------------------------------------------


def baseline_job(url: str, weeks: int, results: Any) -> None:
    """Load the tables whole into pandas and work out the board's headline figures there."""
    import pandas as pd

    from campaigns.storage import db

    engine = db.make_engine(url)
    before = peak_mb()
    started = time.perf_counter()
    with engine.connect() as connection:
        deliveries = pd.read_sql("deliveries", connection)
        snapshots = pd.read_sql("engagement_snapshots", connection)
        reports = pd.read_sql("report_counts", connection)
        accounts = pd.read_sql("accounts", connection)
    figures = headline_in_pandas(deliveries, snapshots, reports, accounts, weeks)
    elapsed = time.perf_counter() - started
    engine.dispose()
    results.put({"seconds": elapsed, "peak": peak_mb(), "before": before, "figures": figures,
                 "weeks": weeks})


def period_bounds(weeks: int, today: date) -> tuple[date, date, date]:
    """Mondays starting the period before, this period, and the week after this period: the
    page's default period ends with the latest week that has ended, the one before this."""
    after = today - timedelta(days=today.weekday())  # this week's Monday: not over yet
    return after - timedelta(weeks=2 * weeks), after - timedelta(weeks=weeks), after


def headline_in_pandas(
    deliveries: Any, snapshots: Any, reports: Any, accounts: Any, weeks: int
) -> dict[str, dict[str, int]]:
    """The page's headline, for its default period and the one before: posts sent and reach
    and engagement gained by real (not sandbox) accounts, each delivery's counters taken as
    running maxima (campaigns.analysis.reach); and offences reported, all sources added."""
    import pandas as pd

    zone = ZoneInfo(ZONE)
    mondays = period_bounds(weeks, datetime.now(zone).date())
    instants = [pd.Timestamp(datetime.combine(m, datetime.min.time(), zone)).tz_convert(UTC)
                for m in mondays]
    real = deliveries["account_id"].isin(accounts.loc[~accounts["is_sandbox"].astype(bool), "id"])
    posted_at = pd.to_datetime(deliveries.loc[real, "posted_at"], utc=True)
    readings = snapshots[snapshots["delivery_id"].isin(deliveries.loc[real, "id"])]
    read_at = pd.to_datetime(readings["read_at"], utc=True)
    counters = ["impressions", "likes", "reposts", "replies", "quotes"]
    offences = reports[(reports["strand"] == "all") & (reports["measure"] == "offences")]
    week = pd.to_datetime(offences["period_start"])

    def highest(until: pd.Timestamp) -> pd.Series:
        return readings.loc[read_at < until].groupby("delivery_id")[counters].max().sum()

    figures: dict[str, dict[str, int]] = {"posts": {}, "reach": {}, "engagement": {},
                                          "reports": {}}
    for label, first, stop in (("before", 0, 1), ("now", 1, 2)):
        start, end = instants[first], instants[stop]
        gained = highest(end) - highest(start)
        figures["posts"][label] = int(((posted_at >= start) & (posted_at < end)).sum())
        figures["reach"][label] = int(gained["impressions"])
        figures["engagement"][label] = int(gained[counters[1:]].sum())
        inside = (week >= pd.Timestamp(mondays[first])) & (week < pd.Timestamp(mondays[stop]))
        figures["reports"][label] = int(offences.loc[inside, "count"].sum())
    return figures


# ---- output ---------------------------------------------------------------------------------


def verdict(met: bool) -> str:
    return "met" if met else "NOT met"


def short(statement: str, width: int = 150) -> str:
    flat = " ".join(statement.split())
    return flat if len(flat) <= width else flat[:width - 1] + "…"


@dataclass(frozen=True)
class PageTimes:
    """The board page over COLD_RUNS fresh processes, and the empty page in one more."""

    cold: float  # median first visit
    colds: list[float]
    expired: float  # median run after the cached reads expired
    warm: float  # median of every run between them
    second: float  # median second run
    sql: float  # the reads of the first process's expired run, each replayed alone
    empty: float  # the empty page: median of its runs after the first
    empty_first: float  # and its first run
    peak: float  # largest peak RSS
    before: float  # RSS with Streamlit started and the app imported, before the first visit
    startup: float  # the server's start-up (Streamlit, then the app's imports), not counted
    imports: float  # the app's imports in it
    first: dict[str, Any]  # the first process's findings


def page_times(runs: list[dict[str, Any]], empty: dict[str, Any]) -> PageTimes:
    return PageTimes(
        cold=statistics.median(r["cold"] for r in runs), colds=[r["cold"] for r in runs],
        expired=statistics.median(r["expired"] for r in runs),
        warm=statistics.median(w for r in runs for w in r["warm"]),
        second=statistics.median(r["warm"][0] for r in runs),
        sql=sum(t for t, *_ in runs[0]["statements"]),
        empty=statistics.median(empty["runs"]), empty_first=empty["first"],
        peak=max(r["peak"] for r in runs), before=statistics.median(r["before"] for r in runs),
        startup=statistics.median(r["startup"] for r in runs),
        imports=statistics.median(r["imports"] for r in runs), first=runs[0])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--postgres", metavar="URL",
                        help="seed and time this (empty) PostgreSQL database instead of SQLite")
    parser.add_argument("--reseed", action="store_true", help="seed SQLite again, not cached")
    parser.add_argument("--profile", action="store_true",
                        help="profile a cold and a warm run; plans of the slowest statements")
    args = parser.parse_args()
    _quiet_streamlit()
    from dashboard import startup
    from dashboard.auth import USER_KEY

    if (startup.SCHEMA_READY_ENV, startup.schema_marker("x")) != (SCHEMA_READY_ENV,
                                                                  schema_marker("x")):
        raise SystemExit("bench/dashboard.py no longer tells the app its schema is ready as "
                         "chorus dashboard does: see dashboard.startup")

    try:  # the page's own default period, so that the two headlines can be compared
        from dashboard.insights import periods

        weeks = int(getattr(periods, "DEFAULT_WEEKS", DEFAULT_WEEKS))
    except ImportError:
        weeks = DEFAULT_WEEKS

    with tempfile.TemporaryDirectory() as folder:
        if args.postgres:
            url, seeded = args.postgres, seeded_postgres(args.postgres)
            kept = "in that database"
        else:
            path, seeded = cached_sqlite(args.reseed)
            url = f"sqlite:///{folder}/chorus.db"
            shutil.copyfile(path, f"{folder}/chorus.db")
            kept = f"kept as {path.relative_to(ROOT)}"
        found = facts(url)
        print(f"board page on {found.posted:,} posted deliveries ({found.deliveries:,} in all, "
              f"{found.campaigns} campaigns, {found.accounts} accounts), "
              f"{found.snapshots:,} engagement snapshots and {found.report_counts:,} weekly "
              f"report counts to {found.anchor:%Y-%m-%d} ({found.backend}, this machine)",
              flush=True)
        prepared = measure(prepare_job, url)
        print(f"start-up as chorus dashboard's (schema check; {prepared['fitted']} effect "
              f"estimates fitted and stored): {prepared['seconds']:.2f} s before Streamlit "
              "starts, not counted in the page's times", flush=True)
        busy = busy_share()
        warning = " (other work is competing: the figures are inflated)" if busy > 0.2 else ""
        print(f"machine: {os.cpu_count()} CPUs, {busy:.0%} busy with other work just before "
              f"timing{warning}", flush=True)
        print(f"seed: {'seeded in ' + format(seeded, '.1f') + ' s' if seeded else 'cached'}, "
              f"{kept}", flush=True)
        runs = []
        for number in range(COLD_RUNS):
            runs.append(measure(render_job, url, USER_KEY, found.board_user_id, number == 0))
            if runs[-1]["trouble"]:
                raise SystemExit(f"cannot time the board page: {runs[-1]['trouble']}")
        empty = measure(empty_job)
        if empty["trouble"]:
            raise SystemExit(f"cannot time the empty page: {empty['trouble']}")
        page = page_times(runs, empty)
        forgotten = forget_estimates(url)
        unfitted = measure(render_job, url, USER_KEY, found.board_user_id, False)
        if unfitted["trouble"]:
            raise SystemExit(f"cannot time the board page: {unfitted['trouble']}")
        base = measure(baseline_job, url, weeks)
        report_page(page, base)
        print(f"    cold with no stored estimates ({forgotten} deleted first; the page fits "
              f"and stores them itself): {unfitted['cold']:.2f} s in one fresh process")
        if args.profile:
            report_profile(url, page, measure(profile_job, url, USER_KEY, found.board_user_id))
        report_targets(page, base)


def report_page(page: PageTimes, base: dict[str, Any]) -> None:
    first = page.first
    statements = first["statements"]
    colds = ", ".join(f"{c:.2f}" for c in page.colds)
    print(f"    page: first visit {page.cold:.2f} s (median first run in {COLD_RUNS} fresh "
          f"processes: {colds}; the server's start-up before it, not counted: "
          f"{page.startup:.2f} s, {page.imports:.2f} s of it the app's imports)")
    print(f"          warm {page.warm:.2f} s (median of runs 2-{WARM_RUNS + 1} of each; the "
          f"second run alone {page.second:.2f} s); RSS {page.before:.0f} MB before the first "
          f"visit, peak {page.peak:.1f} MB")
    print(f"          cache expired (st.cache_data cleared, modules and engine kept): "
          f"{page.expired:.2f} s (median of the {COLD_RUNS}); the first one's "
          f"{len(statements)} SQL statements take {page.sql:.2f} s replayed alone")
    for seconds, rows, statement, _ in statements[:SLOWEST]:
        print(f"          {seconds:6.3f} s {rows:>9,} rows  {short(statement)}")
    print(f"    empty page (one title, timed the same way in a fresh process): first run "
          f"{page.empty_first:.3f} s, then {page.empty:.3f} s (median of {WARM_RUNS})")
    print(f"baseline: {base['seconds']:.2f} s to pd.read_sql the tables and work out the "
          f"headline in pandas; RSS {base['before']:.0f} MB before, peak {base['peak']:.1f} MB")
    shown = " · ".join(f"{k} {v}" for k, v in first["metrics"].items()) or "no st.metric"
    print(f"    page shows: {shown}")
    for error in first["errors"]:
        print(f"    page shows an error box: {error}")
    figures = base["figures"]
    print(f"baseline finds, {base['weeks']} weeks to the last that has ended against the "
          f"{base['weeks']} before: " + ", ".join(f"{name} {f['now']:,} ({f['before']:,})"
                                 for name, f in figures.items()))
    compare(first["metrics"], figures)


def _same(shown: str, value: int) -> bool:
    """Whether a figure as the page shows it ('1,234', or '<5' when suppressed) is `value`."""
    plain = shown.replace(",", "").strip()
    if plain.startswith("<") and plain[1:].isdigit():
        return value < int(plain[1:])
    return plain == str(value)


def compare(metrics: dict[str, str], figures: dict[str, dict[str, int]]) -> None:
    """Say whether the page's headline figures are the baseline's (matched by first word)."""
    matched, differ = [], []
    for label, shown in metrics.items():
        name = label.split()[0].casefold()
        if name not in figures:
            continue
        matched.append(label)
        if not _same(shown, figures[name]["now"]):
            differ.append(f"{label} (page {shown}, baseline {figures[name]['now']:,})")
    if differ:
        print(f"CHECK FAILED: page and baseline differ on {'; '.join(differ)}")
    elif matched:
        print(f"check: page and baseline agree on {', '.join(matched)}")
    else:
        print("check: no headline figure on the page to compare with the baseline")


def report_profile(url: str, page: PageTimes, profiles: tuple[str, str]) -> None:
    cold, warm = profiles
    print("\n---- a cold run under cProfile (another fresh process) ----")
    print(cold.rstrip())
    print("\n---- the warm run after it, under cProfile ----")
    print(warm.rstrip())
    print("---- the slowest statements' plans ----")
    for seconds, _, statement, parameters in page.first["statements"][:3]:
        print(f"{seconds:.3f} s: {short(statement, 400)}")
        for line in explain(url, statement, parameters):
            print(f"    {line}")
    print()


def report_targets(page: PageTimes, base: dict[str, Any]) -> None:
    first, expired, warm, sql, empty = page.cold, page.expired, page.warm, page.sql, page.empty
    targets = [
        (f"first visit < {FIRST_PER_EXPIRED:g} x cache expired", first,
         FIRST_PER_EXPIRED * expired),
        (f"cache expired < {EXPIRED_PER_SQL:g} x sql + empty page", expired,
         EXPIRED_PER_SQL * sql + empty),
        (f"warm < {WARM_PER_EMPTY:g} x empty page", warm, WARM_PER_EMPTY * empty),
    ]
    for name, value, limit in targets:
        print(f"target {name} ({limit:.2f} s): {verdict(value < limit)} ({value:.2f} s)")
    print(f"target peak < {TARGET_PEAK:.0f} MB: {verdict(page.peak < TARGET_PEAK)} "
          f"({page.peak:.1f} MB)")
    print(f"board page: first visit {first:.2f} s, cache expired {expired:.2f} s, warm "
          f"{warm:.2f} s, sql {sql:.2f} s, empty page {empty:.3f} s, peak {page.peak:.1f} MB")


if __name__ == "__main__":
    main()
