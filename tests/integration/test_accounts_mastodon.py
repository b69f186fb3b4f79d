"""`chorus accounts connect mastodon`: through the sandbox's control API, or by registering
Chorus on an instance and exchanging the code its consent page shows (the sandbox's, here)."""

from __future__ import annotations

import io
import logging
import re
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, cast

import pytest
import requests
import typer
from sqlalchemy import select

from campaigns.cli import app
from campaigns.cli.connect_mastodon import handle_matches
from campaigns.config.secrets import Vault
from campaigns.storage import db
from campaigns.storage.control import HELD_FOR_ACCOUNT
from campaigns.storage.models import Account, Delivery, DeliveryStatus
from scheduler.publishers.base import Outcome, SendRequest
from scheduler.publishers.mastodon import MastodonPublisher
from scheduler.sandbox import seed
from tests.e2e import Sandbox
from tests.integration.conftest import account, chorus, runner


class AccountHolder:
    """Stands in for the person at the keyboard: opens the address Chorus printed, approves as
    `username` on the instance's consent page and types the code it shows."""

    def __init__(self, username: str) -> None:
        self.username = username
        self.prompts: list[str] = []

    def answer(self, text: str, *args: Any, **kwargs: Any) -> str:
        self.prompts.append(text)
        sys.stdout.flush()
        printed = cast(io.BytesIO, sys.stdout.buffer).getvalue().decode()
        address = re.findall(r"https?://\S+", printed)[-1]
        page = requests.get(address, params={"username": self.username}, timeout=5)
        assert page.status_code == 200, page.text
        return page.text.split('<code id="code">')[1].split("</code>")[0]


@pytest.fixture
def holder(monkeypatch: pytest.MonkeyPatch) -> AccountHolder:
    person = AccountHolder("reportingcentre")
    monkeypatch.setattr(typer, "prompt", person.answer)
    return person


@pytest.mark.parametrize(("handle", "username", "domain", "same"), [
    ("@YorkAgainstHate@mastodon.social", "yorkagainsthate", None, True),
    ("@YorkAgainstHate@mastodon.social", "YorkAgainstHate", "mastodon.social", True),
    ("@YorkAgainstHate@mastodon.social", "YorkAgainstHate", "social.example", False),
    ("@YorkAgainstHate", "YorkAgainstHate", "mastodon.social", True),
    ("@YorkAgainstHate@mastodon.social", "York", None, False),
])
def test_a_handle_names_the_connected_account(handle: str, username: str, domain: str | None,
                                              same: bool) -> None:
    assert handle_matches(handle, username, domain) is same


def test_connecting_a_sandbox_account_stores_its_instance_and_token_encrypted(
        chorus_env: str, sandbox: Sandbox, key: str) -> None:
    code, out, err = chorus("accounts", "connect", "mastodon", "--sandbox", "YorkAgainstHate")

    assert code == 0, err
    assert ("lead-mastodon (@YorkAgainstHate@mastodon.social) connected as @YorkAgainstHate on "
            "the sandbox") in out
    assert "differs" not in err
    issued = sandbox.control.create_account("YorkAgainstHate")
    stored = account(chorus_env, "lead-mastodon")
    assert (stored.state, stored.is_sandbox, stored.remote_user_id) == (
        "connected", True, issued["id"])
    assert stored.token_encrypted is not None
    credentials = Vault(key).open(stored.token_encrypted)
    assert credentials["instance"] == f"{sandbox.url}/mastodon"
    assert credentials["access_token"] == issued["mastodon"]["access_token"]
    result = MastodonPublisher(5).send(SendRequest(1, "lead-mastodon", stored.remote_user_id,
                                                   credentials, "Connected and posting"))
    assert result.outcome is Outcome.POSTED


def test_an_account_is_found_by_key_or_by_handle_and_mismatches_are_refused(
        chorus_env: str, sandbox: Sandbox) -> None:
    code, _, err = chorus("accounts", "connect", "mastodon", "--sandbox", "someone_else")
    assert code == 1
    assert "no Mastodon account has the handle @someone_else" in err
    assert "lead-mastodon (@YorkAgainstHate@mastodon.social)" in err
    assert sandbox.control.accounts() == []  # refused before the sandbox was asked

    code, _, err = chorus("accounts", "connect", "mastodon", "--account", "lead-x",
                          "--sandbox", "someone_else")
    assert code == 1 and "on x, not mastodon" in err

    code, out, err = chorus("accounts", "connect", "mastodon", "--account", "council-mastodon",
                            "--sandbox", "someone_else")
    assert code == 0, err
    assert "council-mastodon (@communitysafety@social.york.example) connected as " \
           "@someone_else" in out
    assert "differs from the account's handle" in err


