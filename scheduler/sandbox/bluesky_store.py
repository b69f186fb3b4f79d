"""Bluesky's identities, blobs and repository records in the sandbox (`bluesky_api`).

Its app passwords and session tokens are rows of `tokens` (`scheduler.sandbox.accounts_store`),
so revoking an account ends them.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from scheduler.sandbox.accounts_store import Account, account_from_row
from scheduler.sandbox.store_base import Database

BLUESKY_SCHEMA = """
CREATE TABLE IF NOT EXISTS bluesky_identities (
    account_id TEXT PRIMARY KEY, did TEXT NOT NULL UNIQUE,
    handle TEXT NOT NULL UNIQUE COLLATE NOCASE, created_at REAL NOT NULL);
CREATE TABLE IF NOT EXISTS bluesky_blobs (
    account_id TEXT NOT NULL, cid TEXT NOT NULL, mime_type TEXT NOT NULL, size INTEGER NOT NULL,
    created_at REAL NOT NULL, PRIMARY KEY (account_id, cid));
CREATE TABLE IF NOT EXISTS bluesky_records (
    seq INTEGER PRIMARY KEY, did TEXT NOT NULL, collection TEXT NOT NULL, rkey TEXT NOT NULL,
    cid TEXT NOT NULL, value TEXT NOT NULL, created_at REAL NOT NULL,
    deleted INTEGER NOT NULL DEFAULT 0);
CREATE UNIQUE INDEX IF NOT EXISTS bluesky_records_key
    ON bluesky_records (did, collection, rkey) WHERE deleted = 0;
