"""Pairing codes: short, one-time, expiring; kept in memory (one process) or in Redis (every process)."""
from __future__ import annotations

import json
import re
import secrets
import threading
import time

from ..errors import ChatError

# No 0/O, 1/I: a code read off one screen and typed on another is not mistyped. 32 symbols, 8 of them:
# 2^40 codes; at 10 tries a minute per address, one address needs about 10^5 years for an even chance.
ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
CODE_LENGTH = 8
# A used or expired code is remembered this long after its end, so its redeemer hears which it was.
KEEP_S = 3600



def expired(ttl: float) -> str:
    """The sentence for an expired code, with how long codes last on this server (--pair-ttl)."""
    minutes = ttl / 60
    span = (f"{minutes:g} minute{'s' if minutes != 1 else ''}" if ttl >= 60 and ttl % 60 == 0
            else f"{ttl:g} second{'s' if ttl != 1 else ''}")
    return f"This code has expired (codes last {span}): make a new one on your other device."

USED = "This code was already used: make a new one on your other device."
UNKNOWN = "No such code: check it, or make a new one on your other device."


def new_code() -> str:
    """A fresh random code."""
    return "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))


def normalize(text) -> str | None:
    """The code a person typed ("abcd-efgh", spaces, lower case) in its canonical form, or None."""
    if not isinstance(text, str) or len(text) > 64:
        return None
    code = re.sub(r"[\s-]", "", text).upper()
    if len(code) != CODE_LENGTH or any(c not in ALPHABET for c in code):
        return None
    return code


def _refusal(state: str, ttl: float) -> ChatError:
    """Expired, used and unknown codes share one code (the remedy is the same) with their own sentence."""
    return ChatError("not_found", {"expired": expired(ttl), "used": USED}.get(state, UNKNOWN))


class MemoryCodes:
    """Codes of this process alone (no --redis)."""

    def __init__(self, clock=time.time):
        self.clock = clock
        self._live: dict[str, tuple[str, float]] = {}  # code -> (client_id, expires_at)
        self._ended: dict[str, tuple[str, float]] = {}  # code -> ("used" | "expired", forget_at)
        self._lock = threading.Lock()

    def put(self, client_id: str, ttl: float) -> str:
        """A new code for client_id, valid ttl seconds."""
        now = self.clock()
        with self._lock:
            self._sweep(now)
            code = new_code()
            while code in self._live or code in self._ended:
                code = new_code()
            self._live[code] = (client_id, now + ttl)
        return code

    def take(self, code: str, ttl: float = 600) -> str:
        """The client_id of a live code, which is then used up; else not_found saying why (ttl: how long codes last)."""
        now = self.clock()
        with self._lock:
            self._sweep(now)
            live = self._live.pop(code, None)
            if live is None:
                raise _refusal(self._ended.get(code, ("unknown", 0))[0], ttl)
            self._ended[code] = ("used", now + KEEP_S)
            return live[0]

    def _sweep(self, now: float) -> None:
        for code, (_, expires_at) in list(self._live.items()):
            if expires_at <= now:
                del self._live[code]
                self._ended[code] = ("expired", expires_at + KEEP_S)
        for code, (_, forget_at) in list(self._ended.items()):
            if forget_at <= now:
                del self._ended[code]


class RedisCodes:
    """Codes every process of a cluster sees (--redis): one key per code, taken with GETDEL."""

    PREFIX = "chat:pair:"

    def __init__(self, client, clock=time.time):
        self.r = client
        self.clock = clock

    def put(self, client_id: str, ttl: float) -> str:
        code = new_code()
        value = json.dumps({"client_id": client_id, "expires_at": self.clock() + ttl})
        # The key outlives the code by KEEP_S, so a late redeemer hears "expired", not "unknown".
        while not self.r.set(self.PREFIX + code, value, ex=int(ttl) + KEEP_S, nx=True):
            code = new_code()
        return code

    def take(self, code: str, ttl: float = 600) -> str:
        raw = self.r.getdel(self.PREFIX + code)  # atomic: two processes never both get it
        if raw is None:
            raise _refusal(self.r.get(self.PREFIX + code + ":ended") or "unknown", ttl)
        entry = json.loads(raw)
        expired = entry["expires_at"] <= self.clock()
        self.r.set(self.PREFIX + code + ":ended", "expired" if expired else "used", ex=KEEP_S)
        if expired:
            raise _refusal("expired", ttl)
        return entry["client_id"]
