"""HubChannel under eventlet: an OS thread's items reach a green reader promptly, in order,
never blocking either side."""
from __future__ import annotations

import os
import subprocess
import sys
import textwrap

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

CODE = textwrap.dedent("""
    import eventlet
    eventlet.monkey_patch()
    import time
    from server.concurrency import Empty, HubChannel, RealEvent, start_os_thread
    from tests.hub_ticker import Ticker

    ch = HubChannel()
    # More puts than a pipe holds bytes (64 KiB), with nobody reading: the writer must not block.
    written = RealEvent()
    start_os_thread(lambda: ([ch.put(i) for i in range(70_000)], written.set()))
    deadline = time.monotonic() + 20
    got = []
    ticker = Ticker()  # the hub must keep turning while the reader waits
    while not written.is_set() and time.monotonic() < deadline:
        eventlet.sleep(0.01)
    ch.put("from the hub")  # with the pipe full, a put on the hub thread too must return at once
    while len(got) < 70_001 and time.monotonic() < deadline:
        got.append(ch.get(timeout=5))
    assert got[-1] == "from the hub" and got[:-1] == list(range(70_000)), len(got)
    # Empty after the timeout, not before and not much later; the hub runs meanwhile.
    t0, before = time.monotonic(), ticker.ticks
    try:
        ch.get(timeout=0.2)
        raise AssertionError("an item from nowhere")
    except Empty:
        waited = time.monotonic() - t0
    assert 0.19 <= waited < 1.0, waited
    assert ticker.ticks - before >= 5, ticker.ticks - before
    # A put from an OS thread wakes the waiting reader at once.
    start_os_thread(lambda: (time.sleep(0.1), ch.put("late")))
    t0 = time.monotonic()
    assert ch.get(timeout=5) == "late" and time.monotonic() - t0 < 1.0
    ch.close()
    ch.put("after close")  # a producer that outlives the reader writes to no file
    print("OK")
""")


def test_hub_channel_between_an_os_thread_and_the_hub():
    p = subprocess.run([sys.executable, "-c", CODE], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert p.stdout.strip().endswith("OK"), p.stderr[-3000:]
