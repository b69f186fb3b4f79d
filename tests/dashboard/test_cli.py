"""`chorus users` and `chorus dashboard` through Typer."""

from __future__ import annotations

import json
import os
import signal
import sys
import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from campaigns.cli import app
from campaigns.cli.dashboard import run_until_stopped
from campaigns.core.clock import utcnow
from campaigns.storage import db
from campaigns.storage.models import StoredEffectEstimate, User
from campaigns.storage.throttle import ACCOUNT_RULE
from campaigns.storage.users import SignedIn, authenticate, verify_password
from dashboard import startup
from dashboard.serve import SERVER
from tests.conftest import CONTENT

SYNTHETIC_REPORTS = CONTENT / "reports" / "york-synthetic-weekly-2023-2026.csv"

runner = CliRunner()
PASSWORD = "a long enough pass phrase"


def chorus(*args: str, input: str | None = None) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args), input=input)
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def loaded(env: str) -> str:
    code, _, err = chorus("content", "load", str(CONTENT))
    assert code == 0, err
    return env


def stored(url: str, email: str) -> User:
    engine = db.make_engine(url)
    with db.session_factory(engine)() as session:
        user = session.scalars(select(User).where(User.email == email)).one()
    engine.dispose()
    return user


def test_users_add_reads_the_password_from_stdin_and_stores_only_its_hash(loaded: str) -> None:
    code, out, err = chorus("users", "add", "Cat@York.example", "--name", "Cat Council",
                            "--role", "partner", "--organisation", "city-of-york-council",
                            "--password-stdin", input=PASSWORD + "\n")
    assert code == 0, err
    assert out.strip() == "added partner cat@york.example (Cat Council of city-of-york-council)"
    assert PASSWORD not in out + err
    user = stored(loaded, "cat@york.example")
    assert user.password_hash and verify_password(user.password_hash, PASSWORD)


def test_users_add_asks_for_the_password_twice_without_stdin(loaded: str) -> None:
    code, _, err = chorus("users", "add", "olu@chorus.example", "--name", "Olu", "--role",
                          "officer", input=f"{PASSWORD}\n{PASSWORD}\n")
    assert code == 0, err
    assert stored(loaded, "olu@chorus.example").password_hash


def test_users_add_without_a_password_is_for_oidc_sign_in(loaded: str) -> None:
    code, _, err = chorus("users", "add", "bea@chorus.example", "--name", "Bea", "--role",
                          "board", "--no-password")
    assert code == 0, err
    assert stored(loaded, "bea@chorus.example").password_hash is None


@pytest.mark.parametrize(("args", "message"), [
    (("--role", "admin", "--no-password"), "unknown role 'admin'"),
    (("--role", "partner", "--no-password"), "give --organisation KEY"),
    (("--role", "partner", "--organisation", "nowhere", "--no-password"),
     "no organisation 'nowhere'"),
    (("--role", "officer", "--password-stdin"), "no password on standard input"),
    (("--role", "officer", "--password-stdin", "--no-password"), "not both"),
])
def test_users_add_refuses_what_it_cannot_store(
    loaded: str, args: tuple[str, ...], message: str
) -> None:
    code, _, err = chorus("users", "add", "x@chorus.example", "--name", "X", *args, input="")
    assert code == 1
    assert message in err


def test_users_list_shows_roles_and_sign_in_but_never_a_hash(loaded: str) -> None:
    chorus("users", "add", "olu@chorus.example", "--name", "Olu", "--role", "officer",
           "--password-stdin", input=PASSWORD)
    chorus("users", "add", "bea@chorus.example", "--name", "Bea", "--role", "board",
           "--no-password")
    code, out, _ = chorus("users", "list")
    assert code == 0
    assert "argon2" not in out
    lines = out.splitlines()
    assert lines[0].split() == ["email", "name", "role", "organisation", "sign-in", "disabled"]
    assert any(line.split()[:3] == ["olu@chorus.example", "Olu", "officer"] for line in lines)
    code, out, _ = chorus("users", "list", "--json")
    rows = {r["email"]: r for r in json.loads(out)}
    assert rows["bea@chorus.example"]["sign_in"] == "oidc"
    assert rows["olu@chorus.example"]["sign_in"] == "password"


def test_users_disable_and_enable(loaded: str) -> None:
    chorus("users", "add", "bea@chorus.example", "--name", "Bea", "--role", "board",
           "--no-password")
    code, out, _ = chorus("users", "disable", "bea@chorus.example")
    assert code == 0 and out.startswith("disabled board bea@chorus.example")
    assert stored(loaded, "bea@chorus.example").disabled
    chorus("users", "enable", "BEA@chorus.example")
    assert not stored(loaded, "bea@chorus.example").disabled
    code, _, err = chorus("users", "disable", "nobody@chorus.example")
    assert code == 1 and "no user nobody@chorus.example" in err


