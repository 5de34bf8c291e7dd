"""ChatService: history + backend -> a stream of numbered events; knows nothing of Flask."""
from __future__ import annotations

import logging
import queue
import threading
import time
import uuid

from .backends.base import Chunk, Registry
from .concurrency import Empty, HubChannel, RealEvent, start_os_thread
from .errors import ChatError
from .history import Session, SessionStore
from .schemas import ChatPayload
from .security import RateLimiter

log = logging.getLogger(__name__)

END = object()  # the backend's stream is over
CANCEL = object()  # stop asked for: finish now, whatever the backend is doing


def room(session_id: str) -> str:
    """The Socket.IO room that every socket of a session joins."""
    return "session:" + session_id


class Request:
    """One accepted chat: what was asked, the numbered token log kept for replay, and how it ended."""

    def __init__(self, session: Session, backend, model: str, user_message: str, messages: list, params: dict, channel):
        self.id = uuid.uuid4().hex
        self.session = session
        self.backend = backend
        self.model = model
        self.user_message = user_message
        self.messages = messages
        self.params = params
        self.channel = channel
        self.cancel = RealEvent()  # read by the backend in its own thread
        self.discard = False  # a reset: keep nothing of this turn
        self.lock = threading.RLock()  # orders log appends, emits and replays
        self.log: list[dict] = []  # every `token` event, seq == index
        self.text: list[str] = []
        self.reasoning: list[str] = []
        self.chunks = 0
        self.finish_reason: str | None = None
        self.usage: dict | None = None
        self.queued: int | None = None
        self.started = time.monotonic()
        self.first_token_at: float | None = None
        self.finished_at: float | None = None
        self.error_event: dict | None = None
        self.done_event: dict | None = None
        self.finished = threading.Event()  # for the non-streaming HTTP route

    def timings(self) -> dict:
        end = self.finished_at or time.monotonic()
        first = self.first_token_at or end
        tokens = (self.usage or {}).get("completion_tokens") or self.chunks
        gen_s = end - first
        return {
            "ttft_ms": round((first - self.started) * 1000, 1),
            "total_ms": round((end - self.started) * 1000, 1),
            "tokens_per_s": round(tokens / gen_s, 2) if gen_s > 0 and tokens else 0.0,
        }


