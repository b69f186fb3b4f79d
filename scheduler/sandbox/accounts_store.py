"""The sandbox's accounts, tokens and authorisation grants, shared by all three networks.

Mastodon's and Bluesky's tokens (app passwords, sessions) are rows of `tokens` too, so
revoking an account ends its tokens on every network.
"""

from __future__ import annotations

import json
import secrets
import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from scheduler.sandbox.store_base import ID_BASE, Database

ACCOUNT_SCHEMA = """
CREATE TABLE IF NOT EXISTS accounts (
    id TEXT PRIMARY KEY, username TEXT NOT NULL UNIQUE COLLATE NOCASE, name TEXT NOT NULL,
    followers INTEGER NOT NULL, created_at REAL NOT NULL);
CREATE TABLE IF NOT EXISTS tokens (
    token TEXT PRIMARY KEY, kind TEXT NOT NULL, account_id TEXT NOT NULL, secret TEXT,
    pair TEXT, scope TEXT, expires_at REAL, used INTEGER NOT NULL DEFAULT 0,
    revoked INTEGER NOT NULL DEFAULT 0, created_at REAL NOT NULL);
CREATE INDEX IF NOT EXISTS tokens_account ON tokens (account_id);
CREATE TABLE IF NOT EXISTS grants (
    code TEXT PRIMARY KEY, kind TEXT NOT NULL, data TEXT NOT NULL, created_at REAL NOT NULL);
"""
ACCOUNT_TABLES = ("accounts", "tokens", "grants")


@dataclass(frozen=True)
class Account:
    id: str
    username: str
    name: str
    followers: int
    created_at: float


@dataclass(frozen=True)
class Token:
    token: str
    kind: str
    account: Account
    secret: str | None
    pair: str | None
    scope: str | None
    expires_at: float | None


def new_secret(nbytes: int = 24) -> str:
    return secrets.token_urlsafe(nbytes)


class AccountTables(Database):
    """Accounts, their tokens, and the grants (request tokens, codes) exchanged for tokens."""

    # ---- accounts and tokens --------------------------------------------------------------

    def create_account(self, username: str, name: str, followers: int,
                       now: float) -> tuple[Account, bool]:
        """The account with this username, created if new; True when it was created."""
        with self._tx() as db:
            found = self._account_where(db, "username = ?", username)
            if found is not None:
                return found, False
            account_id = str(ID_BASE + self._next_seq(db))
            db.execute("INSERT INTO accounts VALUES (?, ?, ?, ?, ?)",
                       (account_id, username, name, followers, now))
            return Account(account_id, username, name, followers, now), True

    def account(self, *, username: str | None = None, id: str | None = None) -> Account | None:
        column, value = ("username", username) if username is not None else ("id", id)
        with self._lock:
            return self._account_where(self._db, f"{column} = ?", value)

    def accounts(self) -> list[Account]:
        with self._lock:
            rows = self._db.execute("SELECT * FROM accounts ORDER BY id").fetchall()
        return [account_from_row(row) for row in rows]

    @staticmethod
    def _account_where(db: sqlite3.Connection, where: str, value: object) -> Account | None:
        row = db.execute(f"SELECT * FROM accounts WHERE {where}", (value,)).fetchone()
        return None if row is None else account_from_row(row)

    def add_token(self, token: str, kind: str, account_id: str, now: float, *,
                  secret: str | None = None, pair: str | None = None,
                  scope: str | None = None, expires_at: float | None = None) -> None:
        with self._tx() as db:
            db.execute(
                "INSERT INTO tokens (token, kind, account_id, secret, pair, scope, expires_at,"
                " created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (token, kind, account_id, secret, pair, scope, expires_at, now),
            )

    def token(self, token: str, kinds: Iterable[str], now: float) -> Token | None:
        """A live token: known, of one of these kinds, unrevoked, unused and unexpired."""
        with self._lock:
            row = self._db.execute(
                "SELECT t.*, a.username, a.name, a.followers, a.created_at AS a_created"
                " FROM tokens t JOIN accounts a ON a.id = t.account_id WHERE t.token = ?",
                (token,),
            ).fetchone()
        if row is None or row["kind"] not in set(kinds) or row["revoked"] or row["used"]:
            return None
        if row["expires_at"] is not None and row["expires_at"] <= now:
            return None
        account = Account(row["account_id"], row["username"], row["name"], row["followers"],
                          row["a_created"])
        return Token(row["token"], row["kind"], account, row["secret"], row["pair"],
                     row["scope"], row["expires_at"])

    def use_token(self, token: str) -> bool:
        """Mark a single-use token used; False when it already was."""
        with self._tx() as db:
            changed = db.execute("UPDATE tokens SET used = 1 WHERE token = ? AND used = 0",
                                 (token,)).rowcount
        return changed == 1

    def latest_tokens(self, account_id: str, now: float) -> dict[str, Token]:
        """The newest live token of each kind for an account."""
        with self._lock:
            rows = self._db.execute(
                "SELECT token, kind FROM tokens WHERE account_id = ? AND revoked = 0"
                " AND used = 0 ORDER BY created_at, rowid", (account_id,),
            ).fetchall()
        found: dict[str, Token] = {}
        for row in rows:
            live = self.token(row["token"], (row["kind"],), now)
            if live is not None:
                found[row["kind"]] = live
        return found

    def revoke(self, account_id: str) -> int:
        with self._tx() as db:
            return db.execute("UPDATE tokens SET revoked = 1 WHERE account_id = ? AND revoked = 0",
                              (account_id,)).rowcount

    # ---- authorisation grants (request tokens, codes) -------------------------------------

    def add_grant(self, code: str, kind: str, data: dict[str, Any], now: float) -> None:
        with self._tx() as db:
            db.execute("INSERT INTO grants VALUES (?, ?, ?, ?)",
                       (code, kind, json.dumps(data), now))

    def update_grant(self, code: str, data: dict[str, Any]) -> None:
        with self._tx() as db:
            db.execute("UPDATE grants SET data = ? WHERE code = ?", (json.dumps(data), code))

    def grant(self, code: str, kind: str) -> tuple[dict[str, Any], float] | None:
        with self._lock:
            row = self._db.execute("SELECT * FROM grants WHERE code = ? AND kind = ?",
                                   (code, kind)).fetchone()
        return None if row is None else (json.loads(row["data"]), row["created_at"])

    def take_grant(self, code: str, kind: str) -> tuple[dict[str, Any], float] | None:
        """Remove and return a grant: each is exchanged at most once."""
        with self._tx() as db:
            row = db.execute("SELECT * FROM grants WHERE code = ? AND kind = ?",
                             (code, kind)).fetchone()
            if row is None:
                return None
            db.execute("DELETE FROM grants WHERE code = ?", (code,))
        return json.loads(row["data"]), row["created_at"]


def account_from_row(row: sqlite3.Row) -> Account:
    return Account(row["id"], row["username"], row["name"], row["followers"], row["created_at"])

