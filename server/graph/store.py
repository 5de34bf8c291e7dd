"""GraphStore: entities and facts over an Engine, and their Cypher; one writer, readers see a name index kept in
memory. The graph's other records are in records.py (store.records)."""
from __future__ import annotations

import hashlib
import json
import logging
from typing import cast

from ..concurrency import RealLock
from ..errors import ChatError
from ..shapes import EntityRef, Fact
from .engine import BATCH
from .names import clean, normalize
from .records import GraphRecords, citing

log = logging.getLogger(__name__)

FEW = 40  # ids looked up one statement each; more go in UNWIND batches
ENTITY_COLS = ("e.id AS id, e.name AS name, e.norm AS norm, e.type AS type, e.aliases AS aliases, "
               "e.merged_into AS merged_into")
FOUND = ("confidence", "extractor")  # kept in a fact's source by a build; shown once, on the fact
FACT_COLS = "a.id AS h, f.id AS id, f.relation AS relation, f.sources AS sources, b.id AS t"
ENTITY_CREATE = ("UNWIND $rows AS r CREATE (e:Entity {id: r.id, name: r.name, norm: r.norm, type: r.type, "
                 "aliases: r.aliases, merged_into: r.merged_into})")
FACT_CREATE = ("UNWIND $rows AS r MATCH (a:Entity) WHERE a.id = r.h MATCH (b:Entity) WHERE b.id = r.t "
               "CREATE (a)-[:FACT {id: r.id, relation: r.relation, sources: r.sources}]->(b)")


def digest(prefix: str, text: str) -> str:
    return prefix + hashlib.sha1(text.encode()).hexdigest()[:16]


def batches(rows: list, size: int = BATCH):
    for i in range(0, len(rows), size):
        yield rows[i:i + size]


