"""HTTP routes of fine-tuning (admin only, reads too) and its Socket.IO progress events."""
from __future__ import annotations

from flask import Blueprint, jsonify, request

from ..concurrency import RealEvent, off_hub
from ..errors import ChatError
from .extensions import socketio
from .kb import read_upload
from .security import ADMIN_ROOM
from .services import services
from ..tuning import Base, TuningService, data, public
from .views import require_admin

bp = Blueprint("tuning", __name__, url_prefix="/api/tuning")
MAX_FILE = 20_000_000  # a JSONL of 20k examples of a few hundred characters is well under it
PROGRESS_S = 0.5  # how often the progress task looks for changed jobs
FIELDS = ("name", "base", "epochs", "learning_rate", "lora_r", "eval_fraction")


def tuning() -> TuningService:
    svc = services().tuning
    if svc is None:
        raise ChatError("unavailable", "Fine-tuning needs the local backend: start the server with --backend local "
                                       "(the built-in model or --model PATH).")
    return svc


def _upload() -> tuple[str, bytes]:
    """The uploaded training file's name and bytes, or a sentence about what is wrong with the request."""
    return read_upload(MAX_FILE, "training file")


@bp.route("/preview", methods=["POST"])
def preview():
    """The file checked as a job would check it, and its first examples: nothing is queued."""
    require_admin()
    name, raw = _upload()
    examples = off_hub(data.parse, name, raw)
    return jsonify({"ok": True, "examples": len(examples), "preview": data.preview(examples)})


@bp.route("/jobs", methods=["POST"])
def create():
    require_admin()
    svc = tuning()
    name, raw = _upload()
    fields = {k: request.form.get(k) for k in FIELDS}
    job = off_hub(svc.create, name, raw, fields)
    return jsonify({"ok": True, "job": {**public(job), "settings": job["settings"], "preview": job["preview"]}})


@bp.route("/jobs", methods=["GET"])
def jobs():
    require_admin()
    return jsonify({"ok": True, "jobs": [public(j) for j in tuning().list()]})


@bp.route("/jobs/<job_id>", methods=["GET"])
def job(job_id: str):
    require_admin()
    j = tuning().get(job_id[:64])
    extra = {k: j[k] for k in ("settings", "preview", "created_at", "train_s") if k in j}
    return jsonify({"ok": True, **public(j), **extra})


@bp.route("/jobs/<job_id>", methods=["DELETE"])
def delete(job_id: str):
    require_admin()
    cancelled = off_hub(tuning().delete, job_id[:64])
    return jsonify({"ok": True, "job": public(cancelled)} if cancelled else {"ok": True})


# ---- what web/wiring.py builds tuning with ---------------------------------


def local_base(local):
    """TuningService's base: what the local backend serves, asked through its own methods."""
    def base(wait: bool) -> Base:
        """The local model to train; with wait, once it has loaded (its converted folder exists from then on)."""
        pause = RealEvent()
        while wait and not local.status().model_ready:
            if local.status().error:
                raise ChatError("unavailable", f"The local model did not load: {local.status().message}")
            pause.wait(0.5)  # the runner's OS thread: a real wait
        return Base(local.default_model, local.source_folder(), local.path is None, local.loaded_device())
    return base


def send_progress(svc: TuningService) -> None:
    """Send `tuning_progress` for every job that changed, to sockets that connected with the admin token."""
    seen = svc.version
    while True:
        socketio.sleep(PROGRESS_S)
        version, changed = svc.changes(seen)
        seen = version
        for job in changed:
            socketio.emit("tuning_progress", public(job) if job.get("status") != "deleted" else job, to=ADMIN_ROOM)
