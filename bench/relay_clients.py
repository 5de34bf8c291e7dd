"""The clients bench/relay_overhead.py and its siblings measure with: raw SSE, the SDK, Socket.IO, a lag probe."""
from __future__ import annotations

import asyncio
import json
import time
from collections import defaultdict

import openai
import psutil
import socketio

from .paced_upstream import parse_tokens

NS_MS = 1e6


class Rec:
    """One stream: when it was asked for, and every token's (index, send_ns, recv_ns)."""

    def __init__(self):
        self.t0 = 0
        self.tokens: list[tuple[int, int, int]] = []
        self.events = 0
        self.first = None
        self.done = asyncio.Event()
        self.finish = None
        self.error = None


def note_tokens(rec: Rec | None, event: dict) -> None:
    """Record a `token` event's stamped tokens in rec, with the time it arrived."""
    t = time.monotonic_ns()
    if rec is None:
        return
    if rec.first is None:
        rec.first = t
    rec.events += 1
    for i, sent in parse_tokens(event.get("text", "")):
        rec.tokens.append((i, sent, t))


class SioClient:
    def __init__(self, url: str):
        self.url = url
        self.sio = socketio.AsyncClient(reconnection=False)
        self.sio.on("token", self._on_token)
        self.sio.on("done", self._on_done)
        self.sio.on("error", self._on_error)
        self.rec: Rec | None = None

    async def connect(self):
        ready = asyncio.Event()
        self.sio.on("ready", lambda data: ready.set())
        await self.sio.connect(self.url, transports=["websocket"], wait_timeout=20)
        await asyncio.wait_for(ready.wait(), 20)

    async def _on_token(self, data):
        note_tokens(self.rec, data)

    async def _on_done(self, data):
        if self.rec is not None:
            self.rec.finish = data.get("finish_reason")
            self.rec.done.set()

    async def _on_error(self, data):
        if self.rec is not None:
            self.rec.error = data

    async def stream(self, model: str, timeout: float) -> Rec:
        await self.sio.call("reset", {}, timeout=timeout)
        rec = self.rec = Rec()
        rec.t0 = time.monotonic_ns()
        ack = await self.sio.call("chat", {"message": "hi", "model": model, "params": {"max_tokens": 4096}},
                                  timeout=timeout)
        if not ack.get("ok"):
            rec.error = ack
            return rec
        await asyncio.wait_for(rec.done.wait(), timeout)
        return rec


async def direct_stream(client: openai.AsyncOpenAI, model: str, timeout: float) -> Rec:
    rec = Rec()
    rec.t0 = time.monotonic_ns()

    async def run():
        stream = await client.chat.completions.create(model=model, messages=[{"role": "user", "content": "hi"}],
                                                      stream=True, max_tokens=4096)
        async for ev in stream:
            t = time.monotonic_ns()
            if ev.choices and ev.choices[0].delta.content:
                if rec.first is None:
                    rec.first = t
                rec.events += 1
                for i, sent in parse_tokens(ev.choices[0].delta.content):
                    rec.tokens.append((i, sent, t))
            if ev.choices and ev.choices[0].finish_reason:
                rec.finish = ev.choices[0].finish_reason
    try:
        await asyncio.wait_for(run(), timeout)
    except Exception as e:  # counted, shown in the table
        rec.error = repr(e)
    return rec


async def raw_stream(base_url: str, model: str, timeout: float) -> Rec:
    """POST and read the SSE lines with asyncio streams: about the least a client can do."""
    rec = Rec()
    host_port = base_url.split("//", 1)[1].split("/", 1)[0]
    host, port = host_port.split(":")
    path = "/" + base_url.split("//", 1)[1].split("/", 1)[1].rstrip("/") + "/chat/completions"
    body = json.dumps({"model": model, "messages": [{"role": "user", "content": "hi"}], "stream": True}).encode()

    async def run():
        reader, writer = await asyncio.open_connection(host, int(port))
        writer.write(f"POST {path} HTTP/1.1\r\nHost: {host_port}\r\nContent-Type: application/json\r\n"
                     f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode() + body)
        await writer.drain()
        await reader.readuntil(b"\r\n\r\n")
        try:
            async for line in reader:
                t = time.monotonic_ns()
                if not line.startswith(b"data: "):
                    continue
                data = line[6:].strip()
                if data == b"[DONE]":
                    break
                ev = json.loads(data)
                ch = ev.get("choices")
                if not ch:
                    continue
                text = ch[0]["delta"].get("content")
                if text:
                    if rec.first is None:
                        rec.first = t
                    rec.events += 1
                    for i, sent in parse_tokens(text):
                        rec.tokens.append((i, sent, t))
                if ch[0].get("finish_reason"):
                    rec.finish = ch[0]["finish_reason"]
        finally:
            writer.close()
    rec.t0 = time.monotonic_ns()
    try:
        await asyncio.wait_for(run(), timeout)
    except Exception as e:
        rec.error = repr(e)
    return rec


class LagProbe:
    """Overshoot of a 1 ms sleep in this loop: the client's own scheduling delay."""

    def __init__(self):
        self.samples: list[float] = []
        self.on = False

    async def run(self):
        while True:
            t = time.monotonic_ns()
            await asyncio.sleep(0.001)
            if self.on:
                self.samples.append((time.monotonic_ns() - t) / NS_MS - 1.0)


class Stats:
    def __init__(self):
        self.lat: list[float] = []
        self.ttft: list[float] = []
        self.last: list[float] = []
        self.streams = 0
        self.tokens = 0
        self.events = 0
        self.missing = 0
        self.errors = 0
        self.cpu = defaultdict(float)  # who -> seconds
        self.lag: list[float] = []

    def add(self, recs: list[Rec], n_tokens: int):
        for r in recs:
            self.streams += 1
            if r.error or r.finish != "stop":
                self.errors += 1
            self.events += r.events
            got = {i for i, _, _ in r.tokens}
            self.missing += n_tokens - len(got)
            self.tokens += len(r.tokens)
            self.lat += [(recv - sent) / NS_MS for _, sent, recv in r.tokens]
            if r.first is not None:
                self.ttft.append((r.first - r.t0) / NS_MS)
            if r.tokens:
                self.last.append((max(recv for _, _, recv in r.tokens) - r.t0) / NS_MS)


def cpu_s(proc: psutil.Process) -> float:
    try:
        t = proc.cpu_times()
        return t.user + t.system
    except psutil.Error:
        return 0.0


def failed_rec(exc) -> Rec:
    r = Rec()
    r.error = repr(exc)
    return r