class GraphStore:
    """Entities keyed by their normalized name; a merge points an entity at the one it joined (undoable)."""

    def __init__(self, engine):
        self.engine = engine
        self.records = GraphRecords(engine)
        self.write_lock = RealLock()  # Ladybug runs one write transaction at a time and fails a second at once
        self.ents: dict[str, dict] = {}
        self.by_key: dict[str, str] = {}  # normalized name or alias -> entity id
        self.merged: set[str] = set()  # ids merged into another (few): members() need not scan every entity
        self.fresh_ids: set[str] = set()  # entities just created, with no fact yet
        self.version: int | None = None
        if not engine.run("MATCH (m:Meta) WHERE m.id = 'version' RETURN m.value AS v"):
            engine.run("CREATE (m:Meta {id: 'version', value: 1})")
        self._load()

    # --- the in-memory index of names ------------------------------------------------

    def _load(self) -> None:
        self.version = self.engine.run("MATCH (m:Meta) WHERE m.id = 'version' RETURN m.value AS v")[0]["v"]
        ents: dict[str, dict] = {}
        by_key: dict[str, str] = {}
        for row in self.engine.run(f"MATCH (e:Entity) RETURN {ENTITY_COLS}"):
            row["aliases"] = json.loads(row["aliases"] or "[]")
            row["merged_into"] = row["merged_into"] or ""
            row["type"] = row["type"] or ""
            ents[row["id"]] = row
        for e in ents.values():
            by_key.setdefault(e["norm"], e["id"])
        for e in ents.values():
            for alias in e["aliases"]:
                by_key.setdefault(normalize(alias), e["id"])
        self.ents, self.by_key = ents, by_key
        self.merged = {i for i, e in ents.items() if e["merged_into"]}

    def fresh(self) -> "GraphStore":
        """Reload the index when another process (sharing a Neo4j server) changed the graph."""
        if self.engine.run("MATCH (m:Meta) WHERE m.id = 'version' RETURN m.value AS v")[0]["v"] != self.version:
            with self.write_lock:
                self._load()
        return self

    def bump(self) -> None:
        """Mark a change every process sees (the index of names is reloaded where it is stale)."""
        old = self.version
        self.version = self.engine.run("MATCH (m:Meta) WHERE m.id = 'version' "
                                       "SET m.value = m.value + 1 RETURN m.value AS v")[0]["v"]
        if old is None or self.version != old + 1:  # someone else wrote meanwhile
            self._load()

    def canonical(self, eid: str) -> str:
        """The entity an id stands for now: merges followed (a few levels at most, never in a circle)."""
        seen = set()
        while eid in self.ents and self.ents[eid]["merged_into"] and eid not in seen:
            seen.add(eid)
            eid = self.ents[eid]["merged_into"]
        return eid

    def members(self, eid: str) -> list[str]:
        """An entity and every entity merged into it."""
        return [eid] + [i for i in self.merged if self.canonical(i) == eid]

    def lookup(self, name: str) -> str | None:
        eid = self.by_key.get(normalize(name))
        return self.canonical(eid) if eid else None

    def public(self, eid: str) -> EntityRef:
        e = self.ents[eid]
        return {"id": eid, "name": e["name"], "type": e["type"]}

    def names_of(self, eid: str) -> list[str]:
        """Every other name of an entity: its declared aliases and the names merged into it."""
        out = []
        for m in self.members(eid):
            e = self.ents[m]
            out += ([e["name"]] if m != eid else []) + e["aliases"]
        main = self.ents[eid]["name"]
        return [n for i, n in enumerate(out) if n != main and n not in out[:i]]

    # --- writes (callers hold write_lock) ------------------------------------------

    def upsert_entities(self, named: list[tuple[str, str | None]]) -> tuple[list[str | None], int]:
        """(the entity id for each (name, type), how many were new, None for an empty name); an empty type is
        filled by a later one."""
        new: dict[str, dict] = {}
        typed: dict[str, str] = {}
        out: list[str | None] = []
        for name, typ in named:
            name, typ = clean(name), clean(typ or "")
            key = normalize(name)
            if not key:
                out.append(None)
                continue
            eid = self.by_key.get(key)
            if eid is None:
                eid = digest("e", key)
                self.by_key[key] = eid
                new[eid] = {"id": eid, "name": name, "norm": key, "type": typ, "aliases": [], "merged_into": ""}
            eid = self.canonical(eid)
            ent = new.get(eid) or self.ents[eid]
            if typ and not ent["type"]:
                ent["type"] = typ
                if eid not in new:
                    typed[eid] = typ
            out.append(eid)
        self._create(ENTITY_CREATE, "Entity", [{**row, "aliases": "[]"} for row in new.values()])
        self.ents.update(new)
        self.fresh_ids = set(new)  # entities with no fact yet: add_facts need not look for theirs
        for rows in batches([{"id": k, "type": v} for k, v in typed.items()]):
            self.engine.run("UNWIND $rows AS r MATCH (e:Entity) WHERE e.id = r.id SET e.type = r.type", {"rows": rows})
        return out, len(new)

    def add_facts(self, triples: list[tuple[str | None, str, str | None, dict]]) -> int:
        """(head id, relation, tail id, source): new facts created, known ones given the source; how many facts."""
        wanted: dict[str, dict] = {}
        for h, relation, t, source in triples:
            relation = clean(relation)
            if not h or not t or h == t or not normalize(relation):
                continue
            fid = digest("f", f"{h}|{normalize(relation)}|{t}")
            fact = wanted.setdefault(fid, {"id": fid, "h": h, "t": t, "relation": relation, "sources": []})
            if source not in fact["sources"]:
                fact["sources"].append(source)
        known: dict[str, list] = {}
        fresh = self.fresh_ids
        look = [f for f in wanted.values() if f["h"] not in fresh and f["t"] not in fresh]
        if len(look) > FEW:  # one pass over every fact beats a join per batch (0.1 s for 20k facts against 20 s)
            found = self.engine.run("MATCH (:Entity)-[f:FACT]->(:Entity) RETURN f.id AS id, f.sources AS sources")
        else:
            found = [r for f in look for r in self.engine.run(
                "MATCH (a:Entity)-[f:FACT]->(b:Entity) WHERE a.id = $h AND f.id = $id RETURN f.id AS id, "
                "f.sources AS sources", {"h": f["h"], "id": f["id"]})]
        known.update((r["id"], json.loads(r["sources"] or "[]")) for r in found if r["id"] in wanted)
        create, update = [], []
        for fid, fact in wanted.items():
            if fid in known:
                merged = known[fid] + [s for s in fact["sources"] if s not in known[fid]]
                if len(merged) != len(known[fid]):
                    update.append({"id": fid, "h": fact["h"], "t": fact["t"],
                                   "sources": json.dumps(merged, ensure_ascii=False)})
            else:
                create.append({**fact, "sources": json.dumps(fact["sources"], ensure_ascii=False)})
        self._create(FACT_CREATE, "FACT", create)
        self.fresh_ids = set()
        self.set_sources(update)
        return len(wanted)

    def _create(self, statement: str, table: str, rows: list[dict]) -> None:
        """New rows, none of which exists yet: the engine's bulk load where it has one, else UNWIND batches."""
        if not self.engine.copy_rows(table, rows):
            for part in batches(rows):
                self.engine.run(statement, {"rows": part})

    def set_sources(self, rows: list[dict]) -> None:
        """rows of {id, h, t, sources (JSON)}: a fact's sources replaced; an empty list deletes the fact."""
        keep = [r for r in rows if r["sources"] != "[]"]
        gone = [r for r in rows if r["sources"] == "[]"]
        for part in batches(keep):
            self.engine.run("UNWIND $rows AS r MATCH (a:Entity)-[f:FACT]->(b:Entity) WHERE a.id = r.h AND b.id = r.t "
                            "AND f.id = r.id SET f.sources = r.sources", {"rows": part})
        for part in batches(gone):
            self.engine.run("UNWIND $rows AS r MATCH (a:Entity)-[f:FACT]->(b:Entity) WHERE a.id = r.h AND b.id = r.t "
                            "AND f.id = r.id DELETE f", {"rows": [{k: r[k] for k in ("id", "h", "t")} for r in part]})

    def add_alias(self, eid: str, alias: str) -> None:
        e = self.ents[eid]
        alias = clean(alias)
        if normalize(alias) == e["norm"] or alias in e["aliases"]:
            return
        e["aliases"].append(alias)
        self.by_key.setdefault(normalize(alias), eid)
        self.engine.run("MATCH (e:Entity) WHERE e.id = $id SET e.aliases = $aliases",
                        {"id": eid, "aliases": json.dumps(e["aliases"], ensure_ascii=False)})

    def point(self, ids: list[str], target: str) -> None:
        """Mark entities merged into target ('' = on their own again)."""
        self.engine.run("UNWIND $ids AS i MATCH (e:Entity) WHERE e.id = i SET e.merged_into = $to",
                        {"ids": ids, "to": target})
        for i in ids:
            self.ents[i]["merged_into"] = target
            (self.merged.add if target else self.merged.discard)(i)

    # --- reads ------------------------------------------------------------------

    def _each(self, cypher_one: str, cypher_many: str, ids: list[str]) -> list[dict]:
        """A lookup by id for each of ids: one statement per id for a few (3 ms each on Ladybug, where an UNWIND
        join over the ids took 80-180 ms whatever their number), UNWIND batches for many."""
        if len(ids) <= FEW:
            return [row for i in ids for row in self.engine.run(cypher_one, {"i": i})]
        return [row for part in batches(ids) for row in self.engine.run(cypher_many, {"ids": part})]

    def facts_touching(self, ids: list[str]) -> list[dict]:
        """Every fact with an end among ids, once each."""
        out: dict[str, dict] = {}
        for side in ("a", "b"):
            rows = self._each(f"MATCH (a:Entity)-[f:FACT]->(b:Entity) WHERE {side}.id = $i RETURN {FACT_COLS}",
                              f"UNWIND $ids AS i MATCH (a:Entity)-[f:FACT]->(b:Entity) WHERE {side}.id = i "
                              f"RETURN {FACT_COLS}", ids)
            out.update((r["id"], r) for r in rows)
        return list(out.values())

    def fact_counts(self, ids: list[str]) -> dict[str, int]:
        counts = dict.fromkeys(ids, 0)
        group = {m: i for i in ids for m in self.members(i)}
        for side in ("a", "b"):
            rows = self._each(f"MATCH (a:Entity)-[f:FACT]->(b:Entity) WHERE {side}.id = $i "
                              f"RETURN {side}.id AS id, count(f) AS n",
                              f"UNWIND $ids AS i MATCH (a:Entity)-[f:FACT]->(b:Entity) WHERE {side}.id = i "
                              f"RETURN {side}.id AS id, count(f) AS n", list(group))
            for r in rows:
                counts[group[r["id"]]] += r["n"]
        return counts

    def fact_view(self, row: dict) -> Fact:
        """A fact as the protocol shows it: ends as {id, name, type} of the entities they stand for now."""
        sources = json.loads(row["sources"] or "[]")
        out = {"id": row["id"], "head": self.public(self.canonical(row["h"])), "relation": row["relation"],
               "tail": self.public(self.canonical(row["t"])),
               "sources": [{k: v for k, v in s.items() if k not in FOUND} for s in sources]}
        found = [s for s in sources if "confidence" in s]  # a fact extracted from passages: its surest finding
        if found:
            best = max(found, key=lambda s: s["confidence"])
            out.update(confidence=best["confidence"], extractor=best.get("extractor", ""))
        return cast(Fact, out)

    def find_fact(self, fid: str) -> dict | None:
        rows = self.engine.run(f"MATCH (a:Entity)-[f:FACT]->(b:Entity) WHERE f.id = $id RETURN {FACT_COLS}",
                               {"id": fid})
        return rows[0] if rows else None

    def all_facts(self) -> list[dict]:
        return self.engine.run(f"MATCH (a:Entity)-[f:FACT]->(b:Entity) RETURN {FACT_COLS}")

    def facts_citing(self, document_id: str) -> list[dict]:
        """Every fact with a library document among its sources."""
        return self.engine.run(f"MATCH (a:Entity)-[f:FACT]->(b:Entity) WHERE f.sources CONTAINS $n RETURN {FACT_COLS}",
                               {"n": citing(document_id)})

    def facts_per_relation(self) -> dict[str, int]:
        rows = self.engine.run("MATCH (:Entity)-[f:FACT]->(:Entity) RETURN f.relation AS relation, count(*) AS n")
        return {row["relation"]: row["n"] for row in rows}

    def live_entities(self) -> list[dict]:
        """The entities that stand on their own (not merged into another)."""
        return [e for e in self.ents.values() if not e["merged_into"]]

    def entity(self, eid: str) -> str:
        """The canonical id of an entity that exists, else not_found."""
        if eid not in self.ents:
            raise ChatError("not_found", "There is no such entity in the graph.")
        return self.canonical(eid)
