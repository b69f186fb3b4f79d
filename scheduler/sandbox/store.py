"""The sandbox's state in one SQLite file: every network's tables, and the request log.

`Store` puts together the table families, each in its own module: the shared accounts,
tokens and grants (`accounts_store`), X's posts and media (`x_store`), Mastodon's statuses
(`mastodon_store`) and Bluesky's repositories (`bluesky_store`), over one connection
(`store_base`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from scheduler.sandbox.accounts_store import ACCOUNT_SCHEMA, ACCOUNT_TABLES, AccountTables
from scheduler.sandbox.bluesky_store import BLUESKY_SCHEMA, BLUESKY_TABLES, BlueskyTables
from scheduler.sandbox.mastodon_store import MASTODON_SCHEMA, MASTODON_TABLES, MastodonTables
from scheduler.sandbox.x_store import X_SCHEMA, X_TABLES, XTables

_REQUESTS_SCHEMA = """
CREATE TABLE IF NOT EXISTS requests (
    id INTEGER PRIMARY KEY AUTOINCREMENT, time REAL NOT NULL, method TEXT NOT NULL,
    path TEXT NOT NULL, status INTEGER, user TEXT, latency_ms REAL NOT NULL, fault TEXT);
"""

_FORGETTABLE = (*ACCOUNT_TABLES, *X_TABLES, "requests", *MASTODON_TABLES, *BLUESKY_TABLES)


class Store(AccountTables, XTables, MastodonTables, BlueskyTables):
    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self._db.executescript(ACCOUNT_SCHEMA)
        self._db.executescript(X_SCHEMA)
        self._db.executescript(_REQUESTS_SCHEMA)
        self._db.executescript(MASTODON_SCHEMA)
        self._db.executescript(BLUESKY_SCHEMA)

    def reset(self) -> None:
        """Forget everything but the id counter, so ids never repeat."""
        with self._tx() as db:
            for table in _FORGETTABLE:
                db.execute(f"DELETE FROM {table}")
            db.execute("DELETE FROM meta WHERE key != 'seq'")

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
