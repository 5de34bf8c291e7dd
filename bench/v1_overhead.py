"""Latency /v1/chat/completions adds over reading the same paced upstream directly.

    python -m bench.v1_overhead [--levels 1,50] [--rounds 4,3] [--modes eventlet,threading] [--coalesce 0,30]
                                [--tokens 30] [--interval-ms 50]

The upstream (bench/paced_upstream.py, its own process) streams N tokens D ms apart, each stamped
with its send time. Per concurrency level the same number of streams is read, in interleaved rounds,
by the same minimal asyncio SSE reader (bench/relay_overhead.raw_stream)

  * from the upstream directly: the reference ("direct raw"), and
  * from `python run.py --backend openai --base-url UPSTREAM`'s /v1/chat/completions, per async mode
    and coalesce window,

so the difference is what the server adds: its upstream read, ChatService's relay, the sink queue and
the SSE write. "added" = a path's percentile - the direct percentile of the same rounds (ms). The
same servers' Socket.IO relay (bench/relay_overhead.SioClient: python-socketio clients, a chat each)
runs in the same rounds as the second reference: the figure the issue holds /v1 to, measured under
whatever else shares the machine at the time.
"""
from __future__ import annotations

import argparse
import asyncio
import time

import psutil

from .common import BenchServer, footer, header, paced_upstream_and_servers, pct, table
from .relay_clients import LagProbe, SioClient, Stats, cpu_s, raw_stream

SIO = "Socket.IO "  # the Socket.IO path of a server; "/v1 " its API


async def run_bench(args, servers: dict, upstream_proc) -> dict:
    model = f"paced-{args.tokens}-{args.interval_ms}"
    timeout = args.tokens * args.interval_ms / 1000 + 60
    probe = LagProbe()
    probe_task = asyncio.create_task(probe.run())
    procs = {"upstream": psutil.Process(upstream_proc.pid), "client": psutil.Process()}
    urls = {"direct raw": (args.upstream, model)}
    for name, srv in servers.items():
        urls["/v1 " + name] = (srv.url + "/v1", "openai/" + model)
        urls[SIO + name] = (srv.url, model)
    results: dict[tuple[int, str], Stats] = {}
    sockets: dict[str, list] = {}

    async def phase(level: int, name: str):
        base, m = urls[name]
        watched = dict(procs)
        server = servers.get(name.split(" ", 1)[1])
        if server is not None:
            watched["server"] = psutil.Process(server.proc.pid)
        before = {k: cpu_s(p) for k, p in watched.items()}
        lag0 = len(probe.samples)
        probe.on = True
        gap = args.interval_ms / 1000 / level  # starts spread over one token interval, as independent users'

        async def later(i):
            await asyncio.sleep(i * gap)
            if name.startswith(SIO):
                return await sockets[name][i].stream(m, timeout)
            return await raw_stream(base, m, timeout)
        if name.startswith(SIO):
            while len(sockets.setdefault(name, [])) < level:
                client = SioClient(base)
                await client.connect()
                sockets[name].append(client)
        recs = await asyncio.gather(*(later(i) for i in range(level)))
        probe.on = False
        return recs, {k: cpu_s(p) - before[k] for k, p in watched.items()}, probe.samples[lag0:]

    for name in urls:  # warm-up: first imports, connection set-up; not counted
        await phase(1, name)
    levels = [int(x) for x in args.levels.split(",")]
    rounds = [int(x) for x in args.rounds.split(",")]
    rounds += [rounds[-1]] * (len(levels) - len(rounds))
    for level, n_rounds in zip(levels, rounds):
        for r in range(n_rounds):
            for name in urls:
                await asyncio.sleep(0.3)
                recs, cpu, lag = await phase(level, name)
                st = results.setdefault((level, name), Stats())
                st.add(recs, args.tokens)
                for k, v in cpu.items():
                    st.cpu[k] += v
                st.lag += lag
            print(f"  level {level} round {r + 1}/{n_rounds} done", flush=True)
    probe_task.cancel()
    for clients in sockets.values():
        await asyncio.gather(*(c.sio.disconnect() for c in clients), return_exceptions=True)
    return results, levels, list(urls)


def report(args, results, levels, names) -> None:
    print(f"\nUpstream: {args.tokens} tokens {args.interval_ms} ms apart per stream; streams of a level start spread "
          "over one token interval; all times in ms.")
    rows = []
    for level in levels:
        ref = results[(level, "direct raw")]
        r50, r99 = pct(ref.lat, 50), pct(ref.lat, 99)
        t50 = pct(ref.ttft, 50)
        for name in names:
            st = results[(level, name)]
            p50, p99 = pct(st.lat, 50), pct(st.lat, 99)
            k = max(st.tokens, 1) / 1000
            rows.append([level, name, st.streams, st.tokens, st.missing + st.errors, p50, p99, p50 - r50, p99 - r99,
                         pct(st.ttft, 50), pct(st.ttft, 50) - t50, st.tokens / max(st.events, 1),
                         st.cpu.get("server", float("nan")) / k, st.cpu["client"] / k, pct(st.lag, 99)])
    print(table(["clients", "path", "streams", "tokens", "lost/err", "tok p50", "tok p99", "added p50", "added p99",
                 "TTFT p50", "added TTFT p50", "tok/event", "server CPU ms/tok", "client CPU ms/tok", "client lag p99"],
                rows))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--levels", default="1,50")
    ap.add_argument("--rounds", default="4,3", help="rounds per level (interleaved with the direct reference)")
    ap.add_argument("--modes", default="eventlet,threading")
    ap.add_argument("--coalesce", default="0,30")
    ap.add_argument("--tokens", type=int, default=30)
    ap.add_argument("--interval-ms", type=int, default=50)
    args = ap.parse_args()
    header("v1_overhead: latency /v1/chat/completions adds over reading an OpenAI-compatible upstream directly")
    t_start = time.monotonic()
    with paced_upstream_and_servers() as (args.upstream, up, servers):
        for co in args.coalesce.split(","):
            for mode in args.modes.split(","):
                srv = BenchServer("--backend", "openai", "--base-url", args.upstream, "--model", "paced-30-50",
                                  "--coalesce-ms", co, "--rate-per-minute", "0", "--rate-per-minute-ip", "0",
                                  "--max-sockets-per-ip", "1000",
                                  "--log-level", "WARNING", async_mode=mode)
                servers[f"{mode} coalesce={co}"] = srv.start(timeout=60)
        results, levels, names = asyncio.run(run_bench(args, servers, up))
        report(args, results, levels, names)
        footer(t_start)


if __name__ == "__main__":
    main()
