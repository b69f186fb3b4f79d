"""`chorus accounts`: connecting X accounts against the sandbox, and keeping their tokens secret."""

from __future__ import annotations

import io
import json
import logging
import re
import stat
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, cast

import pytest
import requests
import typer
from sqlalchemy import select

from campaigns.cli import app
from campaigns.config.secrets import DEMO_KEY_FILE, Credentials, Vault
from campaigns.storage import db
from campaigns.storage.accounts import load_credentials, store_credentials
from campaigns.storage.models import Account
from scheduler.publishers import x
from scheduler.publishers.base import Outcome
from tests.e2e import Sandbox, request
from tests.integration.conftest import account, chorus, runner


class AccountHolder:
    """Stands in for the person at the keyboard: reads the address Chorus printed, approves
    in the sandbox's consent page, and types the PIN or the address the browser landed on.

    typer's CliRunner takes all input before the command starts, and the PIN or redirect only
    exists once the command has printed its address, so the holder answers `typer.prompt`.
    """

    def __init__(self, username: str) -> None:
        self.username = username
        self.prompts: list[str] = []

    def answer(self, text: str, *args: Any, **kwargs: Any) -> str:
        self.prompts.append(text)
        sys.stdout.flush()
        printed = cast(io.BytesIO, sys.stdout.buffer).getvalue().decode()
        address = re.findall(r"https?://\S+", printed)[-1]
        if text == "PIN":
            page = requests.get(address, params={"username": self.username}, timeout=5,
                                headers={"Accept": "application/json"})
            return str(page.json()["pin"])
        landed = requests.get(address, params={"username": self.username}, timeout=5,
                              allow_redirects=False)
        assert landed.status_code in (302, 303), landed.text
        return landed.headers["Location"]


@pytest.fixture
def holder(monkeypatch: pytest.MonkeyPatch) -> Iterator[AccountHolder]:
    person = AccountHolder("NYP_YorkHate")
    monkeypatch.setattr(typer, "prompt", person.answer)
    yield person


def test_connecting_a_sandbox_account_stores_its_tokens_encrypted(
    chorus_env: str, sandbox: Sandbox, key: str
) -> None:
    code, out, err = chorus("accounts", "connect", "x", "--sandbox", "YorkAgainstHate")

    assert code == 0, err
    assert "lead-x (@YorkAgainstHate) connected as @YorkAgainstHate on the sandbox" in out
    issued = sandbox.control.create_account("YorkAgainstHate")
    stored = account(chorus_env, "lead-x")
    assert (stored.state, stored.is_sandbox, stored.remote_user_id) == (
        "connected", True, issued["id"])
    assert stored.token_encrypted is not None
    credentials = Vault(key).open(stored.token_encrypted)
    assert credentials.kind == "oauth1"
    assert credentials["access_token"] == issued["oauth1"]["token"]
    assert credentials["access_token_secret"] == issued["oauth1"]["secret"]
    result = sandbox.publisher().send(request(credentials, "Connected and posting"))
    assert result.outcome is Outcome.POSTED


def test_an_account_is_found_by_key_or_by_handle_and_mismatches_are_refused(
    chorus_env: str, sandbox: Sandbox
) -> None:
    code, _, err = chorus("accounts", "connect", "x", "--sandbox", "someone_else")
    assert code == 1
    assert "no x account has the handle @someone_else" in err and "lead-x (@YorkAgainstHate)" in err
    assert sandbox.control.accounts() == []  # refused before the sandbox was asked

    code, _, err = chorus("accounts", "connect", "x", "--account", "lead-mastodon",
                          "--sandbox", "someone_else")
    assert code == 1 and "on mastodon, not x" in err

    code, out, err = chorus("accounts", "connect", "x", "--account", "council-x",
                            "--sandbox", "someone_else")
    assert code == 0, err
    assert "council-x (@YorkCouncilSafe) connected as @someone_else" in out
    assert "differs from the account's handle" in err
    assert account(chorus_env, "council-x").state == "connected"


