"""The relay's coalescing: what a backlog does to the `token` events a client gets."""
from __future__ import annotations

import queue

from server.backends.base import Chunk
from server.config import Config
from server.relay import END, Relay, Request


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
