"""An OpenAI-compatible SSE upstream that emits tokens at a steady pace, each stamped with its send time.

    python -m bench.paced_upstream [--port P]     # prints its base URL, serves until killed

Model "paced-N-D" streams N tokens D ms apart (the first at once). Token i's text is
"<i>@<t> " where t is time.monotonic_ns() taken just before the bytes are written, so a
client on the same machine (CLOCK_MONOTONIC is system-wide on Linux) gets its latency as
receive time - t. One asyncio loop serves every stream: hundreds of streams cost it little.
Model "blob-N" answers N characters of plain text in one chunk (cheap long replies for bench/memory.py).
"""
from __future__ import annotations

import argparse
import asyncio
import gc
import json
import re
import time

TOKEN = re.compile(r"(\d+)@(\d+) ")


def parse_tokens(text: str) -> list[tuple[int, int]]:
    """[(index, send_ns)] of every stamped token in a piece of streamed text."""
    return [(int(i), int(t)) for i, t in TOKEN.findall(text)]


def _event(obj) -> bytes:
    return b"data: " + json.dumps(obj, separators=(",", ":")).encode() + b"\n\n"


def _chunk(model: str, delta: dict, finish=None) -> dict:
    return {"id": "chatcmpl-paced", "object": "chat.completion.chunk", "created": 0, "model": model,
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}


async def _read_request(reader):
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    method, path, _ = lines[0].split(" ", 2)
    headers = {}
    for line in lines[1:]:
        if ":" in line:
            k, v = line.split(":", 1)
            headers[k.strip().lower()] = v.strip()
    body = await reader.readexactly(int(headers.get("content-length", 0) or 0))
    return method, path, body


async def _handle(reader, writer):
    try:
        method, path, body = await _read_request(reader)
        if method == "GET" and path.rstrip("/").endswith("/models"):
            data = json.dumps({"object": "list", "data": [{"id": "paced-30-50", "object": "model"}]}).encode()
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n"
                         b"Content-Length: " + str(len(data)).encode() + b"\r\n\r\n" + data)
            await writer.drain()
            return
        if method != "POST":
            writer.write(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
            return
        model = json.loads(body or b"{}").get("model", "paced-30-50")
        if model.startswith("blob-"):
            n = int(model[5:])
            text = ("All work and no play makes a dull reply. " * (n // 40 + 1))[:n]
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nConnection: close\r\n\r\n")
            writer.write(_event(_chunk(model, {"role": "assistant", "content": text})))
            writer.write(_event(_chunk(model, {}, "stop")))
            writer.write(b"data: [DONE]\n\n")
            await writer.drain()
            return
        try:
            _, n, d = model.split("-")
            n, d = int(n), float(d) / 1000
        except ValueError:
            n, d = 30, 0.05
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-cache\r\n"
                     b"Connection: close\r\n\r\n")
        writer.write(_event(_chunk(model, {"role": "assistant", "content": ""})))
        await writer.drain()
        loop = asyncio.get_running_loop()
        start = loop.time()
        for i in range(n):
            wait = start + i * d - loop.time()
            if wait > 0:
                await asyncio.sleep(wait)
            text = f"{i}@{time.monotonic_ns()} "
            writer.write(_event(_chunk(model, {"content": text})))
            await writer.drain()
        writer.write(_event(_chunk(model, {}, "stop")))
        writer.write(_event({"id": "chatcmpl-paced", "object": "chat.completion.chunk", "created": 0, "model": model,
                             "choices": [],
                             "usage": {"prompt_tokens": 1, "completion_tokens": n, "total_tokens": n + 1}}))
        writer.write(b"data: [DONE]\n\n")
        await writer.drain()
    except (ConnectionError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
        pass
    finally:
        try:
            writer.close()
        except Exception:
            pass


async def serve(port: int = 0):
    server = await asyncio.start_server(_handle, "127.0.0.1", port, backlog=1024)
    return server, server.sockets[0].getsockname()[1]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, default=0)
    args = ap.parse_args()

    async def run():
        server, port = await serve(args.port)
        gc.collect()
        gc.freeze()  # a full collection over start-up's objects would pause every stream at once
        print(f"http://127.0.0.1:{port}/v1", flush=True)
        async with server:
            await server.serve_forever()

    asyncio.run(run())


if __name__ == "__main__":
    main()
