"""HTTP routes of the knowledge graph (/api/graph), and the completer its builds call the chat backends with."""
from __future__ import annotations

import logging
import os

from flask import Blueprint, Response, jsonify, request

from ..backends.base import EXTRACT_SPANS
from ..concurrency import RealEvent, off_hub
from ..errors import ChatError
from ..graph.build import EXTRACTORS, Builder
from ..graph.constrained import EXTRACTORS as CONSTRAINED
from .kb import read_upload
from ..chat.schemas import require_object, reject_extra
from .services import services
from .views import require_admin

log = logging.getLogger(__name__)
bp = Blueprint("graph", __name__, url_prefix="/api/graph")
MAX_IMPORT = 50_000_000  # bytes of one import file: about 1M rows
EXTRACT_PARAMS = {"temperature": 0.0, "max_tokens": 1024}  # one passage's facts fit; 0: the same answer twice


def resume_builds(builder: Builder) -> None:
    """Go on with the build jobs a previous run left (started by web/wiring.py)."""
    try:
        builder.resume()
    except ChatError as e:
        log.warning("graph: build jobs not resumed: %s", e.message)


def completer(registry):
    """complete(messages, backend, model, cancelled) -> the reply's text, from any backend the server has."""
    def complete(messages, name, model, cancelled, spans=None):
        backend = registry.get(name)
        cancel = RealEvent()
        params = dict(EXTRACT_PARAMS, **({EXTRACT_SPANS: spans} if spans is not None else {}))

        def run():
            out = []
            for chunk in backend.stream(messages, model=model or backend.default_model, params=params,
                                        cancel=cancel, budget=EXTRACT_PARAMS["max_tokens"]):
                if chunk.kind is None:
                    out.append(chunk.text)
                if cancelled():
                    cancel.set()
                    break
            return "".join(out)
        return off_hub(run) if backend.blocking else run()
    return complete


def default_extractor(registry, name: str | None) -> str:
    """An instruction model (a remote backend) answers JSON; a local model this small writes none that is usable
    (Gemma 3 270M, DESIGN.md), and a server may have no model at all: the patterns then."""
    backend = registry.backends.get(registry.default if name is None else name)
    return "model" if backend is not None and not backend.blocking else "rules"


def graph():
    return services().graph


def _int(name: str, default: int, low: int, high: int) -> int:
    raw = request.args.get(name)
    if raw is None:
        return default
    if not raw.isdigit() or not low <= int(raw) <= high:
        raise ChatError("bad_request", f"'{name}' must be a whole number from {low} to {high}.")
    return int(raw)


@bp.route("/import", methods=["POST"])
def import_file():
    require_admin()
    name, data = read_upload(MAX_IMPORT)
    result = off_hub(graph().import_file, os.path.basename(name), data)
    return jsonify({"ok": True, "import": result})


@bp.route("/build", methods=["POST"])
def build():
    require_admin()
    body = require_object(request.get_json(silent=True) or {}, "build")
    reject_extra(body, {"documents", "backend", "model", "types", "extractor"}, "build")
    docs, types = body.get("documents"), body.get("types")
    if docs is not None and not (isinstance(docs, list) and all(isinstance(d, str) and d for d in docs)):
        raise ChatError("bad_request", "'documents' must be a list of document ids.")
    if types is not None and not (isinstance(types, list) and 0 < len(types) <= 30 and
                                  all(isinstance(t, str) and 0 < len(t) <= 30 for t in types)):
        raise ChatError("bad_request", "'types' must be a list of 1-30 entity type names.")
    for key in ("backend", "model"):
        if body.get(key) is not None and not isinstance(body[key], str):
            raise ChatError("bad_request", f"'{key}' must be a string.")
    extractor = body.get("extractor") or default_extractor(services().chat.registry, body.get("backend"))
    if extractor not in EXTRACTORS:
        raise ChatError("bad_request",
                        "'extractor' must be 'rules' (patterns, no model), 'model' (a model's JSON too), "
                        "'constrained' or 'rules+constrained' (a local model held to the passage's words).")
    if extractor != "rules":
        backend = services().chat.registry.get(body.get("backend"))  # unknown_backend now
        if extractor in CONSTRAINED and not backend.blocking:
            raise ChatError("bad_request", f"'{extractor}' needs a local model (the built-in one or another); "
                                           "this backend is remote: use 'model'.")
    job = services().graph_builder.start(docs, body.get("backend"), body.get("model"), types, extractor)
    return jsonify({"ok": True, "job": job})


