"""/api/tls: the fingerprint of the certificate this server speaks HTTPS with, for a person to compare."""
from __future__ import annotations

from flask import Blueprint, jsonify, request

from .services import services

bp = Blueprint("tls", __name__)


@bp.route("/api/tls")
def tls():
    kept = services().tls  # (certificate file, key file, fingerprint) with --https
    return jsonify({"ok": True, "https": request.is_secure, "fingerprint_sha256": kept[2] if kept else None})
