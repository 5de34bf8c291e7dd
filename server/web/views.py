"""HTTP routes: the page, health, and the non-streaming API."""
from __future__ import annotations

from flask import Blueprint, jsonify, render_template, request
from werkzeug.exceptions import HTTPException

from . import v1_format
from ..chat import schemas
from ..chat.sessions import CLIENT_ID, SESSION_ID, client_for, new_session_id
from ..errors import ChatError
from .security import access_ok, admin_given, admin_request, forbidden
from .services import services

bp = Blueprint("views", __name__)


def service():
    return services().chat


def error_response(e: ChatError):
    return jsonify(e.ack()), e.http_status


def check_access() -> None:
    """Only allowed origins, and the access token when one is set (the /api/ routes and /v1)."""
    if not services().origins.allows(request.headers.get("Origin"), request.host):
        raise ChatError("unauthorized", "Pages from this origin may not use this server.")
    # The admin token opens the server too, as Bearer or alone in X-Admin-Token.
    if request.method != "OPTIONS" and not any(access_ok(service().cfg, t) for t in admin_given(request.headers)):
        raise ChatError("unauthorized", "This server needs its access token (Authorization: Bearer TOKEN).")


def require_admin() -> None:
    """A shared write (library, graph, tuning): the admin token as X-Admin-Token or Bearer, else 403."""
    if not admin_request(service().cfg, request.headers):
        raise forbidden()


@bp.before_app_request
def guard_api():
    if request.path.startswith("/api/"):
        check_access()


@bp.app_errorhandler(ChatError)
def on_chat_error(e: ChatError):
    return error_response(e)


@bp.app_errorhandler(HTTPException)
def on_http_error(e: HTTPException):
    status = e.code or 500  # an HTTPException made without a code
    code = {404: "not_found", 405: "bad_request", 413: "too_long"}.get(status, "bad_request")
    if status >= 500:
        code = "internal"
    message = e.description or e.name
    if request.path.startswith("/v1/"):  # OpenAI's error shape there, also for routes that do not exist
        return jsonify(v1_format.error_body(code, message, status)), status
    return jsonify({"ok": False, "error": {"code": code, "message": message}}), status


@bp.route("/")
def index():
    return render_template("index.html")


@bp.route("/healthz")
def healthz():
    svc = service()
    backend = svc.registry.get(None)
    return jsonify({"status": "ok", "backend": backend.name, "model_ready": backend.status().model_ready,
                    "sessions": len(svc.store), "requests": len(svc.requests)})


@bp.route("/api/backends")
def backends():
    registry = service().registry
    return jsonify({"backends": registry.describe(), "default_backend": registry.default})


@bp.route("/api/chat", methods=["POST"])
def chat():
    svc = service()
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise ChatError("bad_request", "Send a JSON object (Content-Type: application/json).")
    payload = schemas.parse_chat(body, max_message_chars=svc.cfg.max_message_chars,
                                 max_tokens_cap=svc.cfg.max_tokens_cap, extra={"session_id"})
    session_id = body.get("session_id")
    if session_id is not None and not (isinstance(session_id, str) and SESSION_ID.match(session_id)):
        raise ChatError("bad_request", "'session_id' must be 1-64 characters of letters, digits, '_' and '-'.")
    client_id = request.headers.get("X-Client-Id", "")
    if not CLIENT_ID.match(client_id):
        session_id = session_id or new_session_id()
        client_id = client_for(session_id)  # as for a version-1 socket (events.on_connect)
    session = svc.store.get_or_create(session_id, client_id)
    req = svc.start(session, payload, request.remote_addr or "")
    req.finished.wait()
    if req.error_event:
        err = ChatError(req.error_event["code"], req.error_event["message"])
        return error_response(err)
    done = req.done_event
    out = {"ok": True, "request_id": req.id, "session_id": session.id, "text": done["text"],
           "finish_reason": done["finish_reason"], "timings": done["timings"]}
    for key in ("usage", "reasoning", "sources", "grounding", "answer"):
        if key in done:
            out[key] = done[key]
    return jsonify(out)

