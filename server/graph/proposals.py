"""Facts a build found but did not trust enough to store: kept with the graph for a person to accept or drop;
and merge candidates a person rejected, never proposed again."""
from __future__ import annotations

import json

from ..errors import ChatError
from .align import now
from .names import normalize
from .store import digest

# From this confidence on a found fact is stored; below it, proposed. On bench/data/graph/handbook.jsonl the
# explicit patterns ("症状有", "到Y就诊", "treated with" with a tail whose ending agrees) score 0.85-0.95 and the
# weak ones ("patients have", a drug with no dosage form, a tail whose ending says another type) 0.4-0.75.
STORE_FROM = 0.8
COLS = ("id", "status", "head", "relation", "tail", "head_type", "tail_type", "confidence", "extractor", "sources",
        "sentence", "at")
OPEN, DROPPED, ACCEPTED = "open", "dropped", "accepted"


def key_of(fact: dict) -> str:
    return digest("p", f"{normalize(fact['head'])}|{normalize(fact['relation'])}|{normalize(fact['tail'])}")


def propose(store, facts: list[dict], source: dict) -> int:
    """Keep facts (each {head, relation, tail, head_type, tail_type, confidence, extractor, sentence}) as open
    proposals with their source; a pair seen before gains the source (a dropped one stays dropped). How many."""
    count = 0
    for f in facts:
        pid = key_of(f)
        rows = store.engine.run("MATCH (p:Proposal) WHERE p.id = $id RETURN p.status AS status, p.sources AS sources, "
                                "p.confidence AS confidence", {"id": pid})
        src = {**source, "sentence": f.get("sentence", "")}
        if rows:
            sources = json.loads(rows[0]["sources"])
            if rows[0]["status"] != OPEN or any(s.get("passage") == source.get("passage") for s in sources):
                continue
            store.engine.run("MATCH (p:Proposal) WHERE p.id = $id SET p.sources = $s, p.confidence = $c",
                             {"id": pid, "s": json.dumps(sources + [src], ensure_ascii=False),
                              "c": max(float(rows[0]["confidence"]), f["confidence"])})
        else:
            store.engine.run("CREATE (p:Proposal {" + ", ".join(f"{k}: ${k}" for k in COLS) + "})",
                             {"id": pid, "status": OPEN, "head": f["head"], "relation": f["relation"], "tail": f["tail"],
                              "head_type": f.get("head_type") or "", "tail_type": f.get("tail_type") or "",
                              "confidence": float(f["confidence"]), "extractor": f.get("extractor") or "",
                              "sources": json.dumps([src], ensure_ascii=False), "sentence": f.get("sentence", ""),
                              "at": now()})
        count += 1
    return count


def listing(store, limit: int) -> list[dict]:
    """Open proposals, most confident first."""
    rows = store.engine.run("MATCH (p:Proposal) WHERE p.status = $s RETURN " + ", ".join(f"p.{k} AS {k}" for k in COLS),
                            {"s": OPEN})
    rows.sort(key=lambda r: (-r["confidence"], r["at"], r["id"]))
    return [{"id": r["id"], "head": r["head"], "relation": r["relation"], "tail": r["tail"],
             "head_type": r["head_type"], "tail_type": r["tail_type"], "confidence": round(r["confidence"], 3),
             "extractor": r["extractor"], "sources": json.loads(r["sources"])} for r in rows[:limit]]


def take(store, pid: str, status: str) -> dict:
    """Mark an open proposal accepted or dropped; the proposal as it was (not_found when none is open)."""
    rows = store.engine.run("MATCH (p:Proposal) WHERE p.id = $id RETURN " + ", ".join(f"p.{k} AS {k}" for k in COLS),
                            {"id": pid})
    if not rows or rows[0]["status"] != OPEN:
        raise ChatError("not_found", "There is no such open proposal.")
    store.engine.run("MATCH (p:Proposal) WHERE p.id = $id SET p.status = $s", {"id": pid, "s": status})
    row = rows[0]
    row["sources"] = json.loads(row["sources"])
    return row


def forget(store, document_id: str) -> None:
    """A deleted library document leaves every open proposal's sources; one left with none goes."""
    needle = json.dumps({"document": document_id}, ensure_ascii=False)[1:-1]
    rows = store.engine.run("MATCH (p:Proposal) WHERE p.status = $s AND p.sources CONTAINS $n RETURN p.id AS id, "
                            "p.sources AS sources", {"s": OPEN, "n": needle})
    for r in rows:
        left = [x for x in json.loads(r["sources"]) if x.get("document") != document_id]
        if left:
            store.engine.run("MATCH (p:Proposal) WHERE p.id = $id SET p.sources = $s",
                             {"id": r["id"], "s": json.dumps(left, ensure_ascii=False)})
        else:
            store.engine.run("MATCH (p:Proposal) WHERE p.id = $id DELETE p", {"id": r["id"]})


# --- merge candidates a person rejected ------------------------------------------------

def pair_id(a: str, b: str) -> str:
    return digest("r", "|".join(sorted((a, b))))


def reject(store, a: str, b: str) -> None:
    a, b = store.entity(a), store.entity(b)
    if a == b:
        raise ChatError("bad_request", "Those two names are already one entity.")
    pid = pair_id(a, b)
    if not store.engine.run("MATCH (r:Rejected) WHERE r.id = $id RETURN r.id AS id", {"id": pid}):
        store.engine.run("CREATE (r:Rejected {id: $id, a: $a, b: $b, at: $at})", {"id": pid, "a": a, "b": b, "at": now()})


def rejected(store) -> set[str]:
    return {r["id"] for r in store.engine.run("MATCH (r:Rejected) RETURN r.id AS id")}


def unreject(store, ids: list[str]) -> None:
    """A merge by hand of entities a person once rejected as a pair undoes that rejection."""
    gone = [pair_id(a, b) for n, a in enumerate(ids) for b in ids[n + 1:]]
    if gone:
        store.engine.run("UNWIND $ids AS i MATCH (r:Rejected) WHERE r.id = i DELETE r", {"ids": gone})
