"""Mastodon's statuses and media in the sandbox (`scheduler.sandbox.mastodon_api`).

Ids are snowflakes as Mastodon's are (milliseconds << 16), so a time converts to an id for
`since_id`.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from scheduler.sandbox.accounts_store import Account
from scheduler.sandbox.store_base import Database

MASTODON_SCHEMA = """
CREATE TABLE IF NOT EXISTS mastodon_statuses (
    id INTEGER PRIMARY KEY, account_id TEXT NOT NULL, text TEXT NOT NULL,
    spoiler_text TEXT NOT NULL, visibility TEXT NOT NULL, language TEXT,
    in_reply_to_id INTEGER, idempotency_key TEXT, created_at REAL NOT NULL,
    deleted INTEGER NOT NULL DEFAULT 0);
CREATE INDEX IF NOT EXISTS mastodon_statuses_account ON mastodon_statuses (account_id, id);
CREATE TABLE IF NOT EXISTS mastodon_media (
    id INTEGER PRIMARY KEY, account_id TEXT NOT NULL, mime TEXT NOT NULL, size INTEGER NOT NULL,
    sha256 TEXT NOT NULL, description TEXT, created_at REAL NOT NULL, ready_at REAL NOT NULL,
    status_id INTEGER, position INTEGER);
CREATE INDEX IF NOT EXISTS mastodon_media_status ON mastodon_media (status_id, position);
"""
MASTODON_TABLES = ("mastodon_statuses", "mastodon_media")


@dataclass(frozen=True)
class MastodonMedia:
    id: str
    account_id: str
    mime: str
    size: int
    description: str | None
    created_at: float
    #: Sandbox time from which the attachment counts as processed (its `url` is set).
    ready_at: float
    status_id: str | None


@dataclass(frozen=True)
class MastodonStatus:
    id: str
    account: Account
    text: str
    spoiler_text: str
    visibility: str
    language: str | None
    in_reply_to_id: str | None
    created_at: float
    deleted: bool
    media: tuple[MastodonMedia, ...]


@dataclass(frozen=True)
class NewStatus:
    account_id: str
    text: str
    visibility: str
    language: str | None = None
    spoiler_text: str = ""
    in_reply_to_id: str | None = None
    media_ids: tuple[str, ...] = ()
    idempotency_key: str | None = None


@dataclass(frozen=True)
class StatusQuery:
    """One page of an account's statuses, newest first, as Mastodon pages them by id."""

    account_id: str
    limit: int
    max_id: int | None = None
    since_id: int | None = None
    min_id: int | None = None
    exclude_replies: bool = False


