"""Dashboard users: who may sign in, with which role, and local passwords (argon2).

Roles: an officer sees and does everything; a partner sees only its own organisation; the
board sees everything and changes nothing; an approver (the advisory group's sign-off) sees
everything, signs off or sends back campaigns, and never edits anything. The database is the
source of truth for a role: the dashboard keeps only a SessionKey (the user's id and their
session secret) and asks here on every page run.

A session is bound to the user's session secret as well as to their id, so it can never pass
to someone else: ids are not reused (see the users table), and a secret is random, made for
one user, and replaced when they are disabled or sign out, which ends every session holding
the old one. Sign-in is throttled per address and per client (campaigns.storage.throttle).
"""

from __future__ import annotations

import functools
import hmac
import re
import secrets
from dataclasses import dataclass, field
from datetime import datetime

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import select
from sqlalchemy.orm import Session

from campaigns.core import session_tokens
from campaigns.storage import throttle
from campaigns.storage.models import Organisation, User
from campaigns.storage.throttle import Locked

OFFICER = "officer"
PARTNER = "partner"
BOARD = "board"
APPROVER = "approver"
ROLES = (OFFICER, PARTNER, BOARD, APPROVER)

#: NCSC guidance favours length over composition rules.
MIN_PASSWORD_LENGTH = 12
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
_HASHER = PasswordHasher()

NOT_RECOGNISED = "That e-mail address and password do not match an account."
DISABLED = "This account is disabled; ask a communications officer to enable it."


class UserError(ValueError):
    """A user cannot be added or changed; the message says why."""


class ReadOnly(PermissionError):
    """The signed-in user's role may not change anything."""


@dataclass(frozen=True)
class Viewer:
    """Who is looking at the dashboard, as the users table says now."""

    id: int
    email: str
    name: str
    role: str
    organisation_key: str | None

    @property
    def may_change(self) -> bool:
        return self.role == OFFICER

    @property
    def may_sign_off(self) -> bool:
        """Officers and approvers sign off (or send back) what they neither wrote nor edited;
        campaigns.storage.approval checks who wrote and edited it."""
        return self.role in (OFFICER, APPROVER)

    @property
    def sees_everything(self) -> bool:
        """Officers, approvers and the board see every organisation; a partner only its own."""
        return self.role in (OFFICER, BOARD, APPROVER)

    def require_change(self) -> None:
        if not self.may_change:
            raise ReadOnly(f"{self.role} accounts are read-only; ask a communications officer")

    def require_sign_off(self) -> None:
        if not self.may_sign_off:
            raise ReadOnly(f"{self.role} accounts do not sign off campaigns; ask an approver "
                           "or a communications officer")


def viewer_of(user: User) -> Viewer:
    return Viewer(user.id, user.email, user.name, user.role, user.organisation_key)


@dataclass(frozen=True)
class SessionKey:
    """What a signed-in dashboard session keeps: the user's id and their session secret."""

    user_id: int
    secret: str = field(repr=False)

    def stored(self) -> tuple[int, str]:
        """The key as plain values, to keep in a server-side session (a browser gets a signed
        token instead: `session_token`)."""
        return self.user_id, self.secret

    @classmethod
    def from_stored(cls, value: object) -> SessionKey | None:
        """The key `stored` gave; None for anything else."""
        if (isinstance(value, tuple) and len(value) == 2 and isinstance(value[0], int)
                and isinstance(value[1], str)):
            return cls(value[0], value[1])
        return None


def session_key(user: User) -> SessionKey:
    return SessionKey(user.id, user.session_secret)


def new_session_secret() -> str:
    """256 random bits, URL-safe (a cookie can carry it)."""
    return secrets.token_urlsafe(32)


@dataclass(frozen=True)
class TokenSession:
    """What a valid signed token gives: the session's key, and when the token ends."""

    key: SessionKey
    expires: datetime
    nonce: str


@dataclass(frozen=True)
class SignedIn:
    viewer: Viewer
    key: SessionKey


@dataclass(frozen=True)
class Refused:
    """Sign-in refused; the message is safe to show (it never says which part was wrong, nor
    whether the address is a user's)."""

    message: str


# ---- passwords --------------------------------------------------------------------------------


