"""HTTP routes of the knowledge base: upload, list, delete, search (guarded like every /api/ route)."""
from __future__ import annotations

from flask import Blueprint, Response, jsonify, request
from werkzeug.exceptions import RequestEntityTooLarge

from ..chat.schemas import reject_extra, require_object
from ..concurrency import off_hub
from ..errors import ChatError
from .services import services
from .views import require_admin

bp = Blueprint("knowledge", __name__, url_prefix="/api/kb")
MULTIPART_SLACK = 64 * 1024  # form boundaries and headers around the file itself
# An oversized upload is read to its end (up to this much) before the 413, so that the client, still
# sending, gets the answer instead of a broken pipe; past it the connection is simply closed.
DRAIN_MAX = 256 * 1024 * 1024


def drain(stream, length: int | None) -> None:
    left = min(length or 0, DRAIN_MAX)
    while left > 0:
        got = stream.read(min(left, 1 << 20))
        if not got:
            return
        left -= len(got)


def kb():
    return services().knowledge


def read_upload(limit: int, noun: str = "file") -> tuple[str, bytes]:
    """The multipart field `file` of this request, name and bytes (at most limit + 1), or a sentence why not."""
    request.max_content_length = limit + MULTIPART_SLACK
    too_long = ChatError("too_long", f"The file is larger than the limit of {limit // 1_000_000} MB.")
    if request.content_length is None and "chunked" in request.headers.get("Transfer-Encoding", "").lower():
        # A body sent in chunks (no Content-Length) is read to its last chunk, up to the limit: the WSGI
        # server undoes the chunking, but only this flag tells Werkzeug the stream ends on its own.
        request.environ["wsgi.input_terminated"] = True
    if (request.content_length or 0) > request.max_content_length:
        drain(request.environ["wsgi.input"], request.content_length)
        raise too_long
    try:
        f = request.files.get("file")
    except RequestEntityTooLarge:
        raise too_long from None
    if f is None:
        raise ChatError("bad_request", f"Send the {noun} as multipart/form-data in the field 'file'.")
    return f.filename or "", f.read(limit + 1)


@bp.route("/documents", methods=["POST"])
def upload():
    require_admin()
    name, data = read_upload(kb().max_bytes)
    # Parsing, chunking and embedding take seconds: a real thread, so chats stream on meanwhile.
    document = off_hub(kb().add, name, data)
    return jsonify({"ok": True, "document": document})


@bp.route("/documents", methods=["GET"])
def documents():
    return jsonify({"ok": True, "documents": off_hub(kb().documents)})


@bp.route("/documents/<document_id>", methods=["DELETE"])
def delete(document_id: str):
    require_admin()
    off_hub(kb().delete, document_id[:64])
    return jsonify({"ok": True})


@bp.route("/documents/<document_id>/picture", methods=["GET"])
def picture(document_id: str):
    """The photo a document was read from (OCR), for a source to show beside its passage."""
    kind, data = off_hub(kb().picture, document_id[:64])
    response = Response(data, mimetype=kind)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, max-age=3600"
    return response


@bp.route("/search", methods=["POST"])
def search():
    body = require_object(request.get_json(silent=True), "search")
    reject_extra(body, {"query", "k"}, "search")
    query, k = body.get("query"), body.get("k", 5)
    if not isinstance(query, str) or not query.strip():
        raise ChatError("bad_request", "'query' must be a non-empty string.")
    if len(query) > 2000:
        raise ChatError("too_long", "'query' is longer than 2000 characters.")
    if not isinstance(k, int) or isinstance(k, bool) or not 1 <= k <= 20:
        raise ChatError("bad_request", "'k' must be a whole number from 1 to 20.")
    return jsonify({"ok": True, "results": off_hub(kb().search, query, k)})
