"""ChatService: history + backend -> a stream of numbered events; knows nothing of Flask."""
from __future__ import annotations

import logging
import queue
import threading
import time
from typing import TYPE_CHECKING

from ..backends.base import ATTACHED_IMAGES, Registry
from ..cluster.base import Cluster
from ..cluster.single import SingleProcess
from ..knowledge.attachments import AttachmentStore, prompt_text
from ..concurrency import HubChannel, off_hub, start_os_thread
from ..errors import ChatError
from ..shapes import Done, FinishReason
from .grounding import ground_chat, grounding_of
from .relay import CANCEL, Relay, Request
from .schemas import ChatPayload
from .sessions import Session, SessionStore

if TYPE_CHECKING:
    from ..graph.service import Graph
    from ..knowledge.service import KnowledgeBase

log = logging.getLogger(__name__)

class ChatService:
    """Starts, relays, stops and replays chats; `io` is the Socket.IO server (emit, sleep, tasks)."""

    def __init__(self, cfg, registry: Registry, store: SessionStore, io, cluster: Cluster | None = None, *,
                 knowledge: KnowledgeBase | None = None, graph: Graph | None = None,
                 attachments: AttachmentStore | None = None):
        self.cfg = cfg
        self.registry = registry
        self.store = store
        self.io = io
        self.cluster: Cluster = cluster or SingleProcess()  # what other processes see of replies (#15)
        self.knowledge = knowledge  # the KnowledgeBase a grounded chat reads
        self.graph = graph  # the knowledge graph a chat with `graph` reads
        self.attachments = attachments  # the AttachmentStore a chat's attachments come from
        self.requests: dict[str, Request] = {}
        self.rate_session = self.cluster.rate_limiter(cfg.rate_per_minute, "session")
        self.rate_ip = self.cluster.rate_limiter(cfg.rate_per_minute_ip, "ip")
        self._lock = threading.RLock()
        self.relay = Relay(cfg, io, self._finish, self.cluster.logged)
        self.admit: list = []  # callables(device) run before a chat is accepted; one may refuse it (the quota)
        self.on_done: list = []  # callables(req, done) run as a reply ends, before its `done` goes out (usage, metrics)

    # --- starting -------------------------------------------------------

    def start(self, session: Session, chat: ChatPayload, ip: str = "") -> Request:
        """Accept a chat or raise ChatError; the reply streams to the session's room."""
        backend, model, system, params, knowledge = self._settle_fields(session, chat)
        attached = [self._attachment_store().get(session.client_id, a) for a in chat.attachments]
        if model in self.cfg.vision_models and any(a["type"].startswith("image/") for a in attached):
            params = {**params, ATTACHED_IMAGES: off_hub(self._attachment_store().data_urls, attached)}
        graph = chat.graph if chat.graph is not None else bool(session.settings.get("graph"))
        evidence = None
        if graph or knowledge:
            evidence = ground_chat(self.knowledge, self.graph, self.cfg, chat.message, system, backend, params, graph)
            backend, system, params = evidence.backend, evidence.system, evidence.params
        with self._lock:
            if session.active is not None:
                raise ChatError("busy", "A reply is still streaming in this conversation; stop it or wait for it.")
            self.rate_session.check(session.id)
            self.rate_ip.check(ip)
            for check in self.admit:
                check(session.client_id)
            messages = [{"role": "system", "content": system}] if system else []
            messages += session.snapshot() + [{"role": "user", "content": prompt_text(chat.message, attached)}]
            shown = [{k: a[k] for k in ("id", "name", "type")} for a in attached]
            try:
                self.store.begin_turn(session, chat.message, shown)
            except Exception:
                log.exception("saving a question of %s failed", session.id)
                raise ChatError("unavailable", "The server cannot save conversations right now; try again later.")
            req = Request(session, backend, model, chat.message, messages, params, self._channel(backend))
            if evidence is not None:
                req.sources, req.answer, req.fact_check = evidence.sources, evidence.answer, evidence.fact_check
            req.device = session.client_id
            req.attachments = shown
            if attached:
                self._attachment_store().use(attached, session.id)
            try:
                self.cluster.claim(req)  # busy when another process streams in this conversation
            except ChatError:
                self.store.end_turn(session, chat.message, None)
                raise
            session.active = req
            self.requests[req.id] = req
        self._launch(req)
        return req

    def start_stateless(self, messages: list, backend, model: str, params: dict, ip: str, sink) -> Request:
        """Accept a full message list with no conversation (the /v1 API); its events go to sink(event, payload)."""
        self.rate_ip.check(ip)
        for check in self.admit:
            check("addr:" + ip)  # /v1 callers have no client id: their address stands for the device
        req = Request(None, backend, model, "", messages, params, self._channel(backend), sink=sink)
        req.device = "addr:" + ip
        self._launch(req)
        return req

    def _attachment_store(self) -> AttachmentStore:
        if self.attachments is None:
            raise ChatError("unavailable", "This server keeps no attachments.")
        return self.attachments

    def _launch(self, req: Request) -> None:
        if req.backend.blocking:
            start_os_thread(self.relay.produce, req, name=f"generate-{req.id[:8]}")
        else:
            self.io.start_background_task(self.relay.produce, req)
        self.io.start_background_task(self.relay.run, req)

    def _settle_fields(self, session: Session, chat: ChatPayload):
        """(backend, model, system, params, knowledge):
        the chat's own, else the conversation's settings, else defaults."""
        kept = session.settings
        name = chat.backend
        if name is None and kept.get("backend") in self.registry.backends:
            name = kept["backend"]  # a backend no longer live falls back to the default
        backend = self.registry.get(name)
        same = backend.name == (kept.get("backend") or self.registry.default)  # the kept model is one of its models
        model = chat.model or (kept.get("model") if same else None) or backend.default_model
        check_model(backend, model)
        system = chat.system if chat.system is not None else kept.get("system")
        params = chat.params or dict(kept.get("params") or {})
        knowledge = chat.knowledge if chat.knowledge is not None else bool(kept.get("knowledge"))
        return backend, model, system, params, knowledge

    def _channel(self, backend):
        # The patched queue wakes green threads, the real one OS threads; only an OS-thread
        # producer feeding eventlet's hub needs a channel of its own.
        if backend.blocking and self.io.async_mode == "eventlet":
            return HubChannel()
        return queue.Queue()

    def _finish(self, req: Request, outcome: FinishReason | ChatError) -> None:
        """Record the turn (unless it failed or was reset) and send the one `done`."""
        session = req.session
        with req.lock:
            req.cancel.set()  # a backend still running stops at its next chunk
            req.finished_at = time.monotonic()
            reason: FinishReason
            if isinstance(outcome, ChatError):
                reason = "error"
                req.error_event = {"request_id": req.id, **outcome.to_dict()}
            else:
                reason = outcome
            text = "".join(req.text)
            keep = reason != "error" and not req.discard
            ended = session is not None and self.cluster.ended_elsewhere(req)  # then it keeps and sends nothing
            done: Done = {"request_id": req.id, "finish_reason": reason, "text": text, "timings": req.timings()}
            if req.reasoning:
                done["reasoning"] = "".join(req.reasoning)
            if req.sources is not None:
                done["sources"] = req.sources
                # off the hub: the check cuts Chinese with jieba (its parts of speech load once, 0.8 s)
                grounding = off_hub(grounding_of, req, text, reason)
                if grounding:
                    done["grounding"] = grounding
                if req.answer:
                    done["answer"] = req.answer
            if req.usage:
                done["usage"] = {"prompt_tokens": req.usage.get("prompt_tokens"),
                                 "completion_tokens": req.usage.get("completion_tokens")}
            if session is not None and not ended:
                try:  # the reply is kept with the sources and grounding its `done` carries
                    self.store.end_turn(session, req.user_message, text if keep else None, "".join(req.reasoning), done,
                                        req.attachments)
                except Exception:
                    log.exception("saving the reply %s failed", req.id)  # the reply still ends in its one `done`
            if session is not None and session.active is req:
                session.active = None
            req.done_event = done
            if session is not None:
                self.cluster.finished(req)  # before `done` goes out: a client may chat again at once
            req.messages, req.params = [], {}  # kept for resume a while: only the log and the end matter now
            for hook in self.on_done:
                try:
                    hook(req, done)
                except Exception:  # counting must never cost a reply its `done`
                    log.exception("an end-of-reply hook failed for %s", req.id)
            if req.error_event and not ended:
                self.relay.emit(req, "error", req.error_event)
            if not ended:
                self.relay.emit(req, "done", done)
        req.finished.set()

    # --- controlling ----------------------------------------------------

    def stop(self, session: Session, request_id: str | None = None, discard: bool = False) -> bool:
        """Cancel the session's streaming reply (if it is the one named); True if one was stopped."""
        req = session.active
        if req is None:
            return self.cluster.stop(session.id, request_id, discard)
        if (request_id and request_id != req.id) or req.cancel.is_set():
            return False
        req.discard = req.discard or discard
        return self.stop_request(req)

    def stop_request(self, req: Request) -> bool:
        """Cancel one request: the backend stops at its next chunk, the relay ends it at once."""
        if req.cancel.is_set():
            return False
        req.cancel.set()
        req.channel.put(CANCEL)
        return True

    def reset(self, session: Session) -> None:
        """Stop any reply without keeping it, and empty the history."""
        self.stop(session, discard=True)
        self.store.clear(session)

    def truncate(self, session: Session, keep: int) -> list[dict]:
        """Keep the first `keep` messages (for regenerate and edit)."""
        if session.active is not None or self.cluster.active_request_id(session.id):
            raise ChatError("busy", "A reply is still streaming in this conversation; stop it first.")
        self.store.truncate(session, keep)
        return session.shown()

    def resume(self, session: Session, request_id: str, after_seq: int, sid: str) -> str:
        """Send one socket every token after after_seq, and the end if there was one."""
        req = self.requests.get(request_id)
        if req is None or req.session is not session:
            return self.cluster.resume(session.id, request_id, after_seq, sid)
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

    def unwatched(self, session: Session) -> None:
        """A conversation's last socket went: its reply runs on to its end or the orphan limit, then is saved."""
        if self.store.watched(session.id) or session.active is None:
            return
        if self.cfg.orphan_limit_s <= 0:
            self.stop(session)
        else:
            self.io.start_background_task(self._stop_if_still_orphaned, session, session.active)

    def _stop_if_still_orphaned(self, session: Session, req: Request) -> None:
        self.io.sleep(self.cfg.orphan_limit_s)
        if not self.store.watched(session.id) and session.active is req:
            log.info("no client came back for request %s within %.0f s: stopping it", req.id, self.cfg.orphan_limit_s)
            self.stop(session, req.id)

    def delete(self, session: Session) -> None:
        """Stop the conversation's reply without keeping it, and forget the conversation."""
        self.stop(session, discard=True)
        self.store.delete(session)
        if self.attachments is not None:
            self.attachments.forget_session(session.id)

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


def check_model(backend, model: str) -> None:
    """not_found unless the backend serves that model; an upstream API may serve more than it lists."""
    if getattr(backend, "any_model", False) or model in backend.models():
        return
    known = ", ".join(backend.models()[:10]) or "none"
    raise ChatError("not_found", f"There is no model named {model[:80]!r} on the {backend.name} backend "
                                 f"(it has: {known}); choose another one.")
