"""`python bench/prototype_run.py ARGS` = `python run.py ARGS` with proposed server changes patched in.

Benchmarks use it to measure a change before anyone makes it in server/; server/ is not touched.
Patches (each also written out in bench/RESULTS.md as the change to make):

  BENCH_PATCH=raw_sse   OpenAICompatBackend.stream reads the upstream with
                        client.post(..., cast_to=object, stream=True, stream_cls=openai.Stream[object]):
                        same HTTP client, errors and SSE decoder, but no request transform and no
                        pydantic ChatCompletionChunk per event (bench/sdk_costs.py: ~12x less CPU per chunk).
  BENCH_PATCH=nodelay   TCP_NODELAY on every accepted socket (the client's WebSocket), so a token
                        frame written right after another small frame (the chat ack, the previous
                        token) is not held back by Nagle until the client's delayed ACK (~40 ms).
  BENCH_PATCH=drop_prompt  ChatService._finish also sets req.messages = req.params = None: a finished
                        request kept for `resume` no longer holds its whole prompt (a copy of the
                        session's history) for --replay-ttl seconds.
  BENCH_PATCH=poll50    PollingChannel (eventlet + local model) polls its queue every 50 ms instead of
                        5 ms: a test of whether the hub's 200 wake-ups a second slow generate() down.
Several patches: comma-separated.
"""
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
PATCHES = set(filter(None, os.environ.get("BENCH_PATCH", "").split(",")))

import run  # noqa: E402  (patches eventlet per --async-mode, exactly as run.py does)

if "nodelay" in PATCHES:
    import socket as _socket

    def _nodelay(conn):
        try:
            conn.setsockopt(_socket.IPPROTO_TCP, _socket.TCP_NODELAY, 1)
        except (OSError, AttributeError):
            pass

    try:
        from eventlet.greenio.base import GreenSocket

        _green_accept = GreenSocket.accept

        def _accept_green(self):
            conn, addr = _green_accept(self)
            _nodelay(conn)
            return conn, addr

        GreenSocket.accept = _accept_green
    except ImportError:
        pass
    import eventlet.patcher as _p

    _stdsocket = _p.original("socket") if _p.is_monkey_patched("socket") else _socket
    for _cls in {_stdsocket.socket, _socket.socket} - ({GreenSocket} if "GreenSocket" in dir() else set()):
        _std_accept = _cls.accept

        def _accept_std(self, _orig=_std_accept):
            conn, addr = _orig(self)
            _nodelay(conn)
            return conn, addr

        _cls.accept = _accept_std

if "raw_sse" in PATCHES:
    import openai

    from server.backends import openai_compat as oc
    from server.backends.base import Chunk
    from server.errors import BackendError

    def _chunk(event: dict):
        usage = event.get("usage")
        if usage:
            usage = {"prompt_tokens": usage.get("prompt_tokens"), "completion_tokens": usage.get("completion_tokens")}
        choices = event.get("choices") or []
        if not choices:
            return Chunk(usage=usage) if usage else None
        choice = choices[0]
        delta = choice.get("delta") or {}
        reasoning = delta.get("reasoning_content") or delta.get("reasoning")
        if reasoning:
            return Chunk(text=reasoning, kind="reasoning", finish_reason=choice.get("finish_reason"), usage=usage)
        return Chunk(text=delta.get("content") or "", finish_reason=choice.get("finish_reason"), usage=usage)

    def stream(self, messages, *, model, params, cancel):
        if not model:
            raise BackendError("bad_request", f"No model is set for {self.name}; choose one in the settings.")
        try:
            args = self._request_args(model, params)
            extra = args.pop("extra_body", None) or {}
            body = {"model": model, "messages": messages, "stream": True,
                    "stream_options": {"include_usage": True}, **args, **extra}
            events = self.client.post("/chat/completions", body=body, cast_to=object, stream=True,
                                      stream_cls=openai.Stream[object])
            finished = False
            with events:
                for event in events:
                    if cancel.is_set():
                        return
                    chunk = _chunk(event)
                    if chunk is not None:
                        finished = finished or bool(chunk.finish_reason)
                        yield chunk
            if not finished and not cancel.is_set():
                raise BackendError("unavailable", f"The connection to {self.name} broke off mid-reply. Send again to retry.")
        except BackendError:
            raise
        except openai.APIError as e:
            raise self._reword(e, model) from None
        except Exception as e:
            oc.log.warning("stream from %s broke: %s", self.host, type(e).__name__)
            raise BackendError("unavailable", f"The connection to {self.name} broke off mid-reply. Send again to retry.") from None

    oc.OpenAICompatBackend.stream = stream

if "drop_prompt" in PATCHES:
    from server.chat import ChatService

    _finish = ChatService._finish

    def _finish_and_drop(self, req, outcome):
        _finish(self, req, outcome)
        req.messages = req.params = None

    ChatService._finish = _finish_and_drop

if "poll50" in PATCHES:
    from server import chat as _chat_mod

    _chat_mod.PollingChannel.__init__.__defaults__ = (0.05,)

if __name__ == "__main__":
    run.main()
