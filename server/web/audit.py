"""The audit log, written in one place: after every request that changes what everyone shares, or that an
admin guard refused; and /api/audit to read it."""
from __future__ import annotations

import json
import logging

from flask import Blueprint, jsonify, request

from ..errors import ChatError
from .security import admin_request
from .services import services
from ..store.base import now_iso
from ..store.ledger import device_of
from .views import require_admin

log = logging.getLogger(__name__)
bp = Blueprint("audit", __name__)

# (method, URL rule) -> the action it is logged as; rules, not view names, so a renamed view stays logged.
ACTIONS = {
    ("POST", "/api/kb/documents"): "kb.add",
    ("DELETE", "/api/kb/documents/<document_id>"): "kb.delete",
    ("POST", "/api/graph/import"): "graph.import",
    ("POST", "/api/graph/build"): "graph.build",
    ("DELETE", "/api/graph/jobs/<job_id>"): "graph.build",  # a build cancelled
    ("POST", "/api/graph/merge"): "graph.merge",
    ("POST", "/api/graph/candidates/reject"): "graph.merge",  # a pair never to be proposed again
    ("DELETE", "/api/graph/merges/<merge_id>"): "graph.unmerge",
    ("DELETE", "/api/graph/facts/<fact_id>"): "graph.fact_delete",
    ("POST", "/api/tuning/jobs"): "tuning.start",
    ("DELETE", "/api/tuning/jobs/<job_id>"): "tuning.delete",  # tuning.cancel when the job was still running
}
PREFIXES = {("POST", "/api/graph/proposals"): "graph.proposal", ("DELETE", "/api/graph/proposals"): "graph.proposal"}
DETAIL_MAX = 200  # characters of a detail or target kept: a name or a sentence, never a whole body


def action_of(method: str, rule: str, body) -> str | None:
    """The audit action of a request, or None when it changes nothing shared."""
    action = ACTIONS.get((method, rule))
    if action is None:
        action = next((a for (m, p), a in PREFIXES.items() if m == method and rule.startswith(p)), None)
    if action == "tuning.delete" and isinstance(body, dict) and "job" in body:
        return "tuning.cancel"  # DELETE answers with the job only when it stopped a running one
    return action


def _what(body: dict) -> tuple[str | None, str | None]:
    """(target, detail) named in a successful answer: the new thing's id and its name."""
    for key in ("document", "job", "merge", "import", "proposal", "fact"):
        thing = body.get(key)
        if isinstance(thing, dict):
            name = thing.get("name") or thing.get("title") or thing.get("file") or thing.get("status")
            return thing.get("id"), name
    return None, None


def _short(value) -> str | None:
    return None if value is None else str(value)[:DETAIL_MAX]


@bp.after_app_request
def audit(response):
    """Log a shared change (done or not) or a refused admin request; never the request's tokens or body."""
    rule = request.url_rule.rule if request.url_rule is not None else ""
    if not rule.startswith("/api/") or request.method in ("HEAD", "OPTIONS"):
        return response
    body = response.get_json(silent=True) if response.is_json else None
    action = action_of(request.method, rule, body)
    # 403 is the admin guard's answer (reads included); a wrong access token (401) only where it tried a change
    refused = response.status_code == 403 or (action is not None and response.status_code == 401)
    if action is None and not refused:
        return response
    built = services()
    ok = response.status_code < 400
    target = next(iter(request.view_args.values()), None) if request.view_args else None
    detail = None
    if ok and isinstance(body, dict):
        found, detail = _what(body)
        target = target or found
    elif isinstance(body, dict) and isinstance(body.get("error"), dict):
        detail = body["error"].get("code")
    if action and request.method == "DELETE" and rule == "/api/graph/jobs/<job_id>":
        detail = "cancelled" if ok else detail
    entry = {"at": now_iso(), "action": action or request.endpoint or rule, "ok": ok,
             "role": "admin" if admin_request(built.cfg, request.headers) else "user",
             "device": device_of(request.headers.get("X-Client-Id", "")[:64]), "address": request.remote_addr or "",
             "target": _short(target), "detail": _short(detail)}
    try:
        built.ledger.record(entry)
    except Exception:  # a full disk must not turn a done change into an error
        log.exception("writing the audit entry %s failed", json.dumps({k: entry[k] for k in ("action", "target")}))
    return response


@bp.route("/api/audit")
def entries():
    require_admin()
    before = request.args.get("before") or None
    action = request.args.get("action") or None
    raw = request.args.get("limit", "50")
    if not raw.isdigit() or not 1 <= int(raw) <= 500:
        raise ChatError("bad_request", "'limit' must be a whole number from 1 to 500.")
    if before is not None and len(before) > 40:
        raise ChatError("bad_request", "'before' must be an entry's 'at'.")
    found = services().ledger.entries(before, int(raw), action and action[:40])
    return jsonify({"ok": True, "entries": found})
