"""KnowledgeBase: add, list, delete, search and ground a question; blocking calls, meant for an OS thread."""
from __future__ import annotations

import hashlib
import logging
import uuid
from datetime import datetime, timezone
from typing import Any, Callable

import numpy as np

from ..concurrency import HEAVY_LOADS, BackgroundWorker, RealEvent, RealLock, lower_priority, start_os_thread
from ..errors import ChatError
from ..shapes import Document, SearchResult
from . import bilingual
from .chunk import chunk_sections
from .dense import make_embedder
from .evidence import choose, lines, rank
from .index import Snapshot
from .keyword import CJK, warm_up, words
from .parse import MAX_CHARS, parse
from .store import Store
from .tables import headed, starts_in_table

log = logging.getLogger(__name__)

PICTURE_TYPES = {"png": "image/png", "jpg": "image/jpeg", "jpeg": "image/jpeg", "webp": "image/webp"}


def is_picture(title: str) -> bool:
    """Whether a document's title names a photo (its picture is kept and served)."""
    return "." in title and title.rsplit(".", 1)[-1].lower() in PICTURE_TYPES

GROUNDED = ("Answer the user's question using only the numbered passages below, taken from the knowledge base. "
            "Cite each passage you use as [n], for example [1]. If the passages do not contain the answer, say that "
            "it was not found in the knowledge base. Reply in the language of the question.")
GROUNDED_SENTENCES = ("Answer the user's question using only the evidence below, taken from the knowledge base. "
                      "Copy numbers, times and names exactly as written and cite the evidence as [n]. "
                      "If it does not contain the answer, say that it was not found in the knowledge base. "
                      "Reply in the language of the question.")
EVIDENCE_HEAD = "Evidence:"
# Passages embedded per step of an upload's progress: the built-in embedder takes about 0.5 s a passage on
# 2 busy cores (bench/RESULTS.md), so the bar moves every few seconds.
INGEST_BATCH = 8
# With nothing relevant the server answers itself instead of asking the model: told to say "not found", the
# built-in Gemma 270M still guessed at every unanswerable question of bench/knowledge_eval.py's set.
NOT_FOUND = {"en": "Not found in the knowledge base.", "zh": "知识库中没有找到相关内容。"}


def not_found_reply(question: str) -> str:
    """The reply to a question the library has nothing for, in the question's language (Chinese or English)."""
    return NOT_FOUND["zh" if any("\u4e00" <= ch <= "\u9fff" for ch in question) else "en"]


