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

#: Mastodon's statuses and media (`scheduler.sandbox.mastodon_api`); ids are snowflakes as
#: Mastodon's are (milliseconds << 16), so a time converts to an id for `since_id`.
_MASTODON_SCHEMA = """
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
_MASTODON_TABLES = ("mastodon_statuses", "mastodon_media")

#: Bluesky's identities, blobs and repository records (`scheduler.sandbox.bluesky_api`); its
#: app passwords and session tokens are rows of `tokens`, so revoking an account ends them.
_BLUESKY_SCHEMA = """
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
_BLUESKY_TABLES = ("bluesky_identities", "bluesky_blobs", "bluesky_records")


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


# ---- mastodon ----


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


# ---- bluesky ----


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
        self._db.executescript(_MASTODON_SCHEMA)
        self._db.executescript(_BLUESKY_SCHEMA)

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
            for table in (*_FORGETTABLE, *_MASTODON_TABLES, *_BLUESKY_TABLES):
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

    # ---- mastodon ----

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

    # ---- bluesky ----

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


# ---- mastodon ----


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


# ---- bluesky ----


def _bluesky_identity(row: sqlite3.Row) -> BlueskyIdentity:
    """From a row carrying the identity's `did` and `handle` and its account's columns."""
    return BlueskyIdentity(_account(row), row["did"], row["handle"])
