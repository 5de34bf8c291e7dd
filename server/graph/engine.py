"""One small interface over the graph database: Cypher with parameters in, rows as dicts out; DDL per engine.

The Cypher the graph package sends is what Ladybug, Neo4j and ArcadeDB all run: MATCH, CREATE, SET, DELETE,
UNWIND batches, WHERE on a key (Ladybug finds `WHERE e.id = x` by its primary key; the `{id: x}` pattern form
scanned: 190 edges/s against 6,000/s measured), no APOC, no full-text index, no MERGE ... ON CREATE.
"""
from __future__ import annotations

import os
from typing import Protocol

from ..concurrency import off_hub

# Node labels and their properties (all strings but the counters). Facts are FACT relationships
# (id, relation, sources as JSON) between Entity nodes.
NODES = {
    "Entity": {"id": "STRING", "name": "STRING", "norm": "STRING", "type": "STRING", "aliases": "STRING",
               "merged_into": "STRING"},
    "Merge": {"id": "STRING", "keep": "STRING", "merged": "STRING", "reason": "STRING", "at": "STRING",
              "undone": "STRING"},
    "Job": {"id": "STRING", "status": "STRING", "documents": "STRING", "backend": "STRING", "model": "STRING",
            "types": "STRING", "done": "INT64", "total": "INT64", "facts": "INT64", "error": "STRING", "at": "STRING",
            "extractor": "STRING"},
    "Built": {"id": "STRING", "document": "STRING"},
    "Meta": {"id": "STRING", "value": "INT64"},
    # Facts a build proposed for review (proposals.py) and merge candidates a person rejected.
    "Proposal": {"id": "STRING", "status": "STRING", "head": "STRING", "relation": "STRING", "tail": "STRING",
                 "head_type": "STRING", "tail_type": "STRING", "confidence": "DOUBLE", "extractor": "STRING",
                 "sources": "STRING", "sentence": "STRING", "at": "STRING"},
    "Rejected": {"id": "STRING", "a": "STRING", "b": "STRING", "at": "STRING"},
}
# Properties added after a table was first made: an older graph folder gains them at open (empty strings).
ADDED = {"Job": ["extractor"]}
FACT = {"id": "STRING", "relation": "STRING", "sources": "STRING"}


class Engine(Protocol):
    """A graph database: run() one statement; writes are serialized by the caller (one writer)."""

    name: str

    def run(self, cypher: str, params: dict | None = None) -> list[dict]: ...

    def close(self) -> None: ...


ENTITY_CREATE = ("UNWIND $rows AS r CREATE (e:Entity {id: r.id, name: r.name, norm: r.norm, type: r.type, "
                 "aliases: '[]', merged_into: ''})")
FACT_CREATE = ("UNWIND $rows AS r MATCH (a:Entity) WHERE a.id = r.h MATCH (b:Entity) WHERE b.id = r.t "
               "CREATE (a)-[:FACT {id: r.id, relation: r.relation, sources: r.sources}]->(b)")
BATCH = 2000  # rows per UNWIND statement


class Base:
    """run() through a real OS thread under eventlet: a query holds its thread (4.9 s of frozen hub measured)."""

    name = "?"

    def run(self, cypher: str, params: dict | None = None) -> list[dict]:
        return off_hub(self._run, cypher, params or {})

    def create_entities(self, rows: list[dict]) -> None:
        """New entities {id, name, norm, type}, none of which exists yet."""
        for i in range(0, len(rows), BATCH):
            self.run(ENTITY_CREATE, {"rows": rows[i:i + BATCH]})

    def create_facts(self, rows: list[dict]) -> None:
        """New facts {id, h, t, relation, sources (JSON)} between entities that exist."""
        for i in range(0, len(rows), BATCH):
            self.run(FACT_CREATE, {"rows": rows[i:i + BATCH]})

    def _run(self, cypher: str, params: dict) -> list[dict]:
        raise NotImplementedError


def open_engine(cfg) -> Engine:
    """Neo4j (or any Bolt server) with --graph-url, else the embedded Ladybug in the data folder (or in memory)."""
    url = getattr(cfg, "graph_url", None)
    if url:
        from .neo4j_engine import Neo4jEngine

        return Neo4jEngine(url, os.environ.get("CHAT_GRAPH_USER") or "neo4j", os.environ.get("CHAT_GRAPH_PASSWORD") or "")
    from .ladybug import LadybugEngine

    if cfg.store == "memory":
        return LadybugEngine(None)
    from ..paths import data_dir

    return LadybugEngine(os.path.join(data_dir(cfg), "graph"))
