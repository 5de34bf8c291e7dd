"""Rate limits of one process: a sliding window per key in memory (redis_limits.py shares them)."""
from __future__ import annotations

from collections import defaultdict, deque
import threading
import time

from ..errors import ChatError


def rate_limited(limit: int, wait_s: float) -> ChatError:
    """The error for a key past its limit, saying when it may try again."""
    return ChatError("rate_limited", f"Too many messages: at most {limit} a minute. Try again in {int(wait_s) + 1} s.")


class RateLimiter:
    """At most `limit` events per key in any 60-second window (0 = unlimited)."""

    def __init__(self, limit: int, window: float = 60.0):
        self.limit = limit
        self.window = window
        self._hits: dict[str, deque] = defaultdict(deque)
        self._lock = threading.Lock()

    def check(self, key: str) -> None:
        """Count one event for key, or raise rate_limited."""
        if self.limit <= 0:
            return
        now = time.monotonic()
        with self._lock:
            hits = self._hits[key]
            while hits and now - hits[0] > self.window:
                hits.popleft()
            if len(hits) >= self.limit:
                raise rate_limited(self.limit, self.window - (now - hits[0]))
            hits.append(now)

    def sweep(self) -> None:
        """Forget keys with no recent events, so memory stays bounded."""
        now = time.monotonic()
        with self._lock:
            for key in [k for k, h in self._hits.items() if not h or now - h[-1] > self.window]:
                del self._hits[key]
