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
from .engine import FACT, NODES, Base, ladybug_copy, ladybug_schema

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
        for statement in ladybug_schema():
            self._run(statement, {})

    def copy_rows(self, table: str, rows: list[dict]) -> bool:
        if len(rows) < COPY_FROM:
            return False
        # COPY reads a table's columns in the order they were made; a relationship's two ends come first.
        columns = ["h", "t", *FACT] if table == "FACT" else list(NODES[table])
        off_hub(self._copy, table, [[row[c] for c in columns] for row in rows])
        return True

    def _copy(self, table: str, rows: list[list]) -> None:
        fd, path = tempfile.mkstemp(prefix="graph-", suffix=".csv")
        try:
            with os.fdopen(fd, "w", newline="", encoding="utf-8") as f:
                csv.writer(f).writerows(rows)
            with self._quiet():
                self._conn().execute(ladybug_copy(table, path))
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
