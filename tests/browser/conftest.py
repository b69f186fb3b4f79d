"""The real dashboard in a real browser: a seeded database in a scratch folder, `streamlit run
dashboard/server.py` (the app with its session-cookie route, as `chorus dashboard` serves it)
as a child process pointed at it, and Debian's Chromium driven by Playwright.

The database is the one the AppTest suite uses (tests/dashboard/conftest.py: content loaded,
campaigns planned and approved, posts in every state that needs attention, a user for each
role), with the synthetic weekly reporting file imported so the data pages have content.
Both the server and the browser are started once per test session.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from playwright.sync_api import Browser, Playwright, sync_playwright

from campaigns.storage import db
from campaigns.storage.reports import import_report_file
from tests.conftest import CONTENT, NOW, ROOT
from tests.dashboard.conftest import _build

if TYPE_CHECKING:
    from tests.browser.officers_day import Demo

CHROMIUM = Path("/usr/bin/chromium")
#: Flags for a closed network: no sandbox (containers), no GPU, and nothing that phones home.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
REPORT = CONTENT / "reports" / "york-synthetic-weekly-2023-2026.csv"
#: Where each page's screenshot goes (var/ is git-ignored).
SCREENSHOTS = ROOT / "var" / "screenshots"
STARTUP_TIMEOUT = 30.0
STOP_TIMEOUT = 10.0


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _seed(folder: Path) -> str:
    path = folder / "chorus.db"
    url = _build(path).url
    engine = db.make_engine(url)
    try:
        with db.transaction(db.session_factory(engine)) as session:
            import_report_file(REPORT, session=session, now=NOW, imported_by="browser test")
    finally:
        engine.dispose()
    return url


def _healthy(base_url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{base_url}/_stcore/health", timeout=1) as response:
            return bool(response.status == 200)
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return False


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=STOP_TIMEOUT)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=STOP_TIMEOUT)


class NotServing(RuntimeError):
    """A Streamlit script did not start, or logged a traceback."""


def clean_environment(database_url: str | None) -> dict[str, str]:
    """Only this run's settings: none of the developer's CHORUS_* or STREAMLIT_* variables."""
    env = {name: value for name, value in os.environ.items()
           if not name.startswith(("CHORUS_", "STREAMLIT_"))}
    env["PYTHONUNBUFFERED"] = "1"
    if database_url:
        env |= {"CHORUS_DATABASE_URL": database_url, "CHORUS_CONTENT_DIR": str(CONTENT)}
    return env


@contextmanager
def serve_script(script: str, folder: Path, env: dict[str, str]) -> Iterator[str]:
    """`streamlit run script` as a child process, its log in `folder`; its address. Raises
    NotServing if it does not start, or if its log holds a traceback when it stops."""
    # An empty secrets file of the run's own: a developer's .streamlit/secrets.toml with an
    # [auth] section would otherwise switch the app to OIDC and hide the local sign-in form.
    secrets = folder / "secrets.toml"
    secrets.write_text("")
    port = _free_port()
    base_url = f"http://127.0.0.1:{port}"
    log_path = folder / f"streamlit-{port}.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", script,
             "--server.headless", "true", "--server.port", str(port),
             "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false",
             "--secrets.files", str(secrets)],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while not _healthy(base_url):
            if process.poll() is not None or time.monotonic() > deadline:
                raise NotServing(f"{script} did not start (exit code {process.poll()}):\n"
                                 f"{log_path.read_text(errors='replace')[-4000:]}")
            time.sleep(0.2)
        yield base_url
    finally:
        _stop(process)
    log_text = log_path.read_text(errors="replace")
    if "Traceback" in log_text:
        raise NotServing(f"{script} logged an error:\n{log_text[-4000:]}")


@contextmanager
def serving(database_url: str, folder: Path,
            environment: dict[str, str] | None = None) -> Iterator[str]:
    """The dashboard (`dashboard/server.py`) over `database_url` (in `environment`, if given);
    the test fails if it does not start or logs a traceback."""
    env = environment if environment is not None else clean_environment(database_url)
    try:
        with serve_script("dashboard/server.py", folder, env) as url:
            yield url
    except NotServing as failed:
        pytest.fail(str(failed))


@pytest.fixture(scope="session")
def served_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("browser")


@pytest.fixture(scope="session")
def app_database_url(served_folder: Path) -> str:
    """The URL of the freshly seeded database the browser tests' dashboard serves."""
    return _seed(served_folder)


@pytest.fixture(scope="session")
def app_url(app_database_url: str, served_folder: Path) -> Iterator[str]:
    """The dashboard's address, served by `streamlit run` over a freshly seeded database."""
    with serving(app_database_url, served_folder) as base_url:
        yield base_url


@pytest.fixture(scope="session")
def replayed_demo(tmp_path_factory: pytest.TempPathFactory) -> Demo:
    """The demo's data with its last 60 days replayed through the sandbox (posts sent,
    engagement read): what the board's tests read. Built once per test session."""
    from tests.browser.officers_day import build_demo

    return build_demo(tmp_path_factory.mktemp("replayed-demo"), replay_days=60)


@pytest.fixture(scope="session")
def replayed_demo_url(replayed_demo: Demo,
                      tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The dashboard over `replayed_demo`, served as the demo serves it."""
    with serving(replayed_demo.database_url, tmp_path_factory.mktemp("replayed-demo-serve"),
                 environment=replayed_demo.environment()) as url:
        yield url


@pytest.fixture(scope="session")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="session")
def browser(playwright: Playwright) -> Iterator[Browser]:
    """Debian's Chromium: Playwright's own browser builds are never downloaded here."""
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is missing (Debian's chromium package; .ci/run installs it)")
    browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
    yield browser
    browser.close()
