"""A chat-completions stream read straight off a plain-HTTP socket: the inference tier on the LAN.

Reading the upstream alone through the openai SDK (its SSE decoder over httpx, httpcore and h11)
took 0.154 of the 0.254 ms of server CPU per relayed token, 100 streams of 240 tokens (bench/RESULTS.md,
"Several processes", (b)). For an `http://`
base URL (vLLM, `transformers serve`, this server's /v1 on another machine) this reader does the
same job in a few string operations per event; `https://` (DeepSeek, OpenAI) stays on the SDK.
"""
from __future__ import annotations

import json
import socket
from urllib.parse import urlsplit

from ..wire import codec
from ..wire.hub_reader import reader_for

MAX_HEAD = 64 * 1024


class HttpStatusError(Exception):
    """The upstream answered with a status other than 200."""

    def __init__(self, status: int):
        super().__init__(f"HTTP {status}")
        self.status = status


class Unreachable(Exception):
    """No connection could be made to the upstream."""


class StreamBroken(Exception):
    """The connection ended or failed before the stream said it was done."""


class SseResponse:
    """The events of one streaming POST, as dicts; close() hangs up (that is Stop)."""

    def __init__(self, base_url: str, path: str, body: dict, api_key: str | None, timeout: float):
        url = urlsplit(base_url.rstrip("/") + path)
        host, port = url.hostname or "127.0.0.1", url.port or 80
        payload = json.dumps(body).encode()
        head = [f"POST {url.path or '/'} HTTP/1.1", f"Host: {url.netloc}", "Content-Type: application/json",
                "Accept: text/event-stream", f"Content-Length: {len(payload)}", "Connection: close"]
        if api_key:
            head.append(f"Authorization: Bearer {api_key}")
        try:
            self.sock = socket.create_connection((host, port), timeout=timeout)
        except TimeoutError:
            raise
        except OSError as e:  # refused, no route, unknown host
            raise Unreachable(type(e).__name__) from None
        self.buf = b""
        self.reader = reader_for(self.sock, timeout)
        try:
            self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self.sock.sendall(("\r\n".join(head) + "\r\n\r\n").encode() + payload)
            self.chunked, self.left = self._read_head()
        except BaseException:
            self.close()  # no `with` holds it yet
            raise

    def _recv(self) -> bytes:
        data = self.reader.recv(65536)
        if not data:
            raise StreamBroken("connection closed")
        return data

    def _read_head(self) -> tuple[bool, int | None]:
        while b"\r\n\r\n" not in self.buf:
            if len(self.buf) > MAX_HEAD:
                raise StreamBroken("response head too long")
            self.buf += self._recv()
        head, self.buf = self.buf.split(b"\r\n\r\n", 1)
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split(" ", 2)[1])
        headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
        chunked = "chunked" in headers.get("transfer-encoding", "").lower()
        length = None if chunked or "content-length" not in headers else int(headers["content-length"])
        if status != 200:
            raise HttpStatusError(status)  # the body may echo keys or internals: never read into a message
        return chunked, length

    def _body(self):
        """The response body in pieces as they arrive, with chunked transfer encoding undone."""
        if not self.chunked:
            while self.left != 0:
                if self.buf:
                    data, self.buf = self.buf, b""
                else:
                    try:
                        data = self._recv()
                    except StreamBroken:
                        if self.left is None:
                            return  # a body delimited by the connection's end
                        raise
                if self.left is not None:
                    data = data[:self.left]
                    self.left -= len(data)
                yield data
            return
        while True:
            while b"\r\n" not in self.buf:
                self.buf += self._recv()
            size_line, self.buf = self.buf.split(b"\r\n", 1)
            size = int(size_line.split(b";", 1)[0], 16)
            if size == 0:
                return
            while len(self.buf) < size + 2:
                self.buf += self._recv()
            yield self.buf[:size]
            self.buf = self.buf[size + 2:]

    def __iter__(self):
        """Each `data:` event's JSON; ends at `data: [DONE]` or at the body's end."""
        pending = b""
        for piece in self._body():
            pending += piece
            *events, pending = pending.replace(b"\r\n", b"\n").split(b"\n\n")
            for event in events:
                data = b"\n".join(line[5:].lstrip(b" ") for line in event.split(b"\n") if line.startswith(b"data:"))
                if not data:
                    continue  # a comment or a keep-alive
                if data == b"[DONE]":
                    return
                yield codec.loads(data)

    def close(self) -> None:
        if self.reader is not self.sock:
            self.reader.close()
        try:
            self.sock.close()
        except OSError:
            pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
