"""Live conversations in memory (bounded in number and idle time), written through to the store."""
from __future__ import annotations

import base64
import builtins
from collections import OrderedDict
import hashlib
import re
import secrets
import threading
import time
from typing import TYPE_CHECKING, Any, Mapping

from ..concurrency import off_hub
from ..store import EVIDENCE, ConversationStore, now_iso
from ..text_rules import without_bidi_controls

if TYPE_CHECKING:
    from .relay import Request

SESSION_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
CLIENT_ID = re.compile(r"^[A-Za-z0-9_-]{22,64}$")
DELETED_KEPT = 10_000  # ids of deleted conversations remembered, so a socket still on one gets a fresh id
TITLE_CHARS = 80  # a title made from the first question: about one line of the list on a phone


def new_session_id() -> str:
    """A fresh id a client can keep and present again."""
    return secrets.token_urlsafe(12)


def new_client_id() -> str:
    return secrets.token_urlsafe(24)


def client_for(session_id: str) -> str:
    """The client_id of a version-1 client, which names only its session:
    derived from it, so it keeps its conversation."""
    digest = hashlib.sha256(b"v1-client:" + session_id.encode()).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def title_from(message: str) -> str:
    words = " ".join(without_bidi_controls(message).split())
    return words if len(words) <= TITLE_CHARS else words[:TITLE_CHARS - 1].rstrip() + "…"


class Session:
    """One conversation: its owner, title, settings,
    history (the last max_history messages) and the reply now streaming."""

    def __init__(self, meta: dict, max_history: int, history: list[dict] | None = None, base: int = 0,
                 saved: bool = False):
        self.id = meta["session_id"]
        self.meta = meta  # session_id, client_id, title, created_at, updated_at, settings
        self.max_history = max_history
        self.history: list[dict] = history or []
        self.base = base  # position in the whole conversation of history[0]
        self.saved = saved  # the store has it (a conversation is saved at its first write)
        self.active: Request | None = None  # the Request now streaming, if any
        self.last_used = time.monotonic()

    @property
    def client_id(self) -> str:
        return self.meta["client_id"]

    @property
    def settings(self) -> dict:
        return self.meta["settings"]

    def append_turn(self, user: str, assistant: str, evidence: dict | None = None,
                    attachments: list | None = None) -> None:
        """Add a question (with what it attached) and its reply (with its evidence) together, keeping at most
        max_history messages."""
        question = {"role": "user", "content": user, **({"attachments": attachments} if attachments else {})}
        self.history += [question, {"role": "assistant", "content": assistant, **(evidence or {})}]
        overflow = len(self.history) - self.max_history
        if overflow > 0:
            overflow += overflow % 2  # drop whole turns so the history starts with a user message
            del self.history[:overflow]
            self.base += overflow

    def snapshot(self) -> list[dict]:
        """The history as a prompt's messages: role and content only (a backend sends them upstream as they are)."""
        return [{"role": m["role"], "content": m["content"]} for m in self.history]

    def shown(self) -> list[dict]:
        """The history as clients get it: a grounded reply keeps its sources and grounding."""
        return [dict(m) for m in self.history]


