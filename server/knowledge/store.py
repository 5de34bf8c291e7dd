"""The library on disk: documents, their passages, tokens and vectors in one SQLite file (or in memory)."""
from __future__ import annotations

import json
import os
import sqlite3
from typing import cast

import numpy as np

from ..concurrency import RealLock
from ..shapes import Document

SCHEMA = """
CREATE TABLE IF NOT EXISTS documents (
  id TEXT PRIMARY KEY, title TEXT NOT NULL, sha256 TEXT NOT NULL UNIQUE, bytes INTEGER NOT NULL,
  pages INTEGER, chunks INTEGER NOT NULL, created_at TEXT NOT NULL, ocr INTEGER NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS chunks (
  document_id TEXT NOT NULL REFERENCES documents(id) ON DELETE CASCADE, seq INTEGER NOT NULL,
  page INTEGER, text TEXT NOT NULL, tokens TEXT NOT NULL, vector BLOB, embedder TEXT,
  PRIMARY KEY (document_id, seq));
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS pictures (
  document_id TEXT PRIMARY KEY REFERENCES documents(id) ON DELETE CASCADE, type TEXT NOT NULL, data BLOB NOT NULL);
"""
BUMP = "INSERT INTO meta VALUES ('version', 1) ON CONFLICT (key) DO UPDATE SET value = value + 1"
DOC_FIELDS = ("id", "title", "bytes", "chunks", "created_at", "ocr")


def document(row) -> Document:
    """A document's row as the API shows it: `ocr: true` only on those whose text was read from pictures."""
    doc = dict(zip(DOC_FIELDS, row))
    if not doc.pop("ocr"):
        return cast(Document, doc)
    return cast(Document, {**doc, "ocr": True})


class Store:
    """SQLite behind a small interface (add, remove, documents, chunks, set_vectors) a vector database could replace."""

    def __init__(self, path: str | None):
        self.path = path or ":memory:"
        self.db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        self.lock = RealLock()  # one writer; ingest threads and the server's loop share the connection
        with self.lock:
            if path:
                self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute("PRAGMA foreign_keys=ON")
            self.db.executescript(SCHEMA)
            columns = [r[1] for r in self.db.execute("PRAGMA table_info(documents)")]
            if "ocr" not in columns:  # a library made before OCR (#35)
                self.db.execute("ALTER TABLE documents ADD COLUMN ocr INTEGER NOT NULL DEFAULT 0")

    @classmethod
    def in_data_dir(cls, cfg) -> "Store":
        if cfg.store == "memory":
            return cls(None)
        from ..paths import data_dir

        return cls(os.path.join(data_dir(cfg), "knowledge.sqlite3"))

    def _rows(self, sql: str, args=()) -> list:
        with self.lock:
            return self.db.execute(sql, args).fetchall()

    def version(self) -> int:
        """Changes whenever any process commits to the library (several servers may share the file)."""
        rows = self._rows("SELECT value FROM meta WHERE key = 'version'")
        return rows[0][0] if rows else 0

    def find_by_hash(self, sha256: str) -> Document | None:
        rows = self._rows(f"SELECT {', '.join(DOC_FIELDS)} FROM documents WHERE sha256 = ?", (sha256,))
        return document(rows[0]) if rows else None

    def documents(self) -> list[Document]:
        rows = self._rows(f"SELECT {', '.join(DOC_FIELDS)} FROM documents ORDER BY created_at DESC, rowid DESC")
        return [document(r) for r in rows]

    def add(self, doc: dict, sha256: str, pages: int | None, passages: list[tuple], tokens: list[list[str]],
            vectors: np.ndarray | None, embedder: str | None, picture: tuple[str, bytes] | None = None) -> None:
        """One document and all its passages (and the picture its text was read from), in one transaction."""
        rows = [(doc["id"], i, page, text, json.dumps(tok, ensure_ascii=False),
                 None if vectors is None else vectors[i].astype(np.float32).tobytes(), embedder)
                for i, ((page, text), tok) in enumerate(zip(passages, tokens))]
        with self.lock:
            with self.db:
                self.db.execute("BEGIN")
                self.db.execute("INSERT INTO documents (id, title, sha256, bytes, pages, chunks, created_at, ocr) "
                                "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                                (doc["id"], doc["title"], sha256, doc["bytes"], pages, doc["chunks"], doc["created_at"],
                                 int(bool(doc.get("ocr")))))
                self.db.executemany("INSERT INTO chunks VALUES (?, ?, ?, ?, ?, ?, ?)", rows)
                if picture:
                    self.db.execute("INSERT INTO pictures VALUES (?, ?, ?)", (doc["id"], *picture))
                self.db.execute(BUMP)

    def remove(self, document_id: str) -> bool:
        with self.lock:
            with self.db:
                self.db.execute("BEGIN")
                self.db.execute("DELETE FROM chunks WHERE document_id = ?", (document_id,))
                self.db.execute("DELETE FROM pictures WHERE document_id = ?", (document_id,))
                self.db.execute(BUMP)
                return self.db.execute("DELETE FROM documents WHERE id = ?", (document_id,)).rowcount > 0

    def picture(self, document_id: str) -> tuple[str, bytes] | None:
        """(type, bytes) of the photo a document was read from, or None (not a picture, or no such document)."""
        rows = self._rows("SELECT type, data FROM pictures WHERE document_id = ?", (document_id,))
        return (rows[0][0], bytes(rows[0][1])) if rows else None

    def chunks(self, document_id: str | None = None) -> list[tuple]:
        """Every passage (or one document's): (document_id, title, seq, page, text, tokens, vector bytes, embedder)."""
        where, args = ("WHERE c.document_id = ? ", (document_id,)) if document_id else ("", ())
        return self._rows("SELECT c.document_id, d.title, c.seq, c.page, c.text, c.tokens, c.vector, c.embedder "
                          f"FROM chunks c JOIN documents d ON d.id = c.document_id {where}ORDER BY d.rowid, c.seq",
                          args)

    def set_vectors(self, rows: list[tuple], embedder: str) -> None:
        """(document_id, seq, vector) for passages embedded again by another embedder."""
        with self.lock:
            with self.db:
                self.db.execute("BEGIN")
                self.db.executemany("UPDATE chunks SET vector = ?, embedder = ? WHERE document_id = ? AND seq = ?",
                                    [(v.astype(np.float32).tobytes(), embedder, d, s) for d, s, v in rows])
                self.db.execute(BUMP)

    def close(self) -> None:
        with self.lock:
            self.db.close()
