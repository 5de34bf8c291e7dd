"""Latency the server adds between an OpenAI-compatible upstream and a Socket.IO client.

    python -m bench.relay_overhead [--levels 1,50,200] [--modes eventlet,threading] [--coalesce 0,30]
                                   [--tokens 30] [--interval-ms 50] [--rounds 4,3,2] [--prototype]
                                   [--sdk-levels 1,50] [--burst] [--profile DIR]

An upstream on loopback (bench/paced_upstream.py, its own process) streams N tokens D ms apart,
each stamped with its send time. Per concurrency level, the same number of streams is read

  * directly by a minimal asyncio SSE reader - the reference ("direct raw"),
  * directly with the `openai` SDK (AsyncOpenAI) at the --sdk-levels (its pydantic parsing costs
    ~0.3 ms CPU per chunk, so past ~50 streams it saturates the client and measures itself), and
  * through `python run.py --backend openai --base-url UPSTREAM` by python-socketio AsyncClients,
    for each async mode and coalesce window (and, with --prototype, bench/prototype_run.py with
    the proposed raw-SSE upstream read patched in),

in interleaved rounds (direct, server A, server B, ..., direct, ...), all clients in one asyncio
loop of this process. Per token: latency = receive time - upstream send time (one clock,
CLOCK_MONOTONIC). "added" = a path's percentile - the direct raw percentile of the same round set.
TTFT = first token received - request sent (chat emit / POST). "last" = last token received -
request sent; the upstream alone takes (N-1)*D. Each chat starts from an empty history (reset).

Client-side cost is shown, not hidden: the loop-lag probe (a 1 ms sleep's overshoot in the client
loop while streams run) bounds how much of any latency is the client's own scheduling, and the
CPU seconds of server, upstream and client per 1,000 tokens say who spent the machine.
"""
from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import time

import openai
import psutil

from .common import BenchServer, footer, header, paced_upstream_and_servers, pct, table

from .relay_clients import LagProbe, Rec, SioClient, Stats, failed_rec, cpu_s, direct_stream, raw_stream


async def run_bench(args, servers: dict, upstream_proc, out_profiles: str | None):
    model = f"paced-{args.tokens}-{args.interval_ms}"
    stream_s = args.tokens * args.interval_ms / 1000
    timeout = stream_s + 60
    direct = openai.AsyncOpenAI(base_url=args.upstream, api_key="x", max_retries=0, timeout=timeout)
    me = psutil.Process()
    procs = {"upstream": psutil.Process(upstream_proc.pid), "client": me}
    probe = LagProbe()
    probe_task = asyncio.create_task(probe.run())
    levels = [int(x) for x in args.levels.split(",")]
    rounds = [int(x) for x in args.rounds.split(",")]
    rounds += [rounds[-1]] * (len(levels) - len(rounds))
    results: dict[tuple[int, str], Stats] = {}
    sdk_levels = {int(x) for x in args.sdk_levels.split(",") if x}
    refs = ["direct raw", "direct openai SDK"]

    async def phase(level: int, name: str, clients):
        sproc = psutil.Process(servers[name].proc.pid) if name in servers else None
        before = {k: cpu_s(p) for k, p in procs.items()}
        if sproc:
            before["server"] = cpu_s(sproc)
        lag0 = len(probe.samples)
        probe.on = True
        # Start i waits i/level of one token interval (--stagger), so that token ticks of different
        # streams spread over the interval as independent users' would; --burst starts all at once.
        gap = 0.0 if args.burst else args.interval_ms / 1000 / level

        async def later(i, coro):
            await asyncio.sleep(i * gap)
            return await coro
        if name == "direct raw":
            recs = await asyncio.gather(*(later(i, raw_stream(args.upstream, model, timeout)) for i in range(level)))
        elif name == "direct openai SDK":
            recs = await asyncio.gather(*(later(i, direct_stream(direct, model, timeout)) for i in range(level)))
        else:
            recs = await asyncio.gather(*(later(i, c.stream(model, timeout)) for i, c in enumerate(clients[name])),
                                        return_exceptions=True)
            recs = [r if isinstance(r, Rec) else failed_rec(r) for r in recs]
        probe.on = False
        after = {k: cpu_s(p) for k, p in procs.items()}
        if sproc:
            after["server"] = cpu_s(sproc)
        return recs, {k: after[k] - before[k] for k in after}, probe.samples[lag0:]

    # Warm-up: one stream per variant (first imports, connection pools), not counted.
    for name in refs + list(servers):
        clients = {}
        if name in servers:
            c = SioClient(servers[name].url)
            await c.connect()
            clients[name] = [c]
        await phase(1, name, clients)
        for c in clients.get(name, []):
            await c.sio.disconnect()

    for level, n_rounds in zip(levels, rounds):
        clients = {}
        t_conn = time.monotonic()
        for name in servers:
            clients[name] = [SioClient(servers[name].url) for _ in range(level)]
            for i in range(0, level, 25):
                await asyncio.gather(*(c.connect() for c in clients[name][i:i + 25]))
        print(f"level {level}: {level * len(servers)} sockets connected in {time.monotonic() - t_conn:.1f} s",
              flush=True)
        variants = [n for n in refs if n != "direct openai SDK" or level in sdk_levels] + list(servers)
        for r in range(n_rounds):
            for name in variants:
                await asyncio.sleep(0.3)
                recs, cpu, lag = await phase(level, name, clients)
                st = results.setdefault((level, name), Stats())
                st.add(recs, args.tokens)
                for k, v in cpu.items():
                    st.cpu[k] += v
                st.lag += lag
            print(f"  level {level} round {r + 1}/{n_rounds} done", flush=True)
        if out_profiles and level >= 50 and shutil.which("py-spy"):
            await profile(level, clients, servers, model, timeout, out_profiles)
        for name in servers:
            await asyncio.gather(*(c.sio.disconnect() for c in clients[name]), return_exceptions=True)
    probe_task.cancel()
    await direct.close()
    return results, levels


