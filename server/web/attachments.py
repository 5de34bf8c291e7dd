"""HTTP routes of chat attachments: upload one (its text read), fetch it back (its owner only)."""
from __future__ import annotations

from flask import Blueprint, Response, jsonify, request

from ..knowledge.attachments import public
from ..concurrency import off_hub
from .conversations import client_id
from .kb import read_upload
from .services import services

bp = Blueprint("attachments", __name__, url_prefix="/api/attachments")


def attachments():
    return services().attachments


@bp.route("", methods=["POST"])
def upload():
    owner = client_id()
    name, data = read_upload(attachments().max_file_bytes)
    # A form field `name` wins: the uni-app's uploads from a blob: path carry no file name of their own.
    name = request.form.get("name") or name
    # Reading a photo (OCR) or a PDF takes a second or more: a real thread, so chats stream on meanwhile.
    meta = off_hub(attachments().add, owner, name, data)
    return jsonify({"ok": True, "attachment": public(meta)})


@bp.route("/<attachment_id>", methods=["GET"])
def fetch(attachment_id: str):
    store = attachments()
    meta = store.get(client_id(), attachment_id)
    response = Response(off_hub(store.data, meta), mimetype=meta["type"])
    # The file as itself, never as a page of this origin (an HTML attachment must not run here).
    response.headers["Content-Disposition"] = "inline" if meta["type"].startswith("image/") else "attachment"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response.headers["Cache-Control"] = "private, max-age=3600"
    return response
