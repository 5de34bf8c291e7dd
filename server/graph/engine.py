"""One small interface over the graph database: Cypher with parameters in, rows as dicts out; the schema and its
DDL per engine.

The graph's Cypher lives in three modules: this one (each engine's DDL and Ladybug's bulk COPY), store.py
(entities and facts) and records.py (build jobs, built passages, merges, proposals, rejected pairs); every
other module calls their methods (tests/test_layers.py checks it). It is what Ladybug, Neo4j and ArcadeDB all run:
MATCH, CREATE, SET, DELETE, UNWIND batches, WHERE on a key (Ladybug finds `WHERE e.id = x` by its primary key;
the `{id: x}` pattern form scanned: 190 edges/s against 6,000/s measured), no APOC, no full-text index, no
MERGE ... ON CREATE.
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

    def copy_rows(self, table: str, rows: list[dict]) -> bool: ...

    def close(self) -> None: ...


BATCH = 2000  # rows per UNWIND statement


def ladybug_schema() -> list[str]:
    """Ladybug's DDL: a node table per label keyed by id, the properties added since, the FACT relationship."""
    tables = {label: ", ".join(f"{k} {t}" for k, t in props.items()) for label, props in NODES.items()}
    out = [f"CREATE NODE TABLE IF NOT EXISTS {label}({cols}, PRIMARY KEY(id))" for label, cols in tables.items()]
    out += [f"ALTER TABLE {label} ADD IF NOT EXISTS {k} {NODES[label][k]} DEFAULT ''"
            for label, added in ADDED.items() for k in added]
    cols = ", ".join(f"{k} {t}" for k, t in FACT.items())
    return out + [f"CREATE REL TABLE IF NOT EXISTS FACT(FROM Entity TO Entity, {cols})"]


def ladybug_copy(table: str, path: str) -> str:
    """Ladybug's bulk load of a CSV file (no header) into a table."""
    # In a Cypher string a backslash escapes: C:\Users\... reads as C:Users... unless each is doubled.
    literal = path.replace("\\", "\\\\").replace("'", "\\'")
    return f"COPY {table} FROM '{literal}' (HEADER=false)"


def neo4j_schema() -> list[str]:
    """Neo4j's DDL: each label's id unique (which also indexes it)."""
    return [f"CREATE CONSTRAINT {label.lower()}_id IF NOT EXISTS FOR (n:{label}) REQUIRE n.id IS UNIQUE"
            for label in NODES]


class Base:
    """run() through a real OS thread under eventlet: a query holds its thread (4.9 s of frozen hub measured)."""

    name = "?"

    def run(self, cypher: str, params: dict | None = None) -> list[dict]:
        return off_hub(self._run, cypher, params or {})

    def copy_rows(self, table: str, rows: list[dict]) -> bool:
        """New rows of a table loaded the engine's own faster way; False where it has none (the caller then
        creates them in UNWIND batches)."""
        return False

    def _run(self, cypher: str, params: dict) -> list[dict]:
        raise NotImplementedError


def open_engine(cfg) -> Engine:
    """Neo4j (or any Bolt server) with --graph-url, else the embedded Ladybug in the data folder (or in memory)."""
    url = getattr(cfg, "graph_url", None)
    if url:
        from .neo4j_engine import Neo4jEngine

        return Neo4jEngine(url, os.environ.get("CHAT_GRAPH_USER") or "neo4j",
                           os.environ.get("CHAT_GRAPH_PASSWORD") or "")
    from .ladybug import LadybugEngine

    if cfg.store == "memory":
        return LadybugEngine(None)
    from ..paths import data_dir

    return LadybugEngine(os.path.join(data_dir(cfg), "graph"))
