"""Offline graph extraction (#32): precision and recall per extractor on bench/data/graph/handbook.jsonl, and
passages per minute of the offline extractor through a live server, alone and with chats streaming meanwhile.

    python -m bench.graph_extract [--copies 10] [--chats 2]

Extractors: "rules" (patterns, lexicon, the graph's names; no model); "stub instruction model" (an answer made
from the gold facts plus the mistakes small models make: a name translated out of the passage, a relation off
the list, a department given as a drug, a fact from a distractor) sent through the same confidence rules, to
measure those rules, not a model; "rules + stub" (both, as a build with an instruction model runs them). A
fact counts as found when stored (confidence >= proposals.STORE_FROM); "+review" counts proposals too.

With --builtin N (default 8; 0 skips it), the built-in model (Gemma 3 270M base, in-process through the local
backend, as a build asks it) answers the first N passages, dev and held-out taken in turn, under constrained
decoding: rows "built-in constrained" and "rules + constrained" on that subset (with "rules" on the same subset
beside them), and its passages per minute.
"""
from __future__ import annotations

import argparse
import itertools
import json
import os
import threading
import time

from server.graph import extract, rules
from server.graph.lexicon import RELATION_TYPE
from server.graph.names import normalize
from server.graph.proposals import STORE_FROM

HANDBOOK = os.path.join(os.path.dirname(__file__), "data", "graph", "handbook.jsonl")