class ChatService:
    """Starts, relays, stops and replays chats; `io` is the Socket.IO server (emit, sleep, tasks)."""

    def __init__(self, cfg, registry: Registry, store: SessionStore, io):
        self.cfg = cfg
        self.registry = registry
        self.store = store
        self.io = io
        self.requests: dict[str, Request] = {}
        self.rate_session = RateLimiter(cfg.rate_per_minute)
        self.rate_ip = RateLimiter(cfg.rate_per_minute_ip)
        self._lock = threading.RLock()

    # --- starting -------------------------------------------------------

    def start(self, session: Session, chat: ChatPayload, ip: str = "") -> Request:
        """Accept a chat or raise ChatError; the reply streams to the session's room."""
        backend = self.registry.get(chat.backend)
        model = chat.model or backend.default_model
        with self._lock:
            if session.active is not None:
                raise ChatError("busy", "A reply is still streaming in this conversation; stop it or wait for it.")
            self.rate_session.check(session.id)
            self.rate_ip.check(ip)
            messages = [{"role": "system", "content": chat.system}] if chat.system else []
            messages += session.snapshot() + [{"role": "user", "content": chat.message}]
            req = Request(session, backend, model, chat.message, messages, chat.params, self._channel(backend))
            session.active = req
            self.requests[req.id] = req
        if backend.blocking:
            start_os_thread(self._produce, req, name=f"generate-{req.id[:8]}")
        else:
            self.io.start_background_task(self._produce, req)
        self.io.start_background_task(self._relay, req)
        return req

    def _channel(self, backend):
        # The patched queue wakes green threads, the real one OS threads; only an OS-thread
        # producer feeding eventlet's hub needs a channel of its own.
        if backend.blocking and self.io.async_mode == "eventlet":
            return HubChannel()
        return queue.Queue()

    def _produce(self, req: Request) -> None:
        """Run the backend's stream and pass its chunks on; never raises."""
        stream = None
        try:
            # Fitting may tokenize the whole conversation: do it here, off the server's loop.
            messages = req.backend.fit(req.messages, req.params.get("max_tokens") or self.cfg.default_max_tokens)
            stream = req.backend.stream(messages, model=req.model, params=req.params, cancel=req.cancel)
            for chunk in stream:
                req.channel.put(chunk)
                if req.cancel.is_set():
                    break
        except ChatError as e:
            req.channel.put(e)
        except Exception:
            log.exception("backend %s failed", req.backend.name)
            req.channel.put(ChatError("internal", "The model failed unexpectedly; the server log has details."))
        finally:
            if stream is not None and hasattr(stream, "close"):
                try:
                    stream.close()  # closes the upstream HTTP response / frees the model
                except Exception:
                    log.exception("closing the stream of %s failed", req.backend.name)
            req.channel.put(END)

    # --- relaying -------------------------------------------------------

    def _relay(self, req: Request) -> None:
        """Coalesce chunks into `token` events at most one per window, then send exactly one `done`."""
        window = self.cfg.coalesce_ms / 1000
        pending: list[Chunk] = []
        last_flush = float("-inf")
        outcome = None
        try:
            while outcome is None:
                timeout = max(0.0, last_flush + window - time.monotonic()) if pending else 1.0
                try:
                    item = req.channel.get(timeout=timeout)
                except Empty:
                    item = None
                if isinstance(item, Chunk):
                    self._take(req, item, pending)
                elif item is END:
                    outcome = "cancelled" if req.cancel.is_set() else (req.finish_reason or "stop")
                elif item is CANCEL:
                    outcome = "cancelled"
                elif isinstance(item, ChatError):
                    outcome = item
                if pending and (outcome is not None or time.monotonic() - last_flush >= window):
                    self._flush(req, pending)
                    pending = []
                    last_flush = time.monotonic()
        except Exception:
            log.exception("relaying request %s failed", req.id)
            outcome = ChatError("internal", "The server failed while sending the reply.")
        finally:
            self._finish(req, outcome if outcome is not None else "cancelled")
            if hasattr(req.channel, "close"):
                req.channel.close()  # a producer still running puts into the queue alone

    def _take(self, req: Request, chunk: Chunk, pending: list) -> None:
        if chunk.queued is not None and chunk.queued != req.queued:
            req.queued = chunk.queued
            self.io.emit("queued", {"request_id": req.id, "position": chunk.queued}, to=room(req.session.id))
        if chunk.text:
            if req.first_token_at is None:
                req.first_token_at = time.monotonic()
            req.chunks += 1
            pending.append(chunk)
        if chunk.finish_reason:
            req.finish_reason = chunk.finish_reason if chunk.finish_reason in ("stop", "length") else "stop"
        if chunk.usage:
            req.usage = chunk.usage

    def _flush(self, req: Request, pending: list) -> None:
        """One `token` event per run of same-kind text, each numbered and logged."""
        runs: list[list] = []
        for c in pending:
            if runs and runs[-1][0] == c.kind:
                runs[-1][1].append(c.text)
            else:
                runs.append([c.kind, [c.text]])
        with req.lock:
            for kind, parts in runs:
                text = "".join(parts)
                (req.reasoning if kind == "reasoning" else req.text).append(text)
                event = {"request_id": req.id, "seq": len(req.log), "text": text}
                if kind == "reasoning":
                    event["kind"] = "reasoning"
                req.log.append(event)
                self.io.emit("token", event, to=room(req.session.id))

    def _finish(self, req: Request, outcome) -> None:
        """Record the turn (unless it failed or was reset) and send the one `done`."""
        session = req.session
        with req.lock:
            req.cancel.set()  # a backend still running stops at its next chunk
            req.finished_at = time.monotonic()
            if isinstance(outcome, ChatError):
                reason = "error"
                req.error_event = {"request_id": req.id, **outcome.to_dict()}
            else:
                reason = outcome
            text = "".join(req.text)
            if reason != "error" and not req.discard:
                session.append_turn(req.user_message, text)
            if session.active is req:
                session.active = None
            done = {"request_id": req.id, "finish_reason": reason, "text": text, "timings": req.timings()}
            if req.reasoning:
                done["reasoning"] = "".join(req.reasoning)
            if req.usage:
                done["usage"] = {k: req.usage.get(k) for k in ("prompt_tokens", "completion_tokens")}
            req.done_event = done
            req.messages = req.params = None  # kept for resume a while: only the log and the end matter now
            if req.error_event:
                self.io.emit("error", req.error_event, to=room(session.id))
            self.io.emit("done", done, to=room(session.id))
        req.finished.set()

    # --- controlling ----------------------------------------------------

    def stop(self, session: Session, request_id: str | None = None, discard: bool = False) -> bool:
        """Cancel the session's streaming reply (if it is the one named); True if one was stopped."""
        req = session.active
        if req is None or (request_id and request_id != req.id) or req.cancel.is_set():
            return False
        req.discard = req.discard or discard
        req.cancel.set()
        req.channel.put(CANCEL)
        return True

    def reset(self, session: Session) -> None:
        """Stop any reply without keeping it, and empty the history."""
        self.stop(session, discard=True)
        session.history.clear()

    def truncate(self, session: Session, keep: int) -> list[dict]:
        """Keep the first `keep` messages (for regenerate and edit)."""
        if session.active is not None:
            raise ChatError("busy", "A reply is still streaming in this conversation; stop it first.")
        del session.history[keep:]
        return session.snapshot()

    def resume(self, session: Session, request_id: str, after_seq: int, sid: str) -> str:
        """Send one socket every token after after_seq, and the end if there was one."""
        req = self.requests.get(request_id)
        if req is None or req.session is not session:
            raise ChatError("not_found", "That reply is no longer available; the conversation history has what was kept.")
        with req.lock:
            for event in req.log[after_seq + 1:]:
                self.io.emit("token", event, to=sid)
            if req.done_event is None:
                if req.queued is not None and req.first_token_at is None:
                    self.io.emit("queued", {"request_id": req.id, "position": req.queued}, to=sid)
                return "streaming"
            if req.error_event:
                self.io.emit("error", req.error_event, to=sid)
            self.io.emit("done", req.done_event, to=sid)
            return "finished"

    # --- sockets and housekeeping ---------------------------------------

    def socket_joined(self, session: Session, sid: str) -> None:
        session.sockets.add(sid)

    def socket_left(self, session: Session, sid: str) -> None:
        """When a session's last socket goes, its reply runs on for the grace period, then stops."""
        session.sockets.discard(sid)
        if session.sockets or session.active is None:
            return
        if self.cfg.grace_s <= 0:
            self.stop(session)
        else:
            self.io.start_background_task(self._stop_if_still_orphaned, session, session.active)

    def _stop_if_still_orphaned(self, session: Session, req: Request) -> None:
        self.io.sleep(self.cfg.grace_s)
        if not session.sockets and session.active is req:
            log.info("no client came back for request %s within %.0f s: stopping it", req.id, self.cfg.grace_s)
            self.stop(session, req.id)

    def sweep(self) -> None:
        """Forget replies past their replay time, idle sessions and stale rate counters."""
        now = time.monotonic()
        with self._lock:
            for rid in [r.id for r in self.requests.values()
                        if r.finished_at is not None and now - r.finished_at > self.cfg.replay_ttl]:
                del self.requests[rid]
        self.store.expire(now)
        self.rate_session.sweep()
        self.rate_ip.sweep()