def test_no_token_is_stored_or_shown_in_plain_text(
    chorus_env: str, sandbox: Sandbox, caplog: pytest.LogCaptureFixture,
    holder: AccountHolder, monkeypatch: pytest.MonkeyPatch, key: str
) -> None:
    if not chorus_env.startswith("sqlite"):
        pytest.skip("reads the SQLite file's bytes")
    caplog.set_level(logging.DEBUG)
    monkeypatch.setenv("CHORUS_X_CLIENT_ID", "chorus-test-client")
    monkeypatch.setenv("CHORUS_X_CLIENT_SECRET", "chorus-test-client-secret")
    sandbox.account("NYP_YorkHate")
    shown: list[str] = []
    for args in (("--sandbox", "YorkAgainstHate"),
                 ("--sandbox", "YorkCouncilSafe", "--oauth2"),
                 ("--oauth2",)):
        result = runner.invoke(app, ["accounts", "connect", "x", *args])
        assert result.exit_code == 0, result.output
        shown.append(result.output)
    for args in (("accounts", "list"), ("accounts", "list", "--json")):
        result = runner.invoke(app, list(args))
        shown.append(result.output)

    vault = Vault(key)
    secrets: list[str] = []
    for name in ("lead-x", "council-x", "police-x"):
        credentials = load_credentials(account(chorus_env, name), vault=vault)
        assert credentials is not None
        secrets += [str(v) for k, v in credentials.values.items()
                    if k in ("access_token", "access_token_secret", "refresh_token")]
    assert len(secrets) == 6
    database = Path(chorus_env.removeprefix("sqlite:///"))
    stored = b"".join(p.read_bytes() for p in database.parent.glob(database.name + "*"))
    everything_shown = "\n".join(shown) + caplog.text
    assert "x api: POST /2/oauth2/token" in caplog.text  # debug logging was on
    for secret in secrets:
        assert secret.encode() not in stored
        assert secret not in everything_shown


def test_accounts_list_shows_each_state_and_never_a_token(
    chorus_env: str, sandbox: Sandbox
) -> None:
    code, out, _ = chorus("accounts", "list", "--json")
    assert code == 0
    before = {row["key"]: row for row in json.loads(out)}
    assert before["lead-x"] == {
        "key": "lead-x", "organisation": "york-partnership", "network": "x",
        "handle": "@YorkAgainstHate", "state": "not-connected", "sandbox": False,
        "token_stored": False, "backoff_until": None, "last_error": "",
    }
    assert chorus("accounts", "connect", "x", "--sandbox", "YorkAgainstHate")[0] == 0

    code, out, _ = chorus("accounts", "list", "--json")
    after = {row["key"]: row for row in json.loads(out)}
    assert (after["lead-x"]["state"], after["lead-x"]["sandbox"],
            after["lead-x"]["token_stored"]) == ("connected", True, True)
    assert after["police-x"]["state"] == "not-connected"
    issued = sandbox.control.create_account("YorkAgainstHate")
    code, table, _ = chorus("accounts", "list")
    assert code == 0
    assert re.search(r"lead-x\s+york-partnership\s+x\s+@YorkAgainstHate\s+connected\s+yes\s+yes",
                     table)
    for secret in (issued["oauth1"]["token"], issued["oauth1"]["secret"]):
        assert secret not in out and secret not in table


def test_the_pin_flow_connects_an_account(
    chorus_env: str, sandbox: Sandbox, holder: AccountHolder, monkeypatch: pytest.MonkeyPatch,
    key: str
) -> None:
    monkeypatch.setenv("CHORUS_X_CONSUMER_KEY", "chorus-test-app")
    monkeypatch.setenv("CHORUS_X_CONSUMER_SECRET", "chorus-test-app-secret")
    issued = sandbox.account("NYP_YorkHate")

    code, out, err = chorus("accounts", "connect", "x")

    assert code == 0, err
    assert holder.prompts == ["PIN"]
    assert f"{sandbox.url}/oauth/authorize?oauth_token=" in out
    assert "police-x (@NYP_YorkHate) connected as @NYP_YorkHate" in out
    stored = account(chorus_env, "police-x")
    assert (stored.state, stored.is_sandbox, stored.remote_user_id) == (
        "connected", True, issued.id)
    credentials = load_credentials(stored, vault=Vault(key))
    assert credentials is not None and credentials.kind == "oauth1"
    assert credentials["access_token"] != issued.oauth1["access_token"]  # newly issued
    publisher = x.XPublisher(sandbox.url, 5, "chorus-test-app", "chorus-test-app-secret")
    assert publisher.send(request(credentials, "Via the PIN flow")).outcome is Outcome.POSTED