def hash_password(password: str) -> str:
    """An argon2id hash of `password` (salted; its parameters are stored with it)."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise UserError(f"a password needs at least {MIN_PASSWORD_LENGTH} characters")
    return _HASHER.hash(password)


def verify_password(stored_hash: str, password: str) -> bool:
    """Whether `password` matches `stored_hash`; argon2 compares in constant time."""
    try:
        return _HASHER.verify(stored_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


@functools.cache
def _decoy_hash() -> str:
    """A hash to check against when there is no user, so that a missing account takes as long
    to refuse as a wrong password (no timing clue to which e-mail addresses exist)."""
    return _HASHER.hash("no such user: a decoy password")


# ---- users ------------------------------------------------------------------------------------


def normalise_email(email: str) -> str:
    return email.strip().casefold()


def add_user(
    *,
    session: Session,
    email: str,
    name: str,
    role: str,
    now: datetime,
    organisation_key: str | None = None,
    password: str | None = None,
) -> User:
    """Add a user; with no password they can sign in only through the configured OIDC login."""
    email = normalise_email(email)
    name = " ".join(name.split())
    if not _EMAIL.fullmatch(email):
        raise UserError(f"{email!r} is not an e-mail address")
    if not name:
        raise UserError("give the user's name with --name")
    if role not in ROLES:
        raise UserError(f"unknown role {role!r}: use one of {', '.join(ROLES)}")
    if role == PARTNER and organisation_key is None:
        raise UserError("a partner user belongs to an organisation: give --organisation KEY")
    if organisation_key is not None:
        _check_organisation(session, organisation_key)
    if find_user(email, session=session) is not None:
        raise UserError(f"there is already a user {email}")
    user = User(email=email, name=name, role=role, organisation_key=organisation_key,
                password_hash=hash_password(password) if password is not None else None,
                disabled=False, created_at=now, session_secret=new_session_secret())
    session.add(user)
    session.flush()
    return user


def _check_organisation(session: Session, key: str) -> None:
    known = session.scalars(select(Organisation.key).order_by(Organisation.key)).all()
    if key not in known:
        listed = ", ".join(known) or "none loaded; run chorus content load first"
        raise UserError(f"no organisation {key!r} (organisations: {listed})")


def find_user(email: str, *, session: Session) -> User | None:
    query = select(User).where(User.email == normalise_email(email))
    return session.scalars(query).one_or_none()


def list_users(*, session: Session) -> list[User]:
    return list(session.scalars(select(User).order_by(User.role, User.email)))


def _existing(email: str, session: Session) -> User:
    user = find_user(email, session=session)
    if user is None:
        raise UserError(f"no user {normalise_email(email)}")
    return user


def set_disabled(email: str, disabled: bool, *, session: Session) -> User:
    """Disable (ending every open session of the user) or enable a user."""
    user = _existing(email, session)
    user.disabled = disabled
    if disabled:
        end_sessions(user)
    return user


def end_sessions(user: User) -> None:
    """End every dashboard session of `user`: each holds the secret replaced here."""
    user.session_secret = new_session_secret()


def unlock(email: str, *, session: Session) -> int:
    """Lift a sign-in pause on `email` (its failed sign-ins are forgotten); how many failures
    there were. Any address may be unlocked, a user's or not, as any may be paused."""
    return throttle.clear(throttle.account_counter(normalise_email(email)), session=session)


def remove_user(email: str, *, session: Session) -> User:
    """Delete a user: their address, name, role and password hash are gone for good.

    Nothing refers to the row: approvals, browser edits and the audit log name people as
    text, the record of who did what, and are kept as they are. An open dashboard session of
    the user ends on its next page run, as for a disabled user; the user's id is never given
    to anyone else, and neither is their session secret.
    """
    user = _existing(email, session)
    session.delete(user)
    session.flush()
    return user


# ---- signing in -------------------------------------------------------------------------------


def authenticate(
    email: str, password: str, *, session: Session, now: datetime, client: str | None = None,
) -> SignedIn | Refused:
    """Sign in with a local password: the viewer and their session key, or why not.

    Refused, not raised, so that the caller commits the failure it records. An address or a
    client with too many recent failures is refused whatever the password (see
    campaigns.storage.throttle); `client` is the network address the attempt came from, when
    known. An unknown address, an OIDC-only user and a wrong password get the same message
    after the same work. A disabled account is named as such only to someone who knows its
    password.
    """
    counters = [throttle.account_counter(normalise_email(email))]
    by_client = throttle.client_counter(client)
    if by_client is not None:
        counters.append(by_client)
    try:
        throttle.refuse_if_locked(counters, session=session, now=now)
    except Locked as locked:
        return Refused(str(locked))
    user = find_user(email, session=session)
    stored = user.password_hash if user is not None else None
    matches = verify_password(stored or _decoy_hash(), password)
    if user is None or stored is None or not matches:
        throttle.record_failure(counters, session=session, now=now)
        return Refused(NOT_RECOGNISED)
    throttle.clear(counters[0], session=session)
    if user.disabled:
        return Refused(DISABLED)
    if _HASHER.check_needs_rehash(stored):
        user.password_hash = _HASHER.hash(password)
    return SignedIn(viewer_of(user), session_key(user))


def active_viewer(key: SessionKey, *, session: Session) -> Viewer | None:
    """The viewer a signed-in session's key names; None once the user is disabled or gone, or
    their sessions were ended. The secret is compared in constant time."""
    user = session.get(User, key.user_id)
    if user is None or user.disabled:
        return None
    if not hmac.compare_digest(user.session_secret.encode(), key.secret.encode()):
        return None
    return viewer_of(user)


def end_sessions_of(key: SessionKey, *, session: Session) -> None:
    """Sign out everywhere: end every session of the user `key` names, if it is still theirs."""
    user = session.get(User, key.user_id)
    if user is not None and hmac.compare_digest(user.session_secret.encode(),
                                                key.secret.encode()):
        end_sessions(user)


def viewer_for_email(email: str, *, session: Session) -> Viewer | None:
    """The viewer for an address an identity provider vouched for; None if not allowed in."""
    user = find_user(email, session=session)
    if user is None or user.disabled:
        return None
    return viewer_of(user)


# ---- signed tokens (the browser's cookie) -----------------------------------------------------


def session_token(key: SessionKey, *, server_key: str, purpose: str, expires: datetime) -> str:
    """A signed token for the session `key` names, valid until `expires` or until the user's
    sessions end, whichever comes first (see campaigns.core.session_tokens)."""
    return session_tokens.issue(key.user_id, key.secret, server_key=server_key,
                                purpose=purpose, expires=expires)


def check_token(token: object, *, session: Session, server_key: str, purpose: str,
                now: datetime) -> TokenSession | None:
    """The session a signed token stands for; None if it is malformed, tampered with, expired,
    made for another purpose, or its user is gone, disabled or signed out since."""
    claims = session_tokens.parse(token)
    if claims is None:
        return None
    user = session.get(User, claims.user_id)
    if user is None or user.disabled:
        return None
    if not session_tokens.verify(claims, user.session_secret, server_key=server_key,
                                 purpose=purpose, now=now):
        return None
    return TokenSession(session_key(user), claims.expires, claims.nonce)
