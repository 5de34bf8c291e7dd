"""Replies shared through Redis: one claim per conversation, token logs in Streams, commands to owners."""
from __future__ import annotations

import json
import logging
import os
import threading
import time
import uuid

from redis.exceptions import RedisError

from ..devices import RedisCodes
from ..errors import ChatError
from ..store.redis import RedisStore
from .redis_limits import RedisRateLimiter
from .redis_presence import RedisPresence
from .redis_watch import CLAIM_MS, DOWN, RELEASE, RENEW, ClusterWatch, claim_key, log_key
from .single import BUSY, GONE

log = logging.getLogger(__name__)

class RedisCluster(ClusterWatch):
    """One process of several: the cluster.SingleProcess interface on Redis."""

    def __init__(self, cfg, client, io):
        self.cfg = cfg
        self.r = client
        self.io = io
        self.owner = f"{os.getpid()}-{uuid.uuid4().hex[:8]}"
        self.service = None
        self._presence = None  # made by presence(), before attach()
        self._unwatched: set[str] = set()  # replies whose orphan limit runs
        self._ended: set[str] = set()  # replies of this process another one ended, taking it for dead
        self._release = client.register_script(RELEASE)
        self._renew = client.register_script(RENEW)
        self._warned = 0.0
        self._unlogged: dict[str, list] = {}  # request_id -> token events not yet written to its log
        self._log_lock = threading.Lock()

    def open_store(self, cfg) -> RedisStore:
        """Conversations in Redis, whatever --store says: every process must see the same ones."""
        return RedisStore(self.r, self.owner)

    def presence(self) -> RedisPresence:
        self._presence = RedisPresence(self.r, self.owner)
        return self._presence

    def attach(self, service) -> None:
        self.service = service
        self.io.start_background_task(self._heartbeat)
        self.io.start_background_task(self._listen)
        self.io.start_background_task(self._log_writer)

    def rate_limiter(self, limit: int, name: str) -> RedisRateLimiter:
        return RedisRateLimiter(self.r, limit, name)

    def pairing_codes(self) -> RedisCodes:
        """Pairing codes in Redis: a code made on one process redeems on any other."""
        return RedisCodes(self.r)

    def _running_ms(self) -> int:
        return CLAIM_MS + int(self.cfg.replay_ttl * 1000)

    # --- the owner's side -------------------------------------------------

    def claim(self, req) -> None:
        value = f"{self.owner} {req.id}"
        try:
            if not self.r.set(claim_key(req.session.id), value, nx=True, px=CLAIM_MS):
                raise ChatError("busy", BUSY)
            try:
                with self.r.pipeline() as p:
                    p.sadd("chat:claims:" + self.owner, req.session.id)
                    p.xadd(log_key(req.id), {"ev": "start", "data": json.dumps(
                        {"session_id": req.session.id, "owner": self.owner})})
                    p.pexpire(log_key(req.id), self._running_ms())
                    p.execute()
            except RedisError:
                self._release(keys=[claim_key(req.session.id)], args=[value])
                raise
        except RedisError as e:
            log.warning("cannot claim a reply in Redis: %s", e)
            raise ChatError("unavailable", DOWN) from e

    def logged(self, req, event: dict) -> None:
        # Written by _log_writer every LOG_WRITE_S rather than one Redis round trip per event on the
        # relay's path: the owner replays a running reply from memory, so only a dead owner's last
        # fraction of a second is lost (its ending then holds a little less text than was streamed).
        with self._log_lock:
            self._unlogged.setdefault(req.id, []).append(event)

    def _write_logs(self, final: list | None = None, ttl: dict | None = None) -> None:
        """Write the events logged since the last beat (then `final`), in order."""
        with self._log_lock:
            pending, self._unlogged = self._unlogged, {}
            self._record([(rid, "token", e) for rid, events in pending.items() for e in events] + (final or []), ttl)

    def finished(self, req) -> None:
        self._unwatched.discard(req.id)
        if req.id in self._ended:  # its log already holds the end another process sent
            self._ended.discard(req.id)
            with self._log_lock:
                self._unlogged.pop(req.id, None)
            return
        end = [(req.id, "error", req.error_event)] if req.error_event else []
        self._write_logs(end + [(req.id, "done", req.done_event)], {req.id: self.cfg.replay_ttl})
        try:
            self.r.srem("chat:claims:" + self.owner, req.session.id)
            self._release(keys=[claim_key(req.session.id)], args=[f"{self.owner} {req.id}"])
        except RedisError as e:
            self._warn("claim not released", e)  # it expires by itself once no beat renews it

    def _record(self, events: list[tuple[str, str, dict]], ttl: dict | None = None) -> None:
        """Append (request_id, name, data) to the requests' logs and set how long each log stays.

        A Redis outage costs other processes' resume, not the reply."""
        try:
            with self.r.pipeline(transaction=False) as p:
                for request_id, name, data in events:
                    p.xadd(log_key(request_id), {"ev": name, "data": json.dumps(data)})
                for request_id, ttl_s in (ttl or {}).items():
                    p.pexpire(log_key(request_id), int(ttl_s * 1000))
                p.execute()
        except RedisError as e:
            self._warn("token log not written", e)

    def _warn(self, what: str, e: Exception) -> None:
        if time.monotonic() - self._warned > 10:  # once per outage, not once per token
            self._warned = time.monotonic()
            log.warning("%s, Redis unavailable: %s", what, e)

    # --- another process's side -------------------------------------------

    def _claimed(self, session_id: str) -> tuple[str, str] | None:
        value = self.r.get(claim_key(session_id))
        return tuple(value.split(" ", 1)) if value else None

    def stop(self, session_id: str, request_id: str | None, discard: bool) -> bool:
        try:
            held = self._claimed(session_id)
            if held is None or held[0] == self.owner or (request_id and request_id != held[1]):
                return False
            command = {"op": "stop", "request_id": held[1], "discard": discard}
            return self.r.publish("chat:cmd:" + held[0], json.dumps(command)) > 0
        except RedisError as e:
            raise ChatError("unavailable", DOWN) from e

    def resume(self, session_id: str, request_id: str, after_seq: int, sid: str) -> str:
        try:
            events = self._read(request_id)
            if not events or events[0][1].get("session_id") != session_id:
                raise ChatError("not_found", GONE)
            ended = any(name == "done" for name, _ in events)
            owner = events[0][1]["owner"]
            if not ended and owner != self.owner and self.r.exists("chat:alive:" + owner):
                # The owner replays it: its replay and its live tokens then reach the socket in order.
                command = {"op": "resume", "request_id": request_id, "after_seq": after_seq, "sid": sid}
                if self.r.publish("chat:cmd:" + owner, json.dumps(command)) > 0:
                    return "streaming"
        except RedisError as e:
            raise ChatError("unavailable", DOWN) from e
        # Ended, or its process is gone (the reaper then sends the end to the whole conversation).
        for name, data in events[1:]:
            if name != "token" or data["seq"] > after_seq:
                self.io.emit(name, data, to=sid)
        return "finished" if ended else "streaming"

    def _read(self, request_id: str) -> list[tuple[str, dict]]:
        return [(f["ev"], json.loads(f["data"])) for _, f in self.r.xrange(log_key(request_id))]

    def active_request_id(self, session_id: str) -> str | None:
        try:
            held = self._claimed(session_id)
        except RedisError:
            return None
        return held[1] if held else None
