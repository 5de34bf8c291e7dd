"""GET /api/kb/progress: how far the upload being added has got (guarded like every /api/ route)."""
from __future__ import annotations

from flask import Blueprint, jsonify

from .services import services

bp = Blueprint("kb_progress", __name__, url_prefix="/api/kb")


@bp.route("/progress", methods=["GET"])
def progress():
    # A dict read under the GIL: no thread hop needed, so a page can poll it while an upload runs.
    return jsonify({"ok": True, "progress": services().knowledge.progress()})
