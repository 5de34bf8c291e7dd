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
import subprocess
import sys
import time
from itertools import count

import aiohttp
import psutil

from bench import relay_overhead as ro
from bench.common import ROOT, BenchServer, footer, header
from tests.cluster import Cluster

CLUSTER = "2 processes + nginx + Redis"


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
    up = subprocess.Popen([sys.executable, "-m", "bench.paced_upstream"], cwd=ROOT, stdout=subprocess.PIPE, text=True)
    one = cluster = None
    try:
        args.upstream = up.stdout.readline().strip()
        flags = ("--backend", "openai", "--base-url", args.upstream, "--coalesce-ms", args.coalesce,
                 "--max-sockets-per-ip", "1000", "--rate-per-minute", "0", "--rate-per-minute-ip", "0",
                 "--log-level", "WARNING")
        one = BenchServer(*flags, async_mode=args.mode).start(timeout=60)
        cluster = Cluster(2, *flags, async_mode=args.mode).start()
        front = type("Front", (), {"url": cluster.nginx.url, "proc": cluster.servers[0].proc})()
        servers = {f"one process ({args.mode})": one, CLUSTER: front}

        # The cluster's CPU is that of every process it runs.
        group = [psutil.Process(p.pid) for p in [*(s.proc for s in cluster.servers), cluster.nginx.proc, cluster.redis.proc]]
        group += [c for p in group[-2:-1] for c in p.children()]  # nginx's worker
        one_cpu = ro.cpu_s
        ro.cpu_s = lambda p: sum(one_cpu(q) for q in group) if p.pid == front.proc.pid else one_cpu(p)

        # Each cluster client from its own loopback address, like one phone each.
        addresses = count()
        sessions = []
        plain = ro.SioClient

        class SpreadClient(plain):
            def __init__(self, url):
                super().__init__(url)
                if url == front.url:
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
        footer(t_start)
    finally:
        for part in (one, cluster):
            if part is not None:
                part.stop()
        up.terminate()
        up.wait()


if __name__ == "__main__":
    main()