def test_users_sign_out_ends_every_session_and_unlock_lifts_a_sign_in_pause(loaded: str) -> None:
    chorus("users", "add", "bea@chorus.example", "--name", "Bea", "--role", "board",
           "--password-stdin", input=f"{PASSWORD}\n")
    secret = stored(loaded, "bea@chorus.example").session_secret
    code, out, _ = chorus("users", "sign-out", "BEA@chorus.example")
    assert code == 0 and out.startswith("signed out everywhere: board bea@chorus.example")
    assert stored(loaded, "bea@chorus.example").session_secret != secret
    engine = db.make_engine(loaded)
    sessions = db.session_factory(engine)
    for second in range(ACCOUNT_RULE.limit):
        with db.transaction(sessions) as session:
            authenticate("bea@chorus.example", "a wrong guess", session=session,
                         now=utcnow() + timedelta(seconds=second))
    code, out, _ = chorus("users", "unlock", "bea@chorus.example")
    assert code == 0 and out.startswith(
        f"unlocked bea@chorus.example: {ACCOUNT_RULE.limit} recent failed sign-in(s)")
    with db.transaction(sessions) as session:
        assert isinstance(authenticate("bea@chorus.example", PASSWORD, session=session,
                                       now=utcnow()), SignedIn)
    engine.dispose()
    code, out, _ = chorus("users", "unlock", "bea@chorus.example")
    assert code == 0 and "nothing to unlock" in out


def test_users_list_with_no_users_says_how_to_add_one(env: str) -> None:
    code, out, _ = chorus("users", "list")
    assert code == 0 and "chorus users add" in out


def test_dashboard_help_describes_the_command() -> None:
    code, out, _ = chorus("dashboard", "--help")
    assert code == 0
    for option in ("--port", "--address", "--content"):
        assert option in out


def test_dashboard_runs_streamlit_with_xsrf_protection_on_and_the_content_directory(
    env: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[tuple[list[str], dict[str, str]]] = []

    def fake_run(command: list[str], environment: dict[str, str]) -> int:
        calls.append((command, environment))
        return 0

    monkeypatch.setattr("campaigns.cli.dashboard.run_until_stopped", fake_run)
    code, out, err = chorus("dashboard", "--port", "8600", "--content", str(CONTENT))
    assert code == 0, err
    assert "no dashboard users yet" in err
    assert "http://127.0.0.1:8600" in out
    [(command, environment)] = calls
    assert command[1:4] == ["-m", "streamlit", "run"]
    assert command[4] == str(SERVER) and SERVER.is_file()
    flags = dict(zip(command[5::2], command[6::2], strict=True))
    assert flags["--server.port"] == "8600"
    assert flags["--server.address"] == "127.0.0.1"
    assert flags["--server.enableXsrfProtection"] == "true"
    assert environment["CHORUS_CONTENT_DIR"] == str(CONTENT.resolve())


def test_dashboard_upgrades_the_schema_and_fits_the_first_estimates_before_streamlit(
    loaded: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """So that the app's first page neither checks the schema again nor fits a model."""
    environments: list[dict[str, str]] = []

    def fake_run(command: list[str], environment: dict[str, str]) -> int:
        environments.append(environment)
        return 0

    monkeypatch.setattr("campaigns.cli.dashboard.run_until_stopped", fake_run)
    code, _, err = chorus("reports", "import", str(SYNTHETIC_REPORTS))
    assert code == 0, err
    code, out, err = chorus("dashboard")
    assert code == 0, err
    [environment] = environments
    assert startup.schema_ready(loaded, environment)
    assert loaded not in environment[startup.SCHEMA_READY_ENV]  # a digest, not the address
    fitted = int(out.split("fitted and stored ")[1].split()[0])
    with db.session_factory(engine := db.make_engine(loaded))() as session:
        assert session.scalar(select(func.count()).select_from(StoredEffectEstimate)) == fitted
    engine.dispose()
    assert fitted > 0
    code, out, _ = chorus("dashboard")  # the next start finds them stored
    assert code == 0 and "fitted and stored" not in out


def test_stopping_the_dashboard_command_stops_streamlit_too() -> None:
    """A service manager's SIGTERM reaches only `chorus dashboard`; it must pass it on."""
    child = [sys.executable, "-c", "import time; time.sleep(60)"]
    threading.Timer(0.5, os.kill, (os.getpid(), signal.SIGTERM)).start()
    assert run_until_stopped(child, dict(os.environ)) == -signal.SIGTERM
