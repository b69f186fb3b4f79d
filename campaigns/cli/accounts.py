"""`chorus accounts`: list accounts and connect them to their networks.

The X client library is imported only by the commands that talk to X, so other commands do not
pay for it.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any

import typer
from pydantic import SecretStr
from sqlalchemy.orm import Session

from campaigns.cli.runtime import fail, runtime
from campaigns.config.secrets import Credentials
from campaigns.config.settings import Settings
from campaigns.core.clock import utcnow
from campaigns.storage import db
from campaigns.storage.accounts import (
    AccountNotFound,
    AccountSummary,
    disconnect,
    find_account,
    list_accounts,
    same_handle,
    store_connection,
)
from campaigns.storage.control import release_held
from campaigns.storage.models import Account

if TYPE_CHECKING:
    from scheduler.publishers.x_oauth import Connection

accounts_app: typer.Typer = typer.Typer(
    help="Accounts on the networks and their connections.", no_args_is_help=True
)


@accounts_app.command("list")
def accounts_list(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """List accounts: connection state, sandbox or real, back-off and last error (no tokens)."""
    with runtime() as rt, rt.sessions() as session:
        found = list_accounts(session=session)
    if as_json:
        typer.echo(json.dumps([a.to_json() for a in found], indent=2, ensure_ascii=False))
    elif not found:
        typer.echo("no accounts; load content first (chorus content load)")
    else:
        typer.echo(_table(found))


def _table(accounts: list[AccountSummary]) -> str:
    columns = ("key", "organisation", "network", "handle", "state", "sandbox", "token",
               "backoff until", "last error")
    rows = [
        (a.key, a.organisation, a.network, a.handle, a.state, _yes(a.sandbox),
         _yes(a.token_stored),
         a.backoff_until.isoformat(timespec="seconds") if a.backoff_until else "",
         " ".join(a.last_error.split())[:60])
        for a in accounts
    ]
    widths = [max(len(c), *(len(r[i]) for r in rows)) for i, c in enumerate(columns)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True))]
    lines += ["  ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)) for r in rows]
    return "\n".join(line.rstrip() for line in lines)


def _yes(value: bool) -> str:
    return "yes" if value else "no"


@accounts_app.command("disconnect")
def accounts_disconnect(
    key: Annotated[str, typer.Argument(help="The Chorus account (its key, e.g. police-x).")],
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask for confirmation.")] = False,
) -> None:
    """Delete an account's stored token (a partner withdrew, or the token may have leaked).

    Its coming posts are held until it is connected again. Revoke Chorus's access on the
    network too: deleting the token here does not tell the network.
    """
    from sqlalchemy import select

    with runtime() as rt, db.transaction(rt.sessions) as session:
        account = session.scalars(select(Account).where(Account.key == key)).one_or_none()
        if account is None:
            raise fail(f"no account {key!r}; see `chorus accounts list`")
        if not yes and not typer.confirm(f"Delete the stored token of {key} ({account.handle})?"):
            raise typer.Exit(1)
        had_token = disconnect(account, session=session)
    typer.echo(f"{key}: stored token deleted; its coming posts are held until it is connected "
               "again" if had_token else f"{key}: no token was stored; it is now not connected")


@accounts_app.command("connect")
def accounts_connect(
    network: Annotated[str, typer.Argument(help="The network: x, mastodon or bluesky.")],
    account: Annotated[
        str | None,
        typer.Option(help="The Chorus account (its key); by default the one whose handle "
                          "matches the connected username."),
    ] = None,
    sandbox: Annotated[
        str | None,
        typer.Option(metavar="USERNAME",
                     help="Connect to this account of the sandbox at CHORUS_X_API_URL "
                          "(created if needed) instead of authorising in a browser."),
    ] = None,
    oauth2: Annotated[
        bool, typer.Option("--oauth2", help="X: use OAuth 2.0 with PKCE instead of OAuth 1.0a.")
    ] = False,
    instance: Annotated[
        str | None,
        typer.Option(metavar="URL", help="Mastodon: the account's instance, such as "
                                         "https://mastodon.social."),
    ] = None,
    handle: Annotated[
        str | None,
        typer.Option(help="Bluesky: the handle to log in as, such as name.bsky.social "
                          "(default: the account's handle); the app password is asked for."),
    ] = None,
    service: Annotated[
        str | None,
        typer.Option(metavar="URL", help="Bluesky: where the account logs in (default "
                                         "https://bsky.social; a self-hosted PDS's address)."),
    ] = None,
) -> None:
    """Connect an account: authorise Chorus to post as it, and store its tokens encrypted."""
    if network == "mastodon":
        from campaigns.cli.connect_mastodon import connect

        return connect(account=account, sandbox=sandbox, instance=instance)
    if network == "bluesky":
        from campaigns.cli.connect_bluesky import connect as connect_bluesky

        return connect_bluesky(account=account, sandbox=sandbox, handle=handle,
                               service=service)
    if network != "x":
        raise fail(f"connecting {network!r} accounts is not supported; use x, mastodon or "
                   "bluesky")
    with runtime() as rt:
        vault = rt.vault()  # before any browser step: a missing key should stop us early
        if account is not None or sandbox is not None:
            with rt.sessions() as session:  # fail before anything is created or authorised
                _find(session, account=account, username=sandbox)
        if sandbox is not None:
            connection, sandboxed = _connect_sandbox(rt.settings, sandbox, oauth2=oauth2), True
        else:
            connection, sandboxed = _authorise(rt.settings, oauth2=oauth2)
        with db.transaction(rt.sessions) as session:
            target = _find(session, account=account, username=connection.username)
            store_connection(target, connection.credentials, vault=vault,
                             remote_user_id=connection.user_id, sandbox=sandboxed,
                             session=session)
            released = release_held(target.id, session=session, now=utcnow(),
                                    by=f"reconnect of {target.key}")
            key, handle = target.key, target.handle
    where = "the sandbox" if sandboxed else "X"
    typer.echo(f"{key} ({handle}) connected as @{connection.username} on {where} "
               f"(user id {connection.user_id}); its tokens are stored encrypted")
    if not same_handle(handle, connection.username):
        typer.secho(f"note: the connected username @{connection.username} differs from the "
                    f"account's handle {handle}", fg=typer.colors.YELLOW, err=True)
    if released:
        typer.echo(f"{released} posts held while it was disconnected are back in the schedule")


def _find(session: Session, *, account: str | None, username: str | None) -> Account:
    try:
        return find_account("x", session=session, key=account, username=username)
    except AccountNotFound as exc:
        raise fail(str(exc)) from None


def _connect_sandbox(settings: Settings, username: str, *, oauth2: bool) -> Connection:
    """Create (or reuse) the sandbox account and take the tokens the sandbox issued for it."""
    from scheduler.publishers import x, x_oauth, x_transport
    from scheduler.sandbox.client import SandboxClient

    if x_transport.is_real_x(settings.x_api_url):
        raise fail(f"--sandbox needs CHORUS_X_API_URL to point at a sandbox (chorus sandbox), "
                   f"not {settings.x_api_url}")
    try:
        created = SandboxClient(settings.x_api_url).create_account(username)
    except Exception as exc:
        raise fail(f"could not reach the sandbox at {settings.x_api_url} "
                   f"({type(exc).__name__}); start it with: chorus sandbox") from None
    credentials = _sandbox_credentials(created, oauth2=oauth2)
    publisher = x.XPublisher(settings.x_api_url, settings.http_timeout, None, None)
    try:
        user = publisher.me(credentials)
    except x_oauth.XAuthError as exc:
        raise fail(f"the sandbox's tokens for @{username} do not work: {exc}") from None
    return x_oauth.Connection(credentials, user.id, user.username)


def _sandbox_credentials(created: dict[str, Any], *, oauth2: bool) -> Credentials:
    if oauth2:
        issued = created["oauth2"]
        return Credentials("oauth2", {"access_token": issued["access_token"],
                                      "refresh_token": issued.get("refresh_token"),
                                      "expires_at": _epoch(issued.get("expires_at"))})
    from scheduler.publishers.x_oauth import SANDBOX_APP_KEY

    issued = created["oauth1"]
    return Credentials("oauth1", {"access_token": issued["token"],
                                  "access_token_secret": issued["secret"],
                                  "consumer_key": SANDBOX_APP_KEY,
                                  "consumer_secret": SANDBOX_APP_KEY})


def _epoch(value: Any) -> int | None:
    """The sandbox's expiry, as epoch seconds whether it gave a number or an ISO time."""
    if value is None or isinstance(value, int | float):
        return None if value is None else int(value)
    return int(datetime.fromisoformat(str(value)).timestamp())


