"""`chorus accounts connect mastodon`: authorise Chorus on an account's own instance.

Called by `campaigns.cli.accounts`. Mastodon.py stays in `scheduler.publishers.mastodon`, which
does the talking; this module walks the person through the steps and stores what came of them.
The instance an account was connected on goes into its sealed credentials, so the worker knows
where to post.
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
    store_connection,
)
from campaigns.storage.control import release_held
from campaigns.storage.models import Account

if TYPE_CHECKING:  # Mastodon.py itself loads only when a connection is made
    from scheduler.publishers.mastodon_oauth import MastodonConnection

NETWORK = "mastodon"


def handle_matches(handle: str, username: str, domain: str | None) -> bool:
    """Whether `@name@domain` in the content files is the account that was connected: the same
    name (case-insensitive) and, when `domain` is given and the handle names one, the same
    domain. The sandbox's instance has no domain worth comparing, so it passes None."""
    local, _, host = handle.strip().lstrip("@").partition("@")
    name = username.strip().lstrip("@").partition("@")[0]
    if local.casefold() != name.casefold():
        return False
    return domain is None or not host or host.casefold() == domain.casefold()


def connect(*, account: str | None, sandbox: str | None, instance: str | None) -> None:
    """Connect a Mastodon account: through the sandbox's control API with `sandbox`, else by
    registering Chorus on `instance` and exchanging the code its consent page shows."""
    if sandbox is None and instance is None:
        raise fail("connecting a Mastodon account needs its instance: --instance "
                   "https://example.social (or --sandbox USERNAME)")
    if sandbox is not None and instance is not None:
        raise fail("give --instance or --sandbox, not both: the sandbox's instance is the "
                   "one at CHORUS_X_API_URL")
    with runtime() as rt:
        vault = rt.vault()  # before any step at the instance: a missing key stops us early
        if account is not None or sandbox is not None:
            with rt.sessions() as session:  # fail before anything is created or authorised
                _target(session, account=account, username=sandbox, domain=None)
        connection = (_connect_sandbox(rt.settings, sandbox) if sandbox is not None
                      else _authorise(rt.settings, str(instance)))
        domain = None if connection.sandbox else _host(connection.instance)
        with db.transaction(rt.sessions) as session:
            target = _target(session, account=account, username=connection.username,
                             domain=domain)
            store_connection(target, connection.credentials, vault=vault,
                             remote_user_id=connection.user_id, sandbox=connection.sandbox,
                             session=session)
            released = release_held(target.id, session=session, now=utcnow(),
                                    by=f"reconnect of {target.key}")
            key, handle = target.key, target.handle
    where = "the sandbox" if connection.sandbox else _host(connection.instance)
    typer.echo(f"{key} ({handle}) connected as @{connection.username} on {where} "
               f"(account id {connection.user_id}); its token is stored encrypted")
    if not handle_matches(handle, connection.username, domain):
        typer.secho(f"note: the connected account @{connection.username} on {where} differs "
                    f"from the account's handle {handle}", fg=typer.colors.YELLOW, err=True)
    if released:
        typer.echo(f"{released} posts held while it was disconnected are back in the schedule")


def _target(session: Session, *, account: str | None, username: str | None,
            domain: str | None) -> Account:
    """The account `account`, else the Mastodon account whose handle is @`username`."""
    try:
        if account is not None or username is None:
            return find_account(NETWORK, session=session, key=account, username=username)
    except AccountNotFound as exc:
        raise fail(str(exc)) from None
    candidates = list_accounts(session=session, network=NETWORK)
    matches = [a for a in candidates if handle_matches(a.handle, username, domain)]
    if len(matches) == 1:
        return find_account(NETWORK, session=session, key=matches[0].key)
    known = ", ".join(f"{a.key} ({a.handle})" for a in candidates) or "none loaded"
    raise fail(f"{'no' if not matches else 'more than one'} Mastodon account has the handle "
               f"@{username}; name one with --account KEY (accounts: {known})")


def _connect_sandbox(settings: Settings, username: str) -> MastodonConnection:
    """Create (or reuse) the sandbox account; take the token its Mastodon instance issued."""
    from scheduler.publishers import mastodon, mastodon_oauth
    from scheduler.publishers.x_transport import is_real_x
    from scheduler.sandbox.client import SandboxClient

    if is_real_x(settings.x_api_url):
        raise fail(f"--sandbox needs CHORUS_X_API_URL to point at a sandbox (chorus sandbox), "
                   f"not {settings.x_api_url}")
    sandbox = SandboxClient(settings.x_api_url)
    try:
        issued = sandbox.create_account(username)["mastodon"]
    except Exception as exc:
        raise fail(f"could not reach the sandbox at {settings.x_api_url} "
                   f"({type(exc).__name__}); start it with: chorus sandbox") from None
    try:
        return mastodon.verify(sandbox.base_url + issued["instance"], issued["access_token"],
                               settings.http_timeout)
    except mastodon_oauth.MastodonAuthError as exc:
        raise fail(f"the sandbox's token for @{username} does not work: {exc}") from None


def _authorise(settings: Settings, instance: str) -> MastodonConnection:
    """Register Chorus on the instance, show its consent page, and take the code it shows."""
    from scheduler.publishers import mastodon, mastodon_oauth

    if urlsplit(instance).scheme not in ("http", "https") or not urlsplit(instance).netloc:
        raise fail(f"--instance must be the instance's address, such as "
                   f"https://mastodon.social, not {instance!r}")
    try:
        app = mastodon.register_app(instance, settings.http_timeout)
        url = mastodon.authorisation_url(app)
        typer.echo(f"Open this page, sign in as the account and authorise Chorus:\n  {url}")
        code = typer.prompt("Authorisation code")
        return mastodon.finish_connect(app, code)
    except mastodon_oauth.MastodonAuthError as exc:
        raise fail(str(exc)) from None


def _host(instance: str) -> str:
    return urlsplit(instance).netloc or instance

