"""The embedded engine: Ladybug (the maintained fork of Kuzu) in the data folder's graph/, or in memory."""
from __future__ import annotations

import contextlib
import csv
import os
import tempfile
import threading

from ..errors import ChatError
from ..concurrency import off_hub
from ..file_lock import SharedFileLock
from .engine import ADDED, FACT, NODES, Base

# Many new rows go in through COPY from a CSV file: 40k entities in 0.5 s where UNWIND ... CREATE took 5.5 s,
# and 20k facts in 0.5 s where it took 3.7 s (on 2 busy cores). Below this many, UNWIND is quicker.
COPY_FROM = 500
LOCK_FILE = "backup.lock"  # beside graph.lbug; `run.py backup` holds it while it copies the graph's files


class LadybugEngine(Base):
    """One database, one connection per OS thread (a connection is not shared between threads)."""

    name = "ladybug"

    def __init__(self, folder: str | None):
        try:
            import ladybug
        except ImportError:
            raise ChatError("unavailable", "The embedded graph engine is not installed here (pip install ladybug); "
                                           "or keep the graph in Neo4j with --graph-url.") from None

        self.folder = folder
        if folder:
            os.makedirs(folder, exist_ok=True)
        # Held shared around every statement: `run.py backup` takes it alone to copy the files at a quiet moment.
        self.files = SharedFileLock(os.path.join(folder, LOCK_FILE)) if folder else None
        try:
            self.db = ladybug.Database(os.path.join(folder, "graph.lbug") if folder else ":memory:")
        except RuntimeError as e:
            # Another process holds the file (two servers on one data folder): say so instead of a trace.
            raise ChatError("unavailable", f"The graph in {folder} is in use by another server process; run one "
                                           "process on it, or share a Neo4j server with --graph-url.") from e
        self._local = threading.local()
        self._connect = ladybug.Connection
        for label, props in NODES.items():
            cols = ", ".join(f"{k} {t}" for k, t in props.items())
            self._run(f"CREATE NODE TABLE IF NOT EXISTS {label}({cols}, PRIMARY KEY(id))", {})
        for label, added in ADDED.items():
            for k in added:
                self._run(f"ALTER TABLE {label} ADD IF NOT EXISTS {k} {NODES[label][k]} DEFAULT ''", {})
        cols = ", ".join(f"{k} {t}" for k, t in FACT.items())
        self._run(f"CREATE REL TABLE IF NOT EXISTS FACT(FROM Entity TO Entity, {cols})", {})

    def create_entities(self, rows: list[dict]) -> None:
        if len(rows) < COPY_FROM:
            return super().create_entities(rows)
        off_hub(self._copy, "Entity", [[r["id"], r["name"], r["norm"], r["type"], "[]", ""] for r in rows])

    def create_facts(self, rows: list[dict]) -> None:
        if len(rows) < COPY_FROM:
            return super().create_facts(rows)
        off_hub(self._copy, "FACT", [[r["h"], r["t"], r["id"], r["relation"], r["sources"]] for r in rows])

    def _copy(self, table: str, rows: list[list]) -> None:
        fd, path = tempfile.mkstemp(prefix="graph-", suffix=".csv")
        try:
            with os.fdopen(fd, "w", newline="", encoding="utf-8") as f:
                csv.writer(f).writerows(rows)
            # In a Cypher string a backslash escapes: C:\Users\... reads as C:Users... unless each is doubled.
            literal = path.replace("\\", "\\\\").replace("'", "\\'")
            with self._quiet():
                self._conn().execute(f"COPY {table} FROM '{literal}' (HEADER=false)")
        finally:
            os.unlink(path)

    def _conn(self):
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._local.conn = self._connect(self.db)
        return conn

    def _quiet(self):
        return self.files.shared() if self.files else contextlib.nullcontext()

    def _run(self, cypher: str, params: dict) -> list[dict]:
        with self._quiet():
            result = self._conn().execute(cypher, params) if params else self._conn().execute(cypher)
            names = result.get_column_names()
            return [dict(zip(names, row)) for row in result.get_all()]

    def close(self) -> None:
        self.db.close()
