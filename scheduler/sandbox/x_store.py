"""X's posts and media in the sandbox (`scheduler.sandbox.x_api`); ids look like X's."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from scheduler.sandbox.accounts_store import Account
from scheduler.sandbox.store_base import ID_BASE, Database

X_SCHEMA = """
CREATE TABLE IF NOT EXISTS posts (
    id TEXT PRIMARY KEY, seq INTEGER NOT NULL UNIQUE, author_id TEXT NOT NULL,
    text TEXT NOT NULL, created_at REAL NOT NULL, kind TEXT NOT NULL, quote_of TEXT,
    reply_to TEXT, repost_of TEXT, deleted INTEGER NOT NULL DEFAULT 0);
CREATE INDEX IF NOT EXISTS posts_author ON posts (author_id, seq);
CREATE INDEX IF NOT EXISTS posts_text ON posts (author_id, text);
CREATE TABLE IF NOT EXISTS media (
    id TEXT PRIMARY KEY, media_key TEXT NOT NULL, account_id TEXT NOT NULL,
    category TEXT NOT NULL, size INTEGER NOT NULL, sha256 TEXT NOT NULL, alt_text TEXT,
    created_at REAL NOT NULL);
CREATE TABLE IF NOT EXISTS post_media (
    post_id TEXT NOT NULL, media_id TEXT NOT NULL, position INTEGER NOT NULL,
    PRIMARY KEY (post_id, position));
