"""Where int8 changes the built-in model's greedy replies: each rounding alone, on chosen evidence questions.

python -m bench.int8_variants [--questions "Q1|Q2"] [--variants V1;V2;...] [--speed TOKENS --rounds R]

Loads the model once in fp32 and asks the questions as bench/evidence_eval.py does (same library, prompt,
number guard), once per variant. A variant names how each part computes, e.g. "body=k,head=k,emb=r" (today's
int8): body = every projection of the layers, head = the output layer, emb = the input embedding (tied to the
head's weights). Kinds: f fp32; k the int8 kernel (server/backends/local/int8.py: bf16 in, bf16 sums out);
r int8 weights with a scale per row, multiplied in fp32; gN a scale per N inputs of a row, in fp32;
b fp32 weights but bf16 in and bf16 sums out (the kernel's rounding alone); h weights rounded to bf16,
in fp32; a projection's own name (up_proj=r) overrides body for it. The first variant is the reference:
prints each reply, whether it is the first variant's, and the smallest top-1/top-2 margin of the output
layer along the reply. --speed: no questions; greedy decode
tok/s of each variant over TOKENS tokens in this one process, the variants taking turns R times (best of R),
so that a shared machine's load falls on each alike.
"""
from __future__ import annotations

import argparse
import time

import torch

from bench.evidence_eval import ask, library, questions
from server.backends.local import LocalBackend
from server.backends.local import int8 as int8mod

QUESTIONS = "宿舍搬迁从哪天开始？|博物馆的成人票价是多少？"
VARIANTS = ("body=f,head=f,emb=f;body=k,head=k,emb=r;body=r,head=r,emb=r;body=b,head=b,emb=f;"
            "body=k,head=f,emb=f;body=f,head=k,emb=r;body=k,head=r,emb=r;body=g64,head=g64,emb=g64")


def rounded(w: torch.Tensor, kind: str) -> torch.Tensor:
    """w after int8 rounding with a scale per row ("r") or per group of N inputs ("gN"), back in fp32."""
    if kind in ("f", "b"):
        return w
    if kind == "h":
        return w.bfloat16().float()
    if kind == "r":
        q, s = int8mod.row_int8(w)
        return q.float() * s[:, None]
    n = int(kind[1:])
    g = w.float().reshape(w.shape[0], -1, n)
    s = (g.abs().amax(-1, keepdim=True) / 127).clamp(min=1e-12)
    return (torch.round(g / s).clamp(-127, 127) * s).reshape(w.shape)


class Fake(torch.nn.Module):
    """A Linear in fp32 over (possibly rounded) weights; kind "b" rounds its input and sums to bf16."""

    def __init__(self, w: torch.Tensor, kind: str):
        super().__init__()
        self.weight, self.kind = torch.nn.Parameter(rounded(w, kind), requires_grad=False), kind

    def forward(self, x):
        if self.kind == "b":
            return torch.nn.functional.linear(x.bfloat16().float(), self.weight).bfloat16().float()
        return torch.nn.functional.linear(x.float(), self.weight)


def layer(w: torch.Tensor, kind: str) -> torch.nn.Module:
    lin = torch.nn.Linear(w.shape[1], w.shape[0], bias=False)
    lin.weight = torch.nn.Parameter(w, requires_grad=False)
    if kind == "k":
        return int8mod.Int8Linear(lin)
    return Fake(w, kind)


def set_variant(model, weights: dict, spec: str) -> None:
    parts = dict(p.split("=") for p in spec.split(","))
    for name, w in weights.items():
        parent, _, attr = name.rpartition(".")
        kind = parts["head"] if name == "lm_head" else parts.get(attr, parts["body"])
        setattr(model.get_submodule(parent) if parent else model, attr, layer(w, kind))
    emb = model.get_input_embeddings()
    head = weights["lm_head"]
    emb.weight = torch.nn.Parameter(rounded(head, "r" if parts["emb"] == "k" else parts["emb"]),
                                    requires_grad=False)


def top_margin(logits: torch.Tensor) -> float:
    """How far the greedy token's logit is above the runner-up's, at the last position."""
    top = logits[0, -1].float().topk(2).values
    return float(top[0] - top[1])


def decode_speed(model, tokenizer, tokens: int) -> float:
    """Greedy tokens a second after the first, for `tokens` new tokens on a short prompt (one row: the int8 kernel)."""
    prompt = "The little server answers questions from phones on the same network."
    ids = tokenizer(prompt, return_tensors="pt").input_ids
    kw = dict(attention_mask=torch.ones_like(ids), do_sample=False, pad_token_id=0)
    with torch.inference_mode():
        t = time.monotonic()
        model.generate(input_ids=ids, max_new_tokens=1, min_new_tokens=1, **kw)
        first = time.monotonic() - t
        t = time.monotonic()
        model.generate(input_ids=ids, max_new_tokens=tokens, min_new_tokens=tokens, **kw)
    return (tokens - 1) / max(time.monotonic() - t - first, 1e-9)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--questions", default=QUESTIONS)
    ap.add_argument("--variants", default=VARIANTS)
    ap.add_argument("--speed", type=int, default=0, help="time greedy decode of this many tokens instead")
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    backend = LocalBackend(None, dtype="fp32")
    backend.start()
    kb = library(("",))
    ask(kb, backend, "warm-up", "auto", 1)  # waits for the model
    model = backend.model
    model.config.tie_word_embeddings = False
    weights = {n: m.weight.detach().clone() for n, m in model.named_modules() if type(m) is torch.nn.Linear}
    margins: list[float] = []
    if args.speed:
        best: dict[str, float] = {}
        for r in range(args.rounds):
            for spec in args.variants.split(";"):
                set_variant(model, weights, spec)
                best[spec] = max(best.get(spec, 0.0), decode_speed(model, backend.tokenizer, args.speed))
                print(f"round {r + 1} {spec:32s} {best[spec]:.2f} tok/s (best so far)", flush=True)
        ref_speed = next(iter(best.values()))
        for spec, v in best.items():
            print(f"{spec:32s} {v:.2f} tok/s  {v / ref_speed:.2f}x the first", flush=True)
        kb.close()
        return
    wanted = set(args.questions.split("|"))
    qs = [q for q in questions("") if q["q"] in wanted]
    ref = {}
    for spec in args.variants.split(";"):
        set_variant(model, weights, spec)
        margins.clear()
        hook = model.lm_head.register_forward_hook(lambda m, i, o: margins.append(top_margin(o)))
        for q in qs:
            t = time.monotonic()
            margins.clear()
            reply = ask(kb, backend, q["q"], "auto", 64)["text"].strip()
            ref.setdefault(q["q"], reply)
            same = "same as the first" if reply == ref[q["q"]] else "DIFFERS"
            low = min(margins[1:], default=float("nan"))  # the first is the prompt's last row
            print(f"{spec:32s} {q['q']} -> {reply[:60]!r} [{same}] min margin {low:.3f} "
                  f"({time.monotonic() - t:.1f} s)", flush=True)
        hook.remove()
    kb.close()


if __name__ == "__main__":
    main()
