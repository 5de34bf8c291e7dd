"""Presence over every process: who follows each conversation, and sockets per address, counted in Redis."""
from __future__ import annotations

import logging

from redis.exceptions import RedisError

from .presence import Presence

log = logging.getLogger(__name__)


class RedisPresence(Presence):
    """This process's sockets as in Presence, and in Redis `chat:watch:<session>` = {"<process> <sid>"} and
    `chat:ip:<address>` = {process: sockets}, with indexes so that a dead process's entries can be removed."""

    def __init__(self, client, owner: str):
        super().__init__()
        self.r = client
        self.owner = owner

    def _member(self, sid: str) -> str:
        return f"{self.owner} {sid}"

    def _write(self, what: str, fn) -> None:
        try:
            with self.r.pipeline(transaction=False) as p:
                fn(p)
                p.execute()
        except RedisError as e:  # this process's own view still holds; others see it after the outage
            log.warning("presence not shared (%s), Redis unavailable: %s", what, e)

    def add(self, sid, session_id, client_id, ip):
        super().add(sid, session_id, client_id, ip)

        def write(p):
            p.sadd("chat:watch:" + session_id, self._member(sid))
            p.sadd("chat:watching:" + self.owner, session_id)
            p.hincrby("chat:ip:" + ip, self.owner, 1)
            p.sadd("chat:ips:" + self.owner, ip)
        self._write("add", write)

    def remove(self, sid):
        entry = super().remove(sid)
        if entry is not None:
            def write(p):
                p.srem("chat:watch:" + entry.session_id, self._member(sid))
                p.hincrby("chat:ip:" + entry.ip, self.owner, -1)
            self._write("remove", write)
        return entry

    def follow(self, sid, session_id):
        old = super().follow(sid, session_id)
        if old is not None and old != session_id:
            def write(p):
                p.srem("chat:watch:" + old, self._member(sid))
                p.sadd("chat:watch:" + session_id, self._member(sid))
                p.sadd("chat:watching:" + self.owner, session_id)
            self._write("follow", write)
        return old

    def per_ip(self, ip):
        try:
            return sum(max(0, int(n)) for n in self.r.hvals("chat:ip:" + ip))
        except RedisError:
            return super().per_ip(ip)

    def watched(self, session_id):
        try:
            return self.r.scard("chat:watch:" + session_id) > 0
        except RedisError:
            return super().watched(session_id)

    def reap(self, owner: str) -> None:
        """Remove a dead process's sockets from every count."""
        prefix = owner + " "
        for session_id in self.r.smembers("chat:watching:" + owner):
            gone = [m for m in self.r.sscan_iter("chat:watch:" + session_id, match=prefix + "*")]
            if gone:
                self.r.srem("chat:watch:" + session_id, *gone)
        for ip in self.r.smembers("chat:ips:" + owner):
            self.r.hdel("chat:ip:" + ip, owner)
        self.r.delete("chat:watching:" + owner, "chat:ips:" + owner)
