"""TuningService: checks and queues jobs, runs them one at a time in a child process, follows their progress."""
from __future__ import annotations

import builtins
import json
import logging
import os
import re
import subprocess
import sys
import time
from dataclasses import dataclass
from typing import cast

from ..concurrency import RealCondition, start_os_thread
from ..errors import ChatError
from ..shapes import TuningJob
from . import checkpoint, data, trainer
from .store import ACTIVE, JobFolder, new_job

log = logging.getLogger(__name__)
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
POLL_S = 0.25  # how often the runner reads a child's progress file
PUBLIC = ("id", "name", "base", "status", "step", "steps", "epoch", "loss", "eval_loss", "eta_s", "error", "examples",
          "samples")
# The eval split is held out of training: below this many examples each one is worth learning, so none is.
EVAL_FROM = 50
EVAL_FRACTION = 0.1


@dataclass
class Base:
    """The model a job trains: its id, a folder transformers loads, whether it is prompted as a transcript."""

    id: str
    folder: str
    builtin: bool
    device: str = "cpu"


def public(job: dict) -> TuningJob:
    """The protocol's job object."""
    return cast(TuningJob, {k: job[k] for k in PUBLIC if k in job})


def _number(fields: dict, key: str, kind, lo, hi, default):
    raw = fields.get(key)
    if raw in (None, ""):
        return default
    try:
        value = kind(raw)
    except (TypeError, ValueError):
        value = None
    if value is None or not lo <= value <= hi or (kind is float and value != value):
        raise ChatError("bad_request", f"'{key}' must be a {'whole ' if kind is int else ''}number from {lo} to {hi}.")
    return value


def training_threads() -> int:
    """cores - 1 on 4 cores or fewer, as the server's own model (CHAT_TUNING_THREADS to choose).

    On 2 busy cores torch with 2 threads waits on the one that lost its core (3.1 vs 7.4 tok/s for
    generation, bench/RESULTS.md); a first training step with 2 threads took 170 s against 12-17 s with 1.
    """
    raw = os.environ.get("CHAT_TUNING_THREADS", "")
    if raw.isdigit() and int(raw) > 0:
        return int(raw)
    cores = os.cpu_count() or 1
    return max(1, cores - 1) if cores <= 4 else cores


