"""The relay's coalescing: what a backlog, a fast producer,
a slow one and a stop do to the `token` events a client gets."""
from __future__ import annotations

import queue
import threading
import time

from server.backends.base import Chunk
from server.config import Config
from server.chat.relay import CANCEL, END, Relay, Request


def test_a_backlog_goes_out_as_one_event_with_nothing_lost():
    """Chunks already waiting when the relay gets to run (a server running behind) make one event, not one each."""
    events = []
    req = Request(None, None, "m", "", [], {}, queue.Queue(), sink=lambda name, payload: events.append((name, payload)))
    for i in range(50):
        req.channel.put(Chunk(text=f"t{i} "))
    req.channel.put(END)
    Relay(Config(coalesce_ms=30), None, finish=lambda r, outcome: events.append(("done", outcome))).run(req)
    assert events == [("token", {"request_id": req.id, "seq": 0, "text": "".join(f"t{i} " for i in range(50))}),
                      ("done", "stop")]


class Paced:
    """A network-like backend (a green producer): `n` chunks `gap_s` apart, then its finish."""

    blocking = False
    name = "paced"

    def __init__(self, n: int, gap_s: float):
        self.n, self.gap_s = n, gap_s

    def stream(self, messages, *, model, params, cancel, budget=0):
        for i in range(self.n):
            time.sleep(self.gap_s)
            yield Chunk(text=f"t{i} ")
        yield Chunk(finish_reason="stop")


def relayed(backend, coalesce_ms=30, stop_after_s=None):
    """(events with their times, the one outcome) of one request through produce + run on two threads."""
    events = []
    req = Request(None, backend, "m", "", [], {}, queue.Queue(),
                  sink=lambda name, payload: events.append((time.monotonic(), name, payload)))
    relay = Relay(Config(coalesce_ms=coalesce_ms), None,
                  finish=lambda r, outcome: events.append((time.monotonic(), "done", outcome)))
    threading.Thread(target=relay.produce, args=(req,), daemon=True).start()
    if stop_after_s is not None:
        def stop():
            time.sleep(stop_after_s)
            req.cancel.set()
            req.channel.put(CANCEL)
        threading.Thread(target=stop, daemon=True).start()
    relay.run(req)
    time.sleep(0.1)  # a producer still running must add nothing after `done`
    return events


def test_a_fast_producer_is_coalesced_to_one_event_per_window_with_nothing_lost():
    events = relayed(Paced(60, 0.002))
    tokens = [(t, p) for t, name, p in events if name == "token"]
    assert "".join(p["text"] for _, p in tokens) == "".join(f"t{i} " for i in range(60))
    assert [p["seq"] for _, p in tokens] == list(range(len(tokens)))
    assert len(tokens) < 30  # 60 chunks in ~120+ ms: a handful of windows, not one event each
    gaps = [b - a for (a, _), (b, _) in zip(tokens, tokens[1:-1])]  # the last goes out with the end, at once
    assert min(gaps) >= 0.025, gaps  # never two events within one window (30 ms, timer slack allowed)
    assert [name for _, name, _ in events][-1] == "done" and events[-1][2] == "stop"


def test_a_slow_producer_sends_each_chunk_as_it_comes():
    events = relayed(Paced(6, 0.06))
    tokens = [p for _, name, p in events if name == "token"]
    assert [p["text"] for p in tokens] == [f"t{i} " for i in range(6)]
    assert events[-1][1:] == ("done", "stop")


def test_stop_ends_the_reply_at_once_and_nothing_follows_its_done():
    events = relayed(Paced(100, 0.01), stop_after_s=0.2)
    names = [name for _, name, _ in events]
    assert names.count("done") == 1 and names[-1] == "done" and events[-1][2] == "cancelled"
    texts = "".join(p["text"] for _, name, p in events if name == "token")
    assert 0 < len(texts) < len("".join(f"t{i} " for i in range(100)))
