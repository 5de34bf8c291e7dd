"""HubReader under eventlet: a stream read whole and in order, timeouts on silence, no busy hub, no stale listener."""
from __future__ import annotations

import os
import subprocess
import sys
import textwrap

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

CODE = textwrap.dedent("""
    import eventlet
    eventlet.monkey_patch()
    import socket, time
    from eventlet.hubs import get_hub
    from server.wire.hub_reader import HubReader, reader_for
    from tests.hub_ticker import Ticker

    hub = get_hub()
    ticker = Ticker()  # the hub must keep turning while the reader waits

    def pair():
        srv = socket.socket(); srv.bind(("127.0.0.1", 0)); srv.listen(1)
        a = socket.create_connection(srv.getsockname(), timeout=0.3)
        b, _ = srv.accept(); srv.close()
        return a, b

    # 200 pieces written 2 ms apart arrive whole and in order, through one listener.
    a, b = pair()
    r = reader_for(a, 0.3)
    assert isinstance(r, HubReader)
    def writer():
        for i in range(200):
            b.sendall(b"%05d" % i)
            eventlet.sleep(0.002)
        b.close()
    eventlet.spawn(writer)
    got, listeners = b"", set()
    while True:
        data = r.recv(65536)
        if not data:
            break
        got += data
        listeners.add(id(hub.listeners[hub.READ].get(a.fileno())))
    assert got == b"".join(b"%05d" % i for i in range(200)), len(got)
    assert len(listeners) == 1, len(listeners)
    r.close(); a.close()

    # Silence for longer than the timeout: socket.timeout after it, not before; the hub turned meanwhile.
    a, b = pair()
    r = reader_for(a, 0.3)
    eventlet.spawn_after(0.1, b.sendall, b"x")  # data within the timeout restarts nothing wrongly
    assert r.recv(10) == b"x"
    t0, before = time.monotonic(), ticker.ticks
    try:
        r.recv(10)
        raise AssertionError("data from nowhere")
    except socket.timeout:
        waited = time.monotonic() - t0
    assert 0.29 <= waited < 1.0, waited
    assert ticker.ticks - before >= 10, ticker.ticks - before

    # Readable while nobody reads: the listener goes (no hub woken on every pass), and comes back for the next read.
    b.sendall(b"yz")
    eventlet.sleep(0.05)
    assert a.fileno() not in hub.listeners[hub.READ]
    assert r.recv(10) == b"yz"

    # A reader killed while it waits leaves nobody waiting; close() leaves nothing registered.
    g = eventlet.spawn(r.recv, 10)
    eventlet.sleep(0.02)
    g.kill()
    assert r.waiter is None
    r.close()
    fileno = a.fileno()
    assert fileno not in hub.listeners[hub.READ]
    a.close(); b.close()

    # A new socket that gets the same number reads normally through a green recv.
    a, b = pair()
    b.sendall(b"again")
    assert a.recv(10) == b"again"
    print("OK")
""")


def test_hub_reader_under_eventlet():
    p = subprocess.run([sys.executable, "-c", CODE], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert p.stdout.strip().endswith("OK"), p.stdout[-2000:] + p.stderr[-3000:]


def test_without_eventlet_the_socket_reads_itself():
    import socket

    from server.wire.hub_reader import reader_for

    a, b = socket.socketpair()
    try:
        assert reader_for(a, 1.0) is a
    finally:
        a.close()
        b.close()
