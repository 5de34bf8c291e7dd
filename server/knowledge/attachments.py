"""Files a device attaches to its messages: kept for that device alone, their text read as the library reads files."""
from __future__ import annotations

import base64
import json
import os
import re
import secrets
import threading
from typing import cast

from ..errors import ChatError
from ..shapes import Attachment
from . import ocr
from .parse import extension, parse, safe_title

ATTACHMENT_ID = re.compile(r"^[A-Za-z0-9_-]{16,32}$")
MAX_PER_MESSAGE = 4
PREVIEW_CHARS = 200
# The text of one attachment given to the model: about 3,000 tokens, so that four still leave room for the
# conversation in a 16k context; the rest is cut with a note.
PROMPT_CHARS = 12_000
TYPES = {".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".webp": "image/webp",
         ".pdf": "application/pdf", ".txt": "text/plain", ".md": "text/markdown", ".html": "text/html",
         ".htm": "text/html", ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document"}


def public(meta: dict) -> Attachment:
    """What the API shows of an attachment."""
    return cast(Attachment, {k: meta[k] for k in ("id", "name", "type", "bytes", "chars", "text_preview")})


class AttachmentStore:
    """Attachments on disk (a folder per server: ID.bin and ID.json) or in memory; owner-only reads."""

    def __init__(self, folder: str | None, max_bytes_per_device: int, max_file_bytes: int, max_pages: int):
        self.folder = folder
        self.max_bytes_per_device = max_bytes_per_device
        self.max_file_bytes = max_file_bytes
        self.max_pages = max_pages
        self.memory: dict[str, tuple[dict, bytes]] = {}
        self.lock = threading.Lock()
        if folder:
            os.makedirs(folder, exist_ok=True)

    # --- reading and writing ---------------------------------------------

    def _metas(self) -> list[dict]:
        if not self.folder:
            return [m for m, _ in self.memory.values()]
        out = []
        for name in os.listdir(self.folder):
            if name.endswith(".json"):
                try:
                    with open(os.path.join(self.folder, name), encoding="utf-8") as f:
                        out.append(json.load(f))
                except (OSError, ValueError):
                    pass  # one being written or removed right now
        return out

    def _write(self, meta: dict, data: bytes | None = None) -> None:
        if not self.folder:
            self.memory[meta["id"]] = (meta, data if data is not None else self.memory[meta["id"]][1])
            return
        if data is not None:
            with open(os.path.join(self.folder, meta["id"] + ".bin"), "wb") as f:
                f.write(data)
        tmp = os.path.join(self.folder, meta["id"] + ".json.tmp")
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump(meta, f, ensure_ascii=False)
        os.replace(tmp, os.path.join(self.folder, meta["id"] + ".json"))

    def _meta(self, attachment_id: str) -> dict | None:
        if not (isinstance(attachment_id, str) and ATTACHMENT_ID.match(attachment_id)):
            return None
        if not self.folder:
            found = self.memory.get(attachment_id)
            return found[0] if found else None
        try:
            with open(os.path.join(self.folder, attachment_id + ".json"), encoding="utf-8") as f:
                return json.load(f)
        except (OSError, ValueError):
            return None

    def add(self, client_id: str, filename: str, data: bytes) -> dict:
        """Read and keep one file for this device; ChatError for a bad file or a device over its total size."""
        name = safe_title(filename)
        ext = extension(name)
        if not data:
            raise ChatError("bad_request", "The file is empty.")
        if len(data) > self.max_file_bytes:
            raise ChatError("too_long", f"The file is {len(data) / 1e6:.1f} MB; "
                                        f"the limit is {self.max_file_bytes / 1e6:.0f} MB.")
        with self.lock:
            used = sum(m["bytes"] for m in self._metas() if m["client_id"] == client_id)
        if used + len(data) > self.max_bytes_per_device:
            raise ChatError("too_long", f"This device's attachments would take {(used + len(data)) / 1e6:.1f} MB; "
                                        f"the limit is {self.max_bytes_per_device / 1e6:.0f} MB. "
                                        "Delete old conversations first.")
        if ext in ocr.IMAGE_EXTENSIONS:  # a photo with no text is still a photo (for a model that sees)
            text = ocr.image_sections(data)[0][1]
        else:
            text = "\n\n".join(t for _, t in parse(name, data, self.max_pages)[1])
        meta = {"id": secrets.token_urlsafe(12), "name": name, "type": TYPES[ext], "bytes": len(data),
                "chars": len(text), "text_preview": text[:PREVIEW_CHARS], "text": text, "client_id": client_id,
                "sessions": []}
        with self.lock:
            self._write(meta, data)
        return meta

    def get(self, client_id: str, attachment_id: str) -> dict:
        """This device's attachment (with its text), or not_found: another device's looks the same as none."""
        meta = self._meta(attachment_id)
        if meta is None or meta["client_id"] != client_id:
            raise ChatError("not_found", "There is no such attachment on this device.")
        return meta

    def data(self, meta: dict) -> bytes:
        if not self.folder:
            return self.memory[meta["id"]][1]
        with open(os.path.join(self.folder, meta["id"] + ".bin"), "rb") as f:
            return f.read()

    def data_urls(self, metas: list[dict]) -> list[str]:
        """The attached pictures as data: URLs, for a model that takes images."""
        return [f"data:{m['type']};base64,{base64.b64encode(self.data(m)).decode()}"
                for m in metas if m["type"].startswith("image/")]

    # --- life with conversations ---------------------------------------------

    def use(self, metas: list[dict], session_id: str) -> None:
        """Tie attachments to the conversation that sent them: they are deleted with it."""
        with self.lock:
            for meta in metas:
                if session_id not in meta["sessions"]:
                    meta["sessions"] = [*meta["sessions"], session_id]
                    self._write(meta)

    def forget_session(self, session_id: str) -> int:
        """Delete the attachments only this conversation used; returns how many went."""
        gone = 0
        with self.lock:
            for meta in self._metas():
                if session_id in meta["sessions"]:
                    meta["sessions"] = [s for s in meta["sessions"] if s != session_id]
                    if meta["sessions"]:
                        self._write(meta)
                    else:
                        self._remove(meta["id"])
                        gone += 1
        return gone

    def _remove(self, attachment_id: str) -> None:
        if not self.folder:
            self.memory.pop(attachment_id, None)
            return
        for suffix in (".json", ".bin"):
            try:
                os.remove(os.path.join(self.folder, attachment_id + suffix))
            except FileNotFoundError:
                pass


def prompt_text(message: str, metas: list[dict]) -> str:
    """The user's message as the model gets it: each attachment's text after it, named."""
    parts = [message]
    for meta in metas:
        text = meta["text"].strip()
        if len(text) > PROMPT_CHARS:
            text = text[:PROMPT_CHARS] + f"\n[… {len(meta['text']) - PROMPT_CHARS} more characters not shown]"
        parts.append(f"[Attached: {meta['name']}]\n{text or '(no text could be read from it)'}")
    return "\n\n".join(parts)


def build_attachments(cfg) -> AttachmentStore:
    """The server's attachments in its data folder (or in memory with --store memory)."""
    folder = None
    if cfg.store != "memory":
        from ..paths import data_dir

        folder = os.path.join(data_dir(cfg), "attachments")
    return AttachmentStore(folder, cfg.attachments_max_mb * 1_000_000, cfg.kb_max_mb * 1_000_000, cfg.kb_max_pages)
