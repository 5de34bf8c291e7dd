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
OPEN, DROPPED, ACCEPTED = "open", "dropped", "accepted"


def key_of(fact: dict) -> str:
    return digest("p", f"{normalize(fact['head'])}|{normalize(fact['relation'])}|{normalize(fact['tail'])}")


def propose(store, facts: list[dict], source: dict) -> int:
    """Keep facts (each {head, relation, tail, head_type, tail_type, confidence, extractor, sentence}) as open
    proposals with their source; a pair seen before gains the source (a dropped one stays dropped). How many."""
    count = 0
    for fact in facts:
        pid = key_of(fact)
        known = store.records.proposal(pid)
        src = {**source, "sentence": fact.get("sentence", "")}
        if known:
            sources = json.loads(known["sources"])
            if known["status"] != OPEN or any(s.get("passage") == source.get("passage") for s in sources):
                continue
            store.records.update_proposal(pid, {"sources": json.dumps(sources + [src], ensure_ascii=False),
                                                "confidence": max(float(known["confidence"]), fact["confidence"])})
        else:
            store.records.add_proposal({
                "id": pid, "status": OPEN, "head": fact["head"], "relation": fact["relation"], "tail": fact["tail"],
                "head_type": fact.get("head_type") or "", "tail_type": fact.get("tail_type") or "",
                "confidence": float(fact["confidence"]), "extractor": fact.get("extractor") or "",
                "sources": json.dumps([src], ensure_ascii=False), "sentence": fact.get("sentence", ""), "at": now()})
        count += 1
    return count


def listing(store, limit: int) -> list[dict]:
    """Open proposals, most confident first."""
    rows = store.records.proposals_with_status(OPEN)
    rows.sort(key=lambda r: (-r["confidence"], r["at"], r["id"]))
    return [{"id": r["id"], "head": r["head"], "relation": r["relation"], "tail": r["tail"],
             "head_type": r["head_type"], "tail_type": r["tail_type"], "confidence": round(r["confidence"], 3),
             "extractor": r["extractor"], "sources": json.loads(r["sources"])} for r in rows[:limit]]


def take(store, pid: str, status: str) -> dict:
    """Mark an open proposal accepted or dropped; the proposal as it was (not_found when none is open)."""
    row = store.records.proposal(pid)
    if not row or row["status"] != OPEN:
        raise ChatError("not_found", "There is no such open proposal.")
    store.records.update_proposal(pid, {"status": status})
    row["sources"] = json.loads(row["sources"])
    return row


def forget(store, document_id: str) -> None:
    """A deleted library document leaves every open proposal's sources; one left with none goes."""
    for row in store.records.proposals_citing(OPEN, document_id):
        left = [src for src in json.loads(row["sources"]) if src.get("document") != document_id]
        if left:
            store.records.update_proposal(row["id"], {"sources": json.dumps(left, ensure_ascii=False)})
        else:
            store.records.delete_proposal(row["id"])


# --- merge candidates a person rejected ------------------------------------------------

def pair_id(a: str, b: str) -> str:
    return digest("r", "|".join(sorted((a, b))))


def reject(store, a: str, b: str) -> None:
    a, b = store.entity(a), store.entity(b)
    if a == b:
        raise ChatError("bad_request", "Those two names are already one entity.")
    store.records.add_rejected(pair_id(a, b), a, b, now())


def rejected(store) -> set[str]:
    return store.records.rejected_pairs()


def unreject(store, ids: list[str]) -> None:
    """A merge by hand of entities a person once rejected as a pair undoes that rejection."""
    store.records.unreject([pair_id(a, b) for n, a in enumerate(ids) for b in ids[n + 1:]])