class TuningService:
    """Jobs kept in the data folder; one child process trains at a time, the rest wait in line."""

    def __init__(self, root: str, base, on_done=None, on_remove=None):
        """base() -> Base, or raises ChatError while the local model is not ready; on_done(job, adapter folder)."""
        self.folder = JobFolder(root)
        self.base = base
        self.on_done = on_done or (lambda job, path: None)
        self.on_remove = on_remove or (lambda job: None)
        self.cond = RealCondition()
        self.jobs: dict[str, dict] = {j["id"]: j for j in self.folder.load_all()}
        self.version = 0  # bumped on every change; the face sends what changed since the version it saw
        self.changed: dict[str, int] = {}
        self.proc: subprocess.Popen | None = None
        self.cancel_id: str | None = None
        self.closed = False

    def start(self) -> None:
        for job in self.jobs.values():
            if job["status"] == "done" and os.path.isdir(self.folder.adapter(job["name"])):
                self.on_done(job, self.folder.adapter(job["name"]))
        start_os_thread(self._run, name="tuning-runner")

    def close(self) -> None:
        with self.cond:
            self.closed = True
            self.cond.notify_all()
            proc = self.proc
        if proc and proc.poll() is None:
            proc.terminate()

    # ---- requests ------------------------------------------------------

    def create(self, filename: str, raw: bytes, fields: dict) -> dict:
        """Check the file and settings, queue the job; DataError / ChatError with nothing queued."""
        name = (fields.get("name") or "").strip()
        if not NAME.match(name):
            raise ChatError("bad_request",
                            "'name' must be 1-64 letters, digits, '-', '_' or '.', starting with a letter or digit.")
        base = self.base(wait=False)
        if fields.get("base") not in (None, "", base.id):
            raise ChatError("bad_request",
                            f"'base' must be the local model {base.id!r}; it is the only one this server trains.")
        if name == base.id:
            raise ChatError("bad_request", f"'name' must differ from the base model's name {base.id!r}.")
        examples = data.parse(filename, raw)
        default_eval = EVAL_FRACTION if len(examples) >= EVAL_FROM else 0.0
        eval_fraction = _number(fields, "eval_fraction", float, 0.0, 0.5, default_eval)
        train, evals = data.split(examples, eval_fraction)
        settings = {
            "epochs": _number(fields, "epochs", int, 1, 100, trainer.default_epochs(len(train))),
            "learning_rate": _number(fields, "learning_rate", float, 1e-6, 1e-2, trainer.LEARNING_RATE),
            "lora_r": _number(fields, "lora_r", int, 1, 256, trainer.LORA_R),
            "eval_fraction": eval_fraction,
        }
        with self.cond:
            if any(j["name"] == name and j["status"] in ACTIVE for j in self.jobs.values()):
                raise ChatError("busy",
                                f"A model or job named {name!r} exists already; choose another name or delete it.")
            job = new_job(name, base.id, settings, len(train), len(evals), data.preview(examples))
            self.folder.create(job, {"train": train, "eval": evals})
            self.jobs[job["id"]] = job
            self._touch(job)
            # A copy taken before the worker may mark it running: the reply says what was accepted (as graph builds).
            return dict(job)

    def get(self, job_id: str) -> dict:
        with self.cond:
            job = self.jobs.get(job_id)
            if job is None:
                raise ChatError("not_found", "There is no tuning job with this id.")
            return dict(job)

    def list(self) -> list[dict]:
        with self.cond:
            return [dict(j) for j in self.jobs.values()]

    def delete(self, job_id: str) -> dict | None:
        """Cancel a queued or running job (its object returned), or delete a finished one and its adapter (None)."""
        with self.cond:
            job = self.jobs.get(job_id)
            if job is None:
                raise ChatError("not_found", "There is no tuning job with this id.")
            if job["status"] in ("queued", "running"):
                if job["status"] == "running" and self.proc is not None:
                    self.cancel_id = job_id
                    self.proc.terminate()  # the runner sees it exit and marks the job cancelled
                else:
                    checkpoint.discard(self.folder.folder(job_id))  # a job queued to resume
                self._set(job, status="cancelled", eta_s=None)
                return dict(job)
            del self.jobs[job_id]
            self._touch(job)
        if job["status"] == "done":
            self.on_remove(job)
        self.folder.remove(job)
        return None

    def changes(self, since: int) -> tuple[int, builtins.list[dict]]:
        """(version now, jobs changed after `since`, deleted ones as {id, status: "deleted"})."""
        with self.cond:
            ids = [i for i, v in self.changed.items() if v > since]
            return self.version, [dict(self.jobs[i]) if i in self.jobs else {"id": i, "status": "deleted"} for i in ids]

    # ---- the runner (a real OS thread) -----------------------------------

    def _touch(self, job: dict) -> None:
        self.version += 1
        self.changed[job["id"]] = self.version
        self.cond.notify_all()

    def _set(self, job: dict, **fields) -> None:
        """Change a job, keep it on disk, and mark it for the next progress event (cond held)."""
        job.update(fields)
        if job["id"] in self.jobs:
            self.folder.save(job)
        self._touch(job)

    def _next(self) -> dict | None:
        with self.cond:
            while not self.closed:
                queued = [j for j in self.jobs.values() if j["status"] == "queued"]
                if queued:
                    return queued[0]
                self.cond.wait()
        return None

    def _run(self) -> None:
        while True:
            job = self._next()
            if job is None:
                return
            try:
                base = self.base(wait=True)
            except ChatError as e:
                with self.cond:
                    if job["status"] == "queued":
                        self._set(job, status="failed", error=e.message)
                continue
            try:
                self._train(job, base)
            except Exception as e:  # never let one job stop the line
                log.exception("tuning job %s failed", job["id"])
                with self.cond:
                    if job["status"] == "running":
                        self._set(job, status="failed", error=f"Training could not run: {e}", eta_s=None)

    def _train(self, job: dict, base: Base) -> None:
        folder = self.folder.folder(job["id"])
        adapter = self.folder.adapter(job["name"])
        spec = {"name": job["name"], "base": base.id, "base_folder": base.folder, "builtin": base.builtin,
                "device": base.device, "threads": training_threads(), "adapter": adapter, **job["settings"]}
        self.folder.write_json(os.path.join(folder, "spec.json"), spec)
        progress = os.path.join(folder, "progress.jsonl")
        if os.path.exists(progress):
            os.remove(progress)
        with self.cond:
            if job["status"] != "queued" or self.closed:
                return
            env = {**os.environ, "PYTHONPATH": ROOT + os.pathsep + os.environ.get("PYTHONPATH", "")}
            with open(os.path.join(folder, "log.txt"), "w") as out:
                proc = self.proc = subprocess.Popen([sys.executable, "-m", "server.tuning.worker", folder], cwd=ROOT,
                                                    env=env, stdout=out, stderr=subprocess.STDOUT)
            self._set(job, status="running", started_at=time.time())
        offset, result = 0, dict[str, object]()
        while True:
            code = proc.poll()
            offset = self._follow(job, progress, offset, result)
            if code is not None:
                break
            with self.cond:  # a real wait (time.sleep is green under eventlet); a cancel wakes it early
                self.cond.wait(POLL_S)
        with self.cond:
            self.proc = None
            if self.closed:  # the server is stopping: the job stays running on disk and resumes at the next start
                return
            if result.get("status") != "done":
                checkpoint.discard(folder)  # nothing resumes a cancelled or failed job
            if self.cancel_id == job["id"] or job["status"] == "cancelled":
                self.cancel_id = None
                return
            if result.get("status") == "done" and os.path.isdir(adapter):
                self._set(job, status="done", eta_s=0, train_s=result.get("train_s"))
                done = True
            else:
                error = result.get("error") or (f"Training stopped unexpectedly (exit code {code}); "
                                                f"see {folder}/log.txt.")
                self._set(job, status="failed", error=error, eta_s=None)
                done = False
        if done:
            self.on_done(job, adapter)

    def _follow(self, job: dict, path: str, offset: int, result: dict) -> int:
        """Read the progress lines written since `offset` into the job; returns the new offset."""
        try:
            with open(path, "rb") as f:
                f.seek(offset)
                chunk = f.read()
        except OSError:
            return offset
        end = chunk.rfind(b"\n") + 1  # a line still being written waits for the next read
        lines = [json.loads(line) for line in chunk[:end].splitlines() if line.strip()]
        with self.cond:
            if job["status"] != "running":
                return offset + end
            for ev in lines:
                if "samples" in ev:  # the questions' answers before training, then with the after ones filled
                    job["samples"] = ev["samples"]
                elif "status" in ev:
                    result.update(ev)
                elif "steps" in ev:
                    job["steps"] = ev["steps"]
                elif "step" in ev:
                    job["loss"].append([ev["step"], ev["loss"]])
                    if ev.get("eval_loss") is not None:
                        job["eval_loss"].append([ev["step"], ev["eval_loss"]])
                    job.update(step=ev["step"], epoch=ev["epoch"], eta_s=ev["eta_s"])
            if lines:
                self._set(job)
        return offset + end
