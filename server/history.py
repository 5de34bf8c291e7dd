"""Conversation sessions kept in memory: bounded in number, idle time and length."""
from __future__ import annotations

import re
import secrets
import threading
import time
from collections import OrderedDict

SESSION_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


def new_session_id() -> str:
    """A fresh id a client can keep and present again."""
    return secrets.token_urlsafe(12)


class Session:
    """One conversation: its history, its sockets, and the reply now streaming."""

    def __init__(self, session_id: str, max_history: int):
        self.id = session_id
        self.max_history = max_history
        self.history: list[dict] = []
        self.sockets: set[str] = set()
        self.active = None  # the Request now streaming, if any
        self.last_used = time.monotonic()

    def append_turn(self, user: str, assistant: str) -> None:
        """Add a question and its reply together, keeping at most max_history messages."""
        self.history += [{"role": "user", "content": user}, {"role": "assistant", "content": assistant}]
        overflow = len(self.history) - self.max_history
        if overflow > 0:
            overflow += overflow % 2  # drop whole turns so the history starts with a user message
            del self.history[:overflow]

    def snapshot(self) -> list[dict]:
        """A copy of the history safe to send or to build a prompt from."""
        return [dict(m) for m in self.history]


class SessionStore:
    """Sessions by id, least recently used evicted past max_sessions, idle ones expired."""

    def __init__(self, max_sessions: int, ttl: float, max_history: int):
        self.max_sessions = max_sessions
        self.ttl = ttl
        self.max_history = max_history
        self._sessions: OrderedDict[str, Session] = OrderedDict()
        self._lock = threading.RLock()

    def __len__(self) -> int:
        return len(self._sessions)

    def get(self, session_id: str) -> Session | None:
        with self._lock:
            s = self._sessions.get(session_id)
            if s is not None:
                self._touch(s)
            return s

    def get_or_create(self, session_id: str | None) -> Session:
        """The session of that id, or a new one (a fresh id when none is given)."""
        with self._lock:
            session_id = session_id or new_session_id()
            s = self._sessions.get(session_id)
            if s is None:
                s = Session(session_id, self.max_history)
                self._sessions[session_id] = s
                self._evict()
            self._touch(s)
            return s

    def _touch(self, s: Session) -> None:
        s.last_used = time.monotonic()
        self._sessions.move_to_end(s.id)

    def _evict(self) -> None:
        # Oldest first; a session with a socket or a streaming reply is in use and kept.
        excess = len(self._sessions) - self.max_sessions
        for sid in list(self._sessions):
            if excess <= 0:
                break
            s = self._sessions[sid]
            if not s.sockets and s.active is None:
                del self._sessions[sid]
                excess -= 1

    def expire(self, now: float | None = None) -> int:
        """Drop sessions idle longer than ttl; returns how many went."""
        now = time.monotonic() if now is None else now
        with self._lock:
            gone = [sid for sid, s in self._sessions.items()
                    if not s.sockets and s.active is None and now - s.last_used > self.ttl]
            for sid in gone:
                del self._sessions[sid]
            return len(gone)
