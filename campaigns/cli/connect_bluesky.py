"""`chorus accounts connect bluesky`: log in once with an app password and keep it, sealed.

Called by `campaigns.cli.accounts`. atproto stays in `scheduler.publishers.bluesky`, which
does the talking; this module finds the account, asks for the app password (never echoed),
and stores the handle, DID, app password and service as the account's sealed credentials, so
the worker knows where and as whom to log in.
"""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import typer
from sqlalchemy.orm import Session

from campaigns.cli.runtime import fail, runtime
from campaigns.config.settings import Settings
from campaigns.core.clock import utcnow
from campaigns.storage import db
from campaigns.storage.accounts import (
    AccountNotFound,
    find_account,
    list_accounts,
    same_handle,
    store_connection,
)
from campaigns.storage.control import release_held
from campaigns.storage.models import Account

if TYPE_CHECKING:  # atproto itself loads only when a connection is made
    from scheduler.publishers.bluesky_login import BlueskyLogin

NETWORK = "bluesky"
DEFAULT_SERVICE = "https://bsky.social"
PASSWORD_PROMPT = "App password (Bluesky: Settings > Privacy and security > App passwords)"


def sandbox_name_matches(handle: str, username: str) -> bool:
    """Whether a handle in the content files is the one a sandbox username stands for: the
    sandbox names its account `<username>.bsky.sandbox` (lower case, `_` as `-`), so the
    handle's first label must be the username spelled that way."""
    label = handle.strip().lstrip("@").split(".")[0]
    return label.casefold() == username.strip().casefold().replace("_", "-")


def connect(*, account: str | None, sandbox: str | None, handle: str | None,
            service: str | None) -> None:
    """Connect a Bluesky account: with the sandbox's app password for `sandbox`, else by
    logging in as `handle` (by default the account's own) on `service`."""
    with runtime() as rt:
        vault = rt.vault()  # before any login: a missing key should stop us early
        with rt.sessions() as session:  # fail before anything is created or logged in to
            target = _target(session, account=account, handle=handle, sandbox=sandbox)
            key, known_handle = target.key, target.handle
        login = (_sandbox_login(rt.settings, sandbox) if sandbox is not None
                 else _password_login(rt.settings, handle or known_handle,
                                      service or DEFAULT_SERVICE))
        with db.transaction(rt.sessions) as session:
            target = find_account(NETWORK, session=session, key=key)
            store_connection(target, login.credentials, vault=vault, remote_user_id=login.did,
                             sandbox=login.sandbox, session=session)
            released = release_held(target.id, session=session, now=utcnow(),
                                    by=f"reconnect of {key}")
    where = "the sandbox" if login.sandbox else urlsplit(login.credentials["service"]).netloc
    typer.echo(f"{key} ({known_handle}) connected as {login.handle} on {where} "
               f"(DID {login.did}); its app password is stored encrypted")
    same = (sandbox_name_matches(known_handle, sandbox) if sandbox is not None
            else same_handle(known_handle, login.handle))
    if not same:
        typer.secho(f"note: the connected handle {login.handle} differs from the account's "
                    f"handle {known_handle}", fg=typer.colors.YELLOW, err=True)
    if released:
        typer.echo(f"{released} posts held while it was disconnected are back in the schedule")


def _target(session: Session, *, account: str | None, handle: str | None,
            sandbox: str | None) -> Account:
    """The account `account`, else the Bluesky account with this handle, else the one the
    sandbox username stands for."""
    try:
        if account is not None:
            return find_account(NETWORK, session=session, key=account)
        if handle is not None:
            return find_account(NETWORK, session=session, username=handle)
    except AccountNotFound as exc:
        raise fail(str(exc)) from None
    candidates = list_accounts(session=session, network=NETWORK)
    known = ", ".join(f"{a.key} ({a.handle})" for a in candidates) or "none loaded"
    if sandbox is None:
        raise fail(f"name the account with --account KEY or give its --handle "
                   f"(accounts: {known})")
    matches = [a for a in candidates if sandbox_name_matches(a.handle, sandbox)]
    if len(matches) != 1:
        raise fail(f"{'no' if not matches else 'more than one'} Bluesky account's handle "
                   f"starts with {sandbox!r}; name one with --account KEY (accounts: {known})")
    return find_account(NETWORK, session=session, key=matches[0].key)


def _sandbox_login(settings: Settings, username: str) -> BlueskyLogin:
    """Create (or reuse) the sandbox account, and log in once with its app password."""
    from scheduler.publishers import bluesky, bluesky_login
    from scheduler.publishers.x_transport import is_real_x
    from scheduler.sandbox.client import SandboxClient

    if is_real_x(settings.x_api_url):
        raise fail(f"--sandbox needs CHORUS_X_API_URL to point at a sandbox (chorus sandbox), "
                   f"not {settings.x_api_url}")
    sandbox = SandboxClient(settings.x_api_url)
    try:
        issued = sandbox.create_account(username)["bluesky"]
    except Exception as exc:
        raise fail(f"could not reach the sandbox at {settings.x_api_url} "
                   f"({type(exc).__name__}); start it with: chorus sandbox") from None
    publisher = bluesky.BlueskyPublisher(settings.http_timeout)
    try:
        return publisher.login(service=sandbox.base_url + issued["service"],
                               handle=issued["handle"], app_password=issued["app_password"])
    except bluesky_login.BlueskyAuthError as exc:
        raise fail(f"the sandbox's app password for {username} does not work: {exc}") from None


def _password_login(settings: Settings, handle: str, service: str) -> BlueskyLogin:
    """Ask for the account's app password (hidden) and log in once with it."""
    from scheduler.publishers import bluesky, bluesky_login

    parts = urlsplit(service)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise fail(f"--service must be the address the account logs in at, such as "
                   f"{DEFAULT_SERVICE}, not {service!r}")
    typer.echo(f"Logging in to {parts.netloc} as {handle.lstrip('@')}.")
    password = typer.prompt(PASSWORD_PROMPT, hide_input=True).strip()
    try:
        return bluesky.BlueskyPublisher(settings.http_timeout).login(
            service=service, handle=handle.lstrip("@"), app_password=password)
    except bluesky_login.BlueskyAuthError as exc:
        raise fail(str(exc)) from None
