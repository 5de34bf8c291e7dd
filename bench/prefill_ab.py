"""Prompts' prefill, now (together, from the kept preamble) against main's (one by one, whole), alternating.

python -m bench.prefill_ab [--dtype int4] [--rounds 3] [--tokens 32]

Eight questions (English and Chinese, one grounded) through the server's Prompter, as rows.RowBatch prefills
them: main prefilled each prompt alone and whole; now prompts that join at once are one padded batch
(rows.prompt_groups) and start after the preamble every prompt shares (decode.py; its values made once,
before the first round). The two take turns in one process, round by round, so each pair meets the same load.
Also: one prompt alone (a lone request's prefill) both ways, and whether the eight rows then decode the same
greedy tokens both ways (--tokens, all rows together).
"""
from __future__ import annotations

import argparse
import statistics
import time

from .common import footer, header, loaded_backend, table

QUESTIONS = ["Write a long story about a little server that answers questions from phones on the same network.",
             "What is the capital of France?", "Explain how a bicycle works, in three short paragraphs for a child.",
             "Translate 'good morning' into German.", "水的沸点是多少度？", "一年有几个月？",
             "Why is the sky blue? Answer briefly, with the physics involved and one everyday example."]
GROUNDED = [{"role": "system", "content": "Evidence:\n[1] (pool.md) The swimming pool opens at 7:00 and closes at "
                                          "21:00. A single visit costs 5 dollars."},
            {"role": "user", "content": "How much is a single visit to the pool?"}]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--dtype", default="int4")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--tokens", type=int, default=32)
    args = ap.parse_args()
    t0 = time.monotonic()
    header(f"Prompts' prefill, now against main's, alternating ({args.dtype}, one thread)")
    import torch

    from server.backends.local.decode import Decoder
    from server.backends.local.prompt import Prompter
    from server.backends.local.rows import _Row, prompt_groups

    b = loaded_backend(args.dtype)
    prompter = Prompter(b.loaded)
    prompts = [list(prompter.prepare([{"role": "user", "content": q}], 64).ids) for q in QUESTIONS]
    prompts.append(list(prompter.prepare(GROUNDED, 64).ids))
    preamble = prompter.preamble()
    print(f"prompts {[len(p) for p in prompts]} tokens, preamble {len(preamble)}", flush=True)
    now, old = Decoder(b.model, 1024, preamble), Decoder(b.model, 1024)

    def eight_now() -> torch.Tensor:
        rows = [_Row(None, p, 1, 0, {}) for p in prompts]  # type: ignore[arg-type]
        out, slot = [], 0
        for group in prompt_groups(rows, now.start):
            out.append(now.prefill(slot, [r.ids for r in group]))
            slot += len(group)
        order = [p for g in prompt_groups(rows, now.start) for p in (r.ids for r in g)]
        logits = torch.cat(out)
        return logits[[order.index(p) for p in prompts]]  # back in the prompts' order (no two alike)

    def eight_old() -> torch.Tensor:
        return torch.cat([old.prefill(r, [p]) for r, p in enumerate(prompts)])

    def timed(fn):
        t = time.perf_counter()
        r = fn()
        return (time.perf_counter() - t) * 1000, r

    times: dict[str, list[float]] = {k: [] for k in ("8 now", "8 main", "1 now", "1 main")}
    with torch.inference_mode():
        now.prefill(0, [preamble])  # made once at the first prompt that starts with it: not part of a round
        now.kept = [c[0, :, :len(preamble)].clone() for c in now.k + now.v]
        for _ in range(args.rounds):
            ms, first_now = timed(eight_now)
            times["8 now"].append(ms)
            ms, first_old = timed(eight_old)
            times["8 main"].append(ms)
            times["1 now"].append(timed(lambda: now.prefill(0, [prompts[0]]))[0])
            times["1 main"].append(timed(lambda: old.prefill(0, [prompts[0]]))[0])
        # the eight rows' greedy tokens both ways (slots in the prompts' order again)
        first_now = torch.cat([now.prefill(r, [p]) for r, p in enumerate(prompts)])
        first_old = eight_old()
        same, lens = [], [len(p) for p in prompts]
        a, c = first_now.argmax(-1).tolist(), first_old.argmax(-1).tolist()
        made_now, made_old = [[t] for t in a], [[t] for t in c]
        for i in range(args.tokens - 1):
            x = now.step([m[-1] for m in made_now], [n + i for n in lens]).argmax(-1).tolist()
            y = old.step([m[-1] for m in made_old], [n + i for n in lens]).argmax(-1).tolist()
            for m, t in zip(made_now, x):
                m.append(t)
            for m, t in zip(made_old, y):
                m.append(t)
        same = [m == o for m, o in zip(made_now, made_old)]
    med = {k: statistics.median(v) for k, v in times.items()}
    pairs8 = statistics.median(x / y for x, y in zip(times["8 now"], times["8 main"]))
    pairs1 = statistics.median(x / y for x, y in zip(times["1 now"], times["1 main"]))
    out = [["8 prompts", f"{med['8 now']:.0f}", f"{med['8 main']:.0f}", f"{pairs8:.3f}"],
           ["1 prompt", f"{med['1 now']:.0f}", f"{med['1 main']:.0f}", f"{pairs1:.3f}"]]
    print(table(["prefill", "ms now (median)", "ms main (median)", "now / main (median of pairs)"], out))
    print(f"same greedy tokens ({args.tokens} each, rows decoded together): {sum(same)} of {len(same)} prompts")
    for m, o, s in zip(made_now, made_old, same):
        if not s:
            print("  now:  " + repr(b.loaded.tokenizer.decode(m)))
            print("  main: " + repr(b.loaded.tokenizer.decode(o)))
    b.close()
    footer(t0)


if __name__ == "__main__":
    main()