CREATE INDEX IF NOT EXISTS bluesky_records_repo ON bluesky_records (did, seq);
"""
BLUESKY_TABLES = ("bluesky_identities", "bluesky_blobs", "bluesky_records")


class RecordExists(Exception):
    """The repository already holds a live record under this collection and record key."""


@dataclass(frozen=True)
class BlueskyIdentity:
    account: Account
    did: str
    handle: str


@dataclass(frozen=True)
class BlueskyBlob:
    account_id: str
    cid: str
    mime_type: str
    size: int
    created_at: float


@dataclass(frozen=True)
class BlueskyRecord:
    seq: int
    author: BlueskyIdentity
    collection: str
    rkey: str
    cid: str
    value: dict[str, Any]
    created_at: float
    deleted: bool

    @property
    def uri(self) -> str:
        return f"at://{self.author.did}/{self.collection}/{self.rkey}"


class BlueskyTables(Database):
    """Bluesky's identities (DID and handle per account), blobs and repository records."""

    def add_bluesky_identity(self, account_id: str, did: str, handle: str,
                             now: float) -> BlueskyIdentity:
        """The account's identity, created with this DID and handle if it has none yet."""
        with self._tx() as db:
            if db.execute("SELECT 1 FROM bluesky_identities WHERE account_id = ?",
                          (account_id,)).fetchone() is None:
                db.execute("INSERT INTO bluesky_identities VALUES (?, ?, ?, ?)",
                           (account_id, did, handle, now))
        found = self.bluesky_identity(account_id=account_id)
        assert found is not None
        return found

    def bluesky_identity(self, *, account_id: str | None = None, did: str | None = None,
                         handle: str | None = None) -> BlueskyIdentity | None:
        """The identity with this account id, DID or handle (case-insensitive)."""
        column, value = next((c, v) for c, v in (("i.account_id", account_id), ("i.did", did),
                                                 ("i.handle", handle)) if v is not None)
        with self._lock:
            row = self._db.execute(
                "SELECT i.did, i.handle, a.* FROM bluesky_identities i"
                f" JOIN accounts a ON a.id = i.account_id WHERE {column} = ?", (value,),
            ).fetchone()
        return None if row is None else _bluesky_identity(row)

    def add_bluesky_blob(self, account_id: str, cid: str, mime_type: str, size: int,
                         now: float) -> BlueskyBlob:
        with self._tx() as db:
            db.execute("INSERT OR REPLACE INTO bluesky_blobs VALUES (?, ?, ?, ?, ?)",
                       (account_id, cid, mime_type, size, now))
        return BlueskyBlob(account_id, cid, mime_type, size, now)

    def bluesky_blob(self, account_id: str, cid: str) -> BlueskyBlob | None:
        with self._lock:
            row = self._db.execute(
                "SELECT * FROM bluesky_blobs WHERE account_id = ? AND cid = ?",
                (account_id, cid)).fetchone()
        return None if row is None else BlueskyBlob(row["account_id"], row["cid"],
                                                    row["mime_type"], row["size"],
                                                    row["created_at"])

    def add_bluesky_record(self, did: str, collection: str, rkey: str, cid: str,
                           value: dict[str, Any], now: float) -> None:
        """Store a record; raises RecordExists when a live one has the same key."""
        with self._tx() as db:
            if db.execute("SELECT 1 FROM bluesky_records WHERE did = ? AND collection = ?"
                          " AND rkey = ? AND deleted = 0", (did, collection, rkey)).fetchone():
                raise RecordExists(f"at://{did}/{collection}/{rkey}")
            db.execute(
                "INSERT INTO bluesky_records (seq, did, collection, rkey, cid, value,"
                " created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (self._next_seq(db), did, collection, rkey, cid,
                 json.dumps(value, ensure_ascii=False), now))

    def bluesky_record(self, did: str, collection: str, rkey: str) -> BlueskyRecord | None:
        """The live record under this key."""
        found = self._bluesky_records("r.did = ? AND r.collection = ? AND r.rkey = ?"
                                      " AND r.deleted = 0", [did, collection, rkey])
        return found[0] if found else None

    def delete_bluesky_record(self, did: str, collection: str, rkey: str) -> bool:
        with self._tx() as db:
            return db.execute(
                "UPDATE bluesky_records SET deleted = 1 WHERE did = ? AND collection = ?"
                " AND rkey = ? AND deleted = 0", (did, collection, rkey)).rowcount == 1

    def bluesky_feed(self, did: str, collection: str, limit: int,
                     before_seq: int | None = None) -> list[BlueskyRecord]:
        """Up to `limit` of the repository's live records in `collection`, newest first."""
        where = "r.did = ? AND r.collection = ? AND r.deleted = 0"
        args: list[object] = [did, collection]
        if before_seq is not None:
            where += " AND r.seq < ?"
            args.append(before_seq)
        return self._bluesky_records(where, args, newest_first=True, limit=limit)

    def bluesky_records(self, did: str | None = None) -> list[BlueskyRecord]:
        """Every record (deleted ones too), oldest first; of one repository if `did`."""
        if did is None:
            return self._bluesky_records("1 = 1", [])
        return self._bluesky_records("r.did = ?", [did])

    def _bluesky_records(self, where: str, args: Sequence[object], *,
                         newest_first: bool = False,
                         limit: int | None = None) -> list[BlueskyRecord]:
        sql = ("SELECT r.seq, r.did, r.collection, r.rkey, r.cid, r.value, r.deleted,"
               " r.created_at AS record_created, i.handle, a.* FROM bluesky_records r"
               " JOIN bluesky_identities i ON i.did = r.did JOIN accounts a ON a.id = i.account_id"
               f" WHERE {where} ORDER BY r.seq {'DESC' if newest_first else 'ASC'}"
               + ("" if limit is None else f" LIMIT {int(limit)}"))
        with self._lock:
            rows = self._db.execute(sql, args).fetchall()
        return [BlueskyRecord(row["seq"], _bluesky_identity(row), row["collection"], row["rkey"],
                              row["cid"], json.loads(row["value"]), row["record_created"],
                              bool(row["deleted"]))
                for row in rows]


def _bluesky_identity(row: sqlite3.Row) -> BlueskyIdentity:
    """From a row carrying the identity's `did` and `handle` and its account's columns."""
    return BlueskyIdentity(account_from_row(row), row["did"], row["handle"])
