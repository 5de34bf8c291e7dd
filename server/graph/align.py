"""Entity alignment: near names of one type proposed (never merged by themselves); merges logged and undoable."""
from __future__ import annotations

import json
import uuid
from collections import defaultdict
from datetime import datetime, timezone

from ..errors import ChatError
from .names import never_same, normalize

# Proposed from this score on. Character overlap (Dice of character bigrams; single characters for names of
# one or two) and the embedder's cosine rescaled from its "unrelated" floor; the labelled pairs in
# bench/graph_data.py's PAIRS put every true pair of ours at or above 0.6, and two-character names one character apart
# (胃炎/胃癌) at 0.5 (bench/RESULTS.md, "Knowledge graph").
PROPOSE = 0.55
MAX_CANDIDATES = 200
BLOCK = 400  # names sharing one bigram compared pairwise; a bigram in more names than this says nothing


def grams(key: str) -> set[str]:
    return {key[i:i + 2] for i in range(len(key) - 1)} if len(key) > 2 else set(key)


def overlap(a: str, b: str) -> float:
    ga, gb = grams(a), grams(b)
    return 2 * len(ga & gb) / (len(ga) + len(gb)) if ga and gb else 0.0


# The built-in e5 embedder hardly tells names apart: true pairs of bench/graph_data.py at cosine 0.945-0.998,
# false ones (胃炎/胃癌, 肝炎/肝硬化, 急性/慢性...) at 0.925-0.979, and 高血压/Hypertension only 0.887. So meaning
# counts only from 0.97 up, rescaled: 0.9865 reaches PROPOSE. Character overlap does most of the work.
MEANING_FLOOR = 0.97


def candidates(store, embed=None, floor: float = MEANING_FLOOR) -> list[dict]:
    """Pairs of canonical entities of the same type with near names (any of their names), best first; never a
    pair that can never be one."""
    ents = store.live_entities()
    keys = [[e["norm"]] + [k for k in dict.fromkeys(normalize(n) for n in store.names_of(e["id"])) if k] for e in ents]
    blocks = defaultdict(set)
    for i, ks in enumerate(keys):
        for k in ks:
            for g in grams(k):
                blocks[g].add(i)
    pairs: set[tuple[int, int]] = set()
    for members in blocks.values():
        if len(members) <= BLOCK:
            ordered = sorted(members)
            pairs.update((a, b) for n, a in enumerate(ordered) for b in ordered[n + 1:])
    vectors = _vectors(ents, embed) if embed else None
    out = []
    for a, b in pairs:
        ea, eb = ents[a], ents[b]
        if ea["type"] and eb["type"] and ea["type"] != eb["type"]:
            continue
        near = [(overlap(x, y), x, y) for x in keys[a] for y in keys[b] if not never_same(x, y)]
        if not near or never_same(ea["norm"], eb["norm"]):
            continue
        score, reason = max(near)[0], "similar characters"
        if vectors is not None:
            cos = float(vectors[a] @ vectors[b])
            meaning = (cos - floor) / (1 - floor)
            if meaning > score:
                score, reason = meaning, "similar meaning"
        if score >= PROPOSE:
            out.append({"a": store.public(ea["id"]), "b": store.public(eb["id"]), "score": round(score, 3),
                        "reason": reason})
    out.sort(key=lambda c: -c["score"])
    return out[:MAX_CANDIDATES]


def _vectors(ents, embed):
    try:
        return embed([e["name"] for e in ents])
    except Exception:  # the library's embedder failed to load: character overlap still proposes
        return None


def now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")


def merge(store, keep: str, ids: list[str], reason: str = "manual") -> str:
    """Merge entities into keep (each points at it; their facts and names follow); the merge's id for undo."""
    keep = store.entity(keep)
    todo = []
    for i in ids:
        c = store.entity(i)
        if c == keep:
            raise ChatError("bad_request", "An entity cannot be merged into itself.")
        if c not in todo:
            todo.append(c)
    if not todo:
        raise ChatError("bad_request", "'merge' must name at least one other entity.")
    mid = uuid.uuid4().hex[:16]
    store.point(todo, keep)
    store.records.log_merge({"id": mid, "keep": keep, "merged": json.dumps(todo), "reason": reason, "at": now(),
                             "undone": ""})
    return mid


def undo(store, mid: str) -> None:
    """Undo a merge: its entities stand on their own again (a merge undone twice is refused)."""
    logged = store.records.logged_merge(mid)
    if not logged:
        raise ChatError("not_found", "There is no such merge.")
    if logged["undone"]:
        raise ChatError("bad_request", "That merge was already undone.")
    back = [i for i in json.loads(logged["merged"]) if store.ents.get(i, {}).get("merged_into") == logged["keep"]]
    store.point(back, "")
    store.records.mark_merge_undone(mid, now())

