"""Who is connected: each socket's conversation, client and address (memory; one process)."""
from __future__ import annotations

from collections import Counter, defaultdict
import threading
from typing import NamedTuple


def room(session_id: str) -> str:
    """The Socket.IO room that every socket of a session joins."""
    return "session:" + session_id


class Entry(NamedTuple):
    session_id: str
    client_id: str
    ip: str


class Presence:
    """sid -> Entry, with counts of sockets per address and the sockets following each conversation."""

    def __init__(self):
        self._sockets: dict[str, Entry] = {}
        self._per_ip: Counter = Counter()
        self._per_session: defaultdict[str, set] = defaultdict(set)
        self._lock = threading.Lock()

    def __contains__(self, sid: str) -> bool:
        return sid in self._sockets

    def get(self, sid: str) -> Entry | None:
        return self._sockets.get(sid)

    def add(self, sid: str, session_id: str, client_id: str, ip: str) -> None:
        with self._lock:
            self._sockets[sid] = Entry(session_id, client_id, ip)
            self._per_ip[ip] += 1
            self._per_session[session_id].add(sid)

    def remove(self, sid: str) -> Entry | None:
        """Forget a socket; its entry, or None if it was not here."""
        with self._lock:
            entry = self._sockets.pop(sid, None)
            if entry is not None:
                self._per_ip[entry.ip] -= 1
                if self._per_ip[entry.ip] <= 0:
                    del self._per_ip[entry.ip]
                self._unfollow(sid, entry.session_id)
            return entry

    def follow(self, sid: str, session_id: str) -> str | None:
        """The socket now follows another conversation; returns the one it followed."""
        with self._lock:
            entry = self._sockets.get(sid)
            if entry is None:
                return None
            self._unfollow(sid, entry.session_id)
            self._sockets[sid] = entry._replace(session_id=session_id)
            self._per_session[session_id].add(sid)
            return entry.session_id

    def _unfollow(self, sid: str, session_id: str) -> None:
        followers = self._per_session.get(session_id)
        if followers is not None:
            followers.discard(sid)
            if not followers:
                del self._per_session[session_id]

    def per_ip(self, ip: str) -> int:
        return self._per_ip.get(ip, 0)

    def watched(self, session_id: str) -> bool:
        """True while some socket follows the conversation."""
        return bool(self._per_session.get(session_id))
