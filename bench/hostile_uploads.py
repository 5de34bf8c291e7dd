"""Hostile uploads against a live server (#34): how long each takes to be answered, the slowest /healthz
while it runs against /healthz at rest (same run), and the server's memory before and after.

    python -m bench.hostile_uploads [--root CHECKOUT]   # --root: run another checkout's server (a baseline)
"""
from __future__ import annotations

import argparse
import statistics
import threading
import time

import tests.live as live
from tests.kb_files import docx_bomb, upload
from tests.live import LiveServer, http_json
from tests.openai_stub import Stub


def rss_mb(pid: int) -> int:
    with open(f"/proc/{pid}/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith("VmRSS")) // 1024


def health_s(url: str) -> float:
    t0 = time.monotonic()
    http_json(url + "/healthz")
    return time.monotonic() - t0


def probe(server, name: str, data: bytes, path: str, limit_s: float) -> dict:
    answer: dict = {}

    def send():
        try:
            answer["r"] = upload(server.url, name, data, path=path, timeout=limit_s)
        except OSError:  # no answer within limit_s: reported as such
            pass

    worker = threading.Thread(target=send, daemon=True)
    before, t0, slowest = rss_mb(server.proc.pid), time.monotonic(), 0.0
    worker.start()
    while worker.is_alive() and time.monotonic() - t0 < limit_s:
        slowest = max(slowest, health_s(server.url))
        time.sleep(0.2)
    status = answer["r"][0] if "r" in answer else "no answer"
    return {"s": time.monotonic() - t0, "status": status, "slowest": slowest, "rss": rss_mb(server.proc.pid) - before}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--root", help="checkout whose run.py to start (default: this one)")
    parser.add_argument("--limit", type=float, default=120, help="seconds to wait for one answer")
    args = parser.parse_args()
    if args.root:
        live.ROOT = args.root
    graph = b"head,relation,tail\n" + b"".join(b"Entity number %d,relates to,Other entity %d\n" % (i, i)
                                               for i in range(600_000))
    shapes = [
        ("60M characters in 60k paragraphs", "a.docx", docx_bomb(60_000, 1000), "/api/kb/documents"),
        ("1.9M characters in one paragraph", "c.docx", docx_bomb(1, 1000, runs=1_900), "/api/kb/documents"),
        ("graph import, 600k rows, 29 MB", "g.csv", graph, "/api/graph/import"),
        # last: on a server without the cap its cutting went on for hours after the client gave up
        ("20M characters in one paragraph", "b.docx", docx_bomb(1, 1000, runs=20_000), "/api/kb/documents"),
    ]
    stub = Stub()
    server = LiveServer("--backend", "openai", "--base-url", stub.url, "--embed-model", "none", async_mode="eventlet")
    server.start()
    try:
        rest = statistics.median(health_s(server.url) for _ in range(20))
        print(f"/healthz at rest: {rest * 1000:.1f} ms (median of 20)")
        print("| upload | bytes | answer | seconds | slowest /healthz | x at rest | RSS change MB |")
        print("|---|---|---|---|---|---|---|")
        for label, name, data, path in shapes:
            r = probe(server, name, data, path, args.limit)
            print(f"| {label} | {len(data):,} | {r['status']} | {r['s']:.1f} | {r['slowest']:.2f} s | "
                  f"{r['slowest'] / rest:.0f} | {r['rss']:+d} |", flush=True)
    finally:
        server.stop()
        stub.close()


if __name__ == "__main__":
    main()