def test_the_pkce_flow_connects_an_account_and_its_token_refreshes(
    chorus_env: str, sandbox: Sandbox, holder: AccountHolder, monkeypatch: pytest.MonkeyPatch,
    key: str
) -> None:
    monkeypatch.setenv("CHORUS_X_CLIENT_ID", "chorus-test-client")
    monkeypatch.setenv("CHORUS_X_CLIENT_SECRET", "chorus-test-client-secret")
    issued = sandbox.account("NYP_YorkHate")
    started = datetime.now(UTC)

    code, out, err = chorus("accounts", "connect", "x", "--oauth2")

    assert code == 0, err
    assert holder.prompts == ["Paste the full address the browser was sent to"]
    assert f"{sandbox.url}/i/oauth2/authorize?" in out and "code_challenge_method=S256" in out
    stored = account(chorus_env, "police-x")
    assert (stored.state, stored.remote_user_id) == ("connected", issued.id)
    vault = Vault(key)
    credentials = load_credentials(stored, vault=vault)
    assert credentials is not None and credentials.kind == "oauth2"
    expires = datetime.fromtimestamp(credentials["expires_at"], UTC)
    assert started + timedelta(hours=2) - timedelta(seconds=5) <= expires
    assert set(credentials["scope"].split()) == set(x.SCOPES)

    app_keys = x.XApp(api_url=sandbox.url, timeout=5, client_id="chorus-test-client",
                      client_secret="chorus-test-client-secret")
    assert not x.needs_refresh(credentials, started)
    assert x.needs_refresh(credentials, expires - timedelta(minutes=4))
    renewed = x.refresh(app_keys, credentials, now=expires - timedelta(minutes=4))
    assert renewed.kind == "oauth2"
    assert renewed["access_token"] != credentials["access_token"]
    assert renewed["refresh_token"] != credentials["refresh_token"]
    assert renewed["expires_at"] == int((expires - timedelta(minutes=4)).timestamp()) + 7200
    publisher = sandbox.publisher()
    assert publisher.me(renewed) == x.XUser(issued.id, "NYP_YorkHate")
    with pytest.raises(x.XAuthError, match="invalid_request"):
        x.refresh(app_keys, credentials, now=started)  # a refresh token works once

    engine = db.make_engine(chorus_env)
    with db.transaction(db.session_factory(engine)) as session:
        row = session.scalars(select(Account).where(Account.key == "police-x")).one()
        store_credentials(row, renewed, vault=vault, session=session)
    engine.dispose()
    again = load_credentials(account(chorus_env, "police-x"), vault=vault)
    assert again == renewed and account(chorus_env, "police-x").state == "connected"
    assert publisher.send(request(renewed, "After a refresh")).outcome is Outcome.POSTED


