"""Eight sessions' short prompts prefilled together and one by one, llama.cpp's single stream beside, in one run.

    python -m bench.short_prompts_ab [--dtype auto] [--tokens 6] [--rounds 5] [--llama /work/venv-llama/bin/python]

Eight short questions (cpu_speed.QUESTIONS: 9 to 13 tokens after the built-in model's preamble) join the server's
RowBatch at once, greedy, and run --tokens tokens each (the server's transcript replies end after ~6). Their prompts
are one prefill where `short_together` holds (rows.prompt_groups), one each where it is turned off (the rule before),
taking turns round by round in one process. Aggregate tok/s = all tokens / wall time (prefill and steps); llama.cpp's
single stream (cpu_speed's, its story prompt, 48 tokens, n_threads 1) runs in a fresh process before each round and
each ratio is against the run just before it. Tokens per second of the process's own
CPU time say what the work took on a shared machine, where the other processes' share of the cores swings the wall
rates by 2x within minutes. Also: whether the rows' tokens are the same both ways.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import time

from .common import footer, header, server_rows, table
from .cpu_speed import QUESTIONS
from .decode_profile import llama


def eight(batch, prompts: list[list[int]], tokens: int) -> tuple[float, float, list[list[int]]]:
    """All rows' tokens over the wall time from their joining to the last one's end, over this process's CPU time
    (one torch thread: what the work took, less the other processes' share of the cores), and the tokens."""
    from server.backends.local.jobs import Job
    from server.backends.local.sampling import row_kwargs

    jobs = [Job([], {}, tokens, None) for _ in prompts]
    t, cpu = time.perf_counter(), time.process_time()
    for job, ids in zip(jobs, prompts):
        batch.add(job, ids, tokens, row_kwargs(False, None, None, None))
    while batch.busy:
        batch.step()
    wall, cpu = time.perf_counter() - t, time.process_time() - cpu
    made = sum(len(j.pending) for j in jobs)
    return made / wall, made / cpu, [j.pending for j in jobs]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--dtype", default="auto")
    ap.add_argument("--tokens", type=int, default=6)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--llama", default="", help="llama-cpp-python's python, e.g. /work/venv-llama/bin/python")
    args = ap.parse_args()
    t0 = time.monotonic()
    header(f"8 short prompts together and one by one ({args.dtype}, one thread), llama.cpp's single stream beside")

    b, prompter, batch = server_rows(args.dtype, 8)
    batch.warm()
    prompts = [prompter.prepare([{"role": "user", "content": q}], args.tokens).ids for q in QUESTIONS]
    print(f"prompts after the preamble: {[len(p) - batch.decoder.start(p) for p in prompts]} tokens", flush=True)
    rates: dict[str, list[float]] = {"together": [], "one by one": [], "llama.cpp": []}
    by_cpu: dict[str, list[float]] = {"together": [], "one by one": [], "llama.cpp": []}
    made: dict[str, set] = {"together": set(), "one by one": set()}
    for r in range(args.rounds):
        if args.llama:
            ref = llama(args.llama, 1, 48)
            rates["llama.cpp"].append(ref["decode"])
            by_cpu["llama.cpp"].append(ref["decode_cpu"])
        for on in (True, False) if r % 2 == 0 else (False, True):
            batch.short_together = on
            side = "together" if on else "one by one"
            rate, per_cpu, tokens = eight(batch, prompts, args.tokens)
            rates[side].append(rate)
            by_cpu[side].append(per_cpu)
            made[side].add(json.dumps(tokens))
        print(json.dumps({k: round(v[-1], 1) for k, v in rates.items() if v}), f"load {os.getloadavg()[0]:.1f}",
              flush=True)
    ref, ref_cpu = rates["llama.cpp"], by_cpu["llama.cpp"]
    rows = []
    for side, got in rates.items():
        if got:
            ratio = f"{statistics.median(a / c for a, c in zip(got, ref)):.2f}x" if ref else "-"
            per = by_cpu[side]
            cpu_ratio = f"{statistics.median(a / c for a, c in zip(per, ref_cpu)):.2f}x" if ref_cpu else "-"
            rows.append([side, f"{statistics.median(got):.1f}", f"{max(got):.1f}", ratio,
                         f"{statistics.median(per):.1f}", cpu_ratio])
    print(table(["side", "tok/s (median)", "tok/s (best)", "vs llama.cpp's single stream (median of rounds)",
                 "tok per CPU s (median)", "vs llama.cpp's, per CPU s"], rows))
    pairs = statistics.median(a / c for a, c in zip(rates["together"], rates["one by one"]))
    cpu = statistics.median(a / c for a, c in zip(by_cpu["together"], by_cpu["one by one"]))
    print(f"together / one by one: {pairs:.2f}x wall, {cpu:.2f}x tokens per CPU second (medians of rounds; "
          f"per CPU second {statistics.median(by_cpu['together']):.1f} / {statistics.median(by_cpu['one by one']):.1f}"
          f"); the same tokens both ways: {made['together'] == made['one by one'] and len(made['together']) == 1}")
    batch.close()
    b.close()
    footer(t0)


if __name__ == "__main__":
    main()
