"""The OpenAI-compatible API: GET /v1/models and POST /v1/chat/completions, on the same ChatService as the sockets."""
from __future__ import annotations

from itertools import chain
import logging
import queue

from flask import Blueprint, Response, jsonify, request

from . import v1_format as fmt
from ..errors import ChatError
from .kb import drain
from .services import services
from .views import check_access

log = logging.getLogger(__name__)
bp = Blueprint("v1", __name__, url_prefix="/v1")

# An SSE comment this often while a reply waits in line: a write is how a server learns that a
# client went away, and a client gone while queued would otherwise hold its place until its turn.
KEEPALIVE_S = 5.0


def service():
    return services().chat


def error_response(code: str, message: str, status: int):
    return jsonify(fmt.error_body(code, message, status)), status


@bp.before_request
def guard():
    check_access()


@bp.errorhandler(ChatError)
def on_chat_error(e: ChatError):
    return error_response(e.code, e.message, e.http_status)


@bp.route("/models")
def models():
    return jsonify({"object": "list", "data": fmt.model_ids(service().registry)})


class Reply:
    """One stateless request's events, read from its sink; stop strings applied, the request stopped at one."""

    def __init__(self, svc, completion: fmt.Completion, backend, model: str):
        self.svc = svc
        # green under eventlet, real under threading: the relay runs on the server's loop
        self.queue: queue.Queue = queue.Queue()
        self.filter = fmt.StopFilter(completion.stops)
        self.messages = completion.messages
        self.text: list[str] = []
        self.reasoning: list[str] = []
        self.done: dict | None = None
        self.error: ChatError | None = None
        self.req = svc.start_stateless(completion.messages, backend, model, completion.params,
                                       request.remote_addr or "",
                                       lambda event, payload: self.queue.put((event, payload)))

    def pieces(self, idle_s: float | None):
        """("content" | "reasoning", text), ("queued", position) or ("idle", None) every idle_s, until the end."""
        while True:
            try:
                event, payload = self.queue.get(timeout=idle_s)
            except queue.Empty:
                yield "idle", None
                continue
            if event == "token" and payload.get("kind") == "reasoning":
                if not self.filter.stopped:
                    self.reasoning.append(payload["text"])
                    yield "reasoning", payload["text"]
            elif event == "token":
                out = self.filter.feed(payload["text"])
                if self.filter.stopped:
                    self.svc.stop_request(self.req)
                if out:
                    self.text.append(out)
                    yield "content", out
            elif event == "queued":
                yield "queued", payload["position"]
            elif event == "error":
                self.error = ChatError(payload["code"], payload["message"])
            elif event == "done":
                self.done = payload
                tail = "" if self.error else self.filter.flush()
                if tail:
                    self.text.append(tail)
                    yield "content", tail
                return

    def finish_reason(self) -> str:
        assert self.done is not None, "asked after the reply's end"
        return fmt.finish_reason(self.done["finish_reason"], self.filter.stopped)

    def usage(self) -> dict:
        return fmt.usage_of(self.done, self.messages, "".join(self.text))


@bp.route("/chat/completions", methods=["POST"])
def chat_completions():
    svc = service()
    cfg = svc.cfg
    if (request.content_length or 0) > cfg.max_payload_bytes:
        drain(request.environ["wsgi.input"], request.content_length)  # the client hears the 413, not a broken pipe
        raise ChatError("too_long", f"The request body is larger than the limit of {cfg.max_payload_bytes} bytes.")
    completion = fmt.parse_completion(request.get_json(silent=True), max_message_chars=cfg.max_message_chars,
                                      max_messages=cfg.max_history, max_tokens_cap=cfg.max_tokens_cap)
    backend, model = fmt.resolve_model(svc.registry, completion.model)
    status = backend.status()
    if not status.model_ready:
        raise ChatError("unavailable",
                        status.message or f"The model of {backend.name} is still loading; try again soon.")
    reply = Reply(svc, completion, backend, model)
    shape = fmt.Shape(reply.req.id, completion.model, completion.include_usage)
    if not completion.stream:
        for _ in reply.pieces(None):
            pass
        if reply.error:
            raise reply.error
        return jsonify(shape.completion("".join(reply.text), "".join(reply.reasoning), reply.finish_reason(),
                                        reply.usage()))
    # Wait for the first sign of life before answering, so that a failure to start (an upstream's 429 or
    # 404) gets its HTTP status rather than a 200 stream that fails at once.
    pieces = reply.pieces(KEEPALIVE_S)
    first = next((p for p in pieces if p[0] != "idle"), None)
    if reply.error and not reply.text:
        raise reply.error
    resp = Response(_sse(reply, chain([first] if first else [], pieces), shape), mimetype="text/event-stream")
    resp.headers["Cache-Control"] = "no-cache"
    resp.headers["X-Accel-Buffering"] = "no"  # a proxy in front must not hold tokens back
    return resp


def _sse(reply: Reply, pieces, shape: fmt.Shape):
    """The chunks of one streamed completion; a client that goes away (a failed write closes this) stops it."""
    ended = False
    try:
        yield fmt.sse(shape.chunk({"role": "assistant", "content": ""}))
        for kind, value in pieces:
            if kind in ("content", "reasoning"):
                yield shape.text_event("content" if kind == "content" else "reasoning_content", value)
            else:
                yield b": waiting\n\n"  # an SSE comment: clients skip it
        if reply.error:
            yield fmt.sse(fmt.error_body(reply.error.code, reply.error.message, reply.error.http_status))
        else:
            yield fmt.sse(shape.chunk({}, reply.finish_reason()))
            if shape.include_usage:
                yield fmt.sse(shape.usage_chunk(reply.usage()))
        yield b"data: [DONE]\n\n"
        ended = True
    finally:
        if not ended and reply.svc.stop_request(reply.req):
            log.info("the client of request %s went away mid-reply: stopped it", reply.req.id)