class MastodonTables(Database):
    """Mastodon's statuses and their media attachments."""

    def _snowflake(self, db: sqlite3.Connection, now: float) -> int:
        """A Mastodon-style id: the time in milliseconds, shifted, and a sequence below it."""
        return (int(now * 1000) << 16) | (self._next_seq(db) & 0xFFFF)

    def add_status(self, new: NewStatus, now: float, *,
                   idempotent_since: float) -> tuple[str, bool]:
        """Store a status and attach its media: (its id, True); or, when the account sent
        the same idempotency key since `idempotent_since`, (the first status's id, False)."""
        with self._tx() as db:
            if new.idempotency_key is not None:
                row = db.execute(
                    "SELECT id FROM mastodon_statuses WHERE account_id = ? AND deleted = 0"
                    " AND idempotency_key = ? AND created_at >= ? ORDER BY id LIMIT 1",
                    (new.account_id, new.idempotency_key, idempotent_since)).fetchone()
                if row is not None:
                    return str(row["id"]), False
            status_id = self._snowflake(db, now)
            db.execute(
                "INSERT INTO mastodon_statuses (id, account_id, text, spoiler_text, visibility,"
                " language, in_reply_to_id, idempotency_key, created_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (status_id, new.account_id, new.text, new.spoiler_text, new.visibility,
                 new.language, _int_id(new.in_reply_to_id), new.idempotency_key, now))
            db.executemany("UPDATE mastodon_media SET status_id = ?, position = ? WHERE id = ?",
                           [(status_id, i, int(m)) for i, m in enumerate(new.media_ids)])
        return str(status_id), True

    def delete_status(self, status_id: str) -> None:
        with self._tx() as db:
            db.execute("UPDATE mastodon_statuses SET deleted = 1 WHERE id = ?",
                       (int(status_id),))

    def statuses_by_id(self, ids: Iterable[str]) -> dict[str, MastodonStatus]:
        """The statuses (deleted ones too) among `ids`; ids that are not numbers match none."""
        wanted = list(dict.fromkeys(int(i) for i in ids if i.isdigit()))
        if not wanted:
            return {}
        marks = ",".join("?" * len(wanted))
        return {s.id: s for s in self._statuses(f"s.id IN ({marks})", wanted)}

    def account_statuses(self, query: StatusQuery) -> list[MastodonStatus]:
        """One page of the account's live statuses: newest first, or just above `min_id`."""
        where = ["s.account_id = ?", "s.deleted = 0"]
        args: list[object] = [query.account_id]
        for clause, value in (("s.id < ?", query.max_id), ("s.id > ?", query.since_id),
                              ("s.id > ?", query.min_id)):
            if value is not None:
                where.append(clause)
                args.append(value)
        if query.exclude_replies:
            where.append("s.in_reply_to_id IS NULL")
        if query.min_id is None:
            return self._statuses(" AND ".join(where), args, newest_first=True,
                                  limit=query.limit)
        oldest_first = self._statuses(" AND ".join(where), args, limit=query.limit)
        return oldest_first[::-1]

    def all_statuses(self, account_id: str | None = None) -> list[MastodonStatus]:
        if account_id is None:
            return self._statuses("1 = 1", [])
        return self._statuses("s.account_id = ?", [account_id])

    def _statuses(self, where: str, args: Sequence[object], *, newest_first: bool = False,
                  limit: int | None = None) -> list[MastodonStatus]:
        sql = (
            "SELECT s.*, a.username, a.name, a.followers, a.created_at AS a_created"
            f" FROM mastodon_statuses s JOIN accounts a ON a.id = s.account_id WHERE {where}"
            f" ORDER BY s.id {'DESC' if newest_first else 'ASC'}"
            + ("" if limit is None else f" LIMIT {int(limit)}")
        )
        with self._lock:
            rows = self._db.execute(sql, args).fetchall()
            media: dict[str, list[MastodonMedia]] = {}
            for start in range(0, len(rows), 500):
                chunk = [row["id"] for row in rows[start:start + 500]]
                marks = ",".join("?" * len(chunk))
                for found in self._db.execute(
                        f"SELECT * FROM mastodon_media WHERE status_id IN ({marks})"
                        " ORDER BY status_id, position", chunk).fetchall():
                    media.setdefault(str(found["status_id"]), []).append(_mastodon_media(found))
        return [_mastodon_status(row, tuple(media.get(str(row["id"]), ()))) for row in rows]

    def add_mastodon_media(self, account_id: str, mime: str, size: int, sha256: str,
                           description: str | None, now: float, ready_at: float) -> MastodonMedia:
        with self._tx() as db:
            media_id = self._snowflake(db, now)
            db.execute(
                "INSERT INTO mastodon_media (id, account_id, mime, size, sha256, description,"
                " created_at, ready_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (media_id, account_id, mime, size, sha256, description, now, ready_at))
        return MastodonMedia(str(media_id), account_id, mime, size, description, now, ready_at,
                             None)

    def mastodon_media(self, media_id: str) -> MastodonMedia | None:
        if not media_id.isdigit():
            return None
        with self._lock:
            row = self._db.execute("SELECT * FROM mastodon_media WHERE id = ?",
                                   (int(media_id),)).fetchone()
        return None if row is None else _mastodon_media(row)


def _int_id(value: str | None) -> int | None:
    return None if value is None else int(value)


def _mastodon_media(row: sqlite3.Row) -> MastodonMedia:
    status_id = row["status_id"]
    return MastodonMedia(str(row["id"]), row["account_id"], row["mime"], row["size"],
                         row["description"], row["created_at"], row["ready_at"],
                         None if status_id is None else str(status_id))


def _mastodon_status(row: sqlite3.Row, media: tuple[MastodonMedia, ...]) -> MastodonStatus:
    account = Account(row["account_id"], row["username"], row["name"], row["followers"],
                      row["a_created"])
    reply_to = row["in_reply_to_id"]
    return MastodonStatus(str(row["id"]), account, row["text"], row["spoiler_text"],
                          row["visibility"], row["language"],
                          None if reply_to is None else str(reply_to), row["created_at"],
                          bool(row["deleted"]), media)
