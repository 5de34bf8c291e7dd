"""/api/roles: what the token a client holds lets it do, so a client shows admin controls only to an admin."""
from __future__ import annotations

from flask import Blueprint, jsonify, request

from .security import admin_request
from .services import services

bp = Blueprint("roles", __name__)


@bp.route("/api/roles")
def roles():
    cfg = services().cfg
    return jsonify({"ok": True, "admin": admin_request(cfg, request.headers),
                    "admin_token_set": bool(cfg.admin_token)})
