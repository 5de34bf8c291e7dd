"""/api/usage: requests and tokens per device per day, by backend and model (admin)."""
from __future__ import annotations

from datetime import datetime, timedelta

from flask import Blueprint, jsonify, request

from ..concurrency import off_hub
from ..errors import ChatError
from .services import services
from .views import require_admin

bp = Blueprint("usage", __name__)


@bp.route("/api/usage")
def usage():
    require_admin()
    raw = request.args.get("days", "7")
    if not raw.isdigit() or not 1 <= int(raw) <= 366:
        raise ChatError("bad_request", "'days' must be a whole number from 1 to 366.")
    since = (datetime.now() - timedelta(days=int(raw) - 1)).strftime("%Y-%m-%d")  # today counts as one
    built = services()
    return jsonify({"ok": True, "days": off_hub(built.ledger.usage, since),
                    "quota_tokens": built.cfg.quota_tokens or None})
