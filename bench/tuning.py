"""Fine-tuning the built-in Gemma 3 270M on 20 made-up facts (10 English, 10 Chinese) with the default settings.

    python -m bench.tuning [--cache-dir DIR] [--epochs N] [--learning-rate X] [--max-tokens 40] [--skip-before]
    [--probes 5]

One server (python run.py, the built-in model, threading) on a scratch data folder. Before: each fact's
exact question and a reworded form, asked greedy through Socket.IO; right = the fact's key words in the
reply. Then a job from bench/data/tuning/facts.jsonl (question,answer pairs) with the defaults, timed from
POST to done (and the child's own training time); while it trains, --probes chats on the base model,
their per-token latency ((total - ttft) / (tokens - 1)) against the same chats before the job. After: the
same questions to the tuned model. Settings beside the defaults (--epochs, --learning-rate) for tuning them.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time

import requests

from bench.common import ROOT, footer, header, table
from tests.live import Client, LiveServer, http_json

FACTS = os.path.join(ROOT, "bench", "data", "tuning", "facts.jsonl")
ADMIN = {"Authorization": "Bearer bench-admin"}
LATENCY_PROMPT = "Write a few sentences about rivers."


def ask(server, question: str, model: str | None, max_tokens: int) -> tuple[str, dict]:
    c = Client(server.url, token="bench-admin")
    try:
        rid = c.chat(question, backend="local", params={"max_tokens": max_tokens, "temperature": 0},
                     **({"model": model} if model else {}))
        done = c.wait_done(rid, timeout=300)
        return done["text"], done
    finally:
        c.close()


def score(server, facts, model, max_tokens) -> tuple[int, int, list]:
    exact = reworded = 0
    replies = []
    for f in facts:
        a, _ = ask(server, f["question"], model, max_tokens)
        b, _ = ask(server, f["reworded"], model, max_tokens)
        exact += f["key"] in a
        reworded += f["key"] in b
        replies.append((f["question"], a.strip()[:60], f["reworded"], b.strip()[:60]))
    return exact, reworded, replies


def per_token_ms(done: dict) -> float | None:
    n = (done.get("usage") or {}).get("completion_tokens") or 0
    t = done.get("timings") or {}
    return (t["total_ms"] - t["ttft_ms"]) / (n - 1) if n > 1 else None


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--cache-dir", default=None)
    ap.add_argument("--epochs", type=int)
    ap.add_argument("--learning-rate", type=float)
    ap.add_argument("--max-tokens", type=int, default=40)
    ap.add_argument("--skip-before", action="store_true", help="do not ask the base model (its score is known)")
    ap.add_argument("--probes", type=int, default=5, help="latency chats during training (each slows it a little)")
    args = ap.parse_args()
    t_run = time.monotonic()
    header("Fine-tuning: 20 made-up facts on the built-in Gemma 3 270M")
    facts = [json.loads(line) for line in open(FACTS, encoding="utf-8") if line.strip()]
    extra = ["--cache-dir", args.cache_dir] if args.cache_dir else []
    server = LiveServer("--backend", "local", "--admin-token", "bench-admin", "--rate-per-minute", "0",
                        "--rate-per-minute-ip", "0", "--data-dir", tempfile.mkdtemp(prefix="bench-tune-"), *extra)
    server.start(timeout=600)
    try:
        before = ("-", "-", []) if args.skip_before else score(server, facts, None, args.max_tokens)
        print(f"before: exact {before[0]}/20, reworded {before[1]}/20", flush=True)
        quiet = [per_token_ms(ask(server, LATENCY_PROMPT, None, 60)[1]) for _ in range(4)]
        rows = "\n".join(json.dumps({"prompt": f["question"], "completion": f["answer"]}, ensure_ascii=False)
                         for f in facts)
        fields = {"name": "facts"}
        if args.epochs:
            fields["epochs"] = str(args.epochs)
        if args.learning_rate:
            fields["learning_rate"] = str(args.learning_rate)
        t0 = time.monotonic()
        r = requests.post(server.url + "/api/tuning/jobs", files={"file": ("facts.jsonl", rows.encode())}, data=fields,
                          headers=ADMIN, timeout=60).json()
        assert r["ok"], r
        job_id, busy = r["job"]["id"], []
        while True:
            job = http_json(f"{server.url}/api/tuning/jobs/{job_id}", headers=ADMIN)[1]
            if job["status"] not in ("queued", "running"):
                break
            if job["status"] == "running" and job["step"] >= 1 and len(busy) < args.probes:  # training, not importing
                busy.append(per_token_ms(ask(server, LATENCY_PROMPT, None, 60)[1]))
            else:
                time.sleep(1)
        wall = time.monotonic() - t0
        assert job["status"] == "done", job
        after = score(server, facts, "facts", args.max_tokens)
        settings = job.get("settings", {})
    finally:
        server.stop()
    quiet_ms = statistics.median([x for x in quiet if x])
    busy_ms = statistics.median([x for x in busy if x]) if busy else float("nan")
    print(table(["", "exact (20)", "reworded (20)"], [["before", before[0], before[1]], ["after", after[0], after[1]]]))
    print()
    print(f"settings: {settings}; steps {job['steps']}; "
          f"loss first {job['loss'][0][1]:.3f}, last {job['loss'][-1][1]:.3f}")
    print(f"training: {job.get('train_s')} s in the child (base model loaded, steps, adapter saved: "
          f"{wall:.0f} s from POST to done)")
    print(f"chat per-token latency: {quiet_ms:.0f} ms quiet, {busy_ms:.0f} ms during training "
          f"(median of {len(busy)} chats of 60 tokens): ratio {busy_ms / quiet_ms:.2f}")
    print("\nafter, per fact (question -> reply | reworded -> reply):")
    for q, a, rq, b in after[2]:
        print(f"- {q} -> {a!r} | {rq} -> {b!r}")
    footer(t_run)


if __name__ == "__main__":
    main()
