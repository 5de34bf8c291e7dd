"""server/backends/sse_http.py against a loopback server that writes exactly the bytes a test gives it."""
from __future__ import annotations

import json
import socket
import threading
import time

import pytest

from server.backends.sse_http import HttpStatusError, SseResponse, StreamBroken, Unreachable


def serve_once(pieces: list[bytes], pause: float = 0.01):
    """A one-connection server that reads the request, then writes `pieces` one by one; (url, requests)."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    got: list[bytes] = []

    def run():
        conn, _ = listener.accept()
        with conn:
            data = b""
            while b"\r\n\r\n" not in data:
                data += conn.recv(65536)
            head, body = data.split(b"\r\n\r\n", 1)
            length = int([h for h in head.split(b"\r\n") if h.lower().startswith(b"content-length")][0].split(b":")[1])
            while len(body) < length:
                body += conn.recv(65536)
            got.append(head + b"\r\n\r\n" + body)
            for piece in pieces:
                conn.sendall(piece)
                time.sleep(pause)
        listener.close()
    threading.Thread(target=run, daemon=True).start()
    return f"http://127.0.0.1:{listener.getsockname()[1]}/v1", got


def chunked(body: bytes, sizes: list[int]) -> list[bytes]:
    """`body` in HTTP chunks of the given sizes, each chunk's bytes split across two writes."""
    out, i = [], 0
    for n in sizes + [len(body)]:
        part = body[i:i + n]
        i += len(part)
        if part:
            frame = b"%x\r\n" % len(part) + part + b"\r\n"
            out += [frame[:len(frame) // 2], frame[len(frame) // 2:]]
    return out + [b"0\r\n\r\n"]


def sse(*events: dict, done: bool = True, crlf: bool = False) -> bytes:
    text = ": keep-alive\n\n" + "".join(f"data: {json.dumps(e)}\n\n" for e in events) \
        + ("data: [DONE]\n\n" if done else "")
    return (text.replace("\n", "\r\n") if crlf else text).encode()


EVENTS = [{"choices": [{"delta": {"content": w}}]} for w in ("Hello", " wide", " 世界")] \
    + [{"choices": [], "usage": {"completion_tokens": 3}}]


@pytest.mark.parametrize("crlf", [False, True])
def test_a_chunked_stream_split_anywhere_gives_every_event_in_order(crlf):
    body = sse(*EVENTS, crlf=crlf)
    head = b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n"
    url, got = serve_once([head[:10], head[10:]] + chunked(body, [7, 1, 30, 3]))
    with SseResponse(url, "/chat/completions", {"model": "m", "stream": True}, "sk-test", timeout=5) as events:
        assert list(events) == EVENTS
    request = got[0].decode()
    assert request.startswith("POST /v1/chat/completions HTTP/1.1\r\n") and "Authorization: Bearer sk-test" in request
    assert json.loads(request.split("\r\n\r\n", 1)[1]) == {"model": "m", "stream": True}


def test_a_body_ended_by_the_connection_and_one_with_a_length_both_read_whole():
    body = sse(*EVENTS)
    url, _ = serve_once([b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n", body[:25], body[25:]])
    assert list(SseResponse(url, "/chat/completions", {}, None, timeout=5)) == EVENTS
    body = sse(*EVENTS, done=False)
    url, _ = serve_once([b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(body), body])
    assert list(SseResponse(url, "/chat/completions", {}, None, timeout=5)) == EVENTS


def test_a_stream_cut_mid_chunk_is_broken_not_finished():
    head = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
    url, _ = serve_once([head, chunked(sse(*EVENTS), [])[0]])  # half of the only chunk, then the socket closes
    with pytest.raises(StreamBroken):
        list(SseResponse(url, "/chat/completions", {}, None, timeout=5))


def test_statuses_timeouts_and_dead_ports_are_told_apart():
    url, _ = serve_once([b"HTTP/1.1 429 Too Many Requests\r\nContent-Length: 2\r\n\r\n{}"])
    with pytest.raises(HttpStatusError) as e:
        SseResponse(url, "/chat/completions", {}, None, timeout=5)
    assert e.value.status == 429
    url, _ = serve_once([b"HTTP/1.1 200 OK\r\n"], pause=3)  # the head never ends in time
    with pytest.raises(TimeoutError):
        SseResponse(url, "/chat/completions", {}, None, timeout=0.5)
    dead = socket.socket()
    dead.bind(("127.0.0.1", 0))
    port = dead.getsockname()[1]
    dead.close()
    with pytest.raises(Unreachable):
        SseResponse(f"http://127.0.0.1:{port}/v1", "/chat/completions", {}, None, timeout=5)


def test_only_plain_http_that_no_proxy_setting_claims_is_read_off_the_socket(monkeypatch):
    from server.backends.openai_compat import OpenAICompatBackend

    for var in ("HTTP_PROXY", "http_proxy", "NO_PROXY", "no_proxy"):
        monkeypatch.delenv(var, raising=False)
    assert OpenAICompatBackend("lan", "http://10.0.0.5:8000/v1", None)._plain
    assert not OpenAICompatBackend("deepseek", "https://api.deepseek.com", "k")._plain
    monkeypatch.setenv("HTTP_PROXY", "http://proxy.example:3128")
    assert not OpenAICompatBackend("lan", "http://10.0.0.5:8000/v1", None)._plain  # the SDK goes through the proxy
    monkeypatch.setenv("NO_PROXY", "10.0.0.5")
    assert OpenAICompatBackend("lan", "http://10.0.0.5:8000/v1", None)._plain


@pytest.mark.parametrize("plain", [True, False], ids=["sse_http", "sdk"])
def test_both_readers_give_the_same_replies_and_the_same_errors(stub, plain):
    from server.backends.base import Chunk
    from server.backends.openai_compat import OpenAICompatBackend
    from server.errors import BackendError

    backend = OpenAICompatBackend("lan", stub.url, "sk-test", timeout=1)
    backend._plain = plain  # the SDK path is the one https:// upstreams take
    cancel = threading.Event()

    def run(model):
        return list(backend.stream([{"role": "user", "content": "hi"}], model=model, params={}, cancel=cancel))
    chunks = run("reasoner")
    assert [(c.kind, c.text) for c in chunks if c.text] == [("reasoning", "Let "), ("reasoning", "me "),
                                                            ("reasoning", "think."),
                                                            (None, "The "), (None, "answer.")]
    assert chunks[-1] == Chunk(usage={"prompt_tokens": 7, "completion_tokens": 5})
    for model, code, words in [("e401", "unavailable", "refused the API key"), ("e404", "not_found", "has no model"),
                               ("e429", "rate_limited", "rate-limiting"), ("e500", "unavailable", "HTTP 500"),
                               ("cut", "unavailable", "broke off mid-reply"),
                               ("hang", "unavailable", "did not answer in time")]:
        with pytest.raises(BackendError) as e:
            run(model)
        assert e.value.code == code and words in e.value.message and "sk-upstream" not in e.value.message