def _authorise(settings: Settings, *, oauth2: bool) -> tuple[Connection, bool]:
    """Walk the account holder through X's consent page; the connection, and if sandboxed."""
    from scheduler.publishers import x, x_oauth, x_transport

    app = x_oauth.XApp(
        api_url=settings.x_api_url, timeout=settings.http_timeout,
        consumer_key=settings.x_consumer_key, consumer_secret=_secret(settings.x_consumer_secret),
        client_id=settings.x_client_id, client_secret=_secret(settings.x_client_secret),
        redirect_uri=settings.x_redirect_uri,
    )
    try:
        if oauth2:
            url, pkce = x.start_pkce_flow(app)
            typer.echo(f"Open this page, sign in as the account and authorise Chorus:\n  {url}")
            redirect = typer.prompt("Paste the full address the browser was sent to")
            connection = x.finish_pkce_flow(app, pkce, redirect, now=utcnow())
        else:
            url, pin_flow = x.start_pin_flow(app)
            typer.echo(f"Open this page, sign in as the account and authorise Chorus:\n  {url}")
            pin = typer.prompt("PIN")
            connection = x.finish_pin_flow(app, pin_flow, pin)
    except x_oauth.XAuthError as exc:
        raise fail(str(exc)) from None
    return connection, not x_transport.is_real_x(settings.x_api_url)


def _secret(value: SecretStr | None) -> str | None:
    return value.get_secret_value() if value is not None else None