"""
X_TABLES = ("posts", "media", "post_media")


class DuplicateContent(Exception):
    """The author posted the same text within the duplicate window."""


@dataclass(frozen=True)
class Media:
    id: str
    media_key: str
    account_id: str
    category: str
    size: int
    alt_text: str | None
    created_at: float


@dataclass(frozen=True)
class Post:
    id: str
    author: Account
    text: str
    created_at: float
    kind: str
    quote_of: str | None
    reply_to: str | None
    repost_of: str | None
    deleted: bool
    media: tuple[Media, ...]


@dataclass(frozen=True)
class NewPost:
    author_id: str
    text: str
    kind: str = "post"
    quote_of: str | None = None
    reply_to: str | None = None
    repost_of: str | None = None
    media_ids: tuple[str, ...] = ()


@dataclass(frozen=True)
class TimelineQuery:
    author_id: str
    limit: int
    since_id: str | None = None
    until_id: str | None = None
    before_seq: int | None = None
    start_time: float | None = None
    end_time: float | None = None
    exclude: frozenset[str] = frozenset()


class XTables(Database):
    """X's posts and their media: ids from the shared counter, offset by `ID_BASE`."""

    # ---- media ----------------------------------------------------------------------------

    def add_media(self, account_id: str, category: str, size: int, sha256: str,
                  now: float) -> Media:
        with self._tx() as db:
            seq = self._next_seq(db)
            media_id = str(ID_BASE + seq)
            key = f"3_{media_id}"
            db.execute("INSERT INTO media VALUES (?, ?, ?, ?, ?, ?, NULL, ?)",
                       (media_id, key, account_id, category, size, sha256, now))
        return Media(media_id, key, account_id, category, size, None, now)

    def media(self, media_id: str) -> Media | None:
        with self._lock:
            row = self._db.execute("SELECT * FROM media WHERE id = ?", (media_id,)).fetchone()
        return None if row is None else _media(row)

    def set_alt_text(self, media_id: str, text: str) -> None:
        with self._tx() as db:
            db.execute("UPDATE media SET alt_text = ? WHERE id = ?", (text, media_id))

    # ---- posts ----------------------------------------------------------------------------

    def add_post(self, new: NewPost, now: float, *, duplicate_since: float | None) -> str:
        """Store a post and return its id; raises DuplicateContent first when the author
        posted the same text since `duplicate_since`."""
        with self._tx() as db:
            if duplicate_since is not None and db.execute(
                "SELECT 1 FROM posts WHERE author_id = ? AND text = ? AND deleted = 0"
                " AND kind != 'repost' AND created_at >= ?",
                (new.author_id, new.text, duplicate_since),
            ).fetchone():
                raise DuplicateContent(new.text)
            seq = self._next_seq(db)
            post_id = str(ID_BASE + seq)
            db.execute(
                "INSERT INTO posts (id, seq, author_id, text, created_at, kind, quote_of,"
                " reply_to, repost_of) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (post_id, seq, new.author_id, new.text, now, new.kind, new.quote_of,
                 new.reply_to, new.repost_of),
            )
            db.executemany("INSERT INTO post_media VALUES (?, ?, ?)",
                           [(post_id, m, i) for i, m in enumerate(new.media_ids)])
        return post_id

    def find_repost(self, author_id: str, original_id: str) -> str | None:
        with self._lock:
            row = self._db.execute(
                "SELECT id FROM posts WHERE author_id = ? AND repost_of = ? AND deleted = 0",
                (author_id, original_id),
            ).fetchone()
        return None if row is None else str(row["id"])

    def delete_post(self, post_id: str) -> None:
        with self._tx() as db:
            db.execute("UPDATE posts SET deleted = 1 WHERE id = ?", (post_id,))

    def posts_by_id(self, ids: Iterable[str]) -> dict[str, Post]:
        wanted = list(dict.fromkeys(ids))
        if not wanted:
            return {}
        marks = ",".join("?" * len(wanted))
        return {p.id: p for p in self._posts(f"p.id IN ({marks})", wanted)}

    def posts(self, author_id: str | None = None) -> list[Post]:
        if author_id is None:
            return self._posts("1 = 1", [])
        return self._posts("p.author_id = ?", [author_id])

    def timeline(self, query: TimelineQuery) -> list[Post]:
        """Up to `limit` of the author's live posts, newest first."""
        where = ["p.author_id = ?", "p.deleted = 0"]
        args: list[object] = [query.author_id]
        for clause, value in (
            ("p.seq > ?", _seq(query.since_id)), ("p.seq < ?", _seq(query.until_id)),
            ("p.seq < ?", query.before_seq), ("p.created_at >= ?", query.start_time),
            ("p.created_at <= ?", query.end_time),
        ):
            if value is not None:
                where.append(clause)
                args.append(value)
        if "retweets" in query.exclude:
            where.append("p.kind != 'repost'")
        if "replies" in query.exclude:
            where.append("p.reply_to IS NULL")
        return self._posts(" AND ".join(where), args, newest_first=True, limit=query.limit)

    def counts_of_references(self, post_ids: Iterable[str]) -> dict[str, tuple[int, int]]:
        """(reposts, quotes) of each post made inside the sandbox."""
        wanted = list(post_ids)
        if not wanted:
            return {}
        marks = ",".join("?" * len(wanted))
        with self._lock:
            rows = self._db.execute(
                "SELECT COALESCE(repost_of, quote_of) AS target, kind, COUNT(*) AS n FROM posts"
                f" WHERE deleted = 0 AND COALESCE(repost_of, quote_of) IN ({marks})"
                " GROUP BY target, kind", wanted,
            ).fetchall()
        counts: dict[str, tuple[int, int]] = {}
        for row in rows:
            reposts, quotes = counts.get(row["target"], (0, 0))
            if row["kind"] == "repost":
                reposts += row["n"]
            else:
                quotes += row["n"]
            counts[row["target"]] = (reposts, quotes)
        return counts

    def _posts(self, where: str, args: Sequence[object], *, newest_first: bool = False,
               limit: int | None = None) -> list[Post]:
        order = "DESC" if newest_first else "ASC"
        sql = (
            "SELECT p.*, a.username, a.name, a.followers, a.created_at AS a_created"
            f" FROM posts p JOIN accounts a ON a.id = p.author_id WHERE {where}"
            f" ORDER BY p.seq {order}" + ("" if limit is None else f" LIMIT {int(limit)}")
        )
        with self._lock:
            rows = self._db.execute(sql, args).fetchall()
            media = self._media_of([row["id"] for row in rows])
        return [_post(row, media.get(row["id"], ())) for row in rows]

    def _media_of(self, post_ids: list[str]) -> dict[str, tuple[Media, ...]]:
        found: dict[str, list[Media]] = {}
        for start in range(0, len(post_ids), 500):
            chunk = post_ids[start:start + 500]
            marks = ",".join("?" * len(chunk))
            rows = self._db.execute(
                "SELECT pm.post_id, m.* FROM post_media pm JOIN media m ON m.id = pm.media_id"
                f" WHERE pm.post_id IN ({marks}) ORDER BY pm.post_id, pm.position",
                chunk,
            ).fetchall()
            for row in rows:
                found.setdefault(row["post_id"], []).append(_media(row))
        return {k: tuple(v) for k, v in found.items()}


def _seq(post_id: str | None) -> int | None:
    return None if post_id is None else int(post_id) - ID_BASE


def _media(row: sqlite3.Row) -> Media:
    return Media(row["id"], row["media_key"], row["account_id"], row["category"], row["size"],
                 row["alt_text"], row["created_at"])


def _post(row: sqlite3.Row, media: tuple[Media, ...]) -> Post:
    author = Account(row["author_id"], row["username"], row["name"], row["followers"],
                     row["a_created"])
    return Post(row["id"], author, row["text"], row["created_at"], row["kind"], row["quote_of"],
                row["reply_to"], row["repost_of"], bool(row["deleted"]), media)