@bp.route("/jobs/<job_id>", methods=["GET"])
def job(job_id: str):
    return jsonify({"ok": True, **services().graph_builder.get(job_id[:64])})


@bp.route("/jobs/<job_id>", methods=["DELETE"])
def cancel(job_id: str):
    require_admin()
    return jsonify({"ok": True, "job": services().graph_builder.cancel(job_id[:64])})


@bp.route("/entities", methods=["GET"])
def entities():
    q, typ = request.args.get("q", "")[:200], request.args.get("type", "")[:50]
    found = off_hub(graph().entities, q, typ, _int("limit", 50, 1, 500))
    return jsonify({"ok": True, "entities": found})


@bp.route("/entities/<entity_id>", methods=["GET"])
def entity(entity_id: str):
    hops, limit = _int("hops", 1, 1, 2), _int("limit", 200, 1, 1000)
    return jsonify({"ok": True, **off_hub(graph().neighbourhood, entity_id[:64], hops, limit)})


@bp.route("/candidates", methods=["GET"])
def candidates():
    return jsonify({"ok": True, "candidates": off_hub(graph().candidates)})


@bp.route("/candidates/reject", methods=["POST"])
def reject_candidate():
    require_admin()
    body = require_object(request.get_json(silent=True), "reject")
    reject_extra(body, {"a", "b"}, "reject")
    a, b = body.get("a"), body.get("b")
    if not (isinstance(a, str) and a and isinstance(b, str) and b):
        raise ChatError("bad_request", "Send {a: entity id, b: entity id}.")
    off_hub(graph().reject_candidate, a[:64], b[:64])
    return jsonify({"ok": True})


@bp.route("/proposals", methods=["GET"])
def proposals():
    require_admin()
    return jsonify({"ok": True, "proposals": off_hub(graph().proposals, _int("limit", 100, 1, 1000))})


@bp.route("/proposals/<pid>/accept", methods=["POST"])
def accept_proposal(pid: str):
    require_admin()
    return jsonify({"ok": True, "fact": off_hub(graph().accept_proposal, pid[:64])})


@bp.route("/proposals/<pid>", methods=["DELETE"])
def drop_proposal(pid: str):
    require_admin()
    off_hub(graph().drop_proposal, pid[:64])
    return jsonify({"ok": True})


@bp.route("/merge", methods=["POST"])
def merge():
    require_admin()
    body = require_object(request.get_json(silent=True), "merge")
    reject_extra(body, {"keep", "merge"}, "merge")
    keep, ids = body.get("keep"), body.get("merge")
    if not isinstance(keep, str) or not isinstance(ids, list) or not ids or not all(isinstance(i, str) for i in ids):
        raise ChatError("bad_request", "Send {keep: entity id, merge: [entity ids]}.")
    return jsonify({"ok": True, "merge": {"id": off_hub(graph().merge, keep, ids)}})


@bp.route("/merges/<merge_id>", methods=["DELETE"])
def undo_merge(merge_id: str):
    require_admin()
    off_hub(graph().undo_merge, merge_id[:64])
    return jsonify({"ok": True})


@bp.route("/facts/<fact_id>", methods=["DELETE"])
def delete_fact(fact_id: str):
    require_admin()
    off_hub(graph().delete_fact, fact_id[:64])
    return jsonify({"ok": True})


@bp.route("/stats", methods=["GET"])
def stats():
    return jsonify({"ok": True, **off_hub(graph().stats)})


@bp.route("/export", methods=["GET"])
def export():
    fmt = request.args.get("format", "csv")
    if fmt not in ("csv", "cypher"):
        raise ChatError("bad_request", "'format' must be csv or cypher.")
    text = off_hub(graph().export, fmt)
    mimetype = "text/csv" if fmt == "csv" else "text/plain"
    return Response(text, mimetype=f"{mimetype}; charset=utf-8",
                    headers={"Content-Disposition":
                             f"attachment; filename=graph.{'csv' if fmt == 'csv' else 'cypher'}"})
