"""One greedy decode step of decode.py's pass, now and as round 6 left it, alternating step by step in one process.

python -m bench.step_ab [--dtype int4] [--rows 1,8] [--steps 40]

On a shared machine whose load moves llama.cpp by 2-4x within minutes, runs of a few seconds each disagree;
here the two versions take alternate steps (new, old, new, old, ...), so each pair meets the same load. "Round 6"
is this pass with q and k normed and rotated apart and the output layer's refine() over the whole vocabulary
(bench/RESULTS.md, "Round 7"). A step: the forward for every row, then what RowBatch does before the draw for
greedy rows (shape_logits: refine again; the argmax). Also checks that both pick the same tokens.
"""
from __future__ import annotations

import argparse
import statistics
import time

from .common import footer, header, loaded_backend, table

PROMPT = "Write a long story about a little server that answers questions from phones on the same network."


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--dtype", default="int4")
    ap.add_argument("--rows", default="1,8")
    ap.add_argument("--steps", type=int, default=40)
    args = ap.parse_args()
    t0 = time.monotonic()
    header(f"decode.py's step, now against round 6, alternating ({args.dtype}, one thread)")
    import torch

    from server.backends.local.decode import Decoder
    from server.backends.local.sampling import argmax, shape_logits
    from server.backends.local.two_stage import head_of

    b = loaded_backend(args.dtype)
    head = head_of(b.model)
    ids = list(b.loaded.tokenizer(PROMPT).input_ids)
    new, old = Decoder(b.model, 1024), Decoder(b.model, 1024)
    old.joint = [None] * len(old.layers)

    def step(d: Decoder, tokens: list[int], pos: list[int]) -> tuple[float, torch.Tensor]:
        if head is not None:
            head.refine = head._refine_all if d is old else type(head).refine.__get__(head)  # type: ignore[method-assign]
        t = time.perf_counter()
        logits = d.step(tokens, pos)
        shape_logits(logits, head, [], [])
        picks = argmax(logits)
        return (time.perf_counter() - t) * 1000, picks

    out = []
    with torch.inference_mode():
        for rows in [int(x) for x in args.rows.split(",")]:
            for d in (new, old):
                for r in range(rows):
                    first = d.prefill(r, [ids])
            tokens, pos = [int(first.argmax())] * rows, [len(ids)] * rows
            times: dict[str, list[float]] = {"new": [], "old": []}
            same = True
            for _ in range(args.steps):
                ms_new, picks = step(new, tokens, pos)
                ms_old, picks_old = step(old, tokens, pos)
                times["new"].append(ms_new)
                times["old"].append(ms_old)
                same &= torch.equal(picks, picks_old)
                tokens, pos = picks.tolist(), [p + 1 for p in pos]
            med = {k: statistics.median(v) for k, v in times.items()}
            pairs = statistics.median(a / b for a, b in zip(times["new"], times["old"]))
            out.append([str(rows), f"{med['new']:.1f}", f"{med['old']:.1f}", f"{pairs:.3f}", "yes" if same else "NO"])
            print(out[-1], flush=True)
    print(table(["rows", "step ms now (median)", "step ms round 6 (median)", "now / round 6 (median of pairs)",
                 "same greedy tokens"], out))
    b.close()
    footer(t0)


if __name__ == "__main__":
    main()