def test_the_code_flow_registers_chorus_on_the_instance_and_keeps_the_app_in_the_vault(
        chorus_env: str, sandbox: Sandbox, holder: AccountHolder, key: str) -> None:
    sandbox.account("reportingcentre")
    code, out, err = chorus("accounts", "connect", "mastodon",
                            "--instance", f"{sandbox.url}/mastodon/")

    assert code == 0, err
    assert holder.prompts == ["Authorisation code"]
    assert f"{sandbox.url}/mastodon/oauth/authorize?" in out
    assert "reporting-centre-mastodon (@reportingcentre@mastodon.social) connected as " \
           "@reportingcentre on the sandbox" in out
    stored = account(chorus_env, "reporting-centre-mastodon")
    assert stored.is_sandbox and stored.token_encrypted is not None
    credentials = Vault(key).open(stored.token_encrypted)
    assert credentials["instance"] == f"{sandbox.url}/mastodon"
    assert {"client_id", "client_secret", "access_token"} <= set(credentials.values)
    logged = [(r["method"], r["path"]) for r in sandbox.control.requests()]
    assert ("POST", "/mastodon/api/v1/apps") in logged
    assert ("POST", "/mastodon/oauth/token") in logged
    result = MastodonPublisher(5).send(SendRequest(1, "reporting-centre-mastodon", None,
                                                   credentials, "Signed in the long way"))
    assert result.outcome is Outcome.POSTED


def test_a_wrong_code_connects_nothing(chorus_env: str, sandbox: Sandbox,
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(typer, "prompt", lambda *args, **kwargs: "not-the-code")
    code, _, err = chorus("accounts", "connect", "mastodon",
                          "--instance", f"{sandbox.url}/mastodon")
    assert code == 1 and "did not accept the code (invalid_grant" in err
    assert account(chorus_env, "reporting-centre-mastodon").token_encrypted is None


def test_the_instance_is_needed_and_must_be_an_address(chorus_env: str) -> None:
    code, _, err = chorus("accounts", "connect", "mastodon")
    assert code == 1 and "--instance https://example.social" in err
    code, _, err = chorus("accounts", "connect", "mastodon", "--instance", "mastodon.social")
    assert code == 1 and "must be the instance's address" in err
    code, _, err = chorus("accounts", "connect", "mastodon", "--instance",
                          "https://mastodon.social", "--sandbox", "YorkAgainstHate")
    assert code == 1 and "not both" in err


def test_an_unreachable_instance_says_so(chorus_env: str, sandbox: Sandbox) -> None:
    sandbox.control.set_faults(fail_next=[{"status": 503, "count": 1}])
    code, _, err = chorus("accounts", "connect", "mastodon",
                          "--instance", f"{sandbox.url}/mastodon")
    assert code == 1 and "did not register Chorus as an app (503: Service Unavailable)" in err


def test_sandbox_connections_need_a_sandbox(
        chorus_env: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CHORUS_X_API_URL", "https://api.twitter.com")
    code, _, err = chorus("accounts", "connect", "mastodon", "--sandbox", "YorkAgainstHate")
    assert code == 1 and "CHORUS_X_API_URL to point at a sandbox" in err

    monkeypatch.setenv("CHORUS_X_API_URL", "http://127.0.0.1:9")
    code, _, err = chorus("accounts", "connect", "mastodon", "--sandbox", "YorkAgainstHate")
    assert code == 1 and "could not reach the sandbox" in err and "chorus sandbox" in err


def test_reconnecting_releases_the_posts_held_for_the_account(
        chorus_env: str, sandbox: Sandbox) -> None:
    engine = db.make_engine(chorus_env)
    sessions = db.session_factory(engine)
    now = datetime.now(UTC)
    with db.transaction(sessions) as session:
        row = session.scalars(select(Account).where(Account.key == "lead-mastodon")).one()
        row.state, row.last_error = "needs-reconnect", "the instance refused the token (401)"
        [delivery_id] = seed.schedule([row], [now + timedelta(hours=1)], session=session,
                                      now=now)
        held = session.get(Delivery, delivery_id)
        assert held is not None
        held.status, held.status_reason = DeliveryStatus.PAUSED, f"{HELD_FOR_ACCOUNT}: 401"

    code, out, err = chorus("accounts", "connect", "mastodon", "--sandbox", "YorkAgainstHate")

    assert code == 0, err
    assert "1 posts held while it was disconnected are back in the schedule" in out
    with sessions() as session:
        released = session.get(Delivery, delivery_id)
        assert released is not None and released.status is DeliveryStatus.APPROVED
    engine.dispose()
    assert account(chorus_env, "lead-mastodon").state == "connected"


def test_no_token_is_shown_or_stored_in_plain_text(
        chorus_env: str, sandbox: Sandbox, holder: AccountHolder, key: str,
        caplog: pytest.LogCaptureFixture) -> None:
    if not chorus_env.startswith("sqlite"):
        pytest.skip("reads the SQLite file's bytes")
    caplog.set_level(logging.DEBUG)
    sandbox.account("reportingcentre")
    shown = [runner.invoke(app, ["accounts", "connect", "mastodon", *args]).output
             for args in (("--sandbox", "YorkAgainstHate"),
                          ("--instance", f"{sandbox.url}/mastodon"))]
    shown.append(runner.invoke(app, ["accounts", "list", "--json"]).output)

    vault = Vault(key)
    secrets = []
    for name in ("lead-mastodon", "reporting-centre-mastodon"):
        sealed = account(chorus_env, name).token_encrypted
        assert sealed is not None
        credentials = vault.open(sealed)
        secrets += [str(credentials[k]) for k in ("access_token", "client_secret")
                    if k in credentials.values]
    assert len(secrets) == 3
    database = Path(chorus_env.removeprefix("sqlite:///"))
    stored = b"".join(p.read_bytes() for p in database.parent.glob(database.name + "*"))
    everything_shown = "\n".join(shown) + caplog.text
    for secret in secrets:
        assert secret.encode() not in stored
        assert secret not in everything_shown
