"""The conversation store (#12): list and open with 10,000 saved conversations, start-up, relay cost.

    python -m bench.conversations [--conversations 10000] [--messages 20] [--calls 200]
                                  [--relay-clients 50] [--relay-rounds 3] [--startup-rounds 3]

1. A data folder is filled with N conversations of M messages (one client: the worst case for its
   list), written with the server's own SqliteStore.
2. Start-up: seconds from `python run.py` to /healthz, that folder vs an empty one, interleaved.
3. On the server with that folder, Socket.IO round trips as a client makes them: `list` (first page
   of 50; a page deep in the list; a text search), `open` of a conversation not in memory (read from
   the file), and, as the reference, `history` (answered from memory, no store).
4. Relay: bench.relay_overhead's per-token latency for 50 clients each resetting and streaming 30
   paced tokens, through a server with --store sqlite (three writes per chat: reset, the question,
   the reply) and one with --store memory, interleaved with the direct SSE reader.
"""
from __future__ import annotations

import argparse
import asyncio
import os
import random
import secrets
import subprocess
import sys
import tempfile
import time

from .common import BenchServer, footer, header, paced_upstream_and_servers, pct, table, wait_healthz
from .relay_overhead import run_bench

CLIENT = "bench-" + secrets.token_urlsafe(20)


def seed(folder: str, conversations: int, messages: int) -> list[str]:
    """Fill folder/conversations.sqlite3 through the server's store; returns the session ids."""
    from server.store import now_iso
    from server.store.sqlite import SqliteStore

    store = SqliteStore(os.path.join(folder, "conversations.sqlite3"))
    ids = []
    text = "Lorem ipsum dolor sit amet, consectetur adipiscing elit; sed do eiusmod tempor. " * 3
    for n in range(conversations):
        sid = f"bench-{n:06d}"
        now = now_iso()
        store.save({"session_id": sid, "client_id": CLIENT, "title": f"Conversation {n} about item {n * 7919 % 1000}",
                    "created_at": now, "updated_at": now, "settings": {}})
        store.append(sid, [{"role": "user" if i % 2 == 0 else "assistant", "content": f"{n}.{i} {text}",
                            "created_at": now} for i in range(messages)])
        ids.append(sid)
    store.close()
    return ids


def start_seconds(folder: str, upstream: str) -> float:
    srv = BenchServer("--backend", "openai", "--base-url", upstream, "--data-dir", folder, "--log-level", "WARNING")
    t0 = time.monotonic()
    srv.proc = subprocess.Popen([sys.executable, srv.script, *srv.args], cwd=tempfile.mkdtemp(prefix="bench-"),
                                env=srv.env, stdout=srv.log, stderr=subprocess.STDOUT)
    try:
        wait_healthz(srv.url, 60, srv.proc, ready=False)
        return time.monotonic() - t0
    finally:
        srv.stop()


def open_ms(folder: str) -> float:
    """ms to open the store and list a first page in this process: the store's own share of a start."""
    from server.store.sqlite import SqliteStore

    t0 = time.perf_counter()
    store = SqliteStore(os.path.join(folder, "conversations.sqlite3"))
    store.list(CLIENT)
    ms = (time.perf_counter() - t0) * 1000
    store.close()
    return ms


