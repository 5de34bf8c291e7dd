"""SqliteStore: conversations in one SQLite file (WAL), the only module here that speaks SQL."""
from __future__ import annotations

import json
import logging
import sqlite3

from ..concurrency import RealEvent, RealLock, start_os_thread
from .base import EVIDENCE, now_iso

log = logging.getLogger(__name__)
# Commits on the server's loop never checkpoint: a checkpoint fsyncs, and with SQLite's default
# (every 1,000 pages) one turn's writes in ~100 took 5-75 ms instead of 0.3 (2 busy cores).
# A thread of its own checkpoints this often instead.
CHECKPOINT_S = 10.0
WAL_LIMIT = 32 * 2**20  # bytes the WAL file is cut back to once checkpointed

# Each entry takes the schema from version i to i + 1 (PRAGMA user_version); append, never edit.
MIGRATIONS = [
    """
    CREATE TABLE conversations (
        session_id TEXT PRIMARY KEY,
        client_id  TEXT NOT NULL,
        title      TEXT NOT NULL,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        settings   TEXT NOT NULL DEFAULT '{}'
    );
    CREATE INDEX conversations_by_client ON conversations (client_id, updated_at);
    CREATE TABLE messages (
        session_id TEXT NOT NULL,
        seq        INTEGER NOT NULL,
        role       TEXT NOT NULL,
        content    TEXT NOT NULL,
        reasoning  TEXT,
        created_at TEXT NOT NULL,
        pending    INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (session_id, seq)
    ) WITHOUT ROWID;
    """,
    # A grounded reply's sources and grounding (#25), one JSON object; NULL for every other message.
    "ALTER TABLE messages ADD COLUMN meta TEXT",
]
SUMMARY = ("SELECT c.session_id, c.title, c.created_at, c.updated_at, "
           "(SELECT COUNT(*) FROM messages m WHERE m.session_id = c.session_id AND m.pending = 0) "
           "FROM conversations c ")


def connect_wal(path: str) -> sqlite3.Connection:
    """A connection in WAL mode for writes from any thread, waiting up to 5 s for another writer."""
    db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=NORMAL")
    db.execute("PRAGMA busy_timeout=5000")
    return db


