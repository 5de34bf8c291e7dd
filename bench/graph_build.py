"""What building the graph from the library costs: passages per minute and facts found, per kind of backend.

    python -m bench.graph_build [--gemma-passages 2]

Through a live server: a handbook written from bench/graph_data.py (one sentence per disease) is uploaded
and built with the OpenAI-compatible stub (the server's own cost per passage: the model answers at once),
the tiny random model (tests/tinymodel.py: nonsense, the local backend's path) and the built-in Gemma 3 270M
(a real, very small local model) on its first --gemma-passages passages.
"""
from __future__ import annotations

import argparse
import tempfile
import time

from bench.graph_data import DISEASES
from tests.kb_files import upload
from tests.live import LiveServer, http_json
from tests.openai_stub import Stub
from tests.tinymodel import build as build_tiny


def handbook(triples: bool) -> bytes:
    lines = []
    for zh, en, dept, (s1, s2), drug, check in DISEASES:
        if triples:  # the stub's format: three words a sentence
            lines += [f"{zh} 就诊科室 {dept}。", f"{zh} 症状 {s1}。", f"{zh} 常用药品 {drug}。"]
        else:
            lines.append(f"{zh}（{en}）的常见症状有{s1}和{s2}，应到{dept}就诊，常用{drug}，需做{check}。")
    return "\n".join(lines).encode()


def run(label: str, args: list[str], model: str | None, data: bytes, passages: int | None, timeout: float) -> str:
    # mode="open": the library upload and the build below are anonymous (no admin token to hand around)
    with LiveServer(*args, "--store", "memory", async_mode="eventlet", mode="open") as server:
        status, body = upload(server.url, "handbook.txt", data)
        assert status == 200, body
        doc = body["document"]
        t0 = time.perf_counter()
        status, body = http_json(server.url + "/api/graph/build", {"model": model} if model else {})
        assert status == 200, body
        job = body["job"]
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            job = http_json(server.url + f"/api/graph/jobs/{job['id']}")[1]
            if job["status"] in ("done", "failed", "cancelled"):
                break
            if passages is not None and job["done"] >= passages:
                http_json(server.url + f"/api/graph/jobs/{job['id']}", method="DELETE")
            time.sleep(0.2)
        took = time.perf_counter() - t0
        per_min = job["done"] / took * 60 if took else 0
        return (f"| {label} | {job['done']} of {doc['chunks']} | {took:.1f} | {per_min:.1f} | {job['facts']} | "
                f"{job['status']} |")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--gemma-passages", type=int, default=2)
    args = ap.parse_args()
    print("| backend | passages built | seconds | passages/min | facts | job |")
    print("|---|---|---|---|---|---|")
    stub = Stub()
    try:
        print(run("OpenAI-compatible stub (answers at once)", ["--backend", "openai", "--base-url", stub.url],
                  "triples", handbook(True), None, 300), flush=True)
    finally:
        stub.close()
    tiny = build_tiny(tempfile.mkdtemp(prefix="tiny-"), max_positions=4096)
    print(run("tiny random model (local backend)", ["--backend", "local", "--model", tiny], None, handbook(False),
              None, 600), flush=True)
    print(run("built-in Gemma 3 270M (local, CPU)", ["--backend", "local"], None, handbook(False),
              args.gemma_passages, 1800), flush=True)


if __name__ == "__main__":
    main()
