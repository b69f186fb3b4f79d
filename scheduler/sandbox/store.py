"""The sandbox's state in one SQLite file: accounts, tokens, posts, media, grants, request log.

One connection guarded by one lock: every method is a short transaction, so the server's
threads never interleave a check with the write that depends on it (duplicate content, a
refresh token used once). Times are epoch seconds of the sandbox clock.
"""

from __future__ import annotations

import json
import secrets
import sqlite3
import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

#: Ids look like X's: large, numeric, increasing.
ID_BASE = 1_800_000_000_000_000_000

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
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
CREATE TABLE IF NOT EXISTS requests (
    id INTEGER PRIMARY KEY AUTOINCREMENT, time REAL NOT NULL, method TEXT NOT NULL,
    path TEXT NOT NULL, status INTEGER, user TEXT, latency_ms REAL NOT NULL, fault TEXT);
"""

_FORGETTABLE = ("accounts", "tokens", "grants", "posts", "media", "post_media", "requests")


class DuplicateContent(Exception):
    """The author posted the same text within the duplicate window."""


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


def new_secret(nbytes: int = 24) -> str:
    return secrets.token_urlsafe(nbytes)


class Store:
    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.RLock()
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.row_factory = sqlite3.Row
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute("PRAGMA busy_timeout=5000")
        self._db.executescript(_SCHEMA)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    # ---- settings and ids ----------------------------------------------------------------

    def get_setting(self, key: str) -> Any:
        with self._lock:
            row = self._db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return None if row is None else json.loads(row["value"])

    def put_setting(self, key: str, value: Any) -> None:
        with self._tx() as db:
            db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)",
                       (key, json.dumps(value)))

    def _next_seq(self, db: sqlite3.Connection) -> int:
        row = db.execute("SELECT value FROM meta WHERE key = 'seq'").fetchone()
        seq = 1 if row is None else int(json.loads(row["value"])) + 1
        db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('seq', ?)", (str(seq),))
        return seq

    def reset(self) -> None:
        """Forget everything but the id counter, so ids never repeat."""
        with self._tx() as db:
            for table in _FORGETTABLE:
                db.execute(f"DELETE FROM {table}")
            db.execute("DELETE FROM meta WHERE key != 'seq'")

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
        return [_account(row) for row in rows]

    @staticmethod
    def _account_where(db: sqlite3.Connection, where: str, value: object) -> Account | None:
        row = db.execute(f"SELECT * FROM accounts WHERE {where}", (value,)).fetchone()
        return None if row is None else _account(row)

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

    # ---- request log ----------------------------------------------------------------------

    def log_request(self, *, time: float, method: str, path: str, status: int | None,
                    user: str | None, latency_ms: float, fault: str | None) -> None:
        with self._tx() as db:
            db.execute(
                "INSERT INTO requests (time, method, path, status, user, latency_ms, fault)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                (time, method, path, status, user, latency_ms, fault),
            )

    def requests(self, since_id: int | None = None) -> list[dict[str, Any]]:
        with self._lock:
            rows = self._db.execute("SELECT * FROM requests WHERE id > ? ORDER BY id",
                                    (since_id or 0,)).fetchall()
        return [dict(row) for row in rows]


def _seq(post_id: str | None) -> int | None:
    return None if post_id is None else int(post_id) - ID_BASE


def _account(row: sqlite3.Row) -> Account:
    return Account(row["id"], row["username"], row["name"], row["followers"], row["created_at"])


def _media(row: sqlite3.Row) -> Media:
    return Media(row["id"], row["media_key"], row["account_id"], row["category"], row["size"],
                 row["alt_text"], row["created_at"])


def _post(row: sqlite3.Row, media: tuple[Media, ...]) -> Post:
    author = Account(row["author_id"], row["username"], row["name"], row["followers"],
                     row["a_created"])
    return Post(row["id"], author, row["text"], row["created_at"], row["kind"], row["quote_of"],
                row["reply_to"], row["repost_of"], bool(row["deleted"]), media)
