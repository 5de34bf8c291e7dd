"""One chat's way from the backend to the sockets: the Request, its producer and its relay."""
from __future__ import annotations

import logging
import threading
import time
import uuid
from typing import Any, Callable, Mapping

from ..backends.base import Chunk, Replier
from ..cluster.presence import room
from ..concurrency import Empty, RealEvent
from ..errors import ChatError
from ..shapes import Answer, Done, ErrorEvent, FinishReason, Grounding, Source, Timings, Token
from ..wire.room_emit import emit_to_room

log = logging.getLogger(__name__)

END = object()  # the backend's stream is over
CANCEL = object()  # stop asked for: finish now, whatever the backend is doing
TICK = object()  # a green producer left chunks for the end of the coalescing window


class Request:
    """One accepted chat: what was asked, the numbered token log kept for replay, and how it ended."""

    sources: list[Source] | None = None  # knowledge base passages the reply was grounded in (done.sources)
    answer: Answer | None = None  # done.answer of a reply composed from the graph's facts
    fact_check: Callable[[str], Grounding] | None = None  # reply text -> done.grounding of a graph reply's names
    device: str | None = None  # whose usage it counts as: the client id, or "addr:IP" for /v1
    attachments: list | None = None  # the question's attachments, [{id, name, type}] (kept in its history message)

    def __init__(self, session, backend: Replier, model: str, user_message: str, messages: list, params: dict, channel,
                 sink=None):
        self.id = uuid.uuid4().hex
        self.session = session  # None for a stateless request (/v1): nothing is kept
        self.sink = sink  # callable(event, payload) that takes the events instead of the session's room
        self.backend = backend
        self.model = model
        self.user_message = user_message
        self.messages = messages
        self.params = params
        self.channel = channel
        self.cancel = RealEvent()  # read by the backend in its own thread
        self.discard = False  # a reset: keep nothing of this turn
        self.lock = threading.RLock()  # orders log appends, emits and replays
        self.log: list[Token] = []  # every `token` event, seq == index
        self.text: list[str] = []
        self.reasoning: list[str] = []
        self.chunks = 0
        self.pending: list[Chunk] = []  # taken, not yet sent: the coalescing window is still open (req.lock)
        self.last_flush = float("-inf")
        self.finish_reason: FinishReason | None = None  # as the backend ended: "stop" or "length"
        self.usage: dict | None = None  # {prompt_tokens, completion_tokens} as the backend counted
        self.queued: int | None = None
        self.started = time.monotonic()
        self.first_token_at: float | None = None
        self.finished_at: float | None = None
        self.error_event: ErrorEvent | None = None
        self.done_event: Done | None = None
        self.finished = threading.Event()  # for the non-streaming HTTP route

    def timings(self) -> Timings:
        end = self.finished_at or time.monotonic()
        first = self.first_token_at or end
        tokens = (self.usage.get("completion_tokens") if self.usage else None) or self.chunks
        gen_s = end - first
        return {
            "ttft_ms": round((first - self.started) * 1000, 1),
            "total_ms": round((end - self.started) * 1000, 1),
            "tokens_per_s": round(tokens / gen_s, 2) if gen_s > 0 and tokens else 0.0,
        }


