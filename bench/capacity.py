"""The capacity of one server process: the most concurrent streams at 20 tokens/s it holds.

    python -m bench.capacity [--levels 100,200,300,400,500] [--tokens 60] [--interval-ms 50] [--streams 3]
                             [--mode eventlet] [--before DIR]

The server runs pinned to CPU 0 and everything else (bench/paced_upstream.py, these clients) to
CPU 1, so it has one core to itself, as a process of a cluster sized by these figures would. Each
client is one WebSocket speaking Engine.IO 4 / Socket.IO 5 by hand (aiohttp): a python-socketio
AsyncClient costs ~0.2 ms of CPU per event on the client side (bench/RESULTS.md), which at hundreds
of streams would measure the clients instead of the server. Per level, the direct raw SSE read
(bench/relay_overhead.py's reference) and then each server carry the same load: every client runs
--streams replies back to back, the first ones starting spread over one reply's length, so that the
level's streams are all in flight at once and new ones start at a steady rate, as users' would.
"added" is a path's percentile minus the reference's of the same level. A level is held when nothing is lost, the added
per-token p99 is <= 50 ms and the added TTFT p99 <= 200 ms. With --before DIR a second server runs
from that checkout (e.g. `git worktree add DIR COMMIT`), measured alike in the same run.
"""
from __future__ import annotations

import argparse
import asyncio
import gc
import itertools
import json
import os
import sys
import time

import aiohttp
import psutil

from bench import relay_clients as ro
from bench.common import ROOT, BenchServer, footer, header, paced_upstream_and_servers, pct, table

HOLD_TOKEN_P99_MS = 50
HOLD_TTFT_P99_MS = 200


class WsClient:
    """One Socket.IO client over a raw WebSocket: chat, token and done, pings answered; nothing more."""

    def __init__(self, session: aiohttp.ClientSession, url: str):
        self.session, self.url = session, url
        self.ids = itertools.count(1)
        self.acks: dict[int, asyncio.Future] = {}
        self.rec: ro.Rec | None = None
        self.ready = asyncio.Event()

    async def connect(self):
        self.ws = await self.session.ws_connect(
            self.url.replace("http", "ws", 1) + "/socket.io/?EIO=4&transport=websocket", autoping=False, max_msg_size=0)
        await self.ws.send_str("40")
        self.reader = asyncio.create_task(self._read())
        await asyncio.wait_for(self.ready.wait(), 20)

    async def _read(self):
        async for msg in self.ws:
            data = msg.data
            if data[:2] == "42":
                name, payload = json.loads(data[2:])
                if name == "token":
                    ro.note_tokens(self.rec, payload)
                elif name == "done" and self.rec is not None:
                    self.rec.finish = payload.get("finish_reason")
                    self.rec.done.set()
                elif name == "error" and self.rec is not None:
                    self.rec.error = payload
                elif name == "ready":
                    self.ready.set()
            elif data[:2] == "43":
                at = data.index("[")
                fut = self.acks.pop(int(data[2:at]), None)
                if fut is not None and not fut.done():
                    fut.set_result(json.loads(data[at:])[0])
            elif data == "2":
                await self.ws.send_str("3")

    async def call(self, event: str, data: dict, timeout: float) -> dict:
        n = next(self.ids)
        fut = self.acks[n] = asyncio.get_running_loop().create_future()
        await self.ws.send_str(f"42{n}" + json.dumps([event, data]))
        return await asyncio.wait_for(fut, timeout)

    async def stream(self, model: str, timeout: float) -> ro.Rec:
        await self.call("reset", {}, timeout)
        rec = self.rec = ro.Rec()
        rec.t0 = time.monotonic_ns()
        ack = await self.call("chat", {"message": "hi", "model": model, "params": {"max_tokens": 4096}}, timeout)
        if not ack.get("ok"):
            rec.error = ack
            return rec
        await asyncio.wait_for(rec.done.wait(), timeout)
        return rec

    async def close(self):
        await self.ws.close()
        self.reader.cancel()


async def measure(args, upstream: str, servers: dict[str, BenchServer], upstream_pid: int) -> dict:
    model = f"paced-{args.tokens}-{args.interval_ms}"
    timeout = args.tokens * args.interval_ms / 1000 + 60
    results: dict[tuple[int, str], ro.Stats] = {}
    me, up = psutil.Process(), psutil.Process(upstream_pid)
    # No collection mid-phase: a full one walks every token recorded so far, tens of ms with this loop
    # stopped, which would show as the paths' own latency. Collected between levels instead.
    gc.disable()
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as session:

        async def phase(level: int, name: str, clients: list) -> None:
            # Each client runs --streams replies back to back, the first starts spread over one reply's
            # length: the level's streams are then all in flight at once, starting at a steady rate.
            gap = args.tokens * args.interval_ms / 1000 / level
            procs = {"client": me, "upstream": up}
            if name in servers:
                procs["server"] = psutil.Process(servers[name].proc.pid)
            cpu0 = {who: ro.cpu_s(p) for who, p in procs.items()}

            async def client(i):
                await asyncio.sleep(i * gap)
                recs = []
                for _ in range(args.streams):
                    try:
                        recs.append(await (ro.raw_stream(upstream, model, timeout) if name == "direct raw"
                                           else clients[i].stream(model, timeout)))
                    except Exception as e:  # counted as lost
                        recs.append(ro.failed_rec(e))
                return recs
            recs = [r for rs in await asyncio.gather(*(client(i) for i in range(level))) for r in rs]
            st = results.setdefault((level, name), ro.Stats())
            st.add(recs, args.tokens)
            for who, p in procs.items():
                st.cpu[who] += ro.cpu_s(p) - cpu0[who]

        for name, srv in {"direct raw": None, **servers}.items():  # warm-up (imports, first connections)
            warm = [WsClient(session, srv.url)] if srv else []
            await asyncio.gather(*(c.connect() for c in warm))
            await phase(1, name, warm)
            results.pop((1, name))
            await asyncio.gather(*(c.close() for c in warm))
        for level in [int(x) for x in args.levels.split(",")]:
            clients = {}
            for name, srv in servers.items():
                clients[name] = [WsClient(session, srv.url) for _ in range(level)]
                for i in range(0, level, 50):
                    await asyncio.gather(*(c.connect() for c in clients[name][i:i + 50]))
            for name in ["direct raw", *servers]:
                await asyncio.sleep(0.5)
                await phase(level, name, clients.get(name, []))
            print(f"  level {level} done", flush=True)
            for cs in clients.values():
                await asyncio.gather(*(c.close() for c in cs), return_exceptions=True)
            gc.collect()
    return results


