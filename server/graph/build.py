"""Build jobs: the library's passages not yet built into facts (patterns offline, with an instruction model's JSON
where the job asks one), sure facts stored and the rest proposed; progress, cancel, resume."""
from __future__ import annotations

import json
import logging
import queue
import uuid

from ..concurrency import off_hub
from ..errors import ChatError
from . import constrained, extract, rules
from .align import now
from .lexicon import Dictionary
from .records import GraphRecords

log = logging.getLogger(__name__)
JOB_FIELDS = ("id", "status", "documents", "backend", "model", "types", "done", "total", "facts", "error", "extractor")
EXTRACTORS = ("rules", "model") + constrained.EXTRACTORS  # patterns alone (offline, any server); an instruction
# model's JSON and the patterns; the local model held to spans of the passage, alone or with the patterns
ENDED = ("done", "failed", "cancelled")


class Builder:
    """One job at a time, in order. The face hands in complete(messages, backend, model, cancel) -> text,
    spawn(fn) (a task on the server's loop) and emit(job) (the `graph_progress` event)."""

    def __init__(self, graph, knowledge, complete, spawn, emit):
        self.graph = graph
        self.knowledge = knowledge
        self.complete = complete
        self.spawn = spawn
        self.emit = emit
        self.jobs: dict[str, dict] = {}
        self.cancels: set[str] = set()
        self.line: queue.Queue = queue.Queue()  # the loop's own queue: green under eventlet, as the runner is
        self.running = False

    # --- the routes' calls ------------------------------------------------------

    def start(self, documents: list[str] | None, backend: str | None, model: str | None, types: list[str] | None,
              extractor: str = "rules") -> dict:
        known = {d["id"] for d in off_hub(self.knowledge.documents)}
        if documents is None:
            documents = sorted(known)
        missing = [d for d in documents if d not in known]
        if missing:
            raise ChatError("not_found", f"There is no document {missing[0]!r} in the library.")
        if not documents:
            raise ChatError("bad_request", "The library has no documents to build the graph from.")
        job = {"id": uuid.uuid4().hex[:16], "status": "queued", "documents": documents, "backend": backend or "",
               "model": model or "", "types": types or extract.MEDICAL_TYPES, "done": 0, "total": 0, "facts": 0,
               "error": "", "extractor": extractor}
        self._save(job, create=True)
        accepted = self.view(job)  # taken before the worker may mark it running: the reply says what was accepted
        self._enqueue(job)
        return accepted

    def get(self, job_id: str) -> dict:
        job = self.jobs.get(job_id) or self._load(job_id)
        if job is None:
            raise ChatError("not_found", "There is no such build job.")
        return self.view(job)

    def cancel(self, job_id: str) -> dict:
        job = self.jobs.get(job_id) or self._load(job_id)
        if job is None:
            raise ChatError("not_found", "There is no such build job.")
        if job["status"] not in ENDED:
            self.cancels.add(job_id)
            if job["status"] == "queued":
                self._end(job, "cancelled")
        return self.view(job)

    def resume(self) -> None:
        """Jobs a stopped server left queued or running go on where they stopped (their built passages are kept)."""
        rows = self._read(GraphRecords.unfinished_jobs)
        for row in sorted(rows, key=lambda r: r["at"]):
            job = _job(row)
            job["status"] = "queued"
            log.info("graph: resuming build job %s", job["id"])
            self._enqueue(job)

    @staticmethod
    def view(job: dict) -> dict:
        out = {"job": job["id"], "id": job["id"], "status": job["status"], "done": job["done"], "total": job["total"],
               "facts": job["facts"], "extractor": job["extractor"]}
        if job["error"]:
            out["error"] = job["error"]
        return out

    # --- the runner -------------------------------------------------------------

    def _enqueue(self, job: dict) -> None:
        self.jobs[job["id"]] = job
        self.line.put(job["id"])
        if not self.running:
            self.running = True
            self.spawn(self._run)

    def _run(self) -> None:
        while True:
            job = self.jobs[self.line.get()]
            if job["status"] != "queued":
                continue
            try:
                self._build(job)
            except ChatError as e:
                self._end(job, "failed", e.message)
            except Exception as e:  # a bug must not stop the runner for the jobs after this one
                log.exception("graph build job %s failed", job["id"])
                self._end(job, "failed", f"The build stopped ({type(e).__name__}); the server log has details.")

    def _build(self, job: dict) -> None:
        todo = []
        for doc in job["documents"]:
            built = self._read(GraphRecords.built_passages, doc)
            passages = off_hub(self.knowledge.document_passages, doc)
            todo += [p for p in passages if p["chunk_id"] not in built]
        job.update(status="running", total=job["done"] + len(todo), error="")
        self._save(job)
        failed = 0
        dictionary = off_hub(lambda: Dictionary.of_store(self.graph.store()))  # the graph's names, once a job
        for p in todo:
            if job["id"] in self.cancels:
                return self._end(job, "cancelled")
            found = off_hub(rules.extract, p["text"], dictionary) if job["extractor"] != "constrained" else []
            if job["extractor"] != "rules":
                try:
                    answer = self._ask(job, p["text"])
                except ChatError as e:  # this passage is left unbuilt (a later build retries it); the job goes on
                    log.warning("graph: passage %s not built: %s", p["chunk_id"], e.message)
                    failed += 1
                    job["error"] = e.message
                    continue
                if job["id"] in self.cancels:  # stopped mid-answer: that passage is not built
                    return self._end(job, "cancelled")
                entities, relations = extract.parse(answer)
                asked = "constrained" if job["extractor"] in constrained.EXTRACTORS else "model"
                found = extract.combine(found, extract.score(entities, relations, p["text"], dictionary, asked))
            source = {"document": p["document_id"], "title": p["title"], "passage": p["chunk_id"]}
            stored, _ = off_hub(self.graph.add_found, found, source)
            job["facts"] += stored
            self._write(GraphRecords.mark_built, p["chunk_id"], p["document_id"])
            job["done"] += 1
            self._save(job)
        if todo and failed == len(todo):  # not one passage could be asked: the backend itself is the trouble
            return self._end(job, "failed", job["error"])
        self._end(job, "done", job["error"] and f"{failed} passages were not built: {job['error']}")

    def _ask(self, job: dict, text: str) -> str:
        """The model's answer for one passage; a constrained one is held to spans of it by the local backend."""
        def cancelled() -> bool:
            return job["id"] in self.cancels

        if job["extractor"] in constrained.EXTRACTORS:
            return self.complete(constrained.messages(text, job["types"]), job["backend"] or None, job["model"] or None,
                                 cancelled, spans=constrained.spans(text))
        return self.complete(extract.messages(text, job["types"]), job["backend"] or None, job["model"] or None,
                             cancelled)

    def _end(self, job: dict, status: str, error: str = "") -> None:
        job.update(status=status, error=error)
        self.cancels.discard(job["id"])
        self._save(job)

    def _save(self, job: dict, create: bool = False) -> None:
        row = {k: job[k] for k in JOB_FIELDS}
        row["documents"], row["types"] = json.dumps(job["documents"]), json.dumps(job["types"], ensure_ascii=False)
        if create:
            self._write(GraphRecords.add_job, {**row, "at": now()})
        else:
            self._write(GraphRecords.update_job, job["id"], {k: v for k, v in row.items() if k != "id"})
        self.emit(self.view(job))

    # Every database call in a real OS thread (the runner is a task on the server's loop), writes as the one writer.
    def _read(self, ask, *args):
        """ask(the graph's records, *args), e.g. GraphRecords.job."""
        return off_hub(lambda: ask(self.graph.store().records, *args))

    def _write(self, change, *args) -> None:
        def locked():
            store = self.graph.store()
            with store.write_lock:
                change(store.records, *args)

        off_hub(locked)

    def _load(self, job_id: str) -> dict | None:
        row = self._read(GraphRecords.job, job_id)
        return _job(row) if row else None


def _job(row: dict) -> dict:
    job = {k: row[k] for k in JOB_FIELDS}
    job["documents"], job["types"] = json.loads(row["documents"]), json.loads(row["types"])
    job["error"] = job["error"] or ""
    job["extractor"] = job["extractor"] if job["extractor"] in EXTRACTORS else "model"  # jobs from before #32
    return job
