"""HTTP routes for a client's conversations: list, export (JSON, Markdown), import."""
from __future__ import annotations

from flask import Blueprint, Response, jsonify, request

from ..chat import schemas
from ..chat.sessions import CLIENT_ID, SESSION_ID
from ..chat.transfer import export_document, import_documents, to_markdown
from ..errors import ChatError
from .services import services

bp = Blueprint("conversations", __name__)


def sessions():
    return services().chat.store


def client_id() -> str:
    value = request.headers.get("X-Client-Id", "")
    if not CLIENT_ID.match(value):
        raise ChatError("bad_request",
                        "Send the device's client_id (22-64 letters, digits, '_' or '-') in X-Client-Id.")
    return value


@bp.route("/api/conversations")
def list_conversations():
    args: dict[str, str | int] = dict(request.args)
    if "limit" in args:
        try:
            args["limit"] = int(args["limit"])
        except ValueError:
            raise ChatError("bad_request", "'limit' must be a whole number.")
    query, before, limit = schemas.parse_list(args)
    conversations, more = sessions().list(client_id(), query, before, limit)
    return jsonify({"ok": True, "conversations": conversations, "more": more})


@bp.route("/api/conversations/<session_id>/export")
def export(session_id: str):
    fmt = request.args.get("format", "json")
    if fmt not in ("json", "md"):
        raise ChatError("bad_request", "'format' must be json or md.")
    if not SESSION_ID.match(session_id):
        raise ChatError("not_found", "There is no such conversation on this device.")
    doc = export_document(sessions(), session_id, client_id())
    if fmt == "json":
        response = jsonify(doc)
    else:
        response = Response(to_markdown(doc), mimetype="text/markdown")
    response.headers["Content-Disposition"] = f'attachment; filename="chat-{session_id}.{fmt}"'
    return response


@bp.route("/api/conversations/import", methods=["POST"])
def import_():
    owner = client_id()
    body = request.get_json(silent=True)
    if not isinstance(body, (dict, list)):
        raise ChatError("bad_request", "Send a conversation (a JSON object) or a list of them.")
    summaries = import_documents(sessions(), owner, body, services().cfg)
    return jsonify({"ok": True, "conversations": summaries})
