"""/api/tls: the fingerprint of the certificate this server speaks HTTPS with, for a person to compare."""
from __future__ import annotations

from flask import Blueprint, current_app, jsonify, request

bp = Blueprint("tls", __name__)


@bp.route("/api/tls")
def tls():
    return jsonify({"ok": True, "https": request.is_secure,
                    "fingerprint_sha256": current_app.extensions.get("tls_fingerprint")})