async def profile(level, clients, servers, model, timeout, out_dir):
    """py-spy (non-blocking sampling) on each server while it relays `level` streams; not in the tables."""
    os.makedirs(out_dir, exist_ok=True)
    for name, srv in servers.items():
        path = os.path.join(out_dir, f"{name.replace(' ', '_').replace('=', '')}-c{level}.txt")
        spy = await asyncio.create_subprocess_exec(
            "py-spy", "record", "--pid", str(srv.proc.pid), "--rate", "200", "--nonblocking", "--threads",
            "--format", "raw", "--output", path, "--duration", "600",
            stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL)
        await asyncio.sleep(1.0)
        await asyncio.gather(*(c.stream(model, timeout) for c in clients[name]), return_exceptions=True)
        spy.send_signal(2)  # SIGINT: py-spy writes what it has
        await spy.wait()
        print(f"profile of {name} at {level} streams: {path}", flush=True)


def report(args, results, levels, servers):
    print()
    print(f"Upstream: {args.tokens} tokens {args.interval_ms} ms apart per stream; streams of a level "
          f"{'start at once (--burst)' if args.burst else 'start spread over one token interval'}; all times in ms.")
    rows = []
    for level in levels:
        ref = results[(level, "direct raw")]
        r50, r99 = pct(ref.lat, 50), pct(ref.lat, 99)
        t50, t99 = pct(ref.ttft, 50), pct(ref.ttft, 99)
        for name in ["direct raw", "direct openai SDK"] + list(servers):
            st = results.get((level, name))
            if st is None:
                continue
            p50, p99 = pct(st.lat, 50), pct(st.lat, 99)
            f50, f99 = pct(st.ttft, 50), pct(st.ttft, 99)
            k = max(st.tokens, 1) / 1000
            rows.append([
                level, name, st.streams, st.tokens, st.missing + st.errors,
                p50, p99, p50 - r50, p99 - r99, (p50 / r50) if r50 > 0 else float("nan"),
                f50, f99, f50 - t50, f99 - t99, pct(st.last, 50),
                st.tokens / max(st.events, 1),
                st.cpu.get("server", 0.0) / k if name in servers else float("nan"),
                st.cpu["client"] / k, pct(st.lag, 99),
            ])
    print(table(["clients", "path", "streams", "tokens", "lost/err", "tok p50", "tok p99", "added p50", "added p99",
                 "p50 ×raw", "TTFT p50", "TTFT p99", "added TTFT p50", "added TTFT p99", "last p50", "tok/event",
                 "server CPU ms/tok", "client CPU ms/tok", "client lag p99"], rows))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--levels", default="1,50,200")
    ap.add_argument("--rounds", default="4,3,2", help="rounds per level (interleaved with the direct reference)")
    ap.add_argument("--modes", default="eventlet,threading")
    ap.add_argument("--coalesce", default="0,30")
    ap.add_argument("--tokens", type=int, default=30)
    ap.add_argument("--interval-ms", type=int, default=50)
    ap.add_argument("--burst", action="store_true",
                    help="start all streams of a level at once (default: spread over one token interval)")
    ap.add_argument("--sdk-levels", default="1,50", help="levels at which the openai SDK reference also runs")
    ap.add_argument("--prototype", default="",
                    help="comma-separated bench/prototype_run.py patch sets to add at coalesce 0, "
                    "each a '+'-joined list, e.g. 'nodelay,nodelay+raw_sse'")
    ap.add_argument("--profile", metavar="DIR", help="also py-spy each server at levels >= 50, raw stacks into DIR")
    args = ap.parse_args()
    header("relay_overhead: latency added by the server between an OpenAI-compatible upstream and Socket.IO clients")
    t_start = time.monotonic()
    with paced_upstream_and_servers() as (args.upstream, up, servers):
        specs = [(m, c, None) for c in args.coalesce.split(",") for m in args.modes.split(",")]
        for patch in filter(None, args.prototype.split(",")):
            specs += [(m, "0", patch.replace("+", ",")) for m in args.modes.split(",")]
        for mode, co, patch in specs:
            srv = BenchServer("--backend", "openai", "--base-url", args.upstream, "--model", "paced-30-50",
                              "--coalesce-ms", co, "--max-sockets-per-ip", "1000", "--rate-per-minute", "0",
                              "--rate-per-minute-ip", "0", "--log-level", "WARNING", async_mode=mode, patch=patch)
            name = f"server {mode} coalesce={co}" + (f" +{patch.replace(',', '+')}" if patch else "")
            servers[name] = srv.start(timeout=60)
        results, levels = asyncio.run(run_bench(args, servers, up, args.profile))
        report(args, results, levels, servers)
        footer(t_start)


if __name__ == "__main__":
    main()