def passages() -> list[dict]:
    with open(HANDBOOK, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def key(head: str, relation: str, tail: str) -> tuple:
    return normalize(head), RELATION_TYPE.get(relation.casefold(), relation.casefold()), normalize(tail)


def stub_answer(p: dict) -> str:
    """What an instruction model might answer for a passage: the gold facts and four kinds of mistake."""
    zh = any("\u4e00" <= c <= "\u9fff" for c in p["text"])
    rels = [{"head": h, "relation": r, "tail": t} for h, r, t in p["facts"]]
    if rels:
        head = rels[0]["head"]
        rels.append({"head": head, "relation": "symptom", "tail": "fatigue" if zh else "乏力"})  # translated
        rels.append({"head": head, "relation": "related to", "tail": rels[-2]["tail"]})  # off the list
        rels.append({"head": head, "relation": "drug", "tail": "内科" if zh else "internal medicine"})  # a department
    else:
        words = p["text"].split("，")[0].split(" ")[:2]
        rels.append({"head": words[0][:6], "relation": "位于" if zh else "located in", "tail": words[-1][-6:]})
    return json.dumps({"entities": [], "relations": rels}, ensure_ascii=False)


def extractors():
    def stub(p):
        return extract.score(*extract.parse(stub_answer(p)), p["text"])
    return {"rules": lambda p: rules.extract(p["text"]), "stub instruction model": stub,
            "rules + stub": lambda p: extract.combine(rules.extract(p["text"]), stub(p))}


def score(run, split: str, review: bool = False, only=None) -> tuple[float, float, int, int]:
    tp = fp = fn = 0
    for p in passages():
        if p["split"] != split or (only is not None and p["id"] not in only):
            continue
        gold = {key(*f) for f in p["facts"]}
        got = {key(f["head"], f["relation"], f["tail"]) for f in run(p) if review or f["confidence"] >= STORE_FROM}
        tp, fp, fn = tp + len(gold & got), fp + len(got - gold), fn + len(gold - got)
    return (tp / (tp + fp) if tp + fp else 0.0), (tp / (tp + fn) if tp + fn else 0.0), tp + fn, fp


def quality() -> None:
    print("| extractor | split | precision | recall | gold facts | wrong facts stored | recall with review |")
    print("|---|---|---|---|---|---|---|")
    for name, run in extractors().items():
        for split in ("dev", "held-out"):
            p, r, n, wrong = score(run, split)
            _, r_all, _, _ = score(run, split, review=True)
            print(f"| {name} | {split} | {p:.3f} | {r:.3f} | {n} | {wrong} | {r_all:.3f} |")
    t0 = time.perf_counter()
    texts = [p["text"] for p in passages()] * 20
    for t in texts:
        rules.extract(t)
    took = time.perf_counter() - t0
    print(f"\nrules.extract alone, in-process: {len(texts) / took * 60:,.0f} passages/min "
          f"({took / len(texts) * 1e3:.2f} ms each)")


def builtin_constrained(n: int) -> None:
    """The built-in model under constrained decoding on n passages: quality beside rules on them, and its speed."""
    from server.backends.base import EXTRACT_SPANS
    from server.backends.local.backend import LocalBackend
    from server.graph import constrained
    from server.web.graph import EXTRACT_PARAMS

    by = {s: [p for p in passages() if p["split"] == s] for s in ("dev", "held-out")}
    subset = [p for pair in itertools.zip_longest(by["dev"], by["held-out"]) for p in pair if p][:n]
    backend = LocalBackend(None)
    backend.start()
    for _ in backend.stream([{"role": "user", "content": "hi"}], params={"max_tokens": 1}, budget=1):
        pass  # loaded (or converted) before the clock starts
    answers, tokens = {}, 0
    t0 = time.perf_counter()
    for p in subset:
        params = dict(EXTRACT_PARAMS, **{EXTRACT_SPANS: constrained.spans(p["text"])})
        out = []
        for chunk in backend.stream(constrained.messages(p["text"]), params=params,
                                    budget=EXTRACT_PARAMS["max_tokens"]):
            if chunk.kind is None:
                out.append(chunk.text)
            tokens += (chunk.usage or {}).get("completion_tokens", 0)
        answers[p["id"]] = "".join(out)
        print(f"  {p['id']}: {answers[p['id']][:160]}", flush=True)
    took = time.perf_counter() - t0
    backend.close()
    parsed = sum(1 for a in answers.values() if _parses(a))

    def model(p):
        return extract.score(*extract.parse(answers[p["id"]]), p["text"], extractor="constrained")
    runs = {"rules (same passages)": lambda p: rules.extract(p["text"]), "built-in constrained": model,
            "rules + constrained": lambda p: extract.combine(rules.extract(p["text"]), model(p))}
    print(f"\nbuilt-in model (Gemma 3 270M base) constrained, {len(subset)} passages: {parsed} answers parse as JSON; "
          f"{len(subset) / took * 60:.1f} passages/min ({took / len(subset):.1f} s each, {tokens} tokens)")
    print("| extractor | split | precision | recall | gold facts | wrong facts stored | recall with review |")
    print("|---|---|---|---|---|---|---|")
    for name, run in runs.items():
        for split in ("dev", "held-out"):
            p, r, n_gold, wrong = score(run, split, only=answers)
            _, r_all, _, _ = score(run, split, review=True, only=answers)
            print(f"| {name} | {split} | {p:.3f} | {r:.3f} | {n_gold} | {wrong} | {r_all:.3f} |", flush=True)


def _parses(text: str) -> bool:
    try:
        return isinstance(json.loads(text), dict)
    except ValueError:
        return False


def build_speed(copies: int, chats: int) -> None:
    """Passages/min of a rules build through a live server: alone, then with `chats` chats streaming meanwhile."""
    from tests.kb_files import upload
    from tests.live import Client, LiveServer, http_json
    from tests.openai_stub import Stub

    stub = Stub()
    text = "\n\n".join(p["text"] for p in passages())
    admin = {"Authorization": "Bearer adm1n"}
    print("\n| run | passages | seconds | passages/min | facts stored | chats done / started "
          "| chat tokens/s during the build |")
    print("|---|---|---|---|---|---|---|")
    try:
        for label, streams in (("build alone", 0), (f"build with {chats} chats streaming", chats)):
            with LiveServer("--backend", "openai", "--base-url", stub.url, "--store", "memory",
                            "--admin-token", "adm1n",
                            "--embed-model", "none", "--rate-per-minute", "0", "--rate-per-minute-ip", "0",
                            async_mode="eventlet") as server:
                docs = []
                for k in range(copies):
                    status, body = upload(server.url, f"handbook-{k}.txt", f"（第{k}册）\n{text}".encode(),
                                          token="adm1n")
                    assert status == 200, body
                    docs.append(body["document"]["id"])
                stop, counts = threading.Event(), {"started": 0, "done": 0}
                clients = [Client(server.url) for _ in range(streams)]

                def chat_loop(c):
                    while not stop.is_set():
                        counts["started"] += 1
                        rid = c.chat("hello", model="slow-60")  # 60 tokens, 0.05 s apart
                        done = c.wait_done(rid, timeout=120)
                        counts["done"] += 1 if done else 0
                threads = [threading.Thread(target=chat_loop, args=(c,), daemon=True) for c in clients]
                for t in threads:
                    t.start()
                def tokens():
                    return sum(len(c.of("token")) for c in clients)
                time.sleep(2 if streams else 0)
                t_ref, n_ref = time.perf_counter(), tokens()
                time.sleep(8 if streams else 0)  # the chats alone: the reference rate
                ref = (tokens() - n_ref) / (time.perf_counter() - t_ref) if streams else 0
                t0, n0 = time.perf_counter(), tokens()
                status, body = http_json(server.url + "/api/graph/build", {"documents": docs, "extractor": "rules"},
                                         headers=admin)
                assert status == 200, body
                while True:
                    job = http_json(server.url + f"/api/graph/jobs/{body['job']['id']}")[1]
                    if job["status"] in ("done", "failed", "cancelled"):
                        break
                    time.sleep(0.1)
                took = time.perf_counter() - t0
                rate = (tokens() - n0) / took if streams else 0
                stop.set()
                for t in threads:
                    t.join(timeout=130)
                for c in clients:
                    c.close()
                print(f"| {label} | {job['done']} | {took:.1f} | {job['done'] / took * 60:.0f} | {job['facts']} | "
                      f"{counts['done']} / {counts['started']} | {rate:.1f} (alone {ref:.1f}) |", flush=True)
    finally:
        stub.close()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--copies", type=int, default=40, help="copies of the handbook uploaded (as many documents)")
    ap.add_argument("--chats", type=int, default=2, help="chats streaming during the second build")
    ap.add_argument("--builtin", type=int, default=8, help="passages the built-in model answers constrained (0: none)")
    ap.add_argument("--no-build", action="store_true", help="skip the live server's build speed")
    args = ap.parse_args()
    quality()
    if args.builtin:
        builtin_constrained(args.builtin)
    if args.no_build:
        return
    build_speed(args.copies, args.chats)


if __name__ == "__main__":
    main()
