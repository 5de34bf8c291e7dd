"""What --https adds: per connection (a Socket.IO websocket opened until `ready`) and per token (one long reply
streamed), against the same server code on plain HTTP in the same run.

    python -m bench.https_cost [--connects 30] [--tokens 2000] [--rounds 3] [--mode eventlet]

Both servers run side by side on the stub upstream (tests/openai_stub.py, "words-N": N words as fast as it
can write them); rounds alternate plain and TLS so that the machine's load falls on both alike. The client
trusts the server's certificate by its file (as a phone that accepted it once), so the TLS handshake is a
full one each connect, with no session resumption.
"""
from __future__ import annotations

import argparse
import functools
import ssl
import statistics
import threading
import time

import requests
import urllib3
import socketio

from bench.common import footer, header, table
from tests.live import LiveServer
from tests.openai_stub import Stub
from tests.test_https import HttpsServer, peer_certificate


def client(url: str, session) -> socketio.Client:
    return socketio.Client(http_session=session, reconnection=False) if session else socketio.Client(reconnection=False)


def close(sio: socketio.Client) -> None:
    """Disconnect without websocket-client's 3 s wait for a close frame Werkzeug never sends (as tests/live.py)."""
    ws = getattr(sio.eio, "ws", None)
    if ws is not None:
        ws.close = functools.partial(ws.close, timeout=0.2)
    sio.disconnect()


def connect_ms(url: str, session) -> float:
    """Milliseconds from nothing to the server's `ready` over a websocket (TCP, TLS, Engine.IO, Socket.IO)."""
    sio, ready = client(url, session), threading.Event()
    sio.on("ready", lambda _d: ready.set())
    t0 = time.perf_counter()
    sio.connect(url, transports=["websocket"], wait_timeout=10)
    ready.wait(10)
    elapsed = (time.perf_counter() - t0) * 1000
    close(sio)
    return elapsed


def per_token_us(url: str, session, tokens: int) -> float:
    """Microseconds per token of one reply, from its first token to its `done`, as the client receives them."""
    sio, done, first = client(url, session), threading.Event(), []
    sio.on("token", lambda _t: first or first.append(time.perf_counter()))
    sio.on("done", lambda _d: done.set())
    sio.connect(url, transports=["websocket"], wait_timeout=10)
    ack = sio.call("chat", {"message": "go", "model": f"words-{tokens}", "params": {"max_tokens": tokens}}, timeout=10)
    assert ack["ok"], ack
    done.wait(120)
    elapsed = time.perf_counter() - first[0]
    close(sio)
    return elapsed / tokens * 1e6


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--connects", type=int, default=30)
    ap.add_argument("--tokens", type=int, default=2000)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--mode", default="eventlet")
    args = ap.parse_args()
    urllib3.disable_warnings(urllib3.exceptions.InsecureRequestWarning)  # the readiness poll before the pin
    header("https_cost: --https against plain HTTP, same run")
    t_start = time.monotonic()
    stub = Stub()
    flags = ("--backend", "openai", "--base-url", stub.url, "--embed-model", "none", "--rate-per-minute", "0",
             "--rate-per-minute-ip", "0", "--max-tokens-cap", str(args.tokens), "--log-level", "WARNING")
    plain = LiveServer(*flags, async_mode=args.mode).start()
    tls = HttpsServer(*flags, async_mode=args.mode).start()
    try:
        pem = tls.data_dir + "/server.pem"
        with open(pem, "w") as f:
            f.write(ssl.DER_cert_to_PEM_cert(peer_certificate(tls.port)))
        session = requests.Session()
        session.verify, session.trust_env = pem, False
        ways = {"http": (plain.url, None), "https": (tls.url, session)}
        conn = {k: [] for k in ways}
        tok = {k: [] for k in ways}
        for url, s in ways.values():  # warm both (imports, first upstream connection)
            connect_ms(url, s)
            per_token_us(url, s, 50)
        for _ in range(args.rounds):
            for name, (url, s) in ways.items():
                conn[name] += [connect_ms(url, s) for _ in range(args.connects // args.rounds)]
                tok[name].append(per_token_us(url, s, args.tokens))
        rows = []
        for name in ways:
            rows.append([name, statistics.median(conn[name]), max(conn[name]), statistics.median(tok[name])])
        c_add = rows[1][1] - rows[0][1]
        t_add = rows[1][3] - rows[0][3]
        print(table(["server", "connect median ms", "connect max ms", "per token µs (median of rounds)"], rows))
        print(f"\nadded by TLS: {c_add:+.1f} ms per connection ({rows[1][1] / rows[0][1]:.2f}x), "
              f"{t_add:+.1f} µs per token ({rows[1][3] / rows[0][3]:.2f}x); async mode {args.mode}, "
              f"{len(conn['http'])} connects and {args.rounds} replies of {args.tokens} tokens each way")
    finally:
        plain.stop()
        tls.stop()
        stub.close()
    footer(t_start)


if __name__ == "__main__":
    main()
