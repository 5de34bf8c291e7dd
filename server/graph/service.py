"""Graph: the knowledge graph's calls (import, read, align, delete, export); blocking, no Flask, no sockets."""
from __future__ import annotations

import json
import logging
import uuid
from collections import Counter

from ..concurrency import RealLock
from ..errors import ChatError
from ..shapes import Entity, Fact
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
        self._store: GraphStore | None = None
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
        store = self.store()
        with store.write_lock:
            aliases = [row for row in rows if importer.is_alias(row["relation"])]
            facts = [row for row in rows if not importer.is_alias(row["relation"])]
            merged = created = 0
            for alias in aliases:
                (head,), new_entities = store.upsert_entities([(alias["head"], alias.get("head_type"))])
                created += new_entities
                if head is None:  # a name of only punctuation or spaces
                    continue
                other = store.lookup(alias["tail"])
                if other is None:
                    store.add_alias(head, alias["tail"])
                elif other != head:
                    align.merge(store, head, [other], reason="alias")
                    merged += 1
            ids, new_entities = store.upsert_entities([(fact["head"], fact.get("head_type")) for fact in facts] +
                                                      [(fact["tail"], fact.get("tail_type")) for fact in facts])
            created += new_entities
            heads, tails = ids[:len(facts)], ids[len(facts):]
            count = store.add_facts([(head, fact["relation"], tail, source)
                                     for head, tail, fact in zip(heads, tails, facts)])
            store.bump()
        log.info("graph: imported %s: %d rows, %d facts, %d skipped", filename, read, count, len(skipped))
        return {"id": iid, "file": filename, "rows": read, "facts": count, "entities": created, "merged": merged,
                "skipped": skipped}

    def add_extracted(self, entities: list[dict], relations: list[dict], source: dict) -> int:
        """Facts a model extracted from one passage, with that passage as their source; how many."""
        if not relations:
            return 0
        types = {normalize(entity["name"]): entity.get("type") or "" for entity in entities}
        store = self.store()
        with store.write_lock:
            names = [(rel["head"], types.get(normalize(rel["head"]), "")) for rel in relations] + \
                    [(rel["tail"], types.get(normalize(rel["tail"]), "")) for rel in relations]
            ids, _ = store.upsert_entities(names)
            heads, tails = ids[:len(relations)], ids[len(relations):]
            count = store.add_facts([(head, rel["relation"], tail, source)
                                     for head, tail, rel in zip(heads, tails, relations)])
            store.bump()
        return count

    def add_found(self, facts: list[dict], source: dict) -> tuple[int, int]:
        """Facts an extractor found in one passage ({head, relation, tail, head_type, tail_type, confidence,
        extractor, sentence}): the sure ones stored with the passage as their source, the rest proposed.
        (stored, proposed)."""
        sure = [fact for fact in facts if fact["confidence"] >= proposals.STORE_FROM]
        unsure = [fact for fact in facts if fact["confidence"] < proposals.STORE_FROM]
        store = self.store()
        with store.write_lock:
            ids, _ = store.upsert_entities([(fact["head"], fact.get("head_type")) for fact in sure] +
                                           [(fact["tail"], fact.get("tail_type")) for fact in sure])
            heads, tails = ids[:len(sure)], ids[len(sure):]
            stored = store.add_facts([(head, fact["relation"], tail, {**source, "confidence": fact["confidence"],
                                                                      "extractor": fact["extractor"]})
                                      for head, tail, fact in zip(heads, tails, sure)])
            unsure = [fact for fact in unsure if not self._known_fact(store, fact)]
            proposed = proposals.propose(store, unsure, source)
            store.bump()
        return stored, proposed

    @staticmethod
    def _known_fact(store: GraphStore, fact: dict) -> bool:
        head, tail = store.lookup(fact["head"]), store.lookup(fact["tail"])
        if not head or not tail:
            return False
        return store.find_fact(fact_id(head, fact["relation"], tail)) is not None

    def proposals(self, limit: int = 100) -> list[dict]:
        return proposals.listing(self.store(), limit)

    def accept_proposal(self, pid: str) -> Fact:
        """Store an open proposal as a fact (its sources marked as accepted by a person); the fact."""
        store = self.store()
        with store.write_lock:
            proposal = proposals.take(store, pid, proposals.ACCEPTED)
            (head, tail), _ = store.upsert_entities([(proposal["head"], proposal["head_type"]),
                                                     (proposal["tail"], proposal["tail_type"])])
            sources = [{**{k: v for k, v in src.items() if k != "sentence"},
                        "confidence": round(proposal["confidence"], 3), "extractor": f"{proposal['extractor']}+review"}
                       for src in proposal["sources"]]
            store.add_facts([(head, proposal["relation"], tail, src) for src in sources])
            store.bump()
            row = store.find_fact(fact_id(head, proposal["relation"], tail)) if head and tail else None
        if row is None:
            raise ChatError("bad_request", "The proposal's names are empty; drop it instead.")
        return store.fact_view(row)

    def drop_proposal(self, pid: str) -> None:
        store = self.store()
        with store.write_lock:
            proposals.take(store, pid, proposals.DROPPED)

    def reject_candidate(self, a: str, b: str) -> None:
        store = self.store()
        with store.write_lock:
            proposals.reject(store, a, b)

    # --- reads --------------------------------------------------------------------

    def entities(self, q: str = "", typ: str = "", limit: int = 50) -> list[Entity]:
        store = self.store()
        key = normalize(q)
        found = []
        for entity in store.live_entities():
            if typ and entity["type"] != typ:
                continue
            if key:
                names = [entity["norm"]] + [normalize(name) for name in store.names_of(entity["id"])]
                if not any(key in name for name in names):
                    continue
                rank = 0 if key in names else 1 if any(name.startswith(key) for name in names) else 2
            else:
                rank = 0
            found.append((rank, len(entity["name"]), entity["name"], entity["id"]))
        found.sort()
        ids = [eid for *_, eid in found[:limit]]
        counts = store.fact_counts(ids)
        return [{**store.public(eid), "aliases": store.names_of(eid), "facts": counts[eid]} for eid in ids]

    def neighbourhood(self, eid: str, hops: int = 1, limit: int = 200) -> dict:
        """The entity and its facts within `hops` (1 or 2), nearest first."""
        store = self.store()
        eid = store.entity(eid)
        facts = self.facts_around([eid], hops)
        facts.sort(key=lambda fact: fact["hop"])
        entity = {**store.public(eid), "aliases": store.names_of(eid),
                  "facts": sum(1 for fact in facts if fact["hop"] == 1)}
        return {"entity": entity, "facts": [{k: v for k, v in fact.items() if k != "hop"} for fact in facts[:limit]]}

    def facts_around(self, start: list[str], hops: int) -> list[Fact]:
        """Facts within hops of the start entities, each with its `hop` (1 = touches a start entity)."""
        store = self.store()
        seen, frontier, out = set(start), list(start), {}
        for hop in range(1, hops + 1):
            rows = store.facts_touching([member for eid in frontier for member in store.members(eid)])
            reached = []
            for row in rows:
                if row["id"] in out:
                    continue
                fact = store.fact_view(row)
                fact["hop"] = hop
                out[row["id"]] = fact
                for end in (fact["head"]["id"], fact["tail"]["id"]):
                    if end not in seen:
                        seen.add(end)
                        reached.append(end)
            frontier = reached
        return list(out.values())

    def candidates(self) -> list[dict]:
        store = self.store()
        never = proposals.rejected(store)
        return [pair for pair in align.candidates(store, self.embed)
                if proposals.pair_id(pair["a"]["id"], pair["b"]["id"]) not in never]

    def stats(self) -> dict:
        store = self.store()
        live = store.live_entities()
        relations = store.facts_per_relation()
        return {"entities": len(live), "facts": sum(relations.values()),
                "types": dict(Counter(entity["type"] or "" for entity in live)), "relations": relations,
                "engine": store.engine.name}

    def export(self, fmt: str) -> str:
        store = self.store()
        return export.as_csv(store) if fmt == "csv" else export.as_cypher(store)

    # --- writes -------------------------------------------------------------------

    def merge(self, keep: str, ids: list[str]) -> str:
        store = self.store()
        with store.write_lock:
            mid = align.merge(store, keep, ids)
            proposals.unreject(store, [store.entity(keep)] + [eid for eid in ids if eid in store.ents])
            store.bump()
        return mid

    def undo_merge(self, mid: str) -> None:
        store = self.store()
        with store.write_lock:
            align.undo(store, mid)
            store.bump()

    def delete_fact(self, fid: str) -> None:
        store = self.store()
        with store.write_lock:
            row = store.find_fact(fid)
            if row is None:
                raise ChatError("not_found", "There is no such fact in the graph.")
            store.set_sources([{"id": fid, "h": row["h"], "t": row["t"], "sources": "[]"}])
            store.bump()

    def forget_document(self, document_id: str) -> int:
        """Drop a deleted library document from every fact's sources; facts it alone supported go. How many went."""
        if not self.opened and self.refused:
            return 0
        store = self.store()
        with store.write_lock:
            changes = []
            for row in store.facts_citing(document_id):
                left = [src for src in json.loads(row["sources"]) if src.get("document") != document_id]
                changes.append({"id": row["id"], "h": row["h"], "t": row["t"],
                                "sources": json.dumps(left, ensure_ascii=False)})
            store.set_sources(changes)
            store.records.forget_built(document_id)
            proposals.forget(store, document_id)
            store.bump()
        return sum(1 for c in changes if c["sources"] == "[]")

    def close(self) -> None:
        if self._store is not None:
            self._store.engine.close()