def report(args, results: dict, servers: dict) -> None:
    levels = sorted({level for level, _ in results})
    rows, held, holding = [], {name: 0 for name in servers}, {name: True for name in servers}
    for level in levels:
        ref = results[(level, "direct raw")]
        r99, t99 = pct(ref.lat, 99), pct(ref.ttft, 99)
        for name in ["direct raw", *servers]:
            st = results[(level, name)]
            lost = st.missing + st.errors
            added99, added_ttft99 = pct(st.lat, 99) - r99, pct(st.ttft, 99) - t99
            k = max(st.tokens, 1) / 1e6  # CPU in µs per token: ms with 2 decimals hid a 10 % change
            ok = name in servers and not lost and added99 <= HOLD_TOKEN_P99_MS and added_ttft99 <= HOLD_TTFT_P99_MS
            if name in servers:
                holding[name] = holding[name] and ok  # held: this level and every one below it
                held[name] = level if holding[name] else held[name]
            rows.append([level, name, st.streams, st.tokens, lost, pct(st.lat, 50), pct(st.lat, 99),
                         pct(st.lat, 50) - pct(ref.lat, 50), added99, pct(st.ttft, 99), added_ttft99,
                         st.tokens / max(st.events, 1), st.cpu["server"] / k if name in servers else float("nan"),
                         st.cpu["client"] / k, st.cpu["upstream"] / k,
                         "yes" if ok else ("-" if name not in servers else "no")])
    print(f"\nUpstream: {args.tokens} tokens {args.interval_ms} ms apart per stream "
          f"({1000 / args.interval_ms:.0f} tokens/s); server on CPU 0, upstream and clients on CPU 1; times in ms.")
    print(table(["streams", "path", "runs", "tokens", "lost/err", "tok p50", "tok p99", "added p50", "added p99",
                 "TTFT p99", "added TTFT p99", "tok/event", "server CPU µs/tok", "client CPU µs/tok",
                 "upstream CPU µs/tok", "held"], rows))
    for name in servers:  # all levels together: the figure that the runs' ratios are read from
        cpu, tokens = (sum(results[(lv, name)].cpu["server"] for lv in levels),
                       sum(results[(lv, name)].tokens for lv in levels))
        print(f"{name}: server CPU {cpu / max(tokens, 1) * 1e6:.1f} µs per token over all levels")
    for name, level in held.items():
        print(f"{name}: holds {level or 'none'} of the levels tried (added token p99 <= {HOLD_TOKEN_P99_MS} ms, "
              f"added TTFT p99 <= {HOLD_TTFT_P99_MS} ms, nothing lost)")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--levels", default="100,200,300,400,500")
    ap.add_argument("--streams", type=int, default=3, help="replies per client per path, back to back")
    ap.add_argument("--tokens", type=int, default=60)
    ap.add_argument("--interval-ms", type=int, default=50)
    ap.add_argument("--mode", default="eventlet")
    ap.add_argument("--coalesce", default="30")
    ap.add_argument("--before", metavar="DIR", help="also run the server of this checkout, in the same run")
    args = ap.parse_args()
    if len(os.sched_getaffinity(0)) < 2:
        sys.exit("needs 2 CPUs: one for the server, one for the upstream and the clients")
    header("capacity: concurrent streams one server process holds at 20 tokens/s")
    t_start = time.monotonic()
    os.sched_setaffinity(0, {1})  # the upstream started below inherits it
    with paced_upstream_and_servers() as (upstream, up, servers):
        roots = ([("before", args.before)] if args.before else []) + [("this checkout", ROOT)]
        for label, root in roots:
            srv = BenchServer("--backend", "openai", "--base-url", upstream, "--coalesce-ms", args.coalesce,
                              "--max-sockets-per-ip", "100000", "--rate-per-minute", "0", "--rate-per-minute-ip", "0",
                              "--log-level", "WARNING", async_mode=args.mode)
            srv.script = os.path.join(os.path.abspath(root), "run.py")
            os.sched_setaffinity(0, {0})  # the server and every thread it starts inherit CPU 0
            try:
                servers[f"server ({label})"] = srv.start(timeout=60)
            finally:
                os.sched_setaffinity(0, {1})
        results = asyncio.run(measure(args, upstream, servers, up.pid))
        report(args, results, servers)
        footer(t_start)


if __name__ == "__main__":
    main()
