"""Server RSS with 1,000 idle sessions of 20 messages each, against the same server fresh.

    python -m bench.memory [--sessions 1000] [--turns 10] [--reply-chars 400] [--message-chars 200]
                           [--async-mode eventlet] [--prototype drop_prompt]

Sessions are made through the real protocol: POST /api/chat with a session_id, `--turns` times
per session (each turn = a user message + the reply = 2 messages), 8 sessions at a time, against
bench/paced_upstream.py's model "blob-N" (an N-character reply in one chunk, so that making
20,000 turns costs the server little: a reply of N one-word chunks would cost ~0.2 ms each).
Two servers run side by side, built the same way:

  * replay kept:   --replay-ttl 3600: every finished request is still held for `resume`,
                   as it is for the first 120 s after a burst with the default --replay-ttl;
  * sessions only: --replay-ttl 1: the housekeeping sweep (every ~10 s) has dropped them,
                   what stays for the session TTL (an hour by default).

RSS (psutil) is read after a warm-up chat (so lazy imports are in the "fresh" figure), after all
sessions were made, and, for "sessions only", again once /healthz says the replays are gone.
KiB per session = (RSS - fresh RSS) / sessions. The text the sessions hold (user + reply
characters) is shown beside it, as the floor any server would need.
"""
from __future__ import annotations

import argparse
import concurrent.futures as cf
import gc
import time


import psutil

from .common import footer, BenchServer, header, http_json, table, paced_upstream_and_servers

MIB = 2**20


def rss(proc) -> int:
    return psutil.Process(proc.pid).memory_info().rss


def make_sessions(url: str, n: int, turns: int, model: str, message: str, prefix: str) -> tuple[int, float]:
    """Create n sessions of `turns` turns each; returns (characters of history, seconds)."""
    def one(i):
        sid = f"{prefix}-{i}"
        chars = 0
        for t in range(turns):
            status, body = http_json(url + "/api/chat",
                                     {"message": f"{t} {message}", "session_id": sid, "model": model})
            if status != 200:
                raise RuntimeError(f"POST /api/chat -> {status} {body}")
            chars += len(f"{t} {message}") + len(body["text"])
        return chars
    t0 = time.monotonic()
    with cf.ThreadPoolExecutor(8) as pool:
        chars = sum(pool.map(one, range(n)))
    return chars, time.monotonic() - t0


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sessions", type=int, default=1000)
    ap.add_argument("--turns", type=int, default=10)
    ap.add_argument("--reply-chars", type=int, default=400)
    ap.add_argument("--message-chars", type=int, default=200)
    ap.add_argument("--async-mode", default="eventlet")
    ap.add_argument("--prototype", default="",
                    help="also a 'replay kept' server with this bench/prototype_run.py patch")
    args = ap.parse_args()
    header(f"memory: server RSS with {args.sessions} idle sessions of {2 * args.turns} messages")
    t_start = time.monotonic()
    with paced_upstream_and_servers() as (upstream, _, servers):
        model = f"blob-{args.reply_chars}"
        message = ("Tell me more about the river, the hills and the quiet evening sky. " * 10)[:args.message_chars]
        common = ["--backend", "openai", "--base-url", upstream, "--model", model, "--rate-per-minute", "0",
                  "--rate-per-minute-ip", "0", "--max-sessions", str(args.sessions), "--log-level", "WARNING"]
        servers.update({
            "replay kept": BenchServer(*common, "--replay-ttl", "3600", async_mode=args.async_mode),
            "sessions only": BenchServer(*common, "--replay-ttl", "1", async_mode=args.async_mode),
        })
        if args.prototype:
            servers[f"replay kept +{args.prototype}"] = BenchServer(*common, "--replay-ttl", "3600",
                                                                    async_mode=args.async_mode,
                                                                   patch=args.prototype)
        for s in servers.values():
            s.start(timeout=60)
        fresh = {}
        for name, s in servers.items():  # warm-up: one chat in a session of its own, then forget it
            http_json(s.url + "/api/chat", {"message": "warm-up", "session_id": "warmup", "model": model})
            http_json(s.url + "/api/chat", {"message": "warm-up", "session_id": "warmup", "model": model})
        time.sleep(1)
        for name, s in servers.items():
            fresh[name] = rss(s.proc)
        made = {}
        # Interleaved in halves so that machine load falls on both alike.
        half = args.sessions // 2
        for part in (0, 1):
            for name, s in servers.items():
                n = half if part == 0 else args.sessions - half
                chars, secs = make_sessions(s.url, n, args.turns, model, message, f"p{part}")
                made.setdefault(name, [0, 0.0])
                made[name][0] += chars
                made[name][1] += secs
        after = {name: rss(s.proc) for name, s in servers.items()}
        # Wait for the sweep to drop the replays of the "sessions only" server.
        s = servers["sessions only"]
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and http_json(s.url + "/healthz")[1].get("requests", 1) > 0:
            time.sleep(1)
        swept = rss(s.proc)
        gc.collect()
        rows = []
        for name, srv in servers.items():
            body = http_json(srv.url + "/healthz")[1]
            end = swept if name == "sessions only" else after[name]
            chars = made[name][0]
            rows.append([name, body.get("sessions"), body.get("requests"), fresh[name] / MIB, end / MIB,
                         (end - fresh[name]) / MIB, (end - fresh[name]) / args.sessions / 1024,
                         chars / args.sessions / 1024, (end - fresh[name]) / max(chars, 1), made[name][1]])
        print(table(["server", "sessions", "requests kept", "fresh RSS MiB", "RSS MiB", "added MiB",
                     "KiB / session", "text KiB / session", "RSS ÷ text", "make s"], rows))
        print(f"\n'sessions only' RSS right after the burst, before the sweep: {after['sessions only'] / MIB:.1f} MiB")
        footer(t_start)


if __name__ == "__main__":
    main()