class Relay:
    """Runs a request's backend stream (producer) and numbers, coalesces and emits its chunks (relay)."""

    def __init__(self, cfg, io, finish, logged=lambda req, event: None):
        self.cfg = cfg
        self.io = io
        self.finish = finish  # finish(req, outcome): record the turn and send the one `done`
        self.logged = logged  # logged(req, event): a token event joined req.log (other processes keep a copy)

    def produce(self, req: Request) -> None:
        """Run the backend's stream and pass its chunks on; never raises.

        A green producer (network I/O) numbers and sends its chunks itself when the window allows, and
        wakes the relay only for what must wait for the window's end: handing each chunk to the relay
        through a queue cost a hub timer and two switches per token (bench/RESULTS.md, #15 (b)). A
        producer on an OS thread (the local model) always hands them over: emits belong to the hub.
        """
        stream = None
        inline = not req.backend.blocking
        try:
            stream = req.backend.stream(req.messages, model=req.model, params=req.params, cancel=req.cancel,
                                        budget=req.params.get("max_tokens") or self.cfg.default_max_tokens)
            for chunk in stream:
                if inline:
                    self._offer(req, chunk)
                else:
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

    def _offer(self, req: Request, chunk: Chunk) -> None:
        """Take a chunk on the producer's thread: sent now if the window allows, else left for the relay."""
        with req.lock:
            if req.cancel.is_set():
                return  # stopped or over: the relay sends what was taken before, nothing after
            was_waiting = bool(req.pending)
            self._take(req, chunk)
            if not req.pending:
                return
            if time.monotonic() - req.last_flush >= self.cfg.coalesce_ms / 1000:
                self._flush_pending(req)
            elif not was_waiting:
                req.channel.put(TICK)  # the relay sends it when the window ends

    def run(self, req: Request) -> None:
        """Coalesce chunks into `token` events at most one per window, then send exactly one `done`."""
        window = self.cfg.coalesce_ms / 1000
        outcome: FinishReason | ChatError | None = None
        try:
            while outcome is None:
                # No timer while nothing waits to be sent: the producer always ends with END, and a
                # timeout per get was a timer set and cancelled on eventlet's hub for every token.
                timeout = max(0.0, req.last_flush + window - time.monotonic()) if req.pending else None
                try:
                    item = req.channel.get(timeout=timeout)
                except Empty:
                    item = None
                with req.lock:
                    # This item and all that waits already: a loop running behind sends it at once
                    while isinstance(item, Chunk) or item is TICK:
                        if isinstance(item, Chunk):  # else TICK
                            self._take(req, item)
                        try:
                            item = req.channel.get_nowait()
                        except Empty:
                            item = None
                    if item is END:
                        outcome = "cancelled" if req.cancel.is_set() else (req.finish_reason or "stop")
                    elif item is CANCEL:
                        outcome = "cancelled"
                    elif isinstance(item, ChatError):
                        outcome = item
                    if req.pending and (outcome is not None or time.monotonic() - req.last_flush >= window):
                        self._flush_pending(req)
        except Exception:
            log.exception("relaying request %s failed", req.id)
            outcome = ChatError("internal", "The server failed while sending the reply.")
        finally:
            self.finish(req, outcome if outcome is not None else "cancelled")
            if hasattr(req.channel, "close"):
                req.channel.close()  # a producer still running puts into the queue alone

    def _take(self, req: Request, chunk: Chunk) -> None:
        """Note what a chunk says (req.lock held); its text waits in req.pending for the next flush."""
        if chunk.queued is not None and chunk.queued != req.queued:
            req.queued = chunk.queued
            self.emit(req, "queued", {"request_id": req.id, "position": chunk.queued})
        if chunk.text:
            if req.first_token_at is None:
                req.first_token_at = time.monotonic()
            req.chunks += 1
            req.pending.append(chunk)
        if chunk.finish_reason:
            req.finish_reason = "length" if chunk.finish_reason == "length" else "stop"
        if chunk.usage:
            req.usage = chunk.usage

    def _flush_pending(self, req: Request) -> None:
        """Send what waits as one `token` event per run of same-kind text, numbered and logged; a new window.

        Called with req.lock held: the log's order is the order sent.
        """
        runs: list[list] = []
        for c in req.pending:
            if runs and runs[-1][0] == c.kind:
                runs[-1][1].append(c.text)
            else:
                runs.append([c.kind, [c.text]])
        req.pending = []
        for kind, parts in runs:
            text = "".join(parts)
            (req.reasoning if kind == "reasoning" else req.text).append(text)
            event: Token = {"request_id": req.id, "seq": len(req.log), "text": text}
            if kind == "reasoning":
                event["kind"] = "reasoning"
            req.log.append(event)
            if req.sink is None:
                self.logged(req, event)
            self.emit(req, "token", event)
        req.last_flush = time.monotonic()

    def emit(self, req: Request, event: str, payload: Mapping[str, Any]) -> None:
        """To the request's sink when it has one, else to every socket of its conversation."""
        if req.sink is not None:
            req.sink(event, payload)
        else:
            emit_to_room(self.io, event, payload, room(req.session.id))