def round_trips(url: str, ids: list[str], calls: int) -> dict[str, list[float]]:
    """ms per Socket.IO call, by kind, interleaved call by call."""
    import socketio

    sio = socketio.Client(reconnection=False)
    sio.connect(url, auth={"client_id": CLIENT}, transports=["websocket"], wait_timeout=20)
    deep = sio.call("list", {"limit": 200}, timeout=20)["conversations"][-1]["updated_at"]
    rng = random.Random(1)
    to_open = rng.sample(ids, calls)  # each once: read from the file, not from memory
    kinds = {
        "history (reference: memory only)": lambda i: sio.call("history", {}),
        "list, first page of 50": lambda i: sio.call("list", {}),
        "list, page after 200": lambda i: sio.call("list", {"before": deep}),
        "list, search 'item 42'": lambda i: sio.call("list", {"query": "item 42"}),
        "open (read from the file)": lambda i: sio.call("open", {"session_id": to_open[i]}),
    }
    out: dict[str, list[float]] = {k: [] for k in kinds}
    for i in range(calls):
        for name, call in kinds.items():
            t0 = time.perf_counter()
            ack = call(i)
            out[name].append((time.perf_counter() - t0) * 1000)
            assert ack.get("ok"), ack
    sio.disconnect()
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--conversations", type=int, default=10_000)
    ap.add_argument("--messages", type=int, default=20)
    ap.add_argument("--calls", type=int, default=200)
    ap.add_argument("--startup-rounds", type=int, default=3)
    ap.add_argument("--relay-clients", type=int, default=50)
    ap.add_argument("--relay-rounds", type=int, default=3)
    args = ap.parse_args()
    header("conversations: the conversation store with many saved conversations")
    t_start = time.monotonic()
    with paced_upstream_and_servers() as (upstream, up, servers):
        full, empty = tempfile.mkdtemp(prefix="bench-full-"), tempfile.mkdtemp(prefix="bench-empty-")
        t0 = time.monotonic()
        ids = seed(full, args.conversations, args.messages)
        size = sum(os.path.getsize(os.path.join(full, f)) for f in os.listdir(full)) / 2**20
        print(f"seeded {args.conversations} conversations x {args.messages} messages in {time.monotonic() - t0:.1f} s; "
              f"files {size:.1f} MiB\n", flush=True)

        starts = {"empty store": [], f"{args.conversations} conversations": []}
        opens = {k: [] for k in starts}
        for _ in range(args.startup_rounds):
            for name, folder in zip(starts, (empty, full)):
                starts[name].append(start_seconds(folder, upstream))
                opens[name].append(open_ms(folder))
        base, base_open = pct(starts["empty store"], 50), pct(opens["empty store"], 50)
        print("### Start-up (python run.py to /healthz; and the store's open + first list in this process), "
              f"{args.startup_rounds} rounds")
        print(table(["data folder", "start p50 s", "min s", "max s", "delta vs empty s", "store open p50 ms",
                     "delta ms"],
                    [[k, pct(v, 50), min(v), max(v), pct(v, 50) - base, pct(opens[k], 50),
                      pct(opens[k], 50) - base_open]
                     for k, v in starts.items()]), "\n", flush=True)

        srv = BenchServer("--backend", "openai", "--base-url", upstream, "--data-dir", full, "--log-level", "WARNING",
                          "--rate-per-minute", "0", "--rate-per-minute-ip", "0").start(wait_ready=False, timeout=60)
        try:
            trips = round_trips(srv.url, ids, args.calls)
        finally:
            srv.stop()
        ref = pct(trips["history (reference: memory only)"], 50)
        print(f"### Socket.IO round trips, {args.calls} calls each, interleaved (eventlet)")
        print(table(["call", "p50 ms", "p90 ms", "p99 ms", "p50 / history p50"],
                    [[k, pct(v, 50), pct(v, 90), pct(v, 99), pct(v, 50) / ref] for k, v in trips.items()]),
              "\n", flush=True)

        for store in ("sqlite", "memory"):
            servers[f"server store={store}"] = BenchServer(
                "--backend", "openai", "--base-url", upstream, "--model", "paced-30-50", "--store", store,
                "--coalesce-ms", "0", "--max-sockets-per-ip", "1000", "--rate-per-minute", "0",
                "--rate-per-minute-ip", "0", "--log-level", "WARNING", async_mode="eventlet").start(timeout=60)
        relay_args = argparse.Namespace(levels=str(args.relay_clients), rounds=str(args.relay_rounds), tokens=30,
                                        interval_ms=50, burst=False, sdk_levels="", upstream=upstream)
        results, _ = asyncio.run(run_bench(relay_args, servers, up, None))
        direct = results[(args.relay_clients, "direct raw")]
        rows = []
        added = {}
        for name in servers:
            st = results[(args.relay_clients, name)]
            added[name] = pct(st.lat, 50) - pct(direct.lat, 50)
            rows.append([name, st.streams, st.errors, pct(st.lat, 50), pct(st.lat, 90), added[name],
                         st.cpu["server"] * 1e6 / max(1, st.tokens)])
        print(f"### Relay, {args.relay_clients} clients x {args.relay_rounds} rounds, 30 tokens 50 ms apart, "
              "eventlet, coalesce 0")
        print(table(["path", "streams", "errors", "p50 ms", "p90 ms", "added p50 ms", "server CPU ms / 1k tokens"],
                    rows))
        print(f"\ndirect raw p50 {pct(direct.lat, 50):.2f} ms; added p50 sqlite / memory: "
              f"{added['server store=sqlite'] / added['server store=memory']:.2f}x")
        footer(t_start)


if __name__ == "__main__":
    main()
