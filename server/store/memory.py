"""MemoryStore: conversations in dicts, gone when the process ends (--store memory)."""
from __future__ import annotations

import copy
import threading

from .base import now_iso


class MemoryStore:
    """The store interface (store/base.py) over dicts; nothing touches the disk."""

    durable = False

    def __init__(self):
        self._meta: dict[str, dict] = {}
        self._messages: dict[str, list[dict]] = {}
        self._pending: dict[str, dict] = {}
        self._lock = threading.RLock()

    def get(self, session_id):
        with self._lock:
            meta = self._meta.get(session_id)
            return copy.deepcopy(meta) if meta else None

    def messages(self, session_id, last=None):
        with self._lock:
            msgs = self._messages.get(session_id, [])
            first = max(0, len(msgs) - last) if last is not None else 0
            return first, copy.deepcopy(msgs[first:])

    def save(self, meta):
        with self._lock:
            self._meta[meta["session_id"]] = copy.deepcopy(meta)
            self._messages.setdefault(meta["session_id"], [])

    def append(self, session_id, messages, pending=False):
        with self._lock:
            if pending:
                self._pending[session_id] = copy.deepcopy(messages[0])
            else:
                self._messages[session_id] += copy.deepcopy(messages)
            self._meta[session_id]["updated_at"] = now_iso()

    def settle(self, session_id, reply):
        with self._lock:
            question = self._pending.pop(session_id, None)
            if question is not None and reply is not None and session_id in self._meta:
                self._messages[session_id] += [question, copy.deepcopy(reply)]
                self._meta[session_id]["updated_at"] = now_iso()

    def truncate(self, session_id, keep):
        with self._lock:
            del self._messages.get(session_id, [])[keep:]

    def delete(self, session_id):
        with self._lock:
            for d in (self._meta, self._messages, self._pending):
                d.pop(session_id, None)

    def list(self, client_id, query=None, before=None, limit=50):
        needle = query.casefold() if query else None
        with self._lock:
            rows = [m for m in self._meta.values() if m["client_id"] == client_id
                    and (before is None or m["updated_at"] < before)
                    and (needle is None or needle in m["title"].casefold()
                         or any(needle in x["content"].casefold() for x in self._messages[m["session_id"]]))]
            rows.sort(key=lambda m: m["updated_at"], reverse=True)
            return [self._summary(m) for m in rows[:limit]], len(rows) > limit

    def _summary(self, meta):
        keys = ("session_id", "title", "created_at", "updated_at")
        return {**{k: meta[k] for k in keys}, "messages": len(self._messages[meta["session_id"]])}

    def close(self):
        pass
