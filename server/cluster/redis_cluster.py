"""Replies shared through Redis: one claim per conversation, token logs in Streams, commands to owners."""
from __future__ import annotations

import json
import logging
import os
import threading
import time
import uuid

from redis.exceptions import RedisError

from ..errors import ChatError
from ..store.redis import CHANGED, RedisStore
from .presence import room
from .redis_limits import RedisRateLimiter
from .redis_presence import RedisPresence
from .single import BUSY, GONE

log = logging.getLogger(__name__)

BEAT_S = 1.0  # heartbeat: renews this process's liveness and its claims, and looks for dead processes
# A process unheard of for this long is dead and another ends its replies: 8 missed beats, as an
# overloaded eventlet hub was seen to hold green threads back for seconds (bench/RESULTS.md, #15).
ALIVE_MS = 8000
LOG_WRITE_S = 0.1  # token events go to Redis in one pipeline this often
CLAIM_MS = 15000  # a claim outlives its owner's last beat, so the reaper, not expiry, ends it
DEAD = "The server process making this reply stopped; send your message again."
DOWN = "The server cannot reach its shared store (Redis) just now; try again in a moment."

# Delete / extend a key only while it still holds our value (a claim another process may have taken).
RELEASE = "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0"
RENEW = "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end return 0"


def claim_key(session_id: str) -> str:
    return "chat:claim:" + session_id


def log_key(request_id: str) -> str:
    return "chat:log:" + request_id


class RedisCluster:
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

    # --- background: heartbeat, reaper, commands --------------------------

    def _heartbeat(self) -> None:
        while True:
            try:
                self._beat()
            except RedisError as e:
                self._warn("heartbeat failed", e)
            except Exception:
                log.exception("heartbeat failed")
            self.io.sleep(BEAT_S)

    def _log_writer(self) -> None:
        while True:
            try:
                self._write_logs()
            except Exception:
                log.exception("writing token logs failed")
            self.io.sleep(LOG_WRITE_S)

    def _beat(self) -> None:
        with self.r.pipeline(transaction=False) as p:
            p.set("chat:alive:" + self.owner, "1", px=ALIVE_MS)
            p.sadd("chat:procs", self.owner)
            p.execute()
        for req in list(self.service.requests.values()):
            if req.done_event is None:
                if not self._renew(keys=[claim_key(req.session.id)], args=[f"{self.owner} {req.id}", CLAIM_MS]) \
                        and self.ended_elsewhere(req):
                    self.service.stop(req.session, req.id, discard=True)  # this process was taken for dead
                    continue
                self.r.pexpire(log_key(req.id), self._running_ms())
                # The conversation's last socket may have left another process: the orphan limit runs
                # here, once per reply (a socket leaving this process starts it too; starting twice is harmless).
                if req.id not in self._unwatched and not self._presence.watched(req.session.id):
                    self._unwatched.add(req.id)
                    self.service.unwatched(req.session)
        for other in self.r.smembers("chat:procs"):
            if other != self.owner and not self.r.exists("chat:alive:" + other):
                self._reap(other)

    def _reap(self, owner: str) -> None:
        """End every reply of a dead process: error + done to its conversation, which is free again."""
        for session_id in self.r.smembers("chat:claims:" + owner):
            value = self.r.get(claim_key(session_id))
            if value and value.startswith(owner + " ") and self._release(keys=[claim_key(session_id)], args=[value]):
                self._end_orphan(session_id, value.split(" ", 1)[1])  # only the process that released it
        if self._presence is not None:
            self._presence.reap(owner)
        self.r.delete("chat:claims:" + owner)
        self.r.srem("chat:procs", owner)

    def ended_elsewhere(self, req) -> bool:
        try:
            if self.r.exists("chat:reaped:" + req.id):
                self._ended.add(req.id)
        except RedisError:
            pass
        return req.id in self._ended

    def _end_orphan(self, session_id: str, request_id: str) -> None:
        log.warning("the process streaming request %s died: ending it", request_id)
        self.r.set("chat:reaped:" + request_id, "1", px=int(self.cfg.replay_ttl * 1000) + CLAIM_MS)
        tokens = [data for name, data in self._read(request_id) if name == "token"]
        error = {"request_id": request_id, **ChatError("unavailable", DEAD).to_dict()}
        done = {"request_id": request_id, "finish_reason": "error",
                "text": "".join(t["text"] for t in tokens if t.get("kind") != "reasoning")}
        reasoning = "".join(t["text"] for t in tokens if t.get("kind") == "reasoning")
        if reasoning:
            done["reasoning"] = reasoning
        self._record([(request_id, "error", error), (request_id, "done", done)], {request_id: self.cfg.replay_ttl})
        self.io.emit("error", error, to=room(session_id))
        self.io.emit("done", done, to=room(session_id))

    def _listen(self) -> None:
        """Carry out stop and resume commands for replies streaming here; reload conversations changed elsewhere."""
        while True:
            pubsub = self.r.pubsub(ignore_subscribe_messages=True)
            try:
                pubsub.subscribe("chat:cmd:" + self.owner, CHANGED)
                while True:
                    message = pubsub.get_message(timeout=1.0)
                    if message and message["type"] == "message":
                        if message["channel"] == CHANGED:
                            self._changed(message["data"])
                        else:
                            self._command(message["data"])
            except RedisError as e:
                self._warn("command channel lost", e)
            finally:
                pubsub.close()
            self.io.sleep(BEAT_S)

    def _changed(self, raw: str) -> None:
        try:
            notice = json.loads(raw)
            if notice.get("by") != self.owner:
                self.service.store.refresh(notice["session_id"])
        except Exception:
            log.exception("reloading a conversation changed elsewhere failed")

    def _command(self, raw: str) -> None:
        try:
            command = json.loads(raw)
            req = self.service.requests.get(command.get("request_id"))
            if req is None:
                return
            if command["op"] == "stop":
                self.service.stop(req.session, req.id, discard=bool(command.get("discard")))
            elif command["op"] == "resume":
                self.service.resume(req.session, req.id, int(command["after_seq"]), command["sid"])
        except ChatError:
            pass  # the reply ended and was forgotten meanwhile: nothing to do
        except Exception:
            log.exception("command %r failed", raw[:200])
