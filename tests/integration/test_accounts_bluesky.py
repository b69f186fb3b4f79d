"""`chorus accounts connect bluesky`: app passwords against the sandbox, kept secret."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from campaigns.config.secrets import Vault
from campaigns.storage import db
from campaigns.storage.accounts import load_credentials
from campaigns.storage.control import HELD_FOR_ACCOUNT
from campaigns.storage.models import Account, Delivery, DeliveryStatus
from scheduler.publishers.base import Outcome, SendRequest
from scheduler.publishers.bluesky import BlueskyPublisher
from scheduler.sandbox import seed
from tests.e2e import Sandbox
from tests.e2e.bluesky_kit import bluesky_account
from tests.integration.conftest import account, chorus


def test_connecting_a_sandbox_account_stores_its_app_password_sealed(
    chorus_env: str, sandbox: Sandbox, key: str
) -> None:
    code, out, err = chorus("accounts", "connect", "bluesky", "--sandbox", "YorkAgainstHate")

    assert code == 0, err
    issued = sandbox.control.create_account("YorkAgainstHate")["bluesky"]
    assert (f"lead-bluesky (yorkagainsthate.bsky.social) connected as "
            f"yorkagainsthate.bsky.sandbox on the sandbox (DID {issued['did']})") in out
    assert err == ""  # the username stands for the account's handle: no warning
    stored = account(chorus_env, "lead-bluesky")
    assert (stored.state, stored.is_sandbox, stored.remote_user_id) == (
        "connected", True, issued["did"])
    credentials = load_credentials(stored, vault=Vault(key))
    assert credentials is not None and credentials.kind == "app_password"
    assert credentials.values == {"handle": issued["handle"], "did": issued["did"],
                                  "app_password": issued["app_password"],
                                  "service": f"{sandbox.url}/bluesky"}
    result = BlueskyPublisher(5.0).send(SendRequest(
        1, "lead-bluesky", stored.remote_user_id, credentials, "Connected and posting"))
    assert result.outcome is Outcome.POSTED


def test_an_app_password_typed_at_the_prompt_is_checked_and_never_shown(
    chorus_env: str, sandbox: Sandbox, key: str
) -> None:
    alice = bluesky_account(sandbox, "alice")

    code, out, err = chorus("accounts", "connect", "bluesky", "--account", "university-bluesky",
                            "--handle", alice.handle, "--service", alice.service,
                            typed=alice.app_password + "\n")

    assert code == 0, err
    assert "App password" in out and alice.app_password not in out + err
    assert f"university-bluesky (uoy-community.bsky.social) connected as {alice.handle}" in out
    assert "differs from the account's handle uoy-community.bsky.social" in err
    stored = account(chorus_env, "university-bluesky")
    assert (stored.remote_user_id, stored.is_sandbox) == (alice.did, True)  # it said so
    credentials = load_credentials(stored, vault=Vault(key))
    assert credentials is not None and credentials.values == alice.credentials.values
    logins = [r for r in sandbox.control.requests() if r["path"].endswith("createSession")]
    assert [(r["status"], r["user"]) for r in logins] == [(200, "alice")]


def test_a_wrong_app_password_is_refused_and_nothing_is_stored(
    chorus_env: str, sandbox: Sandbox
) -> None:
    alice = bluesky_account(sandbox, "alice")

    code, out, err = chorus("accounts", "connect", "bluesky", "--account", "lead-bluesky",
                            "--handle", alice.handle, "--service", alice.service,
                            typed="aaaa-bbbb-cccc-dddd\n")

    assert code == 1
    assert "Bluesky refused the login (401 AuthenticationRequired" in err
    assert "aaaa-bbbb-cccc-dddd" not in out + err
    assert account(chorus_env, "lead-bluesky").token_encrypted is None


def test_the_account_is_found_by_key_handle_or_sandbox_username_or_refused(
    chorus_env: str, sandbox: Sandbox
) -> None:
    code, _, err = chorus("accounts", "connect", "bluesky", "--sandbox", "someone_else")
    assert code == 1 and "no Bluesky account's handle starts with 'someone_else'" in err
    assert "lead-bluesky (yorkagainsthate.bsky.social)" in err
    assert sandbox.control.accounts() == []  # refused before the sandbox was asked

    code, _, err = chorus("accounts", "connect", "bluesky", "--account", "lead-x",
                          "--sandbox", "someone_else")
    assert code == 1 and "on x, not bluesky" in err

    code, _, err = chorus("accounts", "connect", "bluesky")
    assert code == 1 and "--account KEY or give its --handle" in err

    code, _, err = chorus("accounts", "connect", "bluesky", "--handle", "nobody.bsky.social")
    assert code == 1 and "no bluesky account has the handle @nobody.bsky.social" in err

    code, out, err = chorus("accounts", "connect", "bluesky", "--account", "university-bluesky",
                            "--sandbox", "someone_else")
    assert code == 0, err
    assert "connected as someone-else.bsky.sandbox on the sandbox" in out
    assert "differs from the account's handle uoy-community.bsky.social" in err


def test_reconnecting_releases_the_posts_held_for_the_account(
    chorus_env: str, sandbox: Sandbox
) -> None:
    engine = db.make_engine(chorus_env)
    sessions = db.session_factory(engine)
    with db.transaction(sessions) as session:
        row = session.scalars(select(Account).where(Account.key == "lead-bluesky")).one()
        row.state, row.last_error = "needs-reconnect", "Bluesky refused the app password"
        now = datetime.now(UTC)
        [held] = seed.schedule([row], [now], session=session, now=now)
        delivery = session.get(Delivery, held)
        assert delivery is not None
        delivery.status = DeliveryStatus.PAUSED
        delivery.status_reason = f"{HELD_FOR_ACCOUNT}: Bluesky refused the app password"

    code, out, err = chorus("accounts", "connect", "bluesky", "--sandbox", "yorkagainsthate")

    assert code == 0, err
    assert "1 posts held while it was disconnected are back in the schedule" in out
    stored = account(chorus_env, "lead-bluesky")
    assert (stored.state, stored.last_error) == ("connected", "")
    with sessions() as session:
        released = session.get(Delivery, held)
        assert released is not None and released.status is DeliveryStatus.APPROVED
    engine.dispose()


def test_sandbox_connections_need_a_sandbox(
    chorus_env: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CHORUS_X_API_URL", "https://api.twitter.com")
    code, _, err = chorus("accounts", "connect", "bluesky", "--sandbox", "yorkagainsthate")
    assert code == 1 and "CHORUS_X_API_URL to point at a sandbox" in err

    monkeypatch.setenv("CHORUS_X_API_URL", "http://127.0.0.1:9")
    code, _, err = chorus("accounts", "connect", "bluesky", "--sandbox", "yorkagainsthate")
    assert code == 1 and "could not reach the sandbox" in err and "chorus sandbox" in err

    code, _, err = chorus("accounts", "connect", "bluesky", "--account", "lead-bluesky",
                          "--service", "bsky.social")
    assert code == 1 and "--service must be the address" in err


def test_no_app_password_is_stored_or_shown_in_plain_text(
    chorus_env: str, sandbox: Sandbox, key: str
) -> None:
    if not chorus_env.startswith("sqlite"):
        pytest.skip("reads the SQLite file's bytes")
    shown = [chorus("accounts", "connect", "bluesky", "--sandbox", name)[1]
             for name in ("yorkagainsthate", "uoy_community")]
    shown += [chorus("accounts", "list")[1], chorus("accounts", "list", "--json")[1]]

    passwords = []
    for name in ("lead-bluesky", "university-bluesky"):
        credentials = load_credentials(account(chorus_env, name), vault=Vault(key))
        assert credentials is not None
        passwords.append(str(credentials["app_password"]))
    database = Path(chorus_env.removeprefix("sqlite:///"))
    stored = b"".join(p.read_bytes() for p in database.parent.glob(database.name + "*"))
    for password in passwords:
        assert password.encode() not in stored
        assert password not in "\n".join(shown)
    rows = {row["key"]: row for row in json.loads(shown[3])}
    assert (rows["lead-bluesky"]["state"], rows["lead-bluesky"]["sandbox"]) == (
        "connected", True)
    assert re.search(r"university-bluesky\s+university-of-york\s+bluesky\s+"
                     r"uoy-community\.bsky\.social\s+connected\s+yes\s+yes", shown[2])
