"""What nginx + Redis add: clients through 2 processes behind nginx vs the same clients straight to one process.

    python -m bench.cluster_overhead [--levels 100] [--rounds 3] [--tokens 30] [--interval-ms 50] [--mode eventlet]

bench/relay_overhead.py's method and table (paced upstream, interleaved rounds, "added" against a
direct raw SSE read in the same run). The cluster path is tests/cluster.py's: a real redis-server,
2 `run.py --redis --behind-proxy` processes and nginx from deploy/nginx.conf. Its clients connect
from 127.0.0.2, 127.0.0.3, ... so that nginx's `hash $remote_addr` spreads them over the processes as
it would different phones; its server CPU column sums both processes, nginx and Redis.
"""
from __future__ import annotations

import argparse
import asyncio
import time
from itertools import count

import aiohttp
import psutil

from bench import relay_overhead as ro
from bench.common import BenchServer, footer, header, table, paced_upstream_and_servers
from tests.cluster import Cluster

SPREAD = "2 processes via nginx"
ON_A = "process A of 2, direct"


class Path:
    """A way into the cluster for run_bench: its URL, and the pid its CPU is booked under."""

    def __init__(self, url: str, proc):
        self.url, self.proc = url, proc


class GroupCpu:
    """cpu_s() for run_bench that books a whole cluster under one pid, keeping each part's share."""

    def __init__(self, cpu_s, parts: dict[str, list], keys: dict[int, str]):
        self.cpu_s, self.parts, self.keys = cpu_s, parts, keys
        self.last: dict[int, dict] = {}
        self.spent: dict[str, dict[str, float]] = {name: dict.fromkeys(parts, 0.0) for name in keys.values()}

    def __call__(self, proc) -> float:
        path = self.keys.get(proc.pid)
        if path is None:
            return self.cpu_s(proc)
        now = {part: sum(self.cpu_s(p) for p in procs) for part, procs in self.parts.items()}
        before = self.last.pop(proc.pid, None)  # run_bench reads once before a phase, once after
        if before is None:
            self.last[proc.pid] = now
        else:
            for part in now:
                self.spent[path][part] += now[part] - before[part]
        return sum(now.values())


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--levels", default="100")
    ap.add_argument("--rounds", default="3")
    ap.add_argument("--tokens", type=int, default=30)
    ap.add_argument("--interval-ms", type=int, default=50)
    ap.add_argument("--mode", default="eventlet")
    ap.add_argument("--coalesce", default="30")
    args = ap.parse_args()
    args.sdk_levels, args.burst = "", False
    header("cluster_overhead: what 2 processes behind nginx on Redis add to one process")
    t_start = time.monotonic()
    with paced_upstream_and_servers() as (args.upstream, up, started):
        flags = ("--backend", "openai", "--base-url", args.upstream, "--coalesce-ms", args.coalesce,
                 "--max-sockets-per-ip", "1000", "--rate-per-minute", "0", "--rate-per-minute-ip", "0",
                 "--log-level", "WARNING")
        one = started["one"] = BenchServer(*flags, async_mode=args.mode)
        one.start(timeout=60)
        cluster = started["cluster"] = Cluster(2, *flags, async_mode=args.mode)
        cluster.start()
        a, b = cluster.servers
        # Every client on A: B then only hears A's events through Redis, which prices that alone.
        # The cluster's CPU is booked under A's pid (via nginx) or B's (direct to A).
        servers = {f"one process ({args.mode})": one, SPREAD: Path(cluster.nginx.url, a.proc),
                   ON_A: Path(a.url, b.proc)}
        nginx = psutil.Process(cluster.nginx.proc.pid)
        parts = {"A": [psutil.Process(a.proc.pid)], "B": [psutil.Process(b.proc.pid)],
                 "nginx": [nginx, *nginx.children()], "redis": [psutil.Process(cluster.redis.proc.pid)]}
        cpu = ro.cpu_s = GroupCpu(ro.cpu_s, parts, {a.proc.pid: SPREAD, b.proc.pid: ON_A})

        # Each client through nginx from its own loopback address, like one phone each.
        addresses = count()
        sessions = []
        plain = ro.SioClient

        class SpreadClient(plain):
            def __init__(self, url):
                super().__init__(url)
                if url == cluster.nginx.url:
                    source = f"127.0.0.{2 + next(addresses) % 250}"
                    session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(local_addr=(source, 0)))
                    sessions.append(session)
                    self.sio = type(self.sio)(reconnection=False, http_session=session)
                    self.sio.on("token", self._on_token)
                    self.sio.on("done", self._on_done)
                    self.sio.on("error", self._on_error)

        ro.SioClient = SpreadClient

        async def run():
            try:
                return await ro.run_bench(args, servers, up, None)
            finally:
                await asyncio.gather(*(s.close() for s in sessions))

        results, levels = asyncio.run(run())
        ro.report(args, results, levels, servers)
        print("\nCluster CPU per streamed token, by part (ms; the warm-up stream included):")
        rows = []
        for path in (SPREAD, ON_A):
            tokens = sum(st.tokens for (level, name), st in results.items() if name == path) + args.tokens
            rows.append([path, *(cpu.spent[path][part] * 1000 / tokens for part in parts),
                         sum(cpu.spent[path].values()) * 1000 / tokens])
        print(table(["path", *parts, "all"], rows))
        footer(t_start)


if __name__ == "__main__":
    main()
