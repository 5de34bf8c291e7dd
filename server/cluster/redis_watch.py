"""The background of a RedisCluster process: heartbeats, the reaper of dead processes' replies, commands."""
from __future__ import annotations

import json
import logging
from typing import TYPE_CHECKING, Any

from redis.exceptions import RedisError

from ..errors import ChatError
from ..store.redis import CHANGED
from .presence import room

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


class ClusterWatch:
    """Mixed into RedisCluster: what runs beside the service, on the Socket.IO server's tasks."""

    if TYPE_CHECKING:  # RedisCluster's own, which these methods use
        cfg: Any
        r: Any  # the Redis client
        io: Any  # the Socket.IO server
        owner: str
        service: Any  # the ChatService, once attached
        _presence: Any  # the RedisPresence, once made
        _unwatched: set[str]
        _ended: set[str]
        _release: Any
        _renew: Any

        def _running_ms(self) -> int: ...

        def _write_logs(self, final: list | None = None, ttl: dict | None = None) -> None: ...

        def _record(self, events: list[tuple[str, str, dict]], ttl: dict | None = None) -> None: ...

        def _warn(self, what: str, e: Exception) -> None: ...

        def _read(self, request_id: str) -> list[tuple[str, dict]]: ...

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