class SessionStore:
    """Live sessions by id (least recently used leave memory past max_sessions, idle ones after ttl), backed by a store.

    Every change is written through to `store`; a session not in memory is loaded from it. With a
    store that is not durable (--store memory) what leaves memory is gone, as in version 1.
    """

    def __init__(self, max_sessions: int, ttl: float, max_history: int, store: ConversationStore,
                 watched=lambda sid: False,
                 active_elsewhere=lambda sid: None):
        self.max_sessions = max_sessions
        self.ttl = ttl
        self.max_history = max_history
        self.store = store
        self.watched = watched  # watched(session_id): a socket follows it
        self.active_elsewhere = active_elsewhere  # active_elsewhere(session_id): a reply streaming in another process
        self._sessions: OrderedDict[str, Session] = OrderedDict()
        self._deleted: OrderedDict[str, None] = OrderedDict()
        self._lock = threading.RLock()

    def __len__(self) -> int:
        return len(self._sessions)

    def cached(self, session_id: str) -> Session | None:
        """The session if it is in memory now; never loads."""
        return self._sessions.get(session_id)

    def get(self, session_id: str) -> Session | None:
        """The session from memory or the store, or None."""
        with self._lock:
            s = self._sessions.get(session_id)
            if s is None:
                meta = self.store.get(session_id)
                if meta is None:
                    return None
                s = Session(meta, self.max_history, saved=True)
                self._load(s)
                self._add(s)
            self._touch(s)
            return s

    def _load(self, s: Session) -> None:
        s.base, msgs = self.store.messages(s.id, last=self.max_history)
        s.history = [{k: m[k] for k in ("role", "content", *EVIDENCE) if k in m} for m in msgs]

    def refresh(self, session_id: str) -> None:
        """Another process changed this conversation (--redis): reload the copy in memory, the Session object kept."""
        with self._lock:
            s = self._sessions.get(session_id)
            if s is None:
                return
            meta = self.store.get(session_id)
            if meta is None:  # deleted there
                self._sessions.pop(session_id, None)
                self._remember_deleted(session_id)
                return
            s.meta, s.saved = meta, True
            self._load(s)

    def open(self, session_id: str, client_id: str) -> Session | None:
        """The session if it exists and this client owns it, else None."""
        s = self.get(session_id)
        return s if s is not None and s.client_id == client_id else None

    def create(self, client_id: str, session_id: str | None = None) -> Session:
        """A new, empty conversation (saved at its first write)."""
        now = now_iso()
        meta = {"session_id": session_id or new_session_id(), "client_id": client_id, "title": "",
                "created_at": now, "updated_at": now, "settings": {}}
        with self._lock:
            s = Session(meta, self.max_history)
            self._add(s)
            return s

    def get_or_create(self, session_id: str | None, client_id: str) -> Session:
        """That client's session of that id; a new one under that id if there is none,
        a fresh id if another client owns it."""
        with self._lock:
            if session_id in self._deleted:
                session_id = None
            s = self.get(session_id) if session_id else None
            if s is None:
                return self.create(client_id, session_id)
            return s if s.client_id == client_id else self.create(client_id)

    def list(self, client_id: str, query: str | None = None, before: str | None = None,
             limit: int = 50) -> tuple[builtins.list[dict], bool]:
        """That client's conversation summaries, newest first, with the reply streaming in each."""
        # A search reads every message of the client (0.24-0.28 s for 200,000, bench/RESULTS.md): never on eventlet's
        # hub, unless the store waits on a network server (Redis) rather than on the CPU.
        searches_here = query and not getattr(self.store, "networked", False)
        rows, more = off_hub(self.store.list, client_id, query, before, limit) if searches_here else \
            self.store.list(client_id, query, before, limit)
        for row in rows:
            s = self._sessions.get(row["session_id"])
            if s is not None and s.active is not None:
                row["active_request_id"] = s.active.id
            elif rid := self.active_elsewhere(row["session_id"]):
                row["active_request_id"] = rid
        return rows, more

    # --- writes, each through to the store ---------------------------------

    def _save(self, s: Session) -> None:
        self.store.save(s.meta)
        s.saved = True

    def begin_turn(self, s: Session, question: str, attachments: builtins.list | None = None) -> None:
        """Keep an accepted question (and its attachments' [{id, name, type}]) as pending until its reply ends."""
        if not s.saved:
            s.meta["title"] = s.meta["title"] or title_from(question)
            self._save(s)
        elif not s.meta["title"]:
            s.meta["title"] = title_from(question)
            self.store.save(s.meta)
        message = {"role": "user", "content": question, "created_at": now_iso()}
        self.store.append(s.id, [{**message, "attachments": attachments} if attachments else message], pending=True)

    def end_turn(self, s: Session, question: str, reply: str | None, reasoning: str = "",
                 done: Mapping[str, Any] | None = None, attachments: builtins.list | None = None) -> None:
        """Keep the turn (reply given) or drop the pending question (None); the reply keeps the sources and grounding
        of its `done`."""
        if reply is not None:
            evidence = {k: done[k] for k in EVIDENCE if k in done} if done else {}
            evidence.pop("attachments", None)  # the question's, not the reply's
            s.append_turn(question, reply, evidence, attachments)
            msg = {"role": "assistant", "content": reply, "created_at": now_iso(), **evidence}
            if reasoning:
                msg["reasoning"] = reasoning
            self.store.settle(s.id, msg)
        else:
            self.store.settle(s.id, None)

    def truncate(self, s: Session, keep: int) -> None:
        # A history capped in memory starts at `base`: the store's positions run on from there.
        del s.history[keep:]
        if s.saved:
            self.store.truncate(s.id, s.base + keep)

    def clear(self, s: Session) -> None:
        s.history.clear()
        s.base = 0
        if s.saved:
            self.store.truncate(s.id, 0)

    def rename(self, s: Session, title: str) -> None:
        self._change(s, "title", title)

    def set_settings(self, s: Session, settings: dict) -> None:
        self._change(s, "settings", settings)

    def _change(self, s: Session, key: str, value) -> None:
        """Set one field and save it; a save that fails leaves the field as it was, in memory too."""
        old = s.meta[key]
        s.meta[key] = value
        try:
            self._save(s)
        except Exception:
            s.meta[key] = old
            raise

    def delete(self, s: Session) -> None:
        with self._lock:
            self._sessions.pop(s.id, None)
            self.store.delete(s.id)
            self._remember_deleted(s.id)

    def _remember_deleted(self, session_id: str) -> None:
        self._deleted[session_id] = None
        if len(self._deleted) > DELETED_KEPT:
            self._deleted.popitem(last=False)

    # --- memory bounds -------------------------------------------------------

    def _add(self, s: Session) -> None:
        self._sessions[s.id] = s
        self._evict()

    def _touch(self, s: Session) -> None:
        s.last_used = time.monotonic()
        self._sessions.move_to_end(s.id)

    def _drop(self, sid: str) -> None:
        del self._sessions[sid]
        if not self.store.durable:
            self.store.delete(sid)

    def _in_use(self, s: Session) -> bool:
        return s.active is not None or self.watched(s.id)

    def _evict(self) -> None:
        # Oldest first; a session with a socket or a streaming reply is in use and kept.
        excess = len(self._sessions) - self.max_sessions
        for sid in list(self._sessions):
            if excess <= 0:
                break
            if not self._in_use(self._sessions[sid]):
                self._drop(sid)
                excess -= 1

    def expire(self, now: float | None = None) -> int:
        """Drop sessions idle longer than ttl from memory; returns how many went."""
        now = time.monotonic() if now is None else now
        with self._lock:
            gone = [sid for sid, s in self._sessions.items() if not self._in_use(s) and now - s.last_used > self.ttl]
            for sid in gone:
                self._drop(sid)
            return len(gone)
