"""Graph: the knowledge graph's calls (import, read, align, delete, export); blocking, no Flask, no sockets."""
from __future__ import annotations

import json
import logging
import uuid

from ..concurrency import RealLock
from ..errors import ChatError
from ..shapes import Entity
from . import align, export, importer, proposals
from .names import clean, normalize
from .store import GraphStore, digest

log = logging.getLogger(__name__)


def fact_id(h: str, relation: str, t: str) -> str:
    """A fact's id, as GraphStore.add_facts makes it."""
    return digest("f", f"{h}|{normalize(clean(relation))}|{t}")
MAX_LIMIT = 500


class Graph:
    """Opened at first use (an unused graph costs nothing at start); `refused` is a sentence when it cannot be."""

    def __init__(self, opener, refused: str | None = None, embed=None, max_rows: int = importer.MAX_ROWS):
        self._opener = opener
        self.max_rows = max_rows
        self.refused = refused
        self.embed = embed  # texts -> unit vectors (the library's embedder), or None
        self._store = None
        self._open_lock = RealLock()

    def store(self) -> GraphStore:
        if self.refused:
            raise ChatError("unavailable", self.refused)
        if self._store is None:
            with self._open_lock:
                if self._store is None:
                    self._store = GraphStore(self._opener())
        return self._store.fresh()

    @property
    def opened(self) -> bool:
        return self._store is not None

    # --- import -------------------------------------------------------------------

    def import_file(self, filename: str, data: bytes) -> dict:
        rows, skipped, read = importer.parse(filename, data, self.max_rows)
        iid = uuid.uuid4().hex[:16]
        source = {"import": iid, "file": filename}
        s = self.store()
        with s.write_lock:
            aliases = [r for r in rows if importer.is_alias(r["relation"])]
            facts = [r for r in rows if not importer.is_alias(r["relation"])]
            merged = created = 0
            for r in aliases:
                (head,), n = s.upsert_entities([(r["head"], r.get("head_type"))])
                created += n
                other = s.lookup(r["tail"])
                if other is None:
                    s.add_alias(head, r["tail"])
                elif other != head:
                    align.merge(s, head, [other], reason="alias")
                    merged += 1
            ids, n = s.upsert_entities([(r["head"], r.get("head_type")) for r in facts] +
                                       [(r["tail"], r.get("tail_type")) for r in facts])
            created += n
            heads, tails = ids[:len(facts)], ids[len(facts):]
            count = s.add_facts([(h, r["relation"], t, source) for h, t, r in zip(heads, tails, facts)])
            s.bump()
        log.info("graph: imported %s: %d rows, %d facts, %d skipped", filename, read, count, len(skipped))
        return {"id": iid, "file": filename, "rows": read, "facts": count, "entities": created, "merged": merged,
                "skipped": skipped}

    def add_extracted(self, entities: list[dict], relations: list[dict], source: dict) -> int:
        """Facts a model extracted from one passage, with that passage as their source; how many."""
        if not relations:
            return 0
        types = {normalize(e["name"]): e.get("type") or "" for e in entities}
        s = self.store()
        with s.write_lock:
            names = [(r["head"], types.get(normalize(r["head"]), "")) for r in relations] + \
                    [(r["tail"], types.get(normalize(r["tail"]), "")) for r in relations]
            ids, _ = s.upsert_entities(names)
            n = len(relations)
            count = s.add_facts([(h, r["relation"], t, source) for h, t, r in zip(ids[:n], ids[n:], relations)])
            s.bump()
        return count

    def add_found(self, facts: list[dict], source: dict) -> tuple[int, int]:
        """Facts an extractor found in one passage ({head, relation, tail, head_type, tail_type, confidence,
        extractor, sentence}): the sure ones stored with the passage as their source, the rest proposed.
        (stored, proposed)."""
        sure = [f for f in facts if f["confidence"] >= proposals.STORE_FROM]
        unsure = [f for f in facts if f["confidence"] < proposals.STORE_FROM]
        s = self.store()
        with s.write_lock:
            n = len(sure)
            ids, _ = s.upsert_entities([(f["head"], f.get("head_type")) for f in sure] +
                                       [(f["tail"], f.get("tail_type")) for f in sure])
            stored = s.add_facts([(h, f["relation"], t, {**source, "confidence": f["confidence"],
                                                         "extractor": f["extractor"]})
                                  for h, t, f in zip(ids[:n], ids[n:], sure)])
            unsure = [f for f in unsure if not self._known_fact(s, f)]
            proposed = proposals.propose(s, unsure, source)
            s.bump()
        return stored, proposed

    @staticmethod
    def _known_fact(s, f: dict) -> bool:
        h, t = s.lookup(f["head"]), s.lookup(f["tail"])
        if not h or not t:
            return False
        return s.find_fact(fact_id(h, f["relation"], t)) is not None

    def proposals(self, limit: int = 100) -> list[dict]:
        return proposals.listing(self.store(), limit)

    def accept_proposal(self, pid: str) -> dict:
        """Store an open proposal as a fact (its sources marked as accepted by a person); the fact."""
        s = self.store()
        with s.write_lock:
            p = proposals.take(s, pid, proposals.ACCEPTED)
            (h, t), _ = s.upsert_entities([(p["head"], p["head_type"]), (p["tail"], p["tail_type"])])
            sources = [{**{k: v for k, v in src.items() if k != "sentence"}, "confidence": round(p["confidence"], 3),
                        "extractor": f"{p['extractor']}+review"} for src in p["sources"]]
            s.add_facts([(h, p["relation"], t, src) for src in sources])
            s.bump()
            row = s.find_fact(fact_id(h, p["relation"], t))
        return s.fact_view(row)

    def drop_proposal(self, pid: str) -> None:
        s = self.store()
        with s.write_lock:
            proposals.take(s, pid, proposals.DROPPED)

    def reject_candidate(self, a: str, b: str) -> None:
        s = self.store()
        with s.write_lock:
            proposals.reject(s, a, b)

    # --- reads --------------------------------------------------------------------

    def entities(self, q: str = "", typ: str = "", limit: int = 50) -> list[Entity]:
        s = self.store()
        key = normalize(q)
        found = []
        for eid, e in s.ents.items():
            if e["merged_into"] or (typ and e["type"] != typ):
                continue
            if key:
                names = [e["norm"]] + [normalize(n) for n in s.names_of(eid)]
                if not any(key in n for n in names):
                    continue
                rank = 0 if key in names else 1 if any(n.startswith(key) for n in names) else 2
            else:
                rank = 0
            found.append((rank, len(e["name"]), e["name"], eid))
        found.sort()
        ids = [eid for *_, eid in found[:limit]]
        counts = s.fact_counts(ids)
        return [{**s.public(i), "aliases": s.names_of(i), "facts": counts[i]} for i in ids]

    def neighbourhood(self, eid: str, hops: int = 1, limit: int = 200) -> dict:
        """The entity and its facts within `hops` (1 or 2), nearest first."""
        s = self.store()
        eid = s.entity(eid)
        facts = self.facts_around([eid], hops)
        facts.sort(key=lambda f: f["hop"])
        e = s.public(eid)
        entity = {**e, "aliases": s.names_of(eid), "facts": sum(1 for f in facts if f["hop"] == 1)}
        return {"entity": entity, "facts": [{k: v for k, v in f.items() if k != "hop"} for f in facts[:limit]]}

    def facts_around(self, start: list[str], hops: int) -> list[dict]:
        """Facts within hops of the start entities, each with its `hop` (1 = touches a start entity)."""
        s = self.store()
        seen, frontier, out = set(start), list(start), {}
        for hop in range(1, hops + 1):
            rows = s.facts_touching([m for c in frontier for m in s.members(c)])
            nxt = []
            for r in rows:
                if r["id"] in out:
                    continue
                f = s.fact_view(r)
                f["hop"] = hop
                out[r["id"]] = f
                for end in (f["head"]["id"], f["tail"]["id"]):
                    if end not in seen:
                        seen.add(end)
                        nxt.append(end)
            frontier = nxt
        return list(out.values())

    def candidates(self) -> list[dict]:
        s = self.store()
        never = proposals.rejected(s)
        return [c for c in align.candidates(s, self.embed) if proposals.pair_id(c["a"]["id"], c["b"]["id"]) not in never]

    def stats(self) -> dict:
        s = self.store()
        types, entities = {}, 0
        for e in s.ents.values():
            if not e["merged_into"]:
                entities += 1
                types[e["type"] or ""] = types.get(e["type"] or "", 0) + 1
        rels = s.engine.run("MATCH (:Entity)-[f:FACT]->(:Entity) RETURN f.relation AS r, count(*) AS n")
        return {"entities": entities, "facts": sum(r["n"] for r in rels), "types": types,
                "relations": {r["r"]: r["n"] for r in rels}, "engine": s.engine.name}

    def export(self, fmt: str) -> str:
        s = self.store()
        return export.as_csv(s) if fmt == "csv" else export.as_cypher(s)

    # --- writes -------------------------------------------------------------------

    def merge(self, keep: str, ids: list[str]) -> str:
        s = self.store()
        with s.write_lock:
            mid = align.merge(s, keep, ids)
            proposals.unreject(s, [s.entity(keep)] + [i for i in ids if i in s.ents])
            s.bump()
        return mid

    def undo_merge(self, mid: str) -> None:
        s = self.store()
        with s.write_lock:
            align.undo(s, mid)
            s.bump()

    def delete_fact(self, fid: str) -> None:
        s = self.store()
        with s.write_lock:
            row = s.find_fact(fid)
            if row is None:
                raise ChatError("not_found", "There is no such fact in the graph.")
            s.set_sources([{"id": fid, "h": row["h"], "t": row["t"], "sources": "[]"}])
            s.bump()

    def forget_document(self, document_id: str) -> int:
        """Drop a deleted library document from every fact's sources; facts it alone supported go. How many went."""
        if not self.opened and self.refused:
            return 0
        s = self.store()
        needle = json.dumps({"document": document_id}, ensure_ascii=False)[1:-1]
        with s.write_lock:
            rows = s.engine.run("MATCH (a:Entity)-[f:FACT]->(b:Entity) WHERE f.sources CONTAINS $n RETURN "
                                "a.id AS h, f.id AS id, f.sources AS sources, b.id AS t", {"n": needle})
            changes = []
            for r in rows:
                left = [x for x in json.loads(r["sources"]) if x.get("document") != document_id]
                changes.append({"id": r["id"], "h": r["h"], "t": r["t"], "sources": json.dumps(left, ensure_ascii=False)})
            s.set_sources(changes)
            s.engine.run("MATCH (n:Built) WHERE n.document = $d DELETE n", {"d": document_id})
            proposals.forget(s, document_id)
            s.bump()
        return sum(1 for c in changes if c["sources"] == "[]")

    def close(self) -> None:
        if self._store is not None:
            self._store.engine.close()