class SqliteStore:
    """The store interface (store/base.py) over one sqlite3 connection, serialized by a lock.

    Writes run on the caller's thread: in WAL mode with synchronous=NORMAL a commit is a write to
    the OS cache with no fsync (fsync at checkpoints only), so a kill -9 loses nothing committed;
    bench/conversations.py measures what a turn's writes add to the relay.
    """

    durable = True

    def __init__(self, path: str):
        self.path = path
        self._lock = RealLock()
        try:
            self._db = connect_wal(path)
            self._db.execute("PRAGMA wal_autocheckpoint=0")
            self._db.execute(f"PRAGMA journal_size_limit={WAL_LIMIT}")
            self._migrate()
            # Lists (a search reads every message of a client) use their own connection, so that one
            # running in a worker thread holds up no write; WAL lets it read beside the writer.
            self._reader = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
            self._reader_lock = RealLock()
        except sqlite3.DatabaseError as e:
            raise SystemExit(f"The conversation store {path} cannot be used ({e}); move it away to start "
                             f"with an empty one, or choose another folder with --data-dir.")
        self._closed = RealEvent()
        self._checkpointer = start_os_thread(self._checkpoints, name="sqlite-checkpoint")

    def _checkpoints(self) -> None:
        """Copy the WAL into the database now and then, off the server's loop, on a connection of its own."""
        while not self._closed.wait(CHECKPOINT_S):
            try:
                db = sqlite3.connect(self.path, isolation_level=None)
                try:
                    db.execute("PRAGMA busy_timeout=5000")
                    db.execute("PRAGMA wal_checkpoint(PASSIVE)")
                finally:
                    db.close()
            except sqlite3.Error:
                log.exception("checkpointing %s failed", self.path)

    def _migrate(self) -> None:
        version = self._db.execute("PRAGMA user_version").fetchone()[0]
        if version > len(MIGRATIONS):
            raise sqlite3.DatabaseError(f"it was written by a newer version of this server (schema {version})")
        for i in range(version, len(MIGRATIONS)):
            with self._tx():
                for statement in MIGRATIONS[i].split(";"):
                    if statement.strip():
                        self._db.execute(statement)
                self._db.execute(f"PRAGMA user_version = {i + 1}")

    def _tx(self):
        db = self._db

        class Tx:
            def __enter__(self):
                db.execute("BEGIN IMMEDIATE")
                return db

            def __exit__(self, exc_type, *_):
                db.execute("ROLLBACK" if exc_type else "COMMIT")

        return Tx()

    def get(self, session_id):
        with self._lock:
            row = self._db.execute("SELECT session_id, client_id, title, created_at, updated_at, settings "
                                   "FROM conversations WHERE session_id = ?", (session_id,)).fetchone()
        if row is None:
            return None
        keys = ("session_id", "client_id", "title", "created_at", "updated_at")
        return {**dict(zip(keys, row)), "settings": json.loads(row[5])}

    def messages(self, session_id, last=None):
        with self._lock:
            rows = self._db.execute(
                "SELECT seq, role, content, reasoning, created_at, meta FROM messages "
                "WHERE session_id = ? AND pending = 0 "
                "ORDER BY seq DESC LIMIT ?", (session_id, -1 if last is None else last)).fetchall()
        rows.reverse()
        out = []
        for _, role, content, reasoning, created_at, meta in rows:
            m = {"role": role, "content": content, "created_at": created_at}
            if reasoning:
                m["reasoning"] = reasoning
            if meta:
                m.update(json.loads(meta))
            out.append(m)
        return (rows[0][0] if rows else 0), out

    def save(self, meta):
        with self._lock:
            self._db.execute(
                "INSERT INTO conversations (session_id, client_id, title, created_at, updated_at, settings) "
                "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (session_id) DO UPDATE SET title = excluded.title, "
                "updated_at = excluded.updated_at, settings = excluded.settings",
                (meta["session_id"], meta["client_id"], meta["title"], meta["created_at"], meta["updated_at"],
                 json.dumps(meta["settings"])))

    def _insert(self, session_id, messages, pending):
        nxt = self._db.execute("SELECT COALESCE(MAX(seq) + 1, 0) FROM messages WHERE session_id = ?",
                               (session_id,)).fetchone()[0]
        self._db.executemany(
            "INSERT INTO messages (session_id, seq, role, content, reasoning, created_at, pending, meta) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [(session_id, nxt + i, m["role"], m["content"], m.get("reasoning") or None, m["created_at"], int(pending),
              _meta(m)) for i, m in enumerate(messages)])
        self._db.execute("UPDATE conversations SET updated_at = ? WHERE session_id = ?", (now_iso(), session_id))

    def append(self, session_id, messages, pending=False):
        with self._lock, self._tx():
            if pending:  # one left by a process that died mid-reply (other processes may share the file)
                self._db.execute("DELETE FROM messages WHERE session_id = ? AND pending = 1", (session_id,))
            self._insert(session_id, messages, pending)

    def settle(self, session_id, reply):
        with self._lock, self._tx():
            if reply is None:
                self._db.execute("DELETE FROM messages WHERE session_id = ? AND pending = 1", (session_id,))
                return
            done = self._db.execute("UPDATE messages SET pending = 0 WHERE session_id = ? AND pending = 1",
                                    (session_id,)).rowcount
            if done:
                self._insert(session_id, [reply], False)

    def truncate(self, session_id, keep):
        with self._lock:
            self._db.execute("DELETE FROM messages WHERE session_id = ? AND seq >= ?", (session_id, keep))

    def delete(self, session_id):
        with self._lock, self._tx():
            self._db.execute("DELETE FROM messages WHERE session_id = ?", (session_id,))
            self._db.execute("DELETE FROM conversations WHERE session_id = ?", (session_id,))

    def list(self, client_id, query=None, before=None, limit=50):
        sql, args = SUMMARY + "WHERE c.client_id = ?", [client_id]
        if before is not None:
            sql += " AND c.updated_at < ?"
            args.append(before)
        if query:
            like = "%" + query.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
            sql += (" AND (c.title LIKE ? ESCAPE '\\' OR EXISTS (SELECT 1 FROM messages m WHERE "
                    "m.session_id = c.session_id AND m.pending = 0 AND m.content LIKE ? ESCAPE '\\'))")
            args += [like, like]
        sql += " ORDER BY c.updated_at DESC LIMIT ?"
        args.append(limit + 1)
        with self._reader_lock:
            rows = self._reader.execute(sql, args).fetchall()
        keys = ("session_id", "title", "created_at", "updated_at", "messages")
        return [dict(zip(keys, r)) for r in rows[:limit]], len(rows) > limit

    def close(self):
        """Stop checkpointing and close; the last connection to close checkpoints and removes the WAL."""
        self._closed.set()
        self._checkpointer.join()
        with self._lock, self._reader_lock:
            self._db.close()
            self._reader.close()


def _meta(message: dict) -> str | None:
    """The `meta` column: the message's evidence fields as JSON, NULL when it has none."""
    kept = {k: message[k] for k in EVIDENCE if k in message}
    return json.dumps(kept, ensure_ascii=False) if kept else None
