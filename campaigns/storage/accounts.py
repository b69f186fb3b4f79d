"""Accounts on the networks: which are connected, and their tokens (sealed, never shown).

Tokens go in only through `Vault.seal` and come out only through `Vault.open`; nothing here
returns, prints or logs one. The network conversations that produce tokens live with the
publishers (`scheduler.publishers.x`); this module stores what they produced.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from campaigns.config.secrets import Credentials, SecretKeyMissing, Vault
from campaigns.storage.models import Account

NOT_CONNECTED = "not-connected"
CONNECTED = "connected"
NEEDS_RECONNECT = "needs-reconnect"


class AccountNotFound(LookupError):
    """No account matches; the message says what was looked for."""


@dataclass(frozen=True)
class AccountSummary:
    """What may be shown about an account: everything but its token."""

    key: str
    organisation: str
    network: str
    handle: str
    state: str
    sandbox: bool
    token_stored: bool
    backoff_until: datetime | None
    last_error: str

    def to_json(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "organisation": self.organisation,
            "network": self.network,
            "handle": self.handle,
            "state": self.state,
            "sandbox": self.sandbox,
            "token_stored": self.token_stored,
            "backoff_until": self.backoff_until.isoformat() if self.backoff_until else None,
            "last_error": self.last_error,
        }


def summarise(account: Account) -> AccountSummary:
    return AccountSummary(
        key=account.key,
        organisation=account.organisation.key,
        network=account.network,
        handle=account.handle,
        state=account.state,
        sandbox=account.is_sandbox,
        token_stored=account.token_encrypted is not None,
        backoff_until=account.backoff_until,
        last_error=account.last_error,
    )


def list_accounts(*, session: Session, network: str | None = None) -> list[AccountSummary]:
    """Every account still in the content files, by organisation then key."""
    query = (select(Account).where(Account.withdrawn.is_(False))
             .options(joinedload(Account.organisation)))
    if network is not None:
        query = query.where(Account.network == network)
    accounts = session.scalars(query).all()
    return [summarise(a) for a in sorted(accounts, key=lambda a: (a.organisation.key, a.key))]


def same_handle(handle: str, username: str) -> bool:
    """`@Name` in content and `name` on the network are the same account (case-insensitive)."""
    return handle.strip().lstrip("@").casefold() == username.strip().lstrip("@").casefold()


def find_account(network: str, *, session: Session, key: str | None = None,
                 username: str | None = None) -> Account:
    """The account `key`, else the one whose handle on `network` is @`username`."""
    if key is not None:
        account = session.scalars(select(Account).where(Account.key == key)).one_or_none()
        if account is None:
            raise AccountNotFound(f"no account {key!r}; load content first (chorus content load)")
        if account.network != network:
            raise AccountNotFound(f"account {key!r} is on {account.network}, not {network}")
        return account
    if username is None:
        raise AccountNotFound("name the account with --account KEY")
    candidates = session.scalars(select(Account).where(Account.network == network,
                                                       Account.withdrawn.is_(False))).all()
    matches = [a for a in candidates if same_handle(a.handle, username)]
    if len(matches) != 1:
        known = ", ".join(f"{a.key} ({a.handle})" for a in candidates) or "none loaded"
        found = "no" if not matches else "more than one"
        raise AccountNotFound(
            f"{found} {network} account has the handle @{username.lstrip('@')}; "
            f"name one with --account KEY (accounts: {known})"
        )
    return matches[0]


def store_connection(
    account: Account,
    credentials: Credentials,
    *,
    vault: Vault,
    remote_user_id: str,
    sandbox: bool,
    session: Session,
) -> bool:
    """Keep freshly issued credentials, sealed, and mark the account connected.

    True when the account had needed reconnecting (its held posts can now be released).
    """
    account.token_encrypted = vault.seal(credentials)
    account.remote_user_id = remote_user_id
    account.is_sandbox = sandbox
    return mark_connected(account, session=session)


def store_credentials(account: Account, credentials: Credentials, *, vault: Vault,
                      session: Session) -> None:
    """Replace an account's credentials (after a token refresh), sealed; its state is kept."""
    account.token_encrypted = vault.seal(credentials)
    session.flush()


def load_credentials(account: Account, *, vault: Vault) -> Credentials | None:
    """The account's credentials, or None when it has none stored."""
    if account.token_encrypted is None:
        return None
    return vault.open(account.token_encrypted)


@dataclass(frozen=True)
class ResealResult:
    resealed: int
    #: Accounts whose stored credentials no key given could open: they need connecting again.
    unreadable: tuple[str, ...]


def reseal_tokens(*, vault: Vault, old_keys: Sequence[str], session: Session) -> ResealResult:
    """Encrypt every stored token with the vault's key, opening each with that key or one of
    `old_keys`: rotating CHORUS_SECRET_KEY without asking every account to authorise again.

    Tokens that none of the keys opens are left as they are and named.
    """
    query = (select(Account).where(Account.token_encrypted.is_not(None))
             .order_by(Account.key))
    resealed, unreadable = 0, []
    for account in session.scalars(query):
        try:
            account.token_encrypted = vault.reseal(account.token_encrypted or b"", old_keys)
        except SecretKeyMissing:
            unreadable.append(account.key)
            continue
        resealed += 1
    session.flush()
    return ResealResult(resealed, tuple(unreadable))


def unopenable_tokens(*, vault: Vault, session: Session) -> tuple[list[str], int]:
    """The connected accounts whose stored credentials this vault cannot open, and how many
    connected accounts have credentials at all: a worker with the wrong key would hold every
    one of those accounts' posts, so it should not start."""
    accounts = session.scalars(select(Account).where(
        Account.token_encrypted.is_not(None), Account.state == CONNECTED)
        .order_by(Account.key)).all()
    unopenable = []
    for account in accounts:
        try:
            vault.open(account.token_encrypted or b"")
        except SecretKeyMissing:
            unopenable.append(account.key)
    return unopenable, len(accounts)


def disconnect(account: Account, *, session: Session) -> bool:
    """Forget the account's stored token: Chorus can no longer act as it until it is
    connected again (its coming posts are then held, not lost). True if a token was stored."""
    had_token = account.token_encrypted is not None
    account.token_encrypted = None
    account.state = NOT_CONNECTED
    account.backoff_until = None
    account.last_error = ""
    session.flush()
    return had_token


def mark_connected(account: Account, *, session: Session) -> bool:
    """The account works again: connected, no back-off, no error.

    Returns True when it had been in needs-reconnect, so that the caller (the worker, or a
    command) knows to release the posts that were held for it.
    """
    was_held = account.state == NEEDS_RECONNECT
    account.state = CONNECTED
    account.last_error = ""
    account.backoff_until = None
    session.flush()
    return was_held
