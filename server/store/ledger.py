"""The ledger: the audit log of shared changes and the per-device daily usage counts, in SQLite beside the data."""
from __future__ import annotations

import hashlib
import json
import os
import sqlite3

from ..concurrency import RealLock
from .sqlite import connect_wal

AUDIT_FIELDS = ("at", "action", "ok", "role", "device", "address", "target", "detail")
USAGE_FIELDS = ("date", "device", "backend", "model", "requests", "prompt_tokens", "completion_tokens")
SCHEMA = """
CREATE TABLE IF NOT EXISTS audit (
    at TEXT PRIMARY KEY, action TEXT NOT NULL, ok INTEGER NOT NULL, role TEXT NOT NULL,
    device TEXT, address TEXT NOT NULL, target TEXT, detail TEXT
);
CREATE INDEX IF NOT EXISTS audit_by_action ON audit (action, at);
CREATE TABLE IF NOT EXISTS usage (
    date TEXT NOT NULL, device TEXT NOT NULL, backend TEXT NOT NULL, model TEXT NOT NULL,
    requests INTEGER NOT NULL, prompt_tokens INTEGER NOT NULL, completion_tokens INTEGER NOT NULL,
    PRIMARY KEY (date, device, backend, model)
) WITHOUT ROWID;
"""
FILE = "ledger.sqlite3"


def device_of(client_id: str | None) -> str | None:
    """A short hash that tells devices apart in the log without keeping the id itself
    (which opens its conversations)."""
    if not client_id:
        return None
    return hashlib.sha256(client_id.encode()).hexdigest()[:10]


def entry_of(row) -> dict:
    """An audit row as the API shows it: fields that are empty are left out."""
    entry = dict(zip(AUDIT_FIELDS, row))
    entry["ok"] = bool(entry["ok"])
    return {k: v for k, v in entry.items() if v is not None}


class SqliteLedger:
    """Audit entries and usage counts in one SQLite file (WAL); ':memory:' for --store memory."""

    def __init__(self, path: str):
        self.path = path
        self._lock = RealLock()
        try:
            self._db = connect_wal(path)
            self._db.executescript(SCHEMA)
        except sqlite3.DatabaseError as e:
            raise SystemExit(f"The ledger {path} cannot be used ({e}); move it away or choose another --data-dir.")

    def record(self, entry: dict) -> None:
        """Append one audit entry (`at` from store.base.now_iso: unique and increasing)."""
        row = tuple(int(entry[k]) if k == "ok" else entry.get(k) for k in AUDIT_FIELDS)
        with self._lock:
            self._db.execute(f"INSERT INTO audit VALUES ({','.join('?' * len(AUDIT_FIELDS))})", row)

    def entries(self, before: str | None, limit: int, action: str | None = None) -> list[dict]:
        """Newest first, older than `before` (an entry's `at`), optionally of one action."""
        sql, args = f"SELECT {','.join(AUDIT_FIELDS)} FROM audit WHERE at < ?", [before or "~"]
        if action:
            sql, args = sql + " AND action = ?", args + [action]
        with self._lock:
            rows = self._db.execute(sql + " ORDER BY at DESC LIMIT ?", (*args, limit)).fetchall()
        return [entry_of(r) for r in rows]

    def count(self, date: str, device: str, backend: str, model: str, prompt: int, completion: int) -> None:
        """One finished request's tokens added to its device's day."""
        with self._lock:
            self._db.execute(
                "INSERT INTO usage VALUES (?, ?, ?, ?, 1, ?, ?) ON CONFLICT (date, device, backend, model) DO UPDATE "
                "SET requests = requests + 1, prompt_tokens = prompt_tokens + excluded.prompt_tokens, "
                "completion_tokens = completion_tokens + excluded.completion_tokens",
                (date, device, backend, model, prompt, completion))

    def tokens(self, date: str, device: str) -> int:
        """Prompt and completion tokens a device used on a day, every backend together."""
        with self._lock:
            row = self._db.execute("SELECT SUM(prompt_tokens + completion_tokens) FROM usage "
                                   "WHERE date = ? AND device = ?",
                                   (date, device)).fetchone()
        return row[0] or 0

    def usage(self, since: str) -> list[dict]:
        """Every count from the day `since` on, newest day first."""
        with self._lock:
            rows = self._db.execute(f"SELECT {','.join(USAGE_FIELDS)} FROM usage WHERE date >= ? "
                                    "ORDER BY date DESC, device, backend, model", (since,)).fetchall()
        return [dict(zip(USAGE_FIELDS, r)) for r in rows]


class RedisLedger:
    """The same on Redis (--redis): every process appends to one log and counts into one day."""

    AUDIT = "chat:audit"  # sorted set: score = microseconds of `at`, member = the entry as JSON
    KEEP_DAYS_S = 400 * 86400  # a day's usage hash lives a little over a year

    def __init__(self, client):
        self.r = client  # decode_responses=True

    def record(self, entry: dict) -> None:
        from .redis import score

        self.r.zadd(self.AUDIT, {json.dumps({k: entry.get(k) for k in AUDIT_FIELDS}): score(entry["at"])})

    def entries(self, before: str | None, limit: int, action: str | None = None) -> list[dict]:
        from .redis import score

        top, out = (f"({score(before)}" if before else "+inf"), list[dict]()
        while len(out) < limit:
            raw = self.r.zrevrangebyscore(self.AUDIT, top, "-inf", start=0, num=max(limit, 200), withscores=True)
            if not raw:
                break
            for member, sc in raw:
                entry = json.loads(member)
                if not action or entry["action"] == action:
                    out.append(entry_of(tuple(entry[k] for k in AUDIT_FIELDS)))
            top = f"({int(raw[-1][1])}"
        return out[:limit]

    def count(self, date: str, device: str, backend: str, model: str, prompt: int, completion: int) -> None:
        key, field = f"chat:usage:{date}", json.dumps([device, backend, model])
        p = self.r.pipeline()
        p.hincrby(key, field + "|requests", 1)
        p.hincrby(key, field + "|prompt_tokens", prompt)
        p.hincrby(key, field + "|completion_tokens", completion)
        p.hincrby(f"chat:usage_tokens:{date}", device, prompt + completion)
        p.expire(key, self.KEEP_DAYS_S)
        p.expire(f"chat:usage_tokens:{date}", 2 * 86400)
        p.execute()

    def tokens(self, date: str, device: str) -> int:
        return int(self.r.hget(f"chat:usage_tokens:{date}", device) or 0)

    def usage(self, since: str) -> list[dict]:
        rows: dict[str, dict] = {}
        for key in self.r.scan_iter("chat:usage:*", count=500):
            date = key.rsplit(":", 1)[1]
            if date < since:
                continue
            for field, value in self.r.hgetall(key).items():
                ident, _, name = field.rpartition("|")
                device, backend, model = json.loads(ident)
                row = rows.setdefault(date + ident, {"date": date, "device": device, "backend": backend, "model": model,
                                                     "requests": 0, "prompt_tokens": 0, "completion_tokens": 0})
                row[name] = int(value)
        out = sorted(rows.values(), key=lambda r: (r["device"], r["backend"], r["model"]))
        return sorted(out, key=lambda r: r["date"], reverse=True)


def open_ledger(cfg, redis_client=None):
    """The ledger beside the conversations: Redis with --redis, a file in the data folder, or memory."""
    if redis_client is not None:
        return RedisLedger(redis_client)
    if cfg.store == "memory":
        return SqliteLedger(":memory:")
    from ..paths import data_dir

    return SqliteLedger(os.path.join(data_dir(cfg), FILE))
