"""The cluster seam: what ChatService shares with the other processes (SingleProcess, RedisCluster)."""
from __future__ import annotations

from typing import Protocol

from ..store.base import ConversationStore
from .presence import Presence


class Limiter(Protocol):
    """Counts events per key over a minute; check() raises ChatError("rate_limited") past the limit."""

    def check(self, key: str) -> None: ...

    def sweep(self) -> None: ...


class PairingCodes(Protocol):
    """Short-lived one-time codes that hand a client id to another device."""

    def put(self, client_id: str, ttl: float) -> str: ...

    def take(self, code: str, ttl: float = 600) -> str: ...


class Cluster(Protocol):
    """Called by ChatService where a reply could be seen or steered from another process.

    `req` is the chat's Request (server/chat/relay.py), which this floor may not import.
    """

    def open_store(self, cfg) -> ConversationStore: ...

    def presence(self) -> Presence: ...

    def attach(self, service) -> None: ...

    def rate_limiter(self, limit: int, name: str) -> Limiter: ...

    def pairing_codes(self) -> PairingCodes: ...

    def claim(self, req) -> None: ...

    def logged(self, req, event: dict) -> None: ...

    def ended_elsewhere(self, req) -> bool: ...

    def finished(self, req) -> None: ...

    def stop(self, session_id: str, request_id: str | None, discard: bool) -> bool: ...

    def resume(self, session_id: str, request_id: str, after_seq: int, sid: str) -> str: ...

    def active_request_id(self, session_id: str) -> str | None: ...