class KnowledgeBase:
    """One library per server; readers see an immutable snapshot, writers take turns."""

    def __init__(self, store: Store, embedder_factory, max_bytes: int, max_pages: int, passages: int,
                 min_score: float | None = None, max_chars: int = MAX_CHARS):
        self.store = store
        self.embedder_factory = embedder_factory
        self.embedder: Any = None  # once loaded, one of knowledge/dense.py's embedders, or None: keywords alone
        self.max_bytes = max_bytes
        self.max_pages = max_pages
        self.max_chars = max_chars
        self.passages = passages
        self.min_score = min_score  # overrides the embedder's own cosine floor
        self.write_lock = RealLock()
        self.load_lock = RealLock()
        self.loading = False
        self.ready = RealEvent()
        self.failed: str | None = None
        self.snapshot = Snapshot([], None)
        self.version: int | None = None  # the store's version the snapshot was built from
        # Parsing and embedding a file take seconds to minutes of CPU: a thread of lower priority, so that
        # on a small machine the chats streaming meanwhile come first (bench/knowledge_load.py).
        self.worker = BackgroundWorker("knowledge-ingest")
        # called with a deleted document's id (the graph drops the facts it alone supported)
        self.on_delete: list[Callable[[str], object]] = []
        self.ingest: dict | None = None  # the upload being added: {file, phase, done, total} (progress())

    def start(self) -> None:
        """Load a library that has documents now; an empty one loads at its first upload (saves ~2 s of CPU)."""
        if self.store.documents():
            self.load()

    def load(self) -> None:
        """Start loading the embedder and the index in a thread of their own (once); `ready` is set when done."""
        with self.load_lock:
            if not self.loading:
                self.loading = True
                start_os_thread(self._load, name="knowledge-load")

    def _load(self) -> None:
        lower_priority()  # a thread of its own, not the worker: the worker's first job may be waiting for it
        try:
            with HEAVY_LOADS:
                warm_up()
                bilingual.load()  # the Chinese-English word pairs: 0.3 s from the cache, seconds the first time
                self.embedder = self.embedder_factory()
            with self.write_lock:
                self._embed_missing()
                self._rebuild()
            log.info("knowledge base: %d passages, embedder %s", len(self.snapshot),
                     self.embedder.name if self.embedder else "none (keywords only)")
        except Exception as e:
            log.exception("the knowledge base failed to load")
            self.failed = f"The knowledge base failed to load ({type(e).__name__}); the server log has details."
        finally:
            self.ready.set()

    def _wait(self) -> None:
        self.load()
        if not self.ready.wait(600) or self.failed:
            raise ChatError("unavailable", self.failed or "The knowledge base is still loading; try again shortly.")

    def _rebuild(self) -> None:
        version = self.store.version()
        self.snapshot = Snapshot(self.store.chunks(), self.embedder.name if self.embedder else None)
        self.version = version

    def _fresh(self) -> Snapshot:
        """The snapshot, rebuilt first if another process sharing the data folder changed the library."""
        if self.store.version() != self.version:
            with self.write_lock:
                if self.store.version() != self.version:
                    self._rebuild()
        return self.snapshot

    def _embed_missing(self) -> None:
        """Passages stored without a vector of the current embedder (another one was configured) get one now."""
        if not self.embedder:
            return
        todo = [(r[0], r[2], f"{r[1]}\n{r[4]}") for r in self.store.chunks() if r[7] != self.embedder.name]
        if todo:
            log.info("knowledge base: embedding %d passages with %s", len(todo), self.embedder.name)
            vectors = self.embedder.embed([t for _, _, t in todo], query=False)
            self.store.set_vectors([(d, s, v) for (d, s, _), v in zip(todo, vectors)], self.embedder.name)

    # --- the library ------------------------------------------------------

    def add(self, filename: str, data: bytes) -> Document:
        """Parse, chunk, embed and store one file; the same bytes twice give the first document back."""
        return self.worker.call(self._add, filename, data)

    def progress(self) -> dict | None:
        """The upload being added now: {file, phase: "reading" | "ocr" | "embedding", done, total}, or None."""
        current = self.ingest
        return dict(current) if current else None

    def _add(self, filename: str, data: bytes) -> dict:
        self.ingest = {"file": filename, "phase": "reading", "done": 0, "total": 0}
        try:
            return self._add_now(filename, data)
        finally:
            self.ingest = None

    def _embed_passages(self, filename: str, texts: list[str]):
        """Vectors of a file's passages, a batch at a time so that progress() can say how far it got."""
        out = []
        for i in range(0, len(texts), INGEST_BATCH):
            self.ingest = {"file": filename, "phase": "embedding", "done": i, "total": len(texts)}
            out.extend(self.embedder.embed(texts[i:i + INGEST_BATCH], query=False))
        self.ingest = {"file": filename, "phase": "embedding", "done": len(texts), "total": len(texts)}
        return np.asarray(out, dtype=np.float32)

    def _add_now(self, filename: str, data: bytes) -> dict:
        if len(data) > self.max_bytes:
            raise ChatError("too_long", f"The file is {len(data) // 1_000_000} MB; "
                                        f"the limit is {self.max_bytes // 1_000_000} MB.")
        read_by_ocr = []

        def on_page(done: int, total: int) -> None:
            read_by_ocr.append(done)
            self.ingest = {"file": filename, "phase": "ocr", "done": done, "total": total}

        title, sections = parse(filename, data, self.max_pages, self.max_chars, on_page)
        self._wait()
        sha = hashlib.sha256(data).hexdigest()
        with self.write_lock:
            existing = self.store.find_by_hash(sha)
            if existing:
                return {**existing, "duplicate": True}
            passages = chunk_sections(sections)
            tokens = [words(f"{title} {text}") for _, text in passages]
            vectors = self._embed_passages(filename, [f"{title}\n{t}" for _, t in passages]) if self.embedder else None
            doc = {"id": uuid.uuid4().hex[:16], "title": title, "bytes": len(data), "chunks": len(passages),
                   "created_at": datetime.now(timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z"),
                   **({"ocr": True} if read_by_ocr else {})}
            pages = max((p for p, _ in sections if p), default=None)
            picture = (PICTURE_TYPES[title.rsplit(".", 1)[-1].lower()], data) if is_picture(title) else None
            self.store.add(doc, sha, pages, passages, tokens, vectors, self.embedder.name if self.embedder else None,
                           picture)
            self._rebuild()
        log.info("knowledge base: added %s (%d passages)", doc["id"], doc["chunks"])
        return doc

    def documents(self) -> list[Document]:
        return self.store.documents()

    def picture(self, document_id: str) -> tuple[str, bytes]:
        """(type, bytes) of the photo a document's text was read from (sources can show it), or not_found."""
        found = self.store.picture(document_id)
        if found is None:
            raise ChatError("not_found", "That document was not read from a picture.")
        return found

    def delete(self, document_id: str) -> None:
        # No waiting for the embedder (jieba alone is ~1.5 s of a low-priority thread): removing rows needs
        # none, and a snapshot not yet built is built from the store, or rebuilt by _fresh on its version.
        with self.write_lock:
            if not self.store.remove(document_id):
                raise ChatError("not_found", "There is no such document in the knowledge base.")
            if self.ready.is_set():
                self._rebuild()
        for hook in self.on_delete:
            try:
                hook(document_id)
            except Exception:  # the document is gone either way; what hangs on it is logged
                log.exception("after deleting document %s", document_id)

    def document_passages(self, document_id: str) -> list[dict]:
        """One document's passages in order: {document_id, title, chunk_id, seq, page, text}."""
        return [{"document_id": r[0], "title": r[1], "chunk_id": f"{r[0]}-{r[2]}", "seq": r[2], "page": r[3],
                 "text": r[4]} for r in self.store.chunks(document_id)]

    def embed_names(self, texts: list[str]):
        """Unit vectors of short texts (entity names) from the library's embedder, or None where there is none."""
        self._wait()
        return self.embedder.embed(texts, query=True) if self.embedder and texts else None

    # --- questions --------------------------------------------------------

    def search(self, query: str, k: int = 5, mode: str = "hybrid", floor: bool = True) -> list[SearchResult]:
        """The k best passages for a question that clear the relevance floor, best first."""
        if not self.loading and not self.store.documents():
            return []  # nothing to rank: no need to load the embedder for this
        self._wait()
        snap = self._fresh()
        qv = None
        if self.embedder and snap.vectors is not None and mode != "keyword":
            qv = self.embedder.embed([query], query=True)[0]
        out: list[SearchResult] = []
        cross = getattr(self.embedder, "cross", None) if self.min_score is None else None
        for i, score in snap.rank(query, k, qv, mode, floor, self._dense_floor(query), cross):
            row = snap.rows[i]
            out.append({"document_id": row["document_id"], "title": row["title"],
                        "chunk_id": f"{row['document_id']}-{row['seq']}", "page": row["page"],
                        "text": row["text"], "score": round(score, 5)})
        return out

    def _dense_floor(self, query: str) -> float | None:
        if self.min_score is not None:
            return self.min_score
        floors = getattr(self.embedder, "floors", None)
        return floors and floors[1 if CJK.search(query) else 0]

    def ground(self, question: str, evidence: str = "passages") -> tuple[str, list[dict]]:
        """(instruction for the system message, numbered sources) for one user message; ("", []) when nothing fits.

        evidence "sentences": the model is shown the best few sentences of the passages, each with its [n];
        "passages": the whole passages. Either way each source carries the `sentences` that answer best.
        """
        sources = [{"n": n, **r} for n, r in enumerate(self.search(question, self.passages), 1)]
        if not sources:
            return "", []
        chosen = choose(rank(question, sources, self.snapshot.keyword.idf, self.embedder))
        for s in sources:
            used = [sent for n, sent in chosen if n == s["n"]]
            if used:
                s["sentences"] = used
        if evidence == "sentences" and chosen:
            # A passage cut inside a table: its rows are read under the header the passage before holds.
            headed_sources = [{**s, "text": headed(str(s["text"]), self._before(s))} for s in sources]
            return f"{GROUNDED_SENTENCES}\n\n{EVIDENCE_HEAD}\n{lines(chosen, headed_sources)}", sources
        cited = "\n\n".join(f"[{s['n']}] ({s['title']}{where(s)})\n{s['text']}" for s in sources)
        return f"{GROUNDED}\n\n{cited}", sources

    def _before(self, source: dict) -> str | None:
        """The text of the passage before a source's, where the source starts inside a table (tables.headed)."""
        if not starts_in_table(source["text"]):
            return None
        document, _, seq = source["chunk_id"].rpartition("-")
        return next((r[4] for r in self.store.chunks(document) if r[2] == int(seq) - 1), None)

    def close(self) -> None:
        self.store.close()


def where(source: dict) -> str:
    return f", page {source['page']}" if source["page"] else ""


def build_knowledge_base(cfg) -> KnowledgeBase:
    """The server's library in its data folder (or in memory), loading in the background."""
    kb = KnowledgeBase(Store.in_data_dir(cfg), lambda: make_embedder(cfg), cfg.kb_max_mb * 1_000_000, cfg.kb_max_pages,
                       cfg.kb_passages, cfg.embed_min_score, cfg.kb_max_chars)
    kb.start()
    return kb
