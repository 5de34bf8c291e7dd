"""Tuning jobs on disk: one folder per job under DATA/tuning/jobs, adapters under DATA/tuning/adapters."""
from __future__ import annotations

import json
import logging
import os
import shutil
import time
import uuid

from . import checkpoint

log = logging.getLogger(__name__)

STATUSES = ("queued", "running", "done", "failed", "cancelled")
ACTIVE = ("queued", "running", "done")  # a job in one of these holds its name
UNREADABLE = ("The server restarted while this job was training, and its checkpoint could not be read; "
              "start it again to train it.")


def new_job(name: str, base: str, settings: dict, train: int, evals: int, preview: list) -> dict:
    """A queued job's public object (protocol 1.2), with its settings and preview."""
    return {"id": uuid.uuid4().hex[:12], "name": name, "base": base, "status": "queued", "step": 0, "steps": 0,
            "epoch": 0.0, "loss": [], "eval_loss": [], "eta_s": None, "examples": {"train": train, "eval": evals},
            "settings": settings, "preview": preview, "created_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}


class JobFolder:
    """Where jobs and adapters are kept; every write goes to a temporary file first, then replaces the old one."""

    def __init__(self, root: str):
        self.root = root
        self.jobs = os.path.join(root, "jobs")
        self.adapters = os.path.join(root, "adapters")
        os.makedirs(self.jobs, exist_ok=True)
        os.makedirs(self.adapters, exist_ok=True)

    def folder(self, job_id: str) -> str:
        return os.path.join(self.jobs, job_id)

    def adapter(self, name: str) -> str:
        return os.path.join(self.adapters, name)

    def write_json(self, path: str, obj) -> None:
        tmp = f"{path}.tmp"
        try:
            with open(tmp, "w", encoding="utf-8") as f:
                json.dump(obj, f, ensure_ascii=False)
            os.replace(tmp, path)
        except BaseException:  # a half-written file is never left beside the real one
            if os.path.exists(tmp):
                os.remove(tmp)
            raise

    def create(self, job: dict, examples: dict) -> None:
        os.makedirs(self.folder(job["id"]), exist_ok=True)
        self.write_json(os.path.join(self.folder(job["id"]), "examples.json"), examples)
        self.save(job)

    def save(self, job: dict) -> None:
        self.write_json(os.path.join(self.folder(job["id"]), "job.json"), job)

    def load_all(self) -> list[dict]:
        """Every job kept, oldest first; one that was running when the server stopped is queued again to resume."""
        out = []
        for entry in os.listdir(self.jobs):
            path = os.path.join(self.jobs, entry, "job.json")
            try:
                with open(path, encoding="utf-8") as f:
                    job = json.load(f)
            except (OSError, ValueError):
                continue  # a job folder whose first write never finished
            if job.get("status") == "running":
                self.requeue(job)
            out.append(job)
        return sorted(out, key=lambda j: j.get("created_at", ""))

    def requeue(self, job: dict) -> None:
        """A job the server stopped during: queued again at its last checkpoint's step, with the curve up to it
        (at step 0 without one); failed with a sentence if its checkpoint cannot be read."""
        try:
            state = checkpoint.read(self.folder(job["id"]), mmap=True)  # the step and curve, not the weights
        except checkpoint.Unreadable as e:
            log.warning("tuning job %s: %s", job["id"], e)
            job.update(status="failed", error=UNREADABLE, eta_s=None)
        else:
            keep = {k: state[k] for k in ("step", "epoch", "loss", "eval_loss")} if state else \
                {"step": 0, "epoch": 0.0, "loss": [], "eval_loss": []}
            job.update(status="queued", eta_s=None, **keep)
        self.save(job)

    def remove(self, job: dict) -> None:
        """The job's folder, and its adapter if it made one."""
        shutil.rmtree(self.folder(job["id"]), ignore_errors=True)
        if job.get("status") == "done":
            shutil.rmtree(self.adapter(job["name"]), ignore_errors=True)