def test_a_wrong_pin_or_a_stray_redirect_is_refused_and_nothing_is_stored(
    chorus_env: str, sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CHORUS_X_CONSUMER_KEY", "chorus-test-app")
    monkeypatch.setenv("CHORUS_X_CONSUMER_SECRET", "chorus-test-app-secret")
    monkeypatch.setenv("CHORUS_X_CLIENT_ID", "chorus-test-client")
    answers = iter(["0000000", "http://127.0.0.1:8765/callback?state=forged&code=abc"])
    monkeypatch.setattr(typer, "prompt", lambda *args, **kwargs: next(answers))

    code, _, err = chorus("accounts", "connect", "x", "--account", "police-x")
    assert code == 1 and "X did not accept the PIN: 401" in err
    code, _, err = chorus("accounts", "connect", "x", "--account", "police-x", "--oauth2")
    assert code == 1 and "state mismatch" in err
    assert account(chorus_env, "police-x").token_encrypted is None


def test_reconnecting_clears_the_accounts_error_and_back_off(chorus_env: str) -> None:
    engine = db.make_engine(chorus_env)
    with db.transaction(db.session_factory(engine)) as session:
        row = session.scalars(select(Account).where(Account.key == "lead-x")).one()
        row.state = "needs-reconnect"
        row.last_error = "X refused the account's token (401 Unauthorized)"
        row.backoff_until = datetime(2030, 1, 1, tzinfo=UTC)
    engine.dispose()

    code, _, err = chorus("accounts", "connect", "x", "--sandbox", "YorkAgainstHate")

    assert code == 0, err
    stored = account(chorus_env, "lead-x")
    assert (stored.state, stored.last_error, stored.backoff_until) == ("connected", "", None)


def test_browser_flows_say_which_app_keys_are_missing(chorus_env: str) -> None:
    code, _, err = chorus("accounts", "connect", "x")
    assert code == 1
    assert "CHORUS_X_CONSUMER_KEY" in err and "CHORUS_X_CONSUMER_SECRET" in err
    code, _, err = chorus("accounts", "connect", "x", "--oauth2")
    assert code == 1 and "CHORUS_X_CLIENT_ID" in err


def test_without_a_secret_key_nothing_is_connected(
    chorus_env: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CHORUS_SECRET_KEY")
    code, _, err = chorus("accounts", "connect", "x", "--sandbox", "YorkAgainstHate")
    assert code == 1 and "set CHORUS_SECRET_KEY" in err
    assert account(chorus_env, "lead-x").token_encrypted is None
    assert not DEMO_KEY_FILE.exists()


def test_demo_mode_makes_a_private_key_under_var(
    chorus_env: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CHORUS_SECRET_KEY")
    monkeypatch.setenv("CHORUS_DEMO", "1")

    code, _, err = chorus("accounts", "connect", "x", "--sandbox", "YorkAgainstHate")

    assert code == 0, err
    assert stat.S_IMODE(DEMO_KEY_FILE.stat().st_mode) == 0o600
    stored = account(chorus_env, "lead-x")
    assert stored.token_encrypted is not None
    credentials = Vault(DEMO_KEY_FILE.read_bytes().strip()).open(stored.token_encrypted)
    assert isinstance(credentials, Credentials) and credentials.kind == "oauth1"


def test_sandbox_connections_need_a_sandbox(
    chorus_env: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CHORUS_X_API_URL", "https://api.twitter.com")
    code, _, err = chorus("accounts", "connect", "x", "--sandbox", "YorkAgainstHate")
    assert code == 1 and "CHORUS_X_API_URL to point at a sandbox" in err

    monkeypatch.setenv("CHORUS_X_API_URL", "http://127.0.0.1:9")
    code, _, err = chorus("accounts", "connect", "x", "--sandbox", "YorkAgainstHate")
    assert code == 1 and "could not reach the sandbox" in err and "chorus sandbox" in err


def test_a_network_chorus_cannot_connect_is_refused(chorus_env: str) -> None:
    code, _, err = chorus("accounts", "connect", "threads")
    assert code == 1 and "'threads' accounts is not supported" in err


def test_disconnecting_deletes_the_stored_token_and_holds_the_account(chorus_env: str) -> None:
    assert chorus("accounts", "connect", "x", "--sandbox", "YorkAgainstHate")[0] == 0
    assert account(chorus_env, "lead-x").token_encrypted is not None

    code, out, err = chorus("accounts", "disconnect", "lead-x", "--yes")

    assert code == 0, err
    assert "lead-x: stored token deleted" in out
    stored = account(chorus_env, "lead-x")
    assert (stored.state, stored.token_encrypted) == ("not-connected", None)
    code, _, err = chorus("accounts", "disconnect", "nobody-x", "--yes")
    assert code == 1 and "no account 'nobody-x'" in err
    assert chorus("accounts", "connect", "x", "--sandbox", "YorkAgainstHate")[0] == 0
    assert account(chorus_env, "lead-x").state == "connected"
