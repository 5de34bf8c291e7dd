"""RedisStore: conversations in Redis, shared by every process of a cluster (--redis)."""
from __future__ import annotations

import json
from datetime import datetime

from ..errors import ChatError
from .base import now_iso

META = ("session_id", "client_id", "title", "created_at", "updated_at")
CHANGED = "chat:changed"  # pub/sub: {"session_id", "by"} after each write, so other processes reload their copy
SCAN_BATCH = 200  # conversations read per round trip while searching a client's list


def score(iso: str) -> int:
    """updated_at as microseconds since the epoch: the list's sort key, exact in a double."""
    return int(datetime.strptime(iso, "%Y-%m-%dT%H:%M:%S.%fZ").timestamp() * 1_000_000 + 0.5) if iso else 0


class RedisStore:
    """The store interface (store/base.py) on Redis: a hash of meta, a list of messages and a
    pending question per conversation, and each client's conversations in a sorted set by updated_at."""

    durable = True  # what leaves a process's memory stays in Redis (which keeps it as its persistence allows)
    networked = True  # calls wait on Redis's socket (eventlet serves others meanwhile), not on this CPU

    def __init__(self, client, origin: str = ""):
        self.r = client  # decode_responses=True
        self.origin = origin  # names this process in change notices

    def _keys(self, sid: str) -> tuple[str, str, str]:
        return "chat:conv:" + sid, "chat:msgs:" + sid, "chat:pending:" + sid

    def _changed(self, p, sid: str) -> None:
        p.publish(CHANGED, json.dumps({"session_id": sid, "by": self.origin}))

    def get(self, session_id):
        raw = self.r.hgetall(self._keys(session_id)[0])
        if not raw:
            return None
        return {**{k: raw.get(k, "") for k in META}, "settings": json.loads(raw.get("settings") or "{}")}

    def messages(self, session_id, last=None):
        key = self._keys(session_id)[1]
        total = self.r.llen(key)
        first = max(0, total - last) if last is not None else 0
        return first, [json.loads(m) for m in self.r.lrange(key, first, -1)] if total else []

    def save(self, meta):
        sid = meta["session_id"]
        with self.r.pipeline() as p:
            p.hset(self._keys(sid)[0], mapping={**{k: meta[k] for k in META}, "settings": json.dumps(meta["settings"])})
            p.zadd("chat:convs:" + meta["client_id"], {sid: score(meta["updated_at"])})
            self._changed(p, sid)
            p.execute()

    def _touch(self, p, sid: str, client_id: str) -> None:
        now = now_iso()
        p.hset(self._keys(sid)[0], "updated_at", now)
        p.zadd("chat:convs:" + client_id, {sid: score(now)})

    def append(self, session_id, messages, pending=False):
        conv, msgs, pend = self._keys(session_id)
        client_id = self.r.hget(conv, "client_id")
        with self.r.pipeline() as p:
            if pending:  # replaces one left by a process that died mid-reply
                p.set(pend, json.dumps(messages[0]))
            else:
                p.rpush(msgs, *[json.dumps(m) for m in messages])
            if client_id is not None:
                self._touch(p, session_id, client_id)
            self._changed(p, session_id)
            p.execute()

    def settle(self, session_id, reply):
        conv, msgs, pend = self._keys(session_id)
        question = self.r.getdel(pend)
        client_id = self.r.hget(conv, "client_id")
        if question is None or reply is None or client_id is None:
            return
        with self.r.pipeline() as p:
            p.rpush(msgs, question, json.dumps(reply))
            self._touch(p, session_id, client_id)
            self._changed(p, session_id)
            p.execute()

    def truncate(self, session_id, keep):
        msgs = self._keys(session_id)[1]
        with self.r.pipeline() as p:
            if keep <= 0:
                p.delete(msgs)
            else:
                p.ltrim(msgs, 0, keep - 1)
            self._changed(p, session_id)
            p.execute()

    def delete(self, session_id):
        client_id = self.r.hget(self._keys(session_id)[0], "client_id")
        with self.r.pipeline() as p:
            p.delete(*self._keys(session_id))
            if client_id is not None:
                p.zrem("chat:convs:" + client_id, session_id)
            self._changed(p, session_id)
            p.execute()

    def list(self, client_id, query=None, before=None, limit=50):
        needle = query.casefold() if query else None
        try:
            top = f"({score(before)}" if before else "+inf"
        except ValueError:
            raise ChatError("bad_request", "'before' must be the updated_at of a conversation in the list.") from None
        rows: list[dict] = []
        offset = 0
        while len(rows) <= limit:
            sids = self.r.zrevrangebyscore("chat:convs:" + client_id, top, "-inf", start=offset, num=SCAN_BATCH)
            if not sids:
                break
            offset += len(sids)
            with self.r.pipeline(transaction=False) as p:
                for sid in sids:
                    p.hgetall(self._keys(sid)[0])
                    p.llen(self._keys(sid)[1])
                found = p.execute()
            for sid, meta, count in zip(sids, found[0::2], found[1::2]):
                if meta and (needle is None or self._matches(sid, meta, needle)):
                    rows.append({**{k: meta.get(k, "") for k in ("session_id", "title", "created_at", "updated_at")},
                                 "messages": count})
        return rows[:limit], len(rows) > limit

    def _matches(self, sid: str, meta: dict, needle: str) -> bool:
        if needle in meta.get("title", "").casefold():
            return True
        return any(needle in json.loads(m)["content"].casefold() for m in self.r.lrange(self._keys(sid)[1], 0, -1))

    def close(self):
        self.r.close()
