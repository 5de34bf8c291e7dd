"""What ChatService shares with the other processes of a cluster; SingleProcess shares nothing."""
from __future__ import annotations

from ..devices import MemoryCodes
from ..errors import ChatError
from ..store.base import ConversationStore
from .limits import RateLimiter
from .presence import Presence

BUSY = "A reply is still streaming in this conversation; stop it or wait for it."
GONE = "That reply is no longer available; the conversation history has what was kept."


class SingleProcess:
    """One process alone: replies, their token logs (Request.log) and limits live in ChatService's memory.

    RedisCluster (server/cluster/redis_cluster.py) has the same methods (the Cluster protocol of
    server/cluster/base.py); ChatService calls them where a reply could be seen or steered from another process.
    """

    def open_store(self, cfg) -> ConversationStore:
        """Where conversations are kept: --store's choice."""
        from ..store import open_store

        return open_store(cfg)

    def presence(self) -> Presence:
        """Who is connected (here: to this process)."""
        return Presence()

    def attach(self, service) -> None:
        """Start whatever runs beside the service (nothing here)."""

    def rate_limiter(self, limit: int, name: str) -> RateLimiter:
        """A limiter counting events of every process (here: this one)."""
        return RateLimiter(limit)

    def pairing_codes(self) -> MemoryCodes:
        """Device pairing codes every process can redeem (here: this one's memory)."""
        return MemoryCodes()

    def claim(self, req) -> None:
        """Make req the one reply streaming in its conversation, or raise busy (session.active does it here)."""

    def logged(self, req, event: dict) -> None:
        """A `token` event was added to req.log."""

    def ended_elsewhere(self, req) -> bool:
        """True when another process took this one for dead and already ended req: keep and send nothing."""
        return False

    def finished(self, req) -> None:
        """req has its done_event (and maybe error_event); its conversation is free again."""

    def stop(self, session_id: str, request_id: str | None, discard: bool) -> bool:
        """Stop a reply of this conversation streaming in another process; True if one was asked to."""
        return False

    def resume(self, session_id: str, request_id: str, after_seq: int, sid: str) -> str:
        """Replay a reply this process does not hold to one socket; "streaming" or "finished"."""
        raise ChatError("not_found", GONE)

    def active_request_id(self, session_id: str) -> str | None:
        """The reply streaming in this conversation in another process, if any."""
        return None
