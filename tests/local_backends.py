"""What the LocalBackend tests share: tiny models, loaded backends, and helpers that run and read streams."""
from __future__ import annotations

import threading
import time

import pytest

from server.backends.local import LocalBackend
from tests.tinymodel import build

HELLO = [{"role": "user", "content": "Hello there, how are you?"}]


def wait_ready(backend, timeout=60):
    backend.start()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        st = backend.status()
        if st.model_ready or st.error:
            return st
        time.sleep(0.02)
    raise AssertionError(f"not ready: {backend.status()}")


def until(condition, timeout=30):
    """Wait for condition() to hold; fail after timeout seconds rather than hang."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.002)


def run(backend, messages=HELLO, cancel=None, **params):
    """All chunks of one stream."""
    return list(backend.stream(messages, model=backend.default_model, params=params,
                               cancel=cancel or threading.Event()))


def text_of(chunks, kind=None):
    return "".join(c.text for c in chunks if c.kind == kind)


@pytest.fixture(scope="session")
def models(tmp_path_factory):
    root = tmp_path_factory.mktemp("tiny")
    return {
        "plain": build(str(root / "plain")),
        "endless": build(str(root / "endless"), endless=True, max_positions=4096),
        "think": build(str(root / "think"), endless=True, think=True),
    }


def running(path: str, name: str, batch_size: int):
    """A loaded backend for a module's tests, closed after them."""
    b = LocalBackend(path, device="cpu", name=name, batch_size=batch_size)
    assert wait_ready(b).model_ready
    yield b
    b.close()


@pytest.fixture(scope="module")
def plain(models):
    yield from running(models["plain"], "plain", batch_size=4)


@pytest.fixture(scope="module")
def endless(models):
    yield from running(models["endless"], "endless", batch_size=4)


@pytest.fixture(scope="module")
def serial(models):
    """The one-at-a-time path (--batch-size 1): generate() per request."""
    yield from running(models["endless"], "serial", batch_size=1)



PROMPTS = [[{"role": "user", "content": f"Question {i}: what do {w} do all day?"}]
           for i, w in enumerate(["cats", "dogs", "birds", "people", "servers"])]


class Streams:
    """Several streams of one backend consumed at once, each in its own thread, with timed events."""

    def __init__(self, backend):
        self.backend, self.events, self.lock, self.threads = backend, [], threading.Lock(), []
        self.chunks, self.cancels = {}, {}

    def start(self, who, messages, wait_first=True, **params):
        self.cancels[who] = threading.Event()
        self.chunks[who] = []

        def consume():
            for c in self.backend.stream(messages, model="x", params=params, cancel=self.cancels[who]):
                with self.lock:
                    self.chunks[who].append(c)
                    self.events.append((who, "queued" if c.queued else "finish" if c.finish_reason else "text",
                                        time.monotonic()))
            with self.lock:
                self.events.append((who, "end", time.monotonic()))

        t = threading.Thread(target=consume)
        t.start()
        self.threads.append(t)
        if wait_first:
            until(lambda: self.chunks[who])

    def join(self, timeout=60):
        for t in self.threads:
            t.join(timeout)
            assert not t.is_alive()

    def at(self, who, what, last=False):
        times = [t for w, x, t in self.events if w == who and x == what]
        return times[-1 if last else 0]

    def texts(self, who):
        return sum(1 for c in self.chunks[who] if c.text)
